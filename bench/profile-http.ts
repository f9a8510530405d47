/**
 * Where a read's time goes: starts HumanOps, sends load from a separate
 * autocannon process, and writes a CPU profile of the server's process for
 * the load window (open it in Chrome DevTools), plus a summary of the
 * heaviest functions and modules by self time.
 *
 *   BENCH_PROFILE_SCENARIO=typename|task|rest BENCH_PROFILE_OUT=x.cpuprofile npm run bench -- profile-http
 */
import "reflect-metadata";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { loadConfig } from "../server/config";
import { createApp } from "../server/app";
import { graphqlRequest } from "./support/graphql-request";
import { startCpuProfile } from "./support/cpu-profile";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const SCENARIO = process.env.BENCH_PROFILE_SCENARIO ?? "task";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function summarize(profile: { nodes: ProfileNode[]; samples: number[] }): void {
  const self = new Map<number, number>();
  for (const sample of profile.samples) self.set(sample, (self.get(sample) ?? 0) + 1);
  const total = profile.samples.length;
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = self.get(node.id) ?? 0;
    if (!n) continue;
    const url = node.callFrame.url.replace(/^file:\/\//, "");
    const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes("/server/") ? `server/${url.split("/server/")[1].split("/")[0]}` : url ? (url.startsWith("node:") ? url : path.basename(url)) : `(${node.callFrame.functionName || "native"})`);
    const fn = `${node.callFrame.functionName || "(anonymous)"} ${url ? path.basename(url) : ""}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + n);
    byModule.set(module, (byModule.get(module) ?? 0) + n);
  }
  const top = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, n]) => `  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join("\n");
  console.log(`self time by module (${total} samples):\n${top(byModule, 25)}\n\nself time by function:\n${top(byFunction, 40)}`);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-profile-"));
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? path.join(dir, "humanops.db"),
    RATE_LIMIT_TEST_PER_MINUTE: "1000000",
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000",
  });
  const app = await createApp(config);
  const base = await app.listen();
  const endpoint = `${base}/graphql`;
  try {
    const { registerAgent } = await graphqlRequest(endpoint, `mutation { registerAgent(input: {name: "profile", email: "profile-${Date.now()}@bench.test"}) { apiKey } }`, {});
    const apiKey: string = registerAgent.apiKey;
    const input = { title: "Photo of storefront", description: "Take a photo.", taskType: "PHOTO", location: { lat: 30.2672, lng: -97.7431 }, rewardUsd: "0.01", deadline: new Date(Date.now() + 86_400_000).toISOString(), proofRequirements: ["Facade"], testScenario: "MANUAL" };
    const { postTask } = await graphqlRequest(endpoint, `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`, { input }, apiKey);
    const args: Record<string, string[]> = {
      typename: [endpoint, "-m", "POST", "-H", "content-type=application/json", "-b", JSON.stringify({ query: "{ __typename }" })],
      task: [endpoint, "-m", "POST", "-H", "content-type=application/json", "-H", `x-api-key=${apiKey}`, "-b", JSON.stringify({ query: `query($id: ID!) { task(id: $id) { id status title reward { usd } } }`, variables: { id: postTask.id } })],
      rest: [`${base}/api/v1/tasks/${postTask.id}`, "-H", `x-api-key=${apiKey}`],
    };
    const bare = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": 2 }).end("{}"));
    });
    await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", resolve));
    args.bare = [`http://127.0.0.1:${(bare.address() as AddressInfo).port}/`, "-m", "POST", "-b", "{}"];
    const load = async (scenario: string) => {
      const cpu = process.cpuUsage();
      const requests = await new Promise<number>((resolve, reject) => {
        const child = spawn(process.execPath, [require.resolve("autocannon/autocannon.js"), "-j", "-c", "10", "-d", String(SECONDS), ...args[scenario]], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        child.on("exit", (code) => (code === 0 ? resolve((JSON.parse(out) as { requests: { total: number }; non2xx: number }).requests.total) : reject(new Error(`autocannon exited with ${code}`))));
      });
      const used = process.cpuUsage(cpu);
      const perRequest = (used.user + used.system) / requests;
      console.log(`${scenario}: ${requests} requests, ${perRequest.toFixed(0)} µs of server CPU per request`);
      return perRequest;
    };
    const floor = await load("bare");
    const out = process.env.BENCH_PROFILE_OUT;
    const stopProfile = out ? await startCpuProfile(200) : undefined;
    for (const scenario of SCENARIO.split(",")) {
      const cost = await load(scenario);
      console.log(`  ${(floor / cost).toFixed(3)}x bare by CPU per request`);
    }
    bare.close();
    if (stopProfile) summarize((await stopProfile(out!)) as { nodes: ProfileNode[]; samples: number[] });
  } finally {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
