import { expect } from "chai";
import { createLogger } from "../../server/common/logger";
import { WorkerRuntime, type BackgroundWorker, type Heartbeat } from "../../server/jobs/worker.runtime";

/** A worker that records when it starts and stops, with one loop whose heartbeat the test holds. */
function worker(name: string, journal: string[], options: { failStart?: boolean; leaseMs?: number } = {}) {
  const state = { heartbeat: undefined as Heartbeat | undefined, running: false };
  const spec: BackgroundWorker & { readonly isRunning: boolean } = {
    name,
    start(context) {
      if (options.failStart) throw new Error(`${name} cannot reach its database`);
      state.heartbeat = context.loop("loop", options.leaseMs ?? 1_000);
      state.running = true;
      journal.push(`start ${name}`);
    },
    async stop() {
      state.running = false;
      journal.push(`stop ${name}`);
    },
    get isRunning() {
      return state.running;
    },
  };
  return { spec, state };
}

describe("the worker runtime", () => {
  const log = createLogger("silent");

  it("starts workers in registration order and stops them in the reverse order", async () => {
    const journal: string[] = [];
    const runtime = new WorkerRuntime(log);
    for (const name of ["bindings", "relay", "escrow", "jobs"]) runtime.register(worker(name, journal).spec);
    await runtime.start();
    await runtime.stop();
    expect(journal).to.deep.equal(["start bindings", "start relay", "start escrow", "start jobs", "stop jobs", "stop escrow", "stop relay", "stop bindings"]);
  });

  it("refuses two workers of one name", () => {
    const runtime = new WorkerRuntime(log);
    runtime.register(worker("jobs", []).spec);
    expect(() => runtime.register(worker("jobs", []).spec)).to.throw("a background worker named jobs is already registered");
  });

  it("stops what it started when a worker fails to start, and reports the failure by name", async () => {
    const journal: string[] = [];
    const runtime = new WorkerRuntime(log);
    runtime.register(worker("relay", journal).spec);
    runtime.register(worker("escrow", journal, { failStart: true }).spec);
    await runtime.start().then(
      () => expect.fail("start should fail"),
      (err: Error) => expect(err.message).to.equal("escrow cannot reach its database"),
    );
    expect(journal).to.deep.equal(["start relay", "stop relay"]);
    const health = runtime.health();
    expect(health.ok).to.equal(false);
    expect(health.workers.escrow).to.equal("failed: escrow cannot reach its database");
  });

  it("fails readiness naming a loop that has not gone round within its lease, and a worker that stopped by itself", async () => {
    let now = 1_000_000;
    const runtime = new WorkerRuntime(log, () => now);
    const jobs = worker("jobs", [], { leaseMs: 5_000 });
    const relay = worker("relay", [], { leaseMs: 60_000 });
    runtime.register(jobs.spec);
    runtime.register(relay.spec);
    expect(runtime.health()).to.deep.include({ ok: false });
    expect(runtime.health().workers.jobs).to.equal("not started");
    await runtime.start();
    expect(runtime.health()).to.deep.equal({ ok: true, workers: { jobs: "running", "jobs/loop": "running", relay: "running", "relay/loop": "running" } });

    now += 5_000;
    expect(runtime.health().ok, "at the lease exactly").to.equal(true);
    now += 1;
    expect(runtime.health()).to.deep.equal({
      ok: false,
      workers: { jobs: "running", "jobs/loop": "stuck: no progress for 5001 ms (lease 5000 ms)", relay: "running", "relay/loop": "running" },
    });
    jobs.state.heartbeat!.beat();
    expect(runtime.health().ok, "a beat clears it").to.equal(true);

    relay.state.running = false;
    expect(runtime.health().workers.relay).to.equal("stopped by itself");
    expect(runtime.health().ok).to.equal(false);
    await runtime.stop();
    expect(runtime.health().workers).to.deep.equal({ jobs: "stopped", relay: "stopped" });
  });
});
