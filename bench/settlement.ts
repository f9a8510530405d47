/**
 * Settlement benchmark: test-mode tasks settled per second end to end on the
 * local chain (posted over GraphQL, funded on chain, taken and proved by the
 * mock operator, scored by the Guardian, released on chain and recorded),
 * beside the raw rate of plain USDC transfers on the same chain, measured
 * in the same run.
 *
 *   npm run bench:settlement                              # 200 tasks, 20 posting at a time
 *   BENCH_TASKS=500 BENCH_CONCURRENCY=50 BENCH_TRANSFERS=1000 npm run bench:settlement
 *   BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench npm run bench:settlement   # an empty database
 *
 * The baseline signs its transfers up front and sends them one after the
 * other, each to its receipt: the chain's own pace for the cheapest useful
 * transaction. A settled task needs two transactions (fund, release) plus
 * everything around them, so the ratio shows what HumanOps's bookkeeping,
 * outbox and lifecycle cost on top of the chain.
 */
import "reflect-metadata";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Wallet } from "ethers";
import { loadConfig } from "../server/config";
import { report } from "./support/report";
import { createApp, type HumanOps } from "../server/app";
import { Mode } from "../server/common/mode";
import type { Chain } from "../server/chain/chains";
import { toHex } from "../server/chain/rpc";
import { currentFees, receiptOf, signCall } from "../server/chain/transactions";
import { compareBooks } from "../server/escrow/books";
import { ChainTx, ChainTxKind, ChainTxStatus } from "../server/escrow/chain-tx.entity";
import { Task } from "../server/tasks/task.entity";
import { TaskEvent } from "../server/tasks/task-event.entity";
import { TaskEventKind, TaskStatus } from "../server/tasks/task.enums";
import { graphqlRequest } from "./support/graphql-request";
import { cpuBetween, sampleCpu, type CpuSample } from "./support/cpu-time";

const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const TRANSFERS = Number(process.env.BENCH_TRANSFERS ?? 500);
const AGENTS = Math.max(1, Math.ceil(TASKS / 500));

const graphql = (url: string, query: string, variables: Record<string, unknown>, apiKey?: string) => graphqlRequest(`${url}/graphql`, query, variables, apiKey);

/** A wallet holding test USDC, minted by HumanOps's own outbox (the funding wallet owns TestUSDC on the local chain). */
async function usdcWallet(app: HumanOps, chain: Chain, amount: bigint): Promise<Wallet> {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  await chain.rpc.request("hardhat_setBalance", [wallet.address, toHex(10n ** 21n)]);
  await app.orm.em.fork().persist(new ChainTx(chain.key, ChainTxKind.MINT, `mint:bench:${randomUUID()}`, chain.funder.address, { recipient: wallet.address, amount })).flush();
  app.escrow.wake();
  await app.escrow.idle();
  return wallet;
}

/** Plain USDC transfers, signed up front, each sent and waited for to its receipt: transfers per second. */
async function rawTransfers(chain: Chain, from: Wallet, count: number): Promise<number> {
  const to = Wallet.createRandom().address;
  const nonce = Number(BigInt(await chain.rpc.request<string>("eth_getTransactionCount", [from.address, "pending"])));
  const gas = { gasLimit: 80_000n, ...(await currentFees(chain.rpc)) };
  const signed = await Promise.all(Array.from({ length: count }, (_, i) => signCall(from, chain.id, nonce + i, { to: chain.usdc.address, data: chain.usdc.transfer(to, 1n) }, gas)));
  const started = performance.now();
  for (const tx of signed) {
    await chain.rpc.request("eth_sendRawTransaction", [tx.raw]);
    const receipt = await receiptOf(chain.rpc, tx.hash);
    if (receipt?.status !== "0x1") throw new Error(`baseline transfer ${tx.hash} did not succeed`);
  }
  return count / ((performance.now() - started) / 1000);
}

interface Settled {
  perSecond: number;
  seconds: number;
  chainTxPerSecond: number;
  /** Chain transactions mined per task (a batch of fundings or releases is one), and outbox rows per transaction. */
  transactionsPerTask: number;
  rowsPerTransaction: number;
  /** SQL statements the server sent while the tasks were posted and settled, per task (the benchmark's own wait for them left out). */
  statementsPerTask: number;
  /** Statements per task by kind and table, most first. */
  byKind: Array<[string, number]>;
  /** Statements of the kind BENCH_SQL_SITES names per task, by where in the server they come from. */
  bySite: Array<[string, number]>;
  /** The CPU seconds the tasks took while they were posted and settled (this process, which also runs the chain, and the photo decoder process). */
  cpu?: CpuSample;
}

async function settleTasks(app: HumanOps, url: string): Promise<Settled> {
  const keys: string[] = [];
  for (let i = 0; i < AGENTS; i++) {
    const data = await graphql(url, `mutation($input: RegisterAgentInput!) { registerAgent(input: $input) { apiKey } }`, { input: { name: `bench ${i}`, email: `bench-${randomUUID()}@agents.test` } });
    keys.push(data.registerAgent.apiKey);
  }
  await app.escrow.idle();
  const em = app.orm.em.fork();
  const txsBefore = await em.count(ChainTx, { status: ChainTxStatus.MINED });
  const transactionsBefore = await minedTransactions(app);
  const input = (i: number) => ({
    title: `Bench task ${i}`,
    description: "Take 2 clear photos showing the full facade and signage.",
    taskType: "PHOTO",
    location: { lat: 30.2672, lng: -97.7431 },
    rewardUsd: 1,
    deadline: new Date(Date.now() + 86_400_000).toISOString(),
    proofRequirements: ["Full facade photo", "Close-up of signage"],
  });
  let statements = 0;
  const kinds = new Map<string, number>();
  const sites = new Map<string, number>();
  app.orm.config.set("onQuery", (sql: string) => {
    // The benchmark's own statements (its wait for the tasks to be paid) are not the server's.
    if (sql.includes(BENCH_MARK)) return sql;
    statements++;
    const kind = classify(sql);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (SITES_OF.includes(kind)) {
      const site = `${kind}: ${callSite(new Error().stack ?? "")}`;
      sites.set(site, (sites.get(site) ?? 0) + 1);
    }
    return sql;
  });
  const cpuBefore = sampleCpu();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < TASKS) {
        const i = next++;
        await graphql(url, `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`, { input: input(i) }, keys[i % keys.length]);
      }
    }),
  );
  for (;;) {
    const [{ paid }] = await em.getConnection().execute<Array<{ paid: number | string }>>(`select count(*) as paid from tasks where status = ? ${BENCH_MARK}`, [TaskStatus.PAID]);
    if (Number(paid) >= TASKS) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuBetween(cpuBefore, sampleCpu());
  app.orm.config.set("onQuery", (sql: string) => sql);
  const chainTxs = (await em.fork().count(ChainTx, { status: ChainTxStatus.MINED })) - txsBefore;
  const transactions = (await minedTransactions(app)) - transactionsBefore;
  const perTask = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]): [string, number] => [key, n / TASKS]);
  return { perSecond: TASKS / seconds, seconds, chainTxPerSecond: chainTxs / seconds, transactionsPerTask: transactions / TASKS, rowsPerTransaction: chainTxs / transactions, statementsPerTask: statements / TASKS, byKind: perTask(kinds), bySite: perTask(sites), cpu };
}

/** Distinct transactions among the outbox's mined rows (the rows of a batch share one). */
async function minedTransactions(app: HumanOps): Promise<number> {
  const [{ n }] = await app.orm.em.getConnection().execute<Array<{ n: number | string }>>(`select count(distinct tx_hash) as n from chain_txs where status = ? ${BENCH_MARK}`, [ChainTxStatus.MINED]);
  return Number(n);
}

/** Marks the benchmark's own statements, which are left out of the count. */
const BENCH_MARK = "/* bench */";
/** BENCH_SQL_SITES="select escrows,update chain_txs": where the server sends statements of those kinds from, per settled task. */
const SITES_OF = (process.env.BENCH_SQL_SITES ?? "").split(",").map((kind) => kind.trim()).filter(Boolean);

/** The first frames of the server's own code that led to a statement. */
function callSite(stack: string): string {
  const frames = stack.split("\n").filter((line) => line.includes("/server/") && !line.includes("/node_modules/"));
  return frames.slice(0, 3).map((line) => line.trim().replace(/^at /, "").replace(/\(?\/.*\/server\//, "(")).join(" < ") || "(outside server code)";
}

/** A statement's kind and table, e.g. "update chain_txs" or "begin"; by its own table, not one a subquery in its columns reads. */
function classify(sql: string): string {
  let text = sql.replace(/\s+/g, " ").trim().toLowerCase();
  // Parenthesised parts (a subquery, a column list) become "_", innermost first.
  for (let inner = text.replace(/\([^()]*\)/g, "_"); inner !== text; inner = inner.replace(/\([^()]*\)/g, "_")) text = inner;
  const verb = /^(\w+)/.exec(text)?.[1] ?? "?";
  const table = /^(?:select .*? from|insert into|update|delete from) [`"]?(\w+)/.exec(text)?.[1];
  return table ? `${verb} ${table}` : verb;
}

/** All the CPU of the settle window per task, in ms. */
const cpuMs = (cpu: CpuSample | undefined) => cpu && ((cpu.mainThread + cpu.otherThreads + Object.values(cpu.children).reduce((sum, seconds) => sum + seconds, 0)) * 1000) / TASKS;

/** The CPU a task took, by where: it does not depend on how loaded the machine is, as the rates do. */
function cpuPerTask(cpu: CpuSample | undefined): string {
  if (!cpu) return "n/a (no /proc)";
  const ms = (seconds: number) => `${((seconds * 1000) / TASKS).toFixed(0)} ms`;
  const parts = [`event loop ${ms(cpu.mainThread)}`, `other threads ${ms(cpu.otherThreads)}`, ...Object.entries(cpu.children).map(([name, seconds]) => `${name} ${ms(seconds)}`)];
  return `${cpuMs(cpu)!.toFixed(0)} ms (${parts.join(", ")}; the chain runs in this process too)`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const FUNDED = "funded";

/** Where a task's time goes: the median of each step, from the task event log (its ESCROW_FUNDED entry marks the funding). */
async function stages(app: HumanOps): Promise<Array<[string, number]>> {
  const em = app.orm.em.fork();
  const at = new Map<string, Map<string, number>>();
  for (const event of await em.find(TaskEvent, {}, { populate: ["task"], orderBy: { id: "asc" } })) {
    const times = at.get(event.task.id) ?? new Map<string, number>();
    const step = event.kind === TaskEventKind.ESCROW_FUNDED ? FUNDED : event.toStatus;
    if (!times.has(step)) times.set(step, event.createdAt.getTime());
    at.set(event.task.id, times);
  }
  const step = (from: string, to: string) => median([...at.values()].filter((t) => t.has(from) && t.has(to)).map((t) => t.get(to)! - t.get(from)!));
  return [
    ["POSTED → escrow funded (outbox, mined on chain, booked)", step(TaskStatus.POSTED, FUNDED)],
    ["funded → ACCEPTED (the mock operator)", step(FUNDED, TaskStatus.ACCEPTED)],
    ["ACCEPTED → SUBMITTED (mock proof)", step(TaskStatus.ACCEPTED, TaskStatus.SUBMITTED)],
    ["SUBMITTED → VERIFIED (Guardian scoring)", step(TaskStatus.SUBMITTED, TaskStatus.VERIFIED)],
    ["VERIFIED → PAID (release mined on chain, booked)", step(TaskStatus.VERIFIED, TaskStatus.PAID)],
  ];
}

async function main(): Promise<void> {
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? ":memory:",
    TEST_MODE_STEP_MS: "0",
    RATE_LIMIT_TEST_PER_MINUTE: "1000000",
  });
  const app = await createApp(config);
  if ((await app.orm.em.fork().count(Task, {})) > 0) {
    await app.stop();
    throw new Error("BENCH_DATABASE_URL must name an empty database: the books of earlier runs are backed by a chain that is gone");
  }
  const url = await app.listen();
  try {
    const chain = app.chains.forMode(Mode.TEST)!;
    console.log(`settlement benchmark: ${TASKS} tasks (${CONCURRENCY} posting at a time), ${TRANSFERS} baseline transfers, ${config.database.kind}, local chain in process`);
    const baseline = await rawTransfers(chain, await usdcWallet(app, chain, BigInt(TRANSFERS)), TRANSFERS);
    const settled = await settleTasks(app, url);
    await app.escrow.idle(120_000);
    const books = await compareBooks(app.orm.em.fork(), chain, { scanChain: true });
    const balanced = Object.values(books).every((line) => line.ledger === line.chain);
    const rows = [
      ["plain USDC transfers (baseline)", `${baseline.toFixed(1)} tx/s`, "1.00"],
      ["tasks settled end to end", `${settled.perSecond.toFixed(1)} tasks/s`, (settled.perSecond / baseline).toFixed(3)],
      ["HumanOps chain transactions", `${settled.chainTxPerSecond.toFixed(1)} tx/s`, (settled.chainTxPerSecond / baseline).toFixed(3)],
    ];
    console.log(`\n| measure | rate | × baseline |\n|---|---:|---:|\n${rows.map((r) => `| ${r.join(" | ")} |`).join("\n")}`);
    console.log(`\nmedian per task:\n${(await stages(app)).map(([name, ms]) => `  ${name}: ${ms} ms`).join("\n")}`);
    console.log(`\nchain transactions per settled task: ${settled.transactionsPerTask.toFixed(2)} (outbox rows per transaction: ${settled.rowsPerTransaction.toFixed(2)})`);
    console.log(`SQL statements per settled task: ${settled.statementsPerTask.toFixed(1)}`);
    console.log(`CPU per settled task: ${cpuPerTask(settled.cpu)}`);
    if (process.env.BENCH_SQL_DETAIL) console.log(settled.byKind.map(([kind, n]) => `  ${n.toFixed(2).padStart(6)}  ${kind}`).join("\n"));
    if (SITES_OF.length) console.log(`\n${SITES_OF.join(", ")} by call site, per settled task:\n${settled.bySite.map(([site, n]) => `  ${n.toFixed(2).padStart(6)}  ${site}`).join("\n")}`);
    console.log(`\n${TASKS} tasks paid in ${settled.seconds.toFixed(1)} s; ledger equals chain afterwards: ${balanced ? "yes" : `NO ${JSON.stringify(books, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`}`);
    report({ tasksPerSecond: settled.perSecond, transfersPerSecond: baseline, ratio: settled.perSecond / baseline, statementsPerTask: settled.statementsPerTask, cpuMsPerTask: cpuMs(settled.cpu), balanced });
    if (!balanced) process.exitCode = 1;
  } finally {
    await app.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
