/** A response body as JSON, or undefined when it is empty or not JSON (the caller reports the status instead). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
