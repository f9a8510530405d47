/**
 * The Guardian, measured (issue 13 §6), in one run:
 * 1. The evaluation set (test/support/guardian-eval.ts): 66 generated,
 *    labelled proofs through the API and the Guardian job, a vision model
 *    answering through the local fake of the Messages API. Prints the
 *    confusion matrix (label × outcome) and the false auto-approvals (must be 0).
 * 2. Photos scored per second by the Guardian (decode, EXIF, checks) beside
 *    a plain sharp decode of the same photos, at the same concurrency.
 * 3. p99 of GraphQL reads (a load generator in its own process,
 *    bench/support/read-load.ts) without proofs being scored, and while 10
 *    proofs of two 12-megapixel JPEGs each are uploaded and scored; the
 *    target is a ratio of at most 1.5.
 *
 *   npm run bench -- guardian
 *   BENCH_GUARDIAN=reads npm run bench -- guardian   # section 3 only
 *   BENCH_GUARDIAN=reads BENCH_DECODE_PROCESS=true npm run bench -- guardian   # section 3, one setting
 *   BENCH_GUARDIAN=reads BENCH_CPU_PROFILE=/tmp npm run bench -- guardian   # and a CPU profile of each loaded window
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- guardian
 */
import "reflect-metadata";
import { fork } from "node:child_process";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { loadConfig } from "../server/config";
import { createApp } from "../server/app";
import { GuardianService } from "../server/guardian/guardian.service";
import { PhotoDecoder } from "../server/photos/photo.decoder";
import { mockPhoto } from "../server/testmode/mock-photo";
import { FakeVision } from "../test/support/fake-vision";
import { confusion, formatConfusion, runEvaluation } from "../test/support/guardian-eval";
import { graphqlRequest as graphql } from "./support/graphql-request";
import { formatFigures, readLoad as load, type LoadFigures } from "./support/load";
import { cpuBetween, sampleCpu, type CpuSample } from "./support/cpu-time";
import { startCpuProfile } from "./support/cpu-profile";
import { scriptFile } from "./support/runtime";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const BASELINE_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LOADED_PROOFS = 10;
/** BENCH_GUARDIAN=reads runs section 3 alone (a minute instead of several). */
const READS_ONLY = process.env.BENCH_GUARDIAN === "reads";
const POINT = { lat: 30.2672, lng: -97.7431 };

/** Runs `task` over `items`, `concurrency` at a time; returns the seconds it took. */
async function timed<T>(items: T[], concurrency: number, task: (item: T) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
  return (performance.now() - start) / 1000;
}

/**
 * A mock photo as a phone's camera writes it: the same scene with sensor
 * grain, so a 12-megapixel JPEG is 3-4 MB as a phone's is (the smooth
 * mock scene alone compresses to 0.3 MB, which would understate what the
 * server does with the bytes: the upload's body, copies between processes,
 * hashing, storing). The camera's EXIF block (time, GPS) is kept as it was.
 */
async function withGrain(photo: Buffer, seed: number): Promise<Buffer> {
  const { data, info } = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
  const AMPLITUDE = 28;
  let state = 0x9e3779b9 ^ seed;
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = Math.max(0, Math.min(255, data[i] + (((state & 0xff) * AMPLITUDE) >> 8) - AMPLITUDE / 2));
  }
  const grainy = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).jpeg({ quality: 92 }).toBuffer();
  // The original's APP1 (EXIF) segment, put back right after the new file's start-of-image marker.
  let at = 2;
  while (at + 4 <= photo.length && photo[at] === 0xff && photo[at + 1] !== 0xe1) at += 2 + photo.readUInt16BE(at + 2);
  if (photo[at + 1] !== 0xe1) throw new Error("the mock photo has no EXIF segment");
  const exif = photo.subarray(at, at + 2 + photo.readUInt16BE(at + 2));
  return Buffer.concat([grainy.subarray(0, 2), exif, grainy.subarray(2)]);
}

/** Sections 1 and 2: the evaluation set through the API, then photos scored per second beside a plain decode. */
async function evaluate(endpoint: string, fake: FakeVision, maxMegapixels: number): Promise<void> {
  const started = performance.now();
  const results = await runEvaluation({ graphql: endpoint, fake, concurrency: 4 });
  const { falseAutoApprovals } = confusion(results);
  console.log(`\nEvaluation set: ${results.length} proofs in ${((performance.now() - started) / 1000).toFixed(1)} s (through the API, with the fake vision model)\n`);
  console.log(formatConfusion(results));
  console.log(`\nfalse auto-approvals: ${falseAutoApprovals.length} (must be 0)`);

  // ── 2. photos scored per second vs a plain decode ──
  const proofs = results.map((r) => r.photos);
  const photos = proofs.flat();
  const guardian = new GuardianService({ approveAt: 90, rejectBelow: 50 }, new PhotoDecoder(maxMegapixels, 2));
  const concurrency = 2;
  const decodeSeconds = await timed(photos, concurrency, (photo) => sharp(photo).raw().toBuffer());
  const scoreSeconds = await timed(proofs, 1, (proof) => guardian.score({ proofRequirements: ["2 photos of the storefront"], photos: proof }));
  const [decodeRate, scoreRate] = [photos.length / decodeSeconds, photos.length / scoreSeconds];
  console.log(`\n${photos.length} photos (1280×960 and 1280×720 JPEG)`);
  console.log(`  plain sharp decode (baseline), ${concurrency} at a time: ${decodeRate.toFixed(1)} photos/s`);
  console.log(`  Guardian scoring (decode, EXIF, checks; the decoder's own concurrency of 2): ${scoreRate.toFixed(1)} photos/s, ${(scoreRate / decodeRate).toFixed(2)}x the baseline`);
}

/** A HumanOps server on its own database and photo directory under `dir`, Guardian scoring with the fake vision model. */
async function startHumanOps(dir: string, fake: FakeVision, env: Record<string, string> = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? path.join(dir, "humanops.db"),
    PHOTO_STORE: "directory",
    PHOTO_DIRECTORY: path.join(dir, "photos"),
    TEST_MODE_STEP_MS: "0",
    WORKER_POLL_MS: "20",
    TEST_MODE_STARTING_BALANCE_USD: "1000000",
    RATE_LIMIT_TEST_PER_MINUTE: "1000000",
    RATE_LIMIT_REGISTRATIONS_PER_HOUR: "1000000",
    GUARDIAN_VISION_API_KEY: fake.apiKey,
    GUARDIAN_VISION_URL: fake.url,
    ...env,
  });
  const humanops = await createApp(config);
  const base = await humanops.listen();
  return { config, humanops, base, endpoint: `${base}/graphql` };
}

/** One window of reads: the load's figures, and what the server's process went through meanwhile. */
interface Window {
  reads: LoadFigures;
  /** The event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution): p99 and max, ms. */
  loopDelay: { p99: number; max: number };
  /** The garbage collector's pauses of the server's process (perf_hooks "gc" entries): how many, their total and the longest, ms. */
  gc: { count: number; total: number; max: number };
  /** CPU seconds in the window: the server's event loop, its other threads, its child processes. */
  cpu?: CpuSample;
  /** The 1-minute load average at the window's end. */
  load: number;
}

interface ReadFigures {
  quiet: Window;
  loaded: Window;
  quietAfter: Window;
  scoredIn: number;
  /** Loaded p99 over the lower of the two quiet p99s: the ratio errs against the Guardian. */
  ratio: number;
}

/**
 * Section 3 on one server: p99 of GraphQL reads quiet, then while
 * LOADED_PROOFS proofs of two 12-megapixel photos (`photos`, files) are
 * uploaded (from a process of their own) and scored, then quiet again.
 */
async function readsWhileScoring(server: Awaited<ReturnType<typeof startHumanOps>>, photos: string[]): Promise<ReadFigures> {
  const { humanops, base, endpoint } = server;
  const { registerAgent } = await graphql(endpoint, `mutation { registerAgent(input: {name: "bench", email: "bench-load-${Date.now()}@bench.test"}) { apiKey } }`, {});
  const { registerOperator } = await graphql(endpoint, `mutation($input: RegisterOperatorInput!) { registerOperator(input: $input) { testApiKey } }`, {
    input: { name: "bench operator", email: `bench-load-${Date.now()}@operators.test`, payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" },
  });
  const agentKey: string = registerAgent.apiKey;
  const operatorKey: string = registerOperator.testApiKey;
  const input = (i: number) => ({
    title: `Large proof ${i}`, description: "Photos of the facade.", taskType: "PHOTO", location: { ...POINT, address: "123 Main St" }, rewardUsd: "1",
    deadline: new Date(Date.now() + 86_400_000).toISOString(), proofRequirements: ["2 photos of the storefront"], testScenario: "MANUAL",
  });
  const taskIds: string[] = [];
  // One more task than the window scores: its proof warms the decoder up (in process mode, starts its child) before the quiet run.
  for (let i = 0; i <= LOADED_PROOFS; i++) {
    const { postTask } = await graphql(endpoint, `mutation($input: PostTaskInput!) { postTask(input: $input) { id } }`, { input: input(i) }, agentKey);
    await graphql(endpoint, `mutation($id: ID!) { acceptTask(id: $id) { id } }`, { id: postTask.id }, operatorKey);
    taskIds.push(postTask.id);
  }
  const readBody = JSON.stringify({ query: `query($id: ID!) { task(id: $id) { id status title reward { usd } } }`, variables: { id: taskIds[0] } });
  const target = { url: endpoint, method: "POST" as const, headers: { "x-api-key": agentKey }, body: readBody, connections: CONNECTIONS };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  /** Reads until `until` settles, with the loop delay and CPU of that time (sampled before the load generator exits). */
  const reads = async (until: Promise<unknown>): Promise<Window> => {
    let after: CpuSample | undefined;
    let loopDelay = { p99: 0, max: 0 };
    const gc = { count: 0, total: 0, max: 0 };
    const pauses = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) [gc.count, gc.total, gc.max] = [gc.count + 1, gc.total + entry.duration, Math.max(gc.max, entry.duration)];
    });
    pauses.observe({ entryTypes: ["gc"] });
    const before = sampleCpu();
    delay.reset();
    const figures = await load(target, until.then(() => {
      after = sampleCpu();
      loopDelay = { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
      pauses.disconnect();
    }));
    return { reads: figures, loopDelay, gc, cpu: cpuBetween(before, after), load: os.loadavg()[0] };
  };

  const pause = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const uploads = await uploadClient();
  const score = async (ids: string[]) => {
    await uploads.send(base, operatorKey, ids.map((taskId, i) => ({ taskId, files: [photos[i % photos.length], photos[(i + 1) % photos.length]] })));
    for (;;) {
      const { tasks } = await graphql(endpoint, `{ tasks(first: 100, filter: { status: SUBMITTED }) { totalCount } }`, {}, agentKey);
      if (tasks.totalCount === 0) return;
      await pause(0.1);
    }
  };
  await score([taskIds.pop()!]);
  // Approved tasks settle on the test chain in the background: wait for that, and warm up.
  await humanops.escrow.idle();
  await reads(pause(3));
  const quiet = await reads(pause(BASELINE_SECONDS));
  let scoredIn = 0;
  const scoring = (async () => {
    await pause(0.5);
    const start = performance.now();
    await score(taskIds);
    scoredIn = (performance.now() - start) / 1000;
    // As long a window as the quiet run, so both p99s weigh the same number of seconds.
    const rest = BASELINE_SECONDS - scoredIn - 0.5;
    if (rest > 0) await pause(rest);
  })();
  // BENCH_CPU_PROFILE=<dir>: a CPU profile of the server's process over the loaded window (open it in Chrome DevTools).
  const profiling = process.env.BENCH_CPU_PROFILE ? await startCpuProfile() : undefined;
  const loaded = await reads(scoring);
  if (profiling) {
    const file = path.join(process.env.BENCH_CPU_PROFILE!, `guardian-loaded-${process.pid}-${Date.now()}.cpuprofile`);
    await profiling(file);
    console.log(`CPU profile of the loaded window: ${file}`);
  }
  await humanops.escrow.idle();
  const quietAfter = await reads(pause(BASELINE_SECONDS));
  delay.disable();
  return { quiet, loaded, quietAfter, scoredIn, ratio: loaded.reads.p99 / Math.min(quiet.reads.p99, quietAfter.reads.p99) };
}

/**
 * The upload client (bench/support/upload-proofs.ts), started and loaded
 * before anything is measured so its start (under ts-node, a compile) is
 * not counted against the Guardian; `send` uploads proofs and resolves
 * when every one was accepted. It exits with this process.
 */
async function uploadClient(): Promise<{ send(base: string, apiKey: string, proofs: Array<{ taskId: string; files: string[] }>): Promise<void> }> {
  type Answer = { ready?: true; seconds?: number; error?: string };
  const child = fork(scriptFile(path.join(__dirname, "support"), "upload-proofs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  child.unref();
  child.channel?.unref();
  const answers: Array<(answer: Answer) => void> = [];
  child.on("message", (answer: Answer) => answers.shift()?.(answer));
  const next = () => new Promise<Answer>((resolve) => answers.push(resolve));
  await next();
  return {
    async send(base, apiKey, proofs) {
      const answer = next();
      child.send({ base, apiKey, proofs });
      const { error } = await answer;
      if (error) throw new Error(error);
    },
  };
}

/** What the server's process went through in a window: loop delay, GC pauses, CPU by where it ran, load average. */
function formatWindow(w: Window): string {
  const s = (seconds: number | undefined) => (seconds === undefined ? "n/a" : `${seconds.toFixed(2)} s`);
  const children = w.cpu ? Object.entries(w.cpu.children).filter(([, seconds]) => seconds >= 0.005).map(([name, seconds]) => `${name} ${s(seconds)}`) : [];
  return [
    `loop delay p99 ${w.loopDelay.p99.toFixed(1)} ms, max ${w.loopDelay.max.toFixed(1)} ms`,
    `GC pauses ${w.gc.count}, ${w.gc.total.toFixed(0)} ms in all, longest ${w.gc.max.toFixed(1)} ms`,
    `CPU: event loop ${s(w.cpu?.mainThread)}, server's other threads ${s(w.cpu?.otherThreads)}${children.length ? `, ${children.join(", ")}` : ""}`,
    `load average ${w.load.toFixed(1)}`,
  ].join("; ");
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-bench-"));
  const fake = await FakeVision.start();
  const cpu = os.cpus();
  console.log(`HumanOps Guardian benchmark: ${process.env.BENCH_DATABASE_URL ? "postgresql" : "sqlite"}, Node ${process.version}, ${cpu.length} cores (${cpu[0]?.model.trim()}), sharp ${sharp.versions.vips ? `libvips ${sharp.versions.vips}` : ""}, ${new Date().toISOString()}`);
  try {
    if (!READS_ONLY) {
      const server = await startHumanOps(path.join(dir, "evaluation"), fake);
      try {
        await evaluate(server.endpoint, fake, server.config.guardian.maxMegapixels);
      } finally {
        await server.humanops.stop();
      }
    }

    // ── 3. GraphQL reads while 12-megapixel proofs are scored ──
    // Four distinct 12-megapixel scenes, as files the upload process reads; each proof sends two of them.
    const photos = await Promise.all([0, 1, 2, 3].map(async (n) => {
      const file = path.join(dir, `large-${n}.jpg`);
      fs.writeFileSync(file, await withGrain(await mockPhoto({ title: "Large proof", seed: `large-${n}`, ...POINT, takenAt: new Date(), width: 4000, height: 3000 }), n));
      return file;
    }));
    // The same measurement with photos decoded in the server process and in the decoder process of lower priority (the default).
    const modes: Array<{ name: string; env: Record<string, string> }> = [
      { name: "decoded in the server process (GUARDIAN_DECODE_PROCESS=false)", env: { GUARDIAN_DECODE_PROCESS: "false" } },
      { name: "decoded in the decoder process (GUARDIAN_DECODE_PROCESS=true, the default)", env: { GUARDIAN_DECODE_PROCESS: "true" } },
    ];
    const measured: Array<{ name: string; figures: ReadFigures }> = [];
    // BENCH_DECODE_PROCESS=true or false measures that setting alone.
    const only = process.env.BENCH_DECODE_PROCESS;
    for (const [i, mode] of modes.entries()) {
      if (only && mode.env.GUARDIAN_DECODE_PROCESS !== only) continue;
      const server = await startHumanOps(path.join(dir, `reads-${i}`), fake, mode.env);
      try {
        measured.push({ name: mode.name, figures: await readsWhileScoring(server, photos) });
      } finally {
        await server.humanops.stop();
      }
    }
    const sizes = photos.map((file) => `${(fs.statSync(file).size / 1e6).toFixed(1)} MB`).join(", ");
    console.log(`\nGraphQL task(id) reads, ${CONNECTIONS} connections, load generator in its own process, proofs uploaded from another (4000×3000 JPEGs of ${sizes}):`);
    const row = (name: string, w: Window) => {
      console.log(`    ${name.padEnd(62)} ${formatFigures(w.reads)}`);
      console.log(`      ${formatWindow(w)}`);
    };
    for (const { name, figures } of measured) {
      console.log(`  photos ${name}:`);
      row(`quiet, before (${BASELINE_SECONDS} s)`, figures.quiet);
      row(`while ${LOADED_PROOFS} proofs of 2×12 MP are uploaded and scored (${figures.scoredIn.toFixed(1)} s)`, figures.loaded);
      row(`quiet, after (${BASELINE_SECONDS} s)`, figures.quietAfter);
      console.log(`    p99 ratio: ${figures.ratio.toFixed(2)}x the lower quiet p99 (target ≤ 1.5x)`);
    }
  } finally {
    await fake.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
