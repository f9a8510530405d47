/**
 * `npm run bench` runs the GraphQL benchmark; `npm run bench -- <name>` runs
 * bench/<name>.ts (subscriptions, settlement, ...). Every benchmark prints its
 * figures beside a baseline measured in the same run.
 */
import fs from "node:fs";
import path from "node:path";
import { COMPILED, scriptFile } from "./support/runtime";

const name = process.argv[2] ?? "graphql";
const file = scriptFile(__dirname, name);
const extension = COMPILED ? ".js" : ".ts";
if (!/^[a-z][a-z0-9-]*$/.test(name) || !fs.existsSync(file)) {
  const available = fs.readdirSync(__dirname).filter((f) => /^[a-z][a-z0-9-]*\.(ts|js)$/.test(f) && path.extname(f) === extension && f !== `run${extension}`).map((f) => path.basename(f, extension));
  console.error(`unknown benchmark "${name}"; available: ${available.join(", ")}`);
  process.exit(2);
}
require(file);
