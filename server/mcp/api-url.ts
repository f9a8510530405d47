/** Hosts that may be reached over plain http: this machine only. */
function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The GraphQL endpoint for HUMANOPS_API_URL. The URL may be given as the
 * product brief shows it (https://api.humanops.io), with a path prefix, with
 * the REST base (…/api/v1) or as the GraphQL endpoint itself. It must be
 * https, except on loopback, so the API key never crosses a network in clear.
 * Throws an Error naming the variable and the rule.
 */
export function graphqlEndpoint(apiUrl: string): URL {
  let url: URL;
  try {
    url = new URL(apiUrl.trim());
  } catch {
    throw new Error("HUMANOPS_API_URL: must be a URL such as https://api.humanops.io");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
    throw new Error("HUMANOPS_API_URL: must be https:// (plain http:// is allowed only for localhost, 127.0.0.1 and ::1)");
  }
  if (url.username || url.password) throw new Error("HUMANOPS_API_URL: must not contain credentials; put the key in HUMANOPS_API_KEY");
  if (url.search || url.hash) throw new Error("HUMANOPS_API_URL: must not have a query or fragment");
  const base = url.pathname.replace(/\/+$/, "").replace(/\/(api\/v1|graphql)$/, "");
  url.pathname = `${base}/graphql`;
  return url;
}
