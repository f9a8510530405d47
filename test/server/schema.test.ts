import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { createSchema, printSchemaFile } from "../../server/graphql/schema";

describe("schema.graphql", () => {
  it("is up to date with the code (run `npm run schema` after changing the API)", async () => {
    const checkedIn = fs.readFileSync(path.join(__dirname, "..", "..", "schema.graphql"), "utf8");
    expect(printSchemaFile(await createSchema())).to.equal(checkedIn);
  });
});
