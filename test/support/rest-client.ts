import { randomUUID } from "node:crypto";
import { OpenApiContract } from "./openapi-contract";

export interface RestResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RestOptions {
  apiKey?: string;
  headers?: Record<string, string>;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A raw body, sent with the Content-Type in `headers`. */
  raw?: string | Buffer;
  /** A multipart/form-data body. */
  form?: FormData;
}

/**
 * A fetch-based REST client, as an agent would write one, that checks every
 * response it receives against the server's own OpenAPI document: a suite
 * that uses it fails on any answer the document does not describe.
 */
export class RestClient {
  private constructor(
    readonly base: string,
    readonly contract: OpenApiContract,
  ) {}

  /** `serverUrl` as startServer returns it; the document is fetched from the server itself. */
  static async connect(serverUrl: string): Promise<RestClient> {
    const base = `${serverUrl}/api/v1`;
    const res = await fetch(`${base}/openapi.json`);
    const client = new RestClient(base, new OpenApiContract((await res.json()) as Record<string, any>));
    return client;
  }

  async request<T = any>(method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", path: string, options: RestOptions = {}): Promise<RestResult<T>> {
    const headers: Record<string, string> = { ...(options.apiKey ? { "X-API-Key": options.apiKey } : {}), ...options.headers };
    let body: string | Buffer | FormData | undefined = options.raw ?? options.form;
    if (options.json !== undefined) {
      headers["Content-Type"] ??= "application/json";
      body = JSON.stringify(options.json);
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    this.contract.check(method.toLowerCase(), path, res.status, res.headers, parsed);
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = any>(path: string, apiKey?: string, headers?: Record<string, string>): Promise<RestResult<T>> {
    return this.request<T>("GET", path, { apiKey, headers });
  }

  post<T = any>(path: string, json: unknown, apiKey?: string, headers?: Record<string, string>): Promise<RestResult<T>> {
    return this.request<T>("POST", path, { apiKey, json, headers });
  }

  async registerAgent(name = "agent"): Promise<{ apiKey: string; id: string }> {
    const res = await this.post("/agents/register", { name, email: `${name}-${randomUUID()}@agents.test` });
    if (res.status !== 201) throw new Error(`registration failed: ${JSON.stringify(res.body)}`);
    return { apiKey: res.body.api_key, id: res.body.agent_id };
  }

  async registerOperator(name = "operator"): Promise<{ testApiKey: string; liveApiKey: string; id: string }> {
    const res = await this.post("/operators/register", {
      name,
      email: `${name}-${randomUUID()}@operators.test`,
      payout_address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    });
    if (res.status !== 201) throw new Error(`registration failed: ${JSON.stringify(res.body)}`);
    return { testApiKey: res.body.test_api_key, liveApiKey: res.body.live_api_key, id: res.body.operator_id };
  }

  /** Polls a task until it reaches one of `statuses` (test mode finishes in milliseconds). */
  async waitForStatus(apiKey: string, taskId: string, statuses: string[], timeoutMs = 10_000): Promise<Record<string, any>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await this.get(`/tasks/${taskId}`, apiKey);
      if (statuses.includes(body.status)) return body;
      if (Date.now() > until) throw new Error(`task ${taskId} is ${body.status}, still not ${statuses.join("/")} after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** A valid POST /tasks body: the product brief's curl example, due tomorrow. */
export function restTaskBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: "Photo of storefront",
    description: "Take 2 clear photos showing the full facade and signage.",
    task_type: "PHOTO",
    location: { lat: 30.2672, lng: -97.7431, address: "123 Main St, Austin, TX" },
    reward_usd: 15,
    deadline: new Date(Date.now() + 86_400_000).toISOString(),
    proof_requirements: ["Full facade photo", "Close-up of signage"],
    ...overrides,
  };
}

/** A multipart proof upload of the given photos (and notes). */
export function proofForm(photos: Buffer[], notes?: string, contentType = "image/png"): FormData {
  const form = new FormData();
  photos.forEach((photo, i) => form.append("photos", new Blob([photo], { type: contentType }), `photo-${i}.png`));
  if (notes !== undefined) form.append("notes", notes);
  return form;
}
