import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { expect } from "chai";

const ROOT = path.resolve(__dirname, "../..");
/** Loaded only on demand, with an error saying how to get them: the in-process test chain (server/chain/local-chain.ts) needs hardhat. */
const OPTIONAL = new Set(["hardhat"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** "ajv/dist/2020" -> "ajv", "@mikro-orm/core" -> "@mikro-orm/core". */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** Modules a file loads at run time: `import ... from`, `export ... from`, `require(...)`, `import(...)`; type-only imports are erased by the compiler. */
function runtimeImports(source: string): string[] {
  const found: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm;
  for (const match of source.matchAll(statement)) {
    if (match[2]) continue;
    found.push(match[3] ?? match[4]);
  }
  for (const match of source.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)) found.push(match[1]);
  return found;
}

describe("runtime dependencies", () => {
  it("every package the server loads at run time is a production dependency (a `npm ci --omit=dev` install runs it)", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing = new Map<string, string>();
    for (const file of sourceFiles(path.join(ROOT, "server"))) {
      for (const specifier of runtimeImports(readFileSync(file, "utf8"))) {
        if (specifier.startsWith(".") || specifier.startsWith("node:") || builtins.has(specifier)) continue;
        const name = packageOf(specifier);
        if (!(name in manifest.dependencies) && !OPTIONAL.has(name) && !missing.has(name)) missing.set(name, path.relative(ROOT, file));
      }
    }
    expect(Object.fromEntries(missing), "package -> first server file importing it").to.deep.equal({});
    // The request validator is production code: the regression this test was written for.
    expect(manifest.dependencies).to.include.keys("ajv", "ajv-formats");
  });

  it("the stdio MCP package lists exactly the packages its files load (with their required peers), and loads nothing else of the server", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, "packages", "mcp-server", "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const builtins = new Set(builtinModules);
    const files = new Set<string>();
    const loaded = new Set<string>();
    const visit = (file: string) => {
      if (files.has(file)) return;
      files.add(file);
      for (const specifier of runtimeImports(readFileSync(file, "utf8"))) {
        if (specifier.startsWith(".")) {
          const target = path.resolve(path.dirname(file), specifier);
          if (target.endsWith(".json")) continue;
          visit(target.endsWith(".ts") ? target : `${target}.ts`);
        } else if (!specifier.startsWith("node:") && !builtins.has(specifier)) {
          loaded.add(packageOf(specifier));
        }
      }
    };
    visit(path.join(ROOT, "server", "mcp", "index.ts"));
    const peers = [...loaded].flatMap((name) => {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
        peerDependencies?: Record<string, string>;
        peerDependenciesMeta?: Record<string, { optional?: boolean }>;
      };
      return Object.keys(pkg.peerDependencies ?? {}).filter((peer) => !pkg.peerDependenciesMeta?.[peer]?.optional);
    });
    expect(Object.keys(manifest.dependencies ?? {}).sort()).to.deep.equal([...new Set([...loaded, ...peers])].sort());
    const serverFiles = [...files].map((file) => path.relative(ROOT, file)).filter((file) => !/^server\/(api|mcp)\//.test(file));
    expect(serverFiles.sort()).to.deep.equal(["server/common/env.ts", "server/common/errors.ts", "server/common/logger.ts", "server/common/money.ts"]);
  });
});
