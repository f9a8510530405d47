import { createClient, type Client } from "graphql-ws";
import type { TypedDocument } from "./graphql/operations.generated";

/**
 * The app's only way to the server: the public API, authenticated by the
 * session cookie (httpOnly, so never readable here). Every request that
 * changes something carries the session's CSRF token; WebSockets carry the
 * cookie on the upgrade and the server checks their Origin.
 */

export interface Session {
  /** An agent's or operator's key, or a platform admin's (ho_admin_...: the admin screen). */
  role: "agent" | "operator" | "admin";
  /** The signed-in key's mode: test keys see test tasks and money only. */
  mode?: "test" | "live";
  id: string;
  name: string;
  csrf_token: string;
  expires_at: string;
}

/** An error the API answered with: its code (VALIDATION_ERROR, NOT_FOUND, ...), message and, when it names one, the field. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let csrfToken: string | undefined;

/**
 * Called when the server no longer knows the session (it expired, was revoked,
 * or its key was): the app goes back to the sign-in page instead of showing
 * errors on every screen.
 */
let onSessionEnded: (() => void) | undefined;
export function whenSessionEnds(handler: () => void): void {
  onSessionEnded = handler;
}

function checkSession(error: ApiError): ApiError {
  if (csrfToken && (error.code === "UNAUTHENTICATED" || error.status === 401)) onSessionEnded?.();
  return error;
}

/** Remembers (in memory only) the CSRF token of the session the page is using. */
export function useSessionToken(session: Session | undefined): void {
  csrfToken = session?.csrf_token;
}

async function readError(response: Response): Promise<ApiError> {
  const body = await response.json().catch(() => undefined);
  const error = body?.error ?? body?.errors?.[0];
  const code = error?.code ?? error?.extensions?.code ?? `HTTP_${response.status}`;
  return new ApiError(error?.message ?? `The server answered ${response.status}`, code, error?.field ?? error?.extensions?.field, response.status);
}

/** The session the cookie holds, or undefined when signed out. */
export async function currentSession(): Promise<Session | undefined> {
  const response = await fetch("/auth/session", { credentials: "same-origin", headers: { accept: "application/json" } });
  if (response.status === 401) return undefined;
  if (!response.ok) throw await readError(response);
  return (await response.json()) as Session;
}

/** Exchanges an API key for a session cookie; the key itself is not kept anywhere by the page. */
export async function signIn(apiKey: string): Promise<Session> {
  const response = await fetch("/auth/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ api_key: apiKey }),
  });
  if (!response.ok) throw await readError(response);
  return (await response.json()) as Session;
}

/** Revokes the session on the server (the cookie stops working everywhere, WebSockets included). */
export async function signOut(): Promise<void> {
  // Live updates stop first, so the server closing them on sign-out is not taken for a session that ended by itself.
  const token = csrfToken;
  csrfToken = undefined;
  closeLive();
  const response = await fetch("/auth/session", { method: "DELETE", credentials: "same-origin", headers: token ? { "X-CSRF-Token": token } : {} });
  if (!response.ok && response.status !== 401) {
    csrfToken = token;
    throw await readError(response);
  }
}

/** Runs one typed operation over HTTP. GraphQL errors become an ApiError (the first one; the API reports one per request). */
export async function gql<Result, Variables>(document: TypedDocument<Result, Variables>, variables?: Variables): Promise<Result> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch("/graphql", { method: "POST", credentials: "same-origin", headers, body: JSON.stringify({ query: document, variables: variables ?? {} }) });
  const body = await response.json().catch(() => undefined);
  const error = body?.errors?.[0];
  if (error) throw checkSession(new ApiError(error.message, error.extensions?.code ?? `HTTP_${response.status}`, error.extensions?.field, response.status));
  if (!response.ok || !body?.data) throw new ApiError(`The server answered ${response.status}`, `HTTP_${response.status}`, undefined, response.status);
  return body.data as Result;
}

let live: Client | undefined;

function liveClient(): Client {
  live ??= createClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    // The cookie authenticates the upgrade; nothing secret goes in connection_init.
    lazy: true,
    retryAttempts: Infinity,
    // Network trouble and restarts are retried; a refused session (4401/4403) is not: signing in again is the cure.
    shouldRetry: (event) => !isAuthClose(event),
    retryWait: async (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** retries, 15_000))),
  });
  return live;
}

/** The server closed the socket because the session is missing, expired or revoked (graphql-ws 4401 / 4403). */
function isAuthClose(event: unknown): boolean {
  const code = (event as { code?: unknown } | undefined)?.code;
  return code === 4401 || code === 4403;
}

export function closeLive(): void {
  void live?.dispose();
  live = undefined;
}

/**
 * Follows a subscription until the returned function is called. `variables`
 * is read on every (re)subscription, so the caller can pass the last event id
 * it saw as afterEventId. graphql-ws itself resends a subscription's first
 * payload after a dropped connection: the server replays from there, which may
 * repeat updates but never skips one, and every update carries the task as it
 * is now, so a repeat changes nothing on screen.
 */
export function subscribe<Result, Variables>(
  document: TypedDocument<Result, Variables>,
  variables: () => Variables,
  onData: (data: Result) => void,
  onError: (error: ApiError) => void,
): () => void {
  let stopped = false;
  let stop: (() => void) | undefined;
  const start = () => {
    stop = liveClient().subscribe<Result>(
      { query: document, variables: variables() as Record<string, unknown> },
      {
        next: (message) => {
          const error = message.errors?.[0];
          if (error) onError(new ApiError(error.message, String(error.extensions?.code ?? "SUBSCRIPTION_ERROR")));
          else if (message.data) onData(message.data);
        },
        error: (err) => {
          if (isAuthClose(err)) {
            stopped = true;
            if (csrfToken) onSessionEnded?.();
            return onError(new ApiError("Your session has ended: sign in again to see live updates", "UNAUTHENTICATED"));
          }
          const errors = Array.isArray(err) ? err : undefined;
          onError(new ApiError(errors?.[0]?.message ?? "Live updates were interrupted", String(errors?.[0]?.extensions?.code ?? "LIVE_UPDATES")));
          // Resubscribe after an error the client does not retry by itself, from where we were.
          if (!stopped) setTimeout(() => !stopped && start(), 2000);
        },
        complete: () => undefined,
      },
    );
  };
  start();
  return () => {
    stopped = true;
    stop?.();
  };
}

/**
 * Uploads proof photos through the REST multipart route, reporting progress.
 * The files go as they are (the browser sends a File's bytes untouched), so
 * the EXIF the Guardian reads (GPS, capture time) arrives intact.
 */
export function uploadProof(taskId: string, files: File[], notes: string, onProgress: (fraction: number) => void): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  for (const file of files) form.append("photos", file, file.name);
  if (notes.trim()) form.append("notes", notes.trim());
  const done = new Promise<void>((resolve, reject) => {
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let body: { error?: { code?: string; message?: string; field?: string } } | undefined;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      reject(checkSession(new ApiError(body?.error?.message ?? `The upload failed (${xhr.status})`, body?.error?.code ?? `HTTP_${xhr.status}`, body?.error?.field, xhr.status)));
    };
    xhr.onerror = () => reject(new ApiError("The upload could not reach the server: check the connection and try again", "NETWORK"));
    xhr.onabort = () => reject(new ApiError("The upload was cancelled", "ABORTED"));
  });
  xhr.open("POST", `/api/v1/tasks/${encodeURIComponent(taskId)}/proof`);
  xhr.withCredentials = true;
  xhr.setRequestHeader("accept", "application/json");
  if (csrfToken) xhr.setRequestHeader("X-CSRF-Token", csrfToken);
  xhr.send(form);
  return { done, abort: () => xhr.abort() };
}

/**
 * Writes a message with photos in a task's thread through the REST
 * multipart route (POST /api/v1/tasks/{id}/messages): the photos go as they
 * are and are checked and stored as proof photos are. The message then
 * arrives like any other (taskMessageAdded).
 */
export async function sendMessagePhotos(taskId: string, text: string, files: File[]): Promise<void> {
  const form = new FormData();
  if (text.trim()) form.append("text", text);
  for (const file of files) form.append("photos", file, file.name);
  const headers: Record<string, string> = { accept: "application/json" };
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1/tasks/${encodeURIComponent(taskId)}/messages`, { method: "POST", credentials: "same-origin", headers, body: form });
  } catch {
    throw new ApiError("The photos could not reach the server: check the connection and try again", "NETWORK");
  }
  if (!response.ok) throw checkSession(await readError(response));
}

export interface AppConfig {
  map_tile_url?: string | null;
  map_attribution?: string | null;
  sumsub_websdk_url?: string | null;
  [key: string]: unknown;
}

let config: Promise<AppConfig> | undefined;

/** The deployment's settings for the browser (map tiles, the Sumsub WebSDK), fetched once. */
export function appConfig(): Promise<AppConfig> {
  config ??= fetch("/app-config.json", { credentials: "same-origin" })
    .then((response) => (response.ok ? (response.json() as Promise<AppConfig>) : {}))
    .catch(() => ({}));
  return config;
}
