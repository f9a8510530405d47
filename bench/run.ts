/**
 * `npm run bench` runs the GraphQL benchmark; `npm run bench -- <name>` runs
 * bench/<name>.ts (subscriptions, settlement, ...). Every benchmark prints its
 * figures beside a baseline measured in the same run.
 */
import fs from "node:fs";
import path from "node:path";

const name = process.argv[2] ?? "graphql";
const file = path.join(__dirname, `${name}.ts`);
if (!/^[a-z][a-z0-9-]*$/.test(name) || !fs.existsSync(file)) {
  const available = fs.readdirSync(__dirname).filter((f) => /^[a-z][a-z0-9-]*\.ts$/.test(f) && f !== "run.ts").map((f) => f.replace(/\.ts$/, ""));
  console.error(`unknown benchmark "${name}"; available: ${available.join(", ")}`);
  process.exit(2);
}
require(file);
