import fs from "node:fs";
import path from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { cameraJpeg } from "../support/photos";
import { startServer, type TestServer } from "../support/server";

/**
 * The code blocks of README.md and then of docs/*.md (in name order), run as
 * written, in that order, against a local
 * HumanOps: the shell blocks in one bash (as a reader pastes them into one
 * shell), the files the README says to save (humanops.py, humanops.ts) saved
 * as it says. A block that is not meant to run says so in an HTML comment
 * right above it: `<!-- readme-test: not run: why -->`; a file to save:
 * `<!-- readme-test: save humanops.py -->`; photos a block uploads, which
 * the reader takes and the test makes: `<!-- readme-test: photos a.jpg b.jpg -->`.
 * Nothing in the blocks is
 * rewritten: they reach the test server through HUMANOPS_API_URL, which the
 * README reads with http://localhost:4000 as its default.
 */

const REPO = path.resolve(__dirname, "..", "..");
/** README.md first (the newcomer's journey), then the reference pages in docs/ by name: one walkthrough. */
const PAGES = ["README.md", ...fs.readdirSync(path.join(REPO, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)];
const run = promisify(execFile);

/** Languages the test runs; every other block must be marked not run. */
const SHELL = new Set(["sh", "bash"]);
const SAVED = new Set(["python", "ts"]);

export interface ReadmeBlock {
  /** The page, relative to the repository: README.md or docs/….md. */
  page: string;
  line: number;
  lang: string;
  code: string;
  /** `not run: <reason>` or `save <file>`, from the comment above the block. */
  note?: string;
}

export function readmeBlocks(markdown: string, page = "README.md"): ReadmeBlock[] {
  const lines = markdown.split("\n");
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.indexOf("```", i + 1);
    if (end < 0) throw new Error(`${page}:${i + 1}: a code block is never closed`);
    const note = /^<!-- readme-test: (.+?) -->$/.exec(lines[i - 1] ?? "")?.[1];
    blocks.push({ page, line: i + 1, lang: open[1], code: lines.slice(i + 1, end).join("\n"), note });
    i = end;
  }
  return blocks;
}

const notRun = (block: ReadmeBlock) => /^not run: \S/.test(block.note ?? "");
const savedAs = (block: ReadmeBlock) => /^save (\S+)$/.exec(block.note ?? "")?.[1];
const photosOf = (block: ReadmeBlock) => /^photos (\S+(?: \S+)*)$/.exec(block.note ?? "")?.[1].split(" ");


/** An error answer of the REST API ({"error": {...}}) or of GraphQL ({"errors": [...]}). */
const ERROR_ANSWER = /"errors?"\s*:\s*[[{]/;

/** Where a block's output starts in the one shell's stdout. */
const where = (block: ReadmeBlock) => `${block.page}:${block.line}`;
const marker = (block: ReadmeBlock) => `::readme block at ${where(block)}::`;

function hasPython(): boolean {
  try {
    execFileSync("python3", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
function headingSlugs(markdown: string): Set<string> {
  const prose = markdown.replace(/^```[\s\S]*?^```$/gm, "");
  return new Set([...prose.matchAll(/^#{1,6} (.+)$/gm)].map(([, title]) => title.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-")));
}

/** Blocks that are neither run as they are nor marked: an unknown language, a Python or TypeScript file never saved, an unknown note. */
function unaccounted(blocks: readonly ReadmeBlock[]): ReadmeBlock[] {
  return blocks.filter((block) => {
    if (notRun(block)) return false;
    if (SHELL.has(block.lang)) return block.note !== undefined && !photosOf(block);
    if (block.lang === "js") return block.note !== undefined;
    if (SAVED.has(block.lang)) return savedAs(block) === undefined;
    return true;
  });
}

describe("README.md and docs/", () => {
  const blocks = PAGES.flatMap((page) => readmeBlocks(fs.readFileSync(path.join(REPO, page), "utf8"), page));

  it("marks every block it does not run, and saves every Python and TypeScript file a shell block runs", () => {
    expect(blocks.length).to.be.above(10);
    expect(
      unaccounted(blocks).map((block) => `${where(block)} (${block.lang || "no language"})${block.note ? `: unknown note "${block.note}"` : ""}`),
      "blocks that are neither run nor marked `<!-- readme-test: not run: why -->`",
    ).to.deep.equal([]);
    const saved = blocks.flatMap((block) => savedAs(block) ?? []);
    const shell = blocks.filter((block) => SHELL.has(block.lang) && !notRun(block)).map((block) => block.code).join("\n");
    for (const file of saved) expect(shell, `a shell block runs ${file}`).to.contain(file);
  });

  it("links only to files and headings that exist", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      const text = fs.readFileSync(path.join(REPO, page), "utf8").replace(/^```[\s\S]*?^```$/gm, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:)/.test(target)) continue;
        const [file, anchor] = target.split("#");
        const resolved = file ? path.join(path.dirname(path.join(REPO, page)), file) : path.join(REPO, page);
        if (!fs.existsSync(resolved)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !headingSlugs(fs.readFileSync(resolved, "utf8")).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  describe("run against a local server (sqlite)", () => {
    let server: TestServer;
    let dir: string;
    let env: NodeJS.ProcessEnv;

    before(async function () {
      // Until every block is accounted for (the test above), one of them may be `npm ci` or `npm start`: nothing runs.
      if (unaccounted(blocks).length) this.skip();
      server = await startServer(testDatabases()[0]);
      // Inside the checkout, as the README says to save its files there: npx finds the project's own tools.
      dir = fs.mkdtempSync(path.join(REPO, ".readme-run-"));
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("TS_NODE_") && !name.startsWith("HUMANOPS_")));
      env = { ...inherited, HUMANOPS_API_URL: server.url, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" };
    });
    after(async () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      await server?.stop();
    });

    it("the shell blocks, in order in one bash, with the files they run saved as the README says", async function () {
      this.timeout(180_000);
      const python = hasPython();
      for (const block of blocks) {
        const file = savedAs(block);
        if (file) fs.writeFileSync(path.join(dir, file), `${block.code}\n`);
        for (const [seed, photo] of (photosOf(block) ?? []).entries()) fs.writeFileSync(path.join(dir, photo), await cameraJpeg(seed + 1));
      }
      const shellBlocks = blocks.filter((block) => SHELL.has(block.lang) && !notRun(block));
      const skipped = python ? [] : shellBlocks.filter((block) => /\bpython3\b/.test(block.code));
      if (skipped.length) console.warn(`python3 is not installed: not running ${skipped.map(where).join(", ")}`);
      const script = ["set -eo pipefail", ...shellBlocks.filter((block) => !skipped.includes(block)).flatMap((block) => [`printf '\\n%s\\n' '${marker(block)}'`, block.code])].join("\n");

      const outcome = await run("bash", ["-c", script], { cwd: dir, env, maxBuffer: 16 << 20, timeout: 150_000 }).then(
        ({ stdout }) => ({ failed: false, stdout, stderr: "" }),
        (err: { stdout: string; stderr: string }) => ({ failed: true, stdout: err.stdout, stderr: err.stderr }),
      );
      const outputs = shellBlocks.map((block) => {
        const start = outcome.stdout.indexOf(marker(block));
        const next = shellBlocks.slice(shellBlocks.indexOf(block) + 1).map((later) => outcome.stdout.indexOf(marker(later))).find((at) => at >= 0);
        return { block, ran: start >= 0, output: start < 0 ? "" : outcome.stdout.slice(start + marker(block).length, next) };
      });
      const last = outputs.filter((output) => output.ran).at(-1);
      expect(outcome.failed, `${last ? where(last.block) : "the first block"} failed:\n${last?.output}\n${outcome.stderr}`).to.equal(false);
      for (const { block, output } of outputs) expect(output, `${where(block)} answered with an error`).to.not.match(ERROR_ANSWER);

      const text = outcome.stdout;
      expect(text, "the walkthrough registered an agent and posted a task").to.match(/"apiKey":"ho_test_/).and.to.match(/"postTask":\{"id":"[0-9a-f-]{36}","status":"POSTED"/);
      expect(text, "the REST quick start posted a task").to.match(/"task_id":\s*"[0-9a-f-]{36}".*"status":\s*"POSTED"/);
      const answerOf = (route: string) => outputs.find(({ block }) => block.code.includes(route))?.output;
      expect(answerOf("/accept"), "the operator accepted the task").to.match(/"status":\s*"ACCEPTED"/);
      expect(answerOf('/proof" \\'), "and uploaded the photos").to.match(/"status":\s*"SUBMITTED"/);
      const original = fs.readFileSync(path.join(dir, "facade.jpg"));
      expect(original.subarray(0, 4).toString("hex"), "the agent downloaded a proof photo as uploaded (PNG or JPEG)").to.match(/^(89504e47|ffd8ff)/);
      if (python) expect(text, "humanops.py ran").to.match(/Task created: [0-9a-f-]{36}\nStatus: [A-Z_]+\n/);
      expect(text, "humanops.ts ran").to.match(/Task [0-9a-f-]{36}: POSTED, reward 50\.00 \+ fee 5\.00 USDC/);
      expect(text, "docs/disputes.md held a verified task's release and disputed it").to.match(/VERIFIED \d{4}-[^\n]*\n\["DISPUTED",\{"reason":"The photo shows a different storefront","status":"OPEN"/);
    });

    it("the JavaScript blocks, each with node", async () => {
      for (const block of blocks.filter((candidate) => candidate.lang === "js" && !notRun(candidate))) {
        const file = path.join(dir, `block-${block.page.replace(/\W/g, "-")}-${block.line}.js`);
        fs.writeFileSync(file, block.code);
        await run(process.execPath, [file], { cwd: dir, env }).catch((err: Error & { stderr?: string }) => {
          throw new Error(`${where(block)} failed: ${err.stderr ?? err.message}`);
        });
      }
    });
  });
});
