import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import ts from "typescript";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";
import { RestClient } from "../support/rest-client";

/**
 * The product brief's REST examples, copied verbatim into test/rest/brief/,
 * run as written against a local server. Only what the brief says changes:
 * the base URL, the API key and the deadline (the brief's is past).
 */
const BRIEF = path.join(__dirname, "brief");
/** The brief beside the repository: <repository>/../shared/seed. */
const SEED = path.resolve(__dirname, "..", "..", "..", "shared", "seed", "000_d1b33a503709b089.txt");
const BRIEF_BASE = "https://api.humanops.io/api/v1";
const run = promisify(execFile);

function example(file: string): string {
  return fs.readFileSync(path.join(BRIEF, file), "utf8");
}

/** Replaces each placeholder, which must occur exactly once, so nothing else can have changed. */
function substitute(text: string, replacements: Record<string, string>): string {
  return Object.entries(replacements).reduce((result, [from, to]) => {
    expect(result.split(from), `"${from}" occurs once in the example`).to.have.length(2);
    return result.replace(from, to);
  }, text);
}

/** A deadline tomorrow, written the way the brief writes them. */
function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** No proxy between the examples and the local server. */
const CHILD_ENV = { ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };

function hasPythonRequests(): boolean {
  try {
    execFileSync("python3", ["-c", "import requests"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("the product brief's REST examples", () => {
  it("are copied verbatim from the brief", function () {
    // The brief lives beside the repository, not in it: a clone of its own may lack it, CI never does.
    if (!fs.existsSync(SEED)) {
      if (/^(true|1)$/i.test(process.env.CI ?? "")) expect.fail(`the product brief is missing at ${SEED} (CI=${process.env.CI}: .ci/run sets it, and CI services do)`);
      this.skip();
    }
    const brief = fs.readFileSync(SEED, "utf8");
    for (const file of ["create-task.sh", "create_task.py", "create-task.ts.txt"]) {
      expect(brief.includes(example(file).trimEnd()), `${file} is the brief's text`).to.equal(true);
    }
  });
});

for (const db of testDatabases()) {
  describe(`the product brief's REST examples, run against a local server (${db.name})`, () => {
    let server: TestServer;
    let rest: RestClient;
    let agent: { apiKey: string; id: string };
    let dir: string;

    before(async () => {
      server = await startServer(db);
      rest = await RestClient.connect(server.url);
      agent = await rest.registerAgent("brief");
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-brief-"));
    });
    after(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await server.stop();
    });

    /** The task the example reports must be the agent's, with the example's terms. */
    async function expectPosted(taskId: string, title: string, reward: string): Promise<void> {
      const task = await rest.get(`/tasks/${taskId}`, agent.apiKey);
      expect(task.status).to.equal(200);
      expect(task.body).to.include({ title, reward_usd: reward });
    }

    it("curl: answers 201 with task_id", async () => {
      const command = substitute(example("create-task.sh"), {
        [`${BRIEF_BASE}/tasks`]: `${rest.base}/tasks`,
        YOUR_API_KEY: agent.apiKey,
        "2026-02-07T18:00:00Z": tomorrow(),
      });
      // The status code comes from a curlrc, so the command itself stays as the brief wrote it.
      fs.writeFileSync(path.join(dir, ".curlrc"), 'silent\nwrite-out = "\\n%{http_code}"\n');
      const { stdout } = await run("bash", ["-c", command], { env: { ...CHILD_ENV, CURL_HOME: dir } });
      const lines = stdout.trimEnd().split("\n");
      const status = lines.pop();
      const body = JSON.parse(lines.join("\n"));
      expect(status).to.equal("201");
      expect(body.task_id).to.match(/^[0-9a-f-]{36}$/);
      expect(body.status).to.equal("POSTED");
      await expectPosted(body.task_id, "Photo of storefront", "15.00");
    });

    it("Python (requests): prints the task id and its status", async function () {
      if (!hasPythonRequests()) this.skip(); // needs python3 with the requests package
      const script = path.join(dir, "create_task.py");
      fs.writeFileSync(
        script,
        substitute(example("create_task.py"), {
          'API_KEY = "your-api-key"': `API_KEY = "${agent.apiKey}"`,
          [`BASE = "${BRIEF_BASE}"`]: `BASE = "${rest.base}"`,
          "2026-02-07T12:00:00Z": tomorrow(),
        }),
      );
      const { stdout } = await run("python3", [script], { env: CHILD_ENV });
      const match = /^Task created: ([0-9a-f-]{36})\nStatus: ([A-Z_]+)\n$/.exec(stdout);
      expect(match, stdout).to.not.equal(null);
      expect(["POSTED", "ACCEPTED", "SUBMITTED", "VERIFIED", "PAID"]).to.include(match![2]);
      await expectPosted(match![1], "Verify package delivery", "20.00");
    });

    it("TypeScript (fetch): prints the task id and POSTED", async () => {
      const source = substitute(example("create-task.ts.txt"), {
        'const API_KEY = "your-api-key"': `const API_KEY = "${agent.apiKey}"`,
        [`const BASE = "${BRIEF_BASE}"`]: `const BASE = "${rest.base}"`,
        "2026-02-08T17:00:00Z": tomorrow(),
      });
      // Top-level await: compiled as an ES module and run as one.
      const { outputText, diagnostics } = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
        reportDiagnostics: true,
      });
      expect(diagnostics ?? []).to.deep.equal([]);
      const script = path.join(dir, "create-task.mjs");
      fs.writeFileSync(script, outputText);
      const { stdout } = await run(process.execPath, [script], { env: CHILD_ENV });
      const match = /^Task ([0-9a-f-]{36}): POSTED\n$/.exec(stdout);
      expect(match, stdout).to.not.equal(null);
      await expectPosted(match![1], "Inspect construction site", "50.00");
    });
  });
}
