/**
 * A browser's view of HumanOps, as the web app sees it: it signs in once
 * with an API key, then keeps only the session cookie (as a browser's
 * cookie jar would) and the CSRF token from the sign-in answer.
 */
export class BrowserSession {
  cookie?: string;
  csrfToken?: string;
  /** The Set-Cookie lines of the last answer. */
  setCookies: string[] = [];

  constructor(public url: string) {}

  async signIn(apiKey: string): Promise<Response> {
    const res = await this.fetch("/auth/session", { method: "POST", json: { api_key: apiKey } });
    if (res.status === 200) this.csrfToken = ((await res.clone().json()) as { csrf_token: string }).csrf_token;
    return res;
  }

  /** fetch with the cookie (and, unless `csrf: false`, the CSRF token) attached; remembers what the answer sets. */
  async fetch(path: string, init: RequestInit & { json?: unknown; csrf?: boolean | string } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie) headers.set("cookie", `humanops_session=${this.cookie}`);
    const csrf = init.csrf === undefined || init.csrf === true ? this.csrfToken : init.csrf || undefined;
    if (csrf) headers.set("x-csrf-token", csrf);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(init.json);
    }
    const res = await fetch(`${this.url}${path}`, { ...init, headers, body });
    this.setCookies = res.headers.getSetCookie();
    for (const line of this.setCookies) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
      if (name !== "humanops_session") continue;
      const expired = attributes.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()) || attributes.some((a) => /^max-age=0$/i.test(a));
      this.cookie = expired || !value ? undefined : value;
    }
    return res;
  }

  /** A GraphQL operation over HTTP as the web app sends it. */
  async graphql(query: string, variables: Record<string, unknown> = {}, options: { csrf?: boolean | string } = {}): Promise<{ status: number; body: any }> {
    const res = await this.fetch("/graphql", { method: "POST", json: { query, variables }, csrf: options.csrf });
    return { status: res.status, body: await res.json() };
  }
}
