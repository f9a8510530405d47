/**
 * `npm run bench` runs the GraphQL benchmark; `npm run bench -- <name>` runs
 * bench/<name>.ts (subscriptions, settlement, ...). Every benchmark prints its
 * figures beside a baseline measured in the same run.
 */
import fs from "node:fs";
import path from "node:path";
import { SCRIPT_EXTENSION, scriptFile } from "./support/runtime";

const name = process.argv[2] ?? "graphql";
const file = scriptFile(__dirname, name);
if (!/^[a-z][a-z0-9-]*$/.test(name) || !fs.existsSync(file)) {
  const available = fs.readdirSync(__dirname).filter((f) => f.endsWith(SCRIPT_EXTENSION) && f !== `run${SCRIPT_EXTENSION}` && /^[a-z][a-z0-9-]*$/.test(path.basename(f, SCRIPT_EXTENSION))).map((f) => path.basename(f, SCRIPT_EXTENSION));
  console.error(`unknown benchmark "${name}"; available: ${available.join(", ")}`);
  process.exit(2);
}
require(file);
