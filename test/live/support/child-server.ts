import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { FAST_ENV } from "../../support/server";

const ROOT = path.join(__dirname, "..", "..", "..");

// scripts/build.js is plain JavaScript (`npm start` runs it before any TypeScript loader).
const { isFresh } = require("../../../scripts/build.js") as { isFresh(name: string): boolean };

/**
 * How a server process is started: from the compiled server (dist/server,
 * `node scripts/build.js server`, which `npm test` runs first) when that
 * build is of the sources as they are now, otherwise from the sources
 * through ts-node. Both run the same code; the compiled one starts with a
 * fifth of the CPU (ts-node transpiles every server file in every process),
 * which the suites that kill and restart servers pay many times over.
 */
export function serverCommand(): string[] {
  return isFresh("server") ? [path.join(ROOT, "dist", "server", "index.js")] : ["-r", "ts-node/register/transpile-only", "server/index.ts"];
}

/** A HumanOps server in its own process (server/index.ts), for tests that kill or multiply servers. */
export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** Its log lines (JSON), for diagnosing a failure. */
  output: string[];
  /** SIGKILL: no graceful stop, as in a crash. */
  kill(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function spawnServer(env: Record<string, string>, timeoutMs = 60_000): Promise<ChildServer> {
  const child = spawn(process.execPath, serverCommand(), {
    cwd: ROOT,
    env: { ...process.env, ...FAST_ENV, LOG_LEVEL: "info", TS_NODE_TRANSPILE_ONLY: "true", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${output.join("\n")}`)), timeoutMs);
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        output.push(line);
        const url = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(line)?.[1];
        if (url && line.includes("HumanOps is listening")) {
          clearTimeout(timer);
          resolve(url);
        }
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${output.join("\n")}`));
    });
  });
  return {
    url,
    child,
    output,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
  };
}
