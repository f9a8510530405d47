import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";

interface Step {
  name: string;
  inputs: string[];
  extensions: string[];
  exclude?: string[];
  outputs: string[];
  run(): void;
}

// scripts/build.js is plain JavaScript so `npm start` needs no TypeScript loader before it knows whether to build.
const { STEPS, DEFAULT_STEPS, build, isFresh } = require("../../scripts/build.js") as {
  STEPS: Step[];
  DEFAULT_STEPS: Step[];
  build(steps: Step[], options: { root: string; stamps: string; force?: boolean; log?: (line: string) => void }): string[];
  isFresh(name: string, options: { steps: Step[]; root: string; stamps: string }): boolean;
};

describe("the incremental build (scripts/build.js)", () => {
  let root: string;
  const runs: string[] = [];
  const write = (file: string, text = "x") => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  /** Moves a file's modification time on by a minute, as an edit would. */
  const touch = (file: string) => {
    const at = fs.statSync(path.join(root, file)).mtime.getTime() + 60_000;
    fs.utimesSync(path.join(root, file), at / 1000, at / 1000);
  };
  const step = (name: string, inputs: string[], extensions: string[], fail = () => false): Step => ({
    name,
    inputs,
    extensions,
    outputs: [`out/${name}`],
    run() {
      runs.push(name);
      if (fail()) throw new Error(`${name} failed`);
      write(`out/${name}`);
    },
  });
  const run = (steps: Step[], force = false) => build(steps, { root, stamps: path.join(root, "out", ".build"), force, log: () => undefined });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-build-"));
    runs.length = 0;
    write("src/a.ts");
    write("src/deep/b.ts");
    write("src/notes.md");
    write("contracts/C.sol");
    write("config.json");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("runs every step the first time and none the second: a start with nothing changed starts no build process", () => {
    const steps = [step("server", ["src", "config.json"], [".ts"]), step("contracts", ["contracts"], [".sol"])];
    expect(run(steps)).to.deep.equal(["server", "contracts"]);
    expect(run(steps)).to.deep.equal([]);
    expect(runs).to.deep.equal(["server", "contracts"]);
  });

  it("runs only the steps whose inputs changed: an edited, added or removed file, or a listed file", () => {
    const steps = [step("server", ["src", "config.json"], [".ts"]), step("contracts", ["contracts"], [".sol"])];
    run(steps);
    touch("src/deep/b.ts");
    expect(run(steps)).to.deep.equal(["server"]);
    write("contracts/D.sol");
    expect(run(steps)).to.deep.equal(["contracts"]);
    fs.rmSync(path.join(root, "contracts/D.sol"));
    expect(run(steps)).to.deep.equal(["contracts"]);
    touch("config.json");
    expect(run(steps)).to.deep.equal(["server"]);
  });

  it("ignores files of other kinds in an input folder", () => {
    const steps = [step("server", ["src"], [".ts"])];
    run(steps);
    touch("src/notes.md");
    write("src/more.md");
    expect(run(steps)).to.deep.equal([]);
  });

  it("leaves out an excluded file (one the step writes into its own inputs, like the web app's generated GraphQL types)", () => {
    const generating: Step = { ...step("web", ["src"], [".ts"]), exclude: ["src/generated.ts"] };
    generating.run = () => {
      runs.push("web");
      write("src/generated.ts", String(Date.now()));
      write("out/web");
    };
    expect(run([generating])).to.deep.equal(["web"]);
    expect(run([generating]), "its own output does not make it stale").to.deep.equal([]);
    touch("src/a.ts");
    expect(run([generating])).to.deep.equal(["web"]);
  });

  it("runs a step again when its output is gone, when it failed last time, and when forced", () => {
    let failing = false;
    const steps = [step("server", ["src"], [".ts"], () => failing)];
    run(steps);
    fs.rmSync(path.join(root, "out/server"));
    expect(run(steps)).to.deep.equal(["server"]);
    touch("src/a.ts");
    failing = true;
    expect(() => run(steps)).to.throw("server failed");
    failing = false;
    expect(run(steps), "a failed step keeps its old stamp").to.deep.equal(["server"]);
    expect(run(steps, true)).to.deep.equal(["server"]);
  });

  it("says a step is fresh exactly when a build would not run it (how test servers choose the compiled server over ts-node)", () => {
    const steps = [step("server", ["src"], [".ts"])];
    const fresh = () => isFresh("server", { steps, root, stamps: path.join(root, "out", ".build") });
    expect(fresh(), "never built").to.equal(false);
    run(steps);
    expect(fresh()).to.equal(true);
    touch("src/a.ts");
    expect(fresh(), "a source edited since").to.equal(false);
    run(steps);
    fs.rmSync(path.join(root, "out/server"));
    expect(fresh(), "its output removed").to.equal(false);
    expect(() => isFresh("nothing", { steps, root, stamps: root })).to.throw("no step named nothing");
  });

  it("declares HumanOps's steps with inputs and outputs that exist in the repository", () => {
    const repo = path.resolve(__dirname, "../..");
    expect(STEPS.map((s) => s.name)).to.deep.equal(["server", "bench", "mcp", "web", "contracts"]);
    expect(DEFAULT_STEPS.map((s) => s.name), "what npm start builds: not the benchmarks").to.deep.equal(["server", "mcp", "web", "contracts"]);
    for (const s of STEPS) {
      for (const input of s.inputs) expect(fs.existsSync(path.join(repo, input)), `${s.name}: input ${input}`).to.equal(true);
      expect(s.outputs.length, `${s.name} names what it builds`).to.be.greaterThan(0);
    }
  });
});
