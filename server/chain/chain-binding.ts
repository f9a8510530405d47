import fs from "node:fs";
import os from "node:os";
import type { Logger } from "../common/logger";
import { Mode } from "../common/mode";
import { ConfigError } from "../config";
import type { Orm } from "../db/orm";
import { ChainBinding } from "./chain-binding.entity";
import type { Chain, Chains } from "./chains";
import { Periodic, type BackgroundWorker, type WorkerContext } from "../jobs/worker.runtime";

/**
 * Keeps every process on one database settling each mode on one chain. A
 * process starting on a database whose mode is bound to another chain takes
 * the binding over only when no live process settles there; otherwise it
 * refuses to start. Two in-process chains on one database would each hold
 * half the escrows (tasks stuck, the reconciler minting to make up, the books
 * never equal to either chain), so a second replica without a shared chain
 * is told to set TEST_CHAIN_RPC_URL. A restart on the same database is not
 * refused: a gracefully stopped owner released its binding, and a killed
 * one stops beating, which is what the newcomer watches for. A killed owner
 * that ran where the newcomer runs (the same kernel and process namespace,
 * which its name records) is seen to be gone at once, without watching.
 */
export interface BindingTiming {
  /** How often each process renews the binding it settles on. */
  beatMs: number;
  /** How long a newcomer watches a bound chain's heartbeat before taking it for dead. */
  watchMs: number;
}

const DEFAULT_TIMING: BindingTiming = { beatMs: 1_000, watchMs: 5_000 };
/** A heartbeat this old is dead without watching (clocks of replicas' hosts agree far better than this). */
const LONG_DEAD_MS = 10 * 60_000;

const RPC_SETTING: Record<Mode, string> = { [Mode.TEST]: "TEST_CHAIN_RPC_URL", [Mode.LIVE]: "CHAIN_RPC_URL" };

export class ChainBindings implements BackgroundWorker {
  readonly name = "chain-bindings";
  private readonly heartbeat: Periodic;
  private readonly lost = new Set<string>();
  private readonly self = ownerName(process.pid);

  constructor(
    private readonly orm: Orm,
    private readonly chains: Chains,
    private readonly log: Logger,
    private readonly timing: BindingTiming = DEFAULT_TIMING,
  ) {
    this.heartbeat = new Periodic("renewing the chain bindings", timing.beatMs, () => this.beat(), log);
  }

  /** Binds each of this process's chains to its mode, or throws a ConfigError naming the setting to use; start() then keeps the bindings' heartbeat. */
  async claim(): Promise<void> {
    for (const chain of this.chains.all()) await this.claimOne(chain);
  }

  /**
   * Renews the bindings every beat. A newcomer takes a binding whose beat
   * stood still for its watch, so a renewal stuck that long is a stuck loop.
   */
  start(context?: WorkerContext): void {
    this.heartbeat.start(context?.loop("beat", this.timing.watchMs));
  }

  stop(): Promise<void> {
    return this.release();
  }

  /** Stops the heartbeat; an in-process chain ends with this process, so its binding is released for the next one at once. */
  async release(): Promise<void> {
    await this.heartbeat.stop();
    for (const chain of this.chains.all()) {
      if (chain.inProcess) await this.orm.em.fork().nativeUpdate(ChainBinding, { mode: chain.mode, chainKey: chain.key }, { beatAt: 0 });
    }
  }

  private async claimOne(chain: Chain): Promise<void> {
    const owner = chain.inProcess ? this.self : undefined;
    for (;;) {
      const bound = await this.read(chain.mode);
      if (!bound) {
        await this.orm.em
          .fork()
          .getConnection()
          .execute(
            "insert into chain_bindings (mode, chain_key, chain_id, task_escrow, owner, beat_at) values (?, ?, ?, ?, ?, ?) on conflict (mode) do nothing",
            [chain.mode, chain.key, chain.id, chain.escrow.address, owner ?? null, Date.now()],
            "run",
          );
        continue;
      }
      if (bound.chainKey === chain.key) {
        await this.orm.em.fork().nativeUpdate(ChainBinding, { mode: chain.mode, chainKey: chain.key }, { owner, beatAt: Date.now() });
        return;
      }
      // Moving from one chain served over RPC to another is a deliberate change of configuration, not a second chain beside the first.
      if (bound.owner || chain.inProcess) {
        const beatAt = await this.lastBeatIfDead(bound);
        if (beatAt === undefined) throw this.refusal(chain, bound);
        bound.beatAt = beatAt;
      }
      const taken = await this.orm.em
        .fork()
        .nativeUpdate(
          ChainBinding,
          { mode: chain.mode, chainKey: bound.chainKey, beatAt: bound.beatAt },
          { chainKey: chain.key, chainId: chain.id, taskEscrow: chain.escrow.address, owner, beatAt: Date.now() },
        );
      if (taken) {
        this.log.info({ mode: chain.mode, from: bound.chainKey, to: chain.key }, "this database now settles on this process's chain");
        return;
      }
    }
  }

  /** Watches a bound chain's heartbeat: undefined if it moves (a live process settles there), else its last value. */
  private async lastBeatIfDead(bound: ChainBinding): Promise<number | undefined> {
    if (bound.beatAt === 0 || Date.now() - bound.beatAt > LONG_DEAD_MS) return bound.beatAt;
    if (bound.owner && ownerIsGone(bound.owner)) {
      this.log.info({ mode: bound.mode, chainKey: bound.chainKey, owner: bound.owner }, "the process that ran this database's chain is gone");
      return bound.beatAt;
    }
    this.log.info({ mode: bound.mode, chainKey: bound.chainKey, owner: bound.owner }, "this database settles on another chain: waiting to see whether a process still settles there");
    for (const until = Date.now() + this.timing.watchMs; Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, this.timing.beatMs / 4)));
      const now = await this.read(bound.mode);
      if (!now || now.chainKey !== bound.chainKey || now.beatAt !== bound.beatAt) return undefined;
    }
    return bound.beatAt;
  }

  private refusal(chain: Chain, bound: ChainBinding): ConfigError {
    const setting = RPC_SETTING[chain.mode];
    const mode = chain.mode.toLowerCase();
    const ours = chain.inProcess ? `is unset, so this process would settle ${mode} mode on a chain of its own` : `points this process at chain ${chain.key}`;
    const theirs = bound.owner
      ? `the chain running inside another live HumanOps process (${bound.owner}, chain ${bound.chainKey})`
      : `chain ${bound.chainKey}, which a live HumanOps process reaches over RPC`;
    return new ConfigError([
      `${setting}: ${ours}, but this database's ${mode} mode settles on ${theirs}; two chains would split the books. ` +
        `Processes sharing a database must share one chain: run a chain node (e.g. npx hardhat node) and set ${setting} on every one of them.`,
    ]);
  }

  private async beat(): Promise<void> {
    try {
      for (const chain of this.chains.all()) {
        const renewed = await this.orm.em.fork().nativeUpdate(ChainBinding, { mode: chain.mode, chainKey: chain.key }, { beatAt: Date.now() });
        if (!renewed && !this.lost.has(chain.key)) {
          this.lost.add(chain.key);
          this.log.error({ mode: chain.mode, chainKey: chain.key }, "this database no longer settles on this process's chain: another process took the binding over (this one stalled too long); restart this process");
        }
      }
    } catch (err) {
      this.log.warn({ err }, "chain binding heartbeat failed; retrying");
    }
  }

  private read(mode: Mode): Promise<ChainBinding | null> {
    return this.orm.em.fork().findOne(ChainBinding, { mode });
  }
}

/**
 * Where this process runs, as far as a neighbour can check that a process is
 * alive: the kernel's boot id and the pid namespace (Linux). Two processes
 * with the same place see each other's pids; a container or another machine
 * has another place. Undefined where /proc does not tell.
 */
function processPlace(): string | undefined {
  try {
    const boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const namespace = /^pid:\[(\d+)\]$/.exec(fs.readlinkSync("/proc/self/ns/pid"))?.[1];
    return boot && namespace ? `boot ${boot}, pid namespace ${namespace}` : undefined;
  } catch {
    return undefined;
  }
}

const PLACE = processPlace();

/** "<host> pid <pid>", with where it runs when known: "<host> pid <pid> (boot <id>, pid namespace <n>)". */
export function ownerName(pid: number): string {
  return PLACE ? `${os.hostname()} pid ${pid} (${PLACE})` : `${os.hostname()} pid ${pid}`;
}

/**
 * True when the owner named ran where this process runs and no process has
 * its pid any more: it is dead for certain, there is no heartbeat to wait
 * for. False when it may live (another place, no place known, or a process
 * with that pid: perhaps another that reused it, which the watch tells).
 */
export function ownerIsGone(owner: string): boolean {
  const named = /^.* pid (\d+) \((.+)\)$/.exec(owner);
  if (!named || !PLACE || named[2] !== PLACE || Number(named[1]) <= 0) return false;
  try {
    process.kill(Number(named[1]), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}
