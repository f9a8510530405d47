/** One GraphQL call over HTTP for the benchmarks: the data, or a thrown error carrying the answer's errors. */
export async function graphqlRequest(endpoint: string, query: string, variables: Record<string, unknown>, apiKey?: string): Promise<Record<string, any>> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { "x-api-key": apiKey } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}
