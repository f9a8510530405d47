/**
 * Where a benchmark window's CPU went, from Linux's /proc: this process's
 * main thread (the event loop, where a server's JavaScript runs) apart from
 * its other threads (libuv's pool, libvips's workers), and each child
 * process by what it runs (a load generator, the photo decoder process).
 * Elsewhere than Linux every figure is undefined and is printed as "n/a".
 */
import fs from "node:fs";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux build in practice). */
const TICKS_PER_SECOND = 100;

export interface CpuSample {
  /** Seconds of CPU, since the thread or process started. */
  mainThread: number;
  otherThreads: number;
  /** By the child's script name (e.g. "photo.worker"), summed over children of the same name. */
  children: Record<string, number>;
}

/** utime + stime of a /proc stat line, in seconds (fields 14 and 15; the name before them may hold spaces). */
function cpuSeconds(statFile: string): number {
  const stat = fs.readFileSync(statFile, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** The script a child runs, from its command line: the last argument naming a .ts or .js file, without directory and extension. */
function scriptOf(pid: string): string {
  const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  const script = args.filter((arg) => /\.(ts|js)$/.test(arg)).pop() ?? args[0];
  return script.replace(/^.*\//, "").replace(/\.(ts|js)$/, "");
}

/** This process's CPU by thread kind and by child; undefined where there is no /proc. */
export function sampleCpu(): CpuSample | undefined {
  try {
    const threads = fs.readdirSync("/proc/self/task");
    const mainThread = cpuSeconds(`/proc/self/task/${process.pid}/stat`);
    // The process's own figure includes threads that have ended since (the sum over /proc/self/task would lose them).
    const all = cpuSeconds("/proc/self/stat");
    const children: Record<string, number> = {};
    for (const thread of threads) {
      let pids: string[] = [];
      try {
        pids = fs.readFileSync(`/proc/self/task/${thread}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
      } catch {
        // A thread that ended between the listing and now.
      }
      for (const pid of pids) {
        try {
          const name = scriptOf(pid);
          children[name] = (children[name] ?? 0) + cpuSeconds(`/proc/${pid}/stat`);
        } catch {
          // A child that exited meanwhile.
        }
      }
    }
    return { mainThread, otherThreads: all - mainThread, children };
  } catch {
    return undefined;
  }
}

/**
 * The CPU seconds spent between two samples. A child that started after
 * `before` counts from zero; one that exited before `after` is missing
 * (its time is lost, as /proc no longer lists it).
 */
export function cpuBetween(before: CpuSample | undefined, after: CpuSample | undefined): CpuSample | undefined {
  if (!before || !after) return undefined;
  const children: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(after.children)) children[name] = seconds - (before.children[name] ?? 0);
  return { mainThread: after.mainThread - before.mainThread, otherThreads: after.otherThreads - before.otherThreads, children };
}
