import os from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

/** An MCP client connected to HumanOps, keeping a transcript of everything the server said. */
export interface McpConnection {
  client: Client;
  /** Tool results as text (content and structured), and notifications, in order. */
  transcript: string[];
  /** What the server process wrote to stderr (stdio only). */
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export type Connect = (apiKey?: string) => Promise<McpConnection>;

function recorded(client: Client, stderr: () => string): McpConnection {
  const transcript: string[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    transcript.push(JSON.stringify(notification));
  };
  return {
    client,
    transcript,
    stderr,
    async call(name, args = {}) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      transcript.push(JSON.stringify(result));
      return result;
    },
    close: () => client.close(),
  };
}

async function connected(transport: StdioClientTransport | StreamableHTTPClientTransport): Promise<Client> {
  const client = new Client({ name: "humanops-tests", version: "1.0.0" });
  await client.connect(transport);
  // Caches the tools' output schemas, so every structured result below is validated against them.
  await client.listTools();
  return client;
}

/** Spawns the built stdio server the way Claude Desktop does: `node <path>/dist/index.js` with the brief's two variables. */
export function stdioConnector(entry: string, apiUrl: string): Connect {
  return async (apiKey) => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [entry],
      env: { ...(apiKey ? { HUMANOPS_API_KEY: apiKey } : {}), HUMANOPS_API_URL: apiUrl },
      cwd: os.tmpdir(),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    return recorded(await connected(transport), () => stderr);
  };
}

/** Connects to /mcp of a running HumanOps with the key in X-API-Key. */
export function httpConnector(baseUrl: string): Connect {
  return async (apiKey) => {
    const transport = new StreamableHTTPClientTransport(new URL("/mcp", baseUrl), {
      requestInit: { headers: apiKey ? { "X-API-Key": apiKey } : {} },
    });
    return recorded(await connected(transport), () => "");
  };
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
