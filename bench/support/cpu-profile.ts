import fs from "node:fs";
import { Session } from "node:inspector/promises";

/**
 * Starts sampling this process's CPU (every `intervalUs` microseconds, if
 * given). The function it answers stops the sampling, writes the profile to
 * `file` (open it in Chrome DevTools) and returns it.
 */
export async function startCpuProfile(intervalUs?: number): Promise<(file: string) => Promise<object>> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  if (intervalUs) await session.post("Profiler.setSamplingInterval", { interval: intervalUs });
  await session.post("Profiler.start");
  return async (file) => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    fs.writeFileSync(file, JSON.stringify(profile));
    return profile;
  };
}
