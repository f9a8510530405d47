/**
 * Ethereum JSON-RPC, the one way HumanOps talks to a chain: over HTTP to
 * Base or a shared `hardhat node`, or straight into the in-process local
 * chain (an EIP-1193 provider), with the same methods and errors either way.
 */
export interface Rpc {
  request<T = unknown>(method: string, params?: unknown[]): Promise<T>;
}

/** An error the node answered with; `revertData` is the contract's revert payload when there is one. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly revertData?: string,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

/** Revert data sits in `data` (geth, reth: a hex string) or in `data.data` (Hardhat). */
function revertDataOf(data: unknown): string | undefined {
  if (typeof data === "string" && /^0x[0-9a-f]*$/i.test(data) && data.length >= 10) return data;
  if (data && typeof data === "object" && "data" in data) return revertDataOf(data.data);
  return undefined;
}

function rpcError(error: { code?: number; message?: string; data?: unknown }): RpcError {
  return new RpcError(error.message ?? "JSON-RPC error", error.code, revertDataOf(error.data));
}

export class HttpRpc implements Rpc {
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 15_000,
  ) {}

  async request<T>(method: string, params: unknown[] = []): Promise<T> {
    const res = await this.post(JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }));
    if (!res.ok) throw new RpcError(`${method}: HTTP ${res.status} from the chain's RPC endpoint`);
    const body = (await res.json()) as { result?: T; error?: { code?: number; message?: string; data?: unknown } };
    if (body.error) throw rpcError(body.error);
    return body.result as T;
  }

  /**
   * Every call HumanOps makes is safe to repeat (reads, and broadcasts of
   * already-signed bytes), so a connection the server dropped (a kept-alive
   * socket it closed as it was reused) is tried once more on a new one.
   */
  private async post(body: string, retried = false): Promise<Response> {
    try {
      return await fetch(this.url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      if (retried || (err as Error).name === "TimeoutError") throw err;
      return this.post(body, true);
    }
  }
}

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export class Eip1193Rpc implements Rpc {
  constructor(private readonly provider: Eip1193Provider) {}

  async request<T>(method: string, params: unknown[] = []): Promise<T> {
    try {
      return (await this.provider.request({ method, params })) as T;
    } catch (err) {
      const e = err as { code?: number; message?: string; data?: unknown };
      throw rpcError({ code: e.code, message: e.message, data: e.data });
    }
  }
}

export const toHex = (value: bigint | number): string => `0x${value.toString(16)}`;
