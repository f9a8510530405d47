/** Writes schema.graphql from the code (npm run schema). A test fails when the checked-in file is stale. */
import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { createSchema, printSchemaFile } from "../server/graphql/schema";

async function main(): Promise<void> {
  const target = path.join(__dirname, "..", "schema.graphql");
  fs.writeFileSync(target, printSchemaFile(await createSchema()));
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
