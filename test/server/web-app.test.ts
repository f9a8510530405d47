import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { testDatabases } from "../support/databases";
import { startServer, type TestServer } from "../support/server";

const INDEX = `<!doctype html><html><head><script type="module" src="/assets/index-3f9a1c.js"></script></head><body><div id="app"></div></body></html>`;
const SCRIPT = `document.getElementById("app").textContent = "HumanOps";`;
const html = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

/** A built web app as Vite leaves it in dist/web: index.html, hashed assets, a file at the root. */
function builtApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "humanops-web-"));
  fs.mkdirSync(path.join(dir, "assets"));
  fs.writeFileSync(path.join(dir, "index.html"), INDEX);
  fs.writeFileSync(path.join(dir, "assets", "index-3f9a1c.js"), SCRIPT);
  fs.writeFileSync(path.join(dir, "favicon.svg"), `<svg xmlns="http://www.w3.org/2000/svg"/>`);
  return dir;
}

/** The default policy; proof photos come from the server's listening address (`photoOrigin`) without PUBLIC_URL. */
function expectSecurityHeaders(res: Response, photoOrigin: string): void {
  const csp = res.headers.get("content-security-policy");
  expect(csp).to.equal(
    `default-src 'self'; script-src 'self' https://static.sumsub.com; connect-src 'self'; img-src 'self' data: blob: https://tile.openstreetmap.org ${photoOrigin}; ` +
      "frame-src https://static.sumsub.com https://api.sumsub.com; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  );
  expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
  expect(res.headers.get("referrer-policy")).to.equal("strict-origin-when-cross-origin");
}

const [db] = testDatabases();

describe("the web app served at /", () => {
  let server: TestServer;
  let dist: string;
  const get = (urlPath: string, headers: Record<string, string> = {}) => fetch(`${server.url}${urlPath}`, { headers });

  before(async () => {
    dist = builtApp();
    server = await startServer(db, { WEB_DIST_DIR: dist });
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  it("answers / with index.html, revalidated on every load, with the Content-Security-Policy", async () => {
    for (const accept of [html, {}]) {
      const res = await get("/", accept);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^text\/html/);
      expect(res.headers.get("cache-control")).to.equal("no-cache");
      expectSecurityHeaders(res, server.url);
      expect(await res.text()).to.equal(INDEX);
    }
  });

  it("serves hashed assets as immutable for a year, and other files revalidated", async () => {
    const script = await get("/assets/index-3f9a1c.js");
    expect(script.status).to.equal(200);
    expect(script.headers.get("content-type")).to.match(/^(text|application)\/javascript/);
    expect(script.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
    expectSecurityHeaders(script, server.url);
    expect(await script.text()).to.equal(SCRIPT);

    const icon = await get("/favicon.svg");
    expect(icon.status).to.equal(200);
    expect(icon.headers.get("cache-control")).to.equal("no-cache");
    const etag = icon.headers.get("etag");
    expect(etag).to.be.a("string");
    // node:http, since fetch adds Cache-Control: no-cache to a conditional request, as browsers' fetch() does.
    const status = await new Promise<number>((resolve, reject) => {
      http.get(`${server.url}/favicon.svg`, { headers: { "if-none-match": etag! } }, (res) => resolve(res.resume().statusCode!)).on("error", reject);
    });
    expect(status, "revalidation answers 304").to.equal(304);
  });

  it("answers index.html for any other page a browser opens (the app routes on the client)", async () => {
    for (const page of ["/operator", "/dashboard/tasks/8f14e45f-ceea-467f-a0e6-1b7f2e1b3c1a", "/sign-in?next=%2Fdashboard"]) {
      const res = await get(page, html);
      expect(res.status, page).to.equal(200);
      expect(res.headers.get("cache-control")).to.equal("no-cache");
      expectSecurityHeaders(res, server.url);
      expect(await res.text()).to.equal(INDEX);
    }
  });

  it("keeps JSON 404s for the APIs, missing assets, other methods and clients that do not ask for HTML", async () => {
    for (const [method, urlPath, headers] of [
      ["GET", "/api/v1/nothing-here", html],
      ["GET", "/graphqlx", {}],
      ["GET", "/auth/nothing", html],
      ["GET", "/mcp/x", html],
      ["GET", "/assets/index-0000.js", html],
      ["GET", "/operator", { accept: "application/json" }],
      ["POST", "/operator", html],
    ] as const) {
      const res = await fetch(`${server.url}${urlPath}`, { method, headers });
      expect(res.status, `${method} ${urlPath}`).to.equal(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).to.equal("NOT_FOUND");
    }
    const health = await get("/healthz", html);
    expect(await health.json()).to.deep.equal({ status: "ok" });
  });

  it("tells the app its map tiles and Sumsub WebSDK at /app-config.json, and nothing secret", async () => {
    const res = await get("/app-config.json");
    expect(res.status).to.equal(200);
    expect(res.headers.get("cache-control")).to.equal("no-cache");
    expect(await res.json()).to.deep.equal({
      map_tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
      sumsub_websdk_url: "https://static.sumsub.com/idensic/static/sns-websdk-builder.js",
    });
  });
});

describe("the web app's configuration", () => {
  it("allows the configured tile server (any {s} subdomain) and Sumsub WebSDK in the Content-Security-Policy", async () => {
    const dist = builtApp();
    const server = await startServer(db, {
      WEB_DIST_DIR: dist,
      WEB_MAP_TILE_URL: "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png",
      SUMSUB_WEBSDK_URL: "http://127.0.0.1:9999/websdk.js",
      PUBLIC_URL: "https://humanops.example.com",
    });
    try {
      const csp = (await fetch(`${server.url}/`)).headers.get("content-security-policy")!;
      expect(csp).to.include("img-src 'self' data: blob: https://*.tiles.example.org:8443 https://humanops.example.com;");
      expect(csp).to.include("script-src 'self' http://127.0.0.1:9999;");
      expect(csp).to.include("frame-src http://127.0.0.1:9999 https://api.sumsub.com;");
      expect(await (await fetch(`${server.url}/app-config.json`)).json()).to.deep.equal({
        map_tile_url: "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png",
        sumsub_websdk_url: "http://127.0.0.1:9999/websdk.js",
      });
    } finally {
      await server.stop();
      fs.rmSync(dist, { recursive: true, force: true });
    }
  });

  it("answers a plain page saying the app is not built when its directory is missing, and the APIs run as usual", async () => {
    const missing = path.join(os.tmpdir(), `humanops-web-missing-${process.pid}`);
    const server = await startServer(db, { WEB_DIST_DIR: missing });
    try {
      for (const page of ["/", "/operator"]) {
        const res = await fetch(`${server.url}${page}`, { headers: html });
        expect(res.status).to.equal(404);
        expect(res.headers.get("content-type")).to.match(/^text\/plain/);
        expect(await res.text()).to.include("The HumanOps web app is not built").and.include("npm run build");
      }
      expect((await server.client.request(`{ __typename }`)).status).to.equal(200);
    } finally {
      await server.stop();
    }
  });
});
