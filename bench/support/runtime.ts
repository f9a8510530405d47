/**
 * How a benchmark's own processes are started. `npm run bench` builds the
 * benchmarks with the server into dist/ and runs them there, so they measure
 * the JavaScript `npm start` runs. Run from source under ts-node (`node -r
 * ts-node/register/transpile-only bench/graphql.ts`) they still work, but
 * ts-node's hook loads Node's `domain` module, which adds a cost to every
 * event and promise in the process: such figures are not the deployed
 * server's.
 */
import path from "node:path";

/** Whether this run is the compiled one (dist/bench/*.js). */
export const COMPILED = path.extname(__filename) === ".js";

/** The extension of this run's scripts: `.js` compiled, `.ts` from source. */
export const SCRIPT_EXTENSION = COMPILED ? ".js" : ".ts";

/** The file of script `name` in `dir`, as this run has it. */
export function scriptFile(dir: string, name: string): string {
  return path.join(dir, `${name}${SCRIPT_EXTENSION}`);
}

/** The Node flags a child process needs to run such a file. */
export const SCRIPT_FLAGS: readonly string[] = COMPILED ? [] : ["-r", "ts-node/register/transpile-only"];
