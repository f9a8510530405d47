export interface GraphQLErrorShape {
  message: string;
  path?: string[];
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: GraphQLErrorShape[];
}

/** A plain fetch-based GraphQL client, as an agent would write one. */
export class GraphQLClient {
  constructor(readonly endpoint: string) {}

  async request<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, apiKey?: string): Promise<GraphQLResponse<T>> {
    const res = await fetch(this.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...(apiKey ? { "x-api-key": apiKey } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: GraphQLErrorShape[] };
    return { status: res.status, data: body.data ?? undefined, errors: body.errors };
  }

  /** Runs an operation that must succeed, and returns its data. */
  async ok<T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, apiKey?: string): Promise<T> {
    const res = await this.request<T>(query, variables, apiKey);
    if (res.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
    return res.data as T;
  }

  /** Runs an operation that must fail, and returns its first error. */
  async fails(query: string, variables: Record<string, unknown> = {}, apiKey?: string): Promise<GraphQLErrorShape> {
    const res = await this.request(query, variables, apiKey);
    if (!res.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(res.data)}`);
    return res.errors[0];
  }
}
