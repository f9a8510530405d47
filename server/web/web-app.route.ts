import path from "node:path";
import express from "express";
import type { Config } from "../config";
import type { Logger } from "../common/logger";
import type { PhotoLinks } from "../photos/photo.links";

/** Paths the web app never answers for: the APIs and the server's own endpoints keep their JSON 404s. */
const SERVER_PATHS = /^\/(api|graphql|mcp|auth|healthz|readyz|webhooks|assets|app-config\.json)(\/|$)/;

/** Vite's hashed file names: their content never changes under a name, so any cache may keep them for good. */
const IMMUTABLE = "public, max-age=31536000, immutable";

const NOT_BUILT = [
  "The HumanOps web app is not built on this server.",
  "",
  "Build it with `npm run build` (its files go to the web app directory, dist/web by default, WEB_DIST_DIR) and reload.",
  "The APIs work without it: GraphQL at /graphql, REST at /api/v1 (OpenAPI at /api/v1/openapi.json), MCP at /mcp.",
  "",
].join("\n");

/** What the web app needs to know of the server's configuration; nothing secret. */
export interface AppConfig {
  map_tile_url: string;
  sumsub_websdk_url: string;
}

/**
 * The origin a CSP source list names for a URL template: scheme, host and
 * port, with a `{s}` subdomain placeholder (Leaflet's tile servers a, b, c)
 * as the wildcard `*`.
 */
export function cspOrigin(urlTemplate: string): string {
  const origin = /^(https?:\/\/[^/?#]+)/i.exec(urlTemplate)?.[1];
  if (!origin) throw new Error(`not an http(s) URL: ${urlTemplate}`);
  return origin.replace(/\{s\}/g, "*").toLowerCase();
}

/**
 * The Content-Security-Policy of the web app's pages: its own scripts and
 * the Sumsub WebSDK's, API calls and graphql-ws to its own origin only,
 * map tiles from the configured tile server and proof photos from the
 * origin their signed URLs name (PUBLIC_URL, or the listening address,
 * which need not be the name the browser used), Sumsub's verification
 * frame, no plugins, no <base> elsewhere, and no framing of the app.
 */
export function contentSecurityPolicy(web: Config["web"], sumsubApiUrl: string | undefined, photoOrigin: string | undefined): string {
  const sumsub = cspOrigin(web.sumsubWebSdkUrl);
  const sumsubFrames = [...new Set([sumsub, cspOrigin(sumsubApiUrl ?? "https://api.sumsub.com")])].join(" ");
  const images = ["'self'", "data:", "blob:", cspOrigin(web.mapTileUrl), ...(photoOrigin ? [photoOrigin] : [])];
  return [
    "default-src 'self'",
    `script-src 'self' ${sumsub}`,
    "connect-src 'self'",
    `img-src ${images.join(" ")}`,
    `frame-src ${sumsubFrames}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/**
 * Serves the built web app (operator app and agent dashboard) from
 * `web.distDir` at /: hashed assets under /assets/ cached for good,
 * index.html revalidated on every load (so a deploy shows at once), and
 * index.html for any other page a browser asks for (the app routes on the
 * client). Every answer carries the Content-Security-Policy and the other
 * security headers. GET /app-config.json tells the app the map tile URL and
 * the Sumsub WebSDK URL. Without a build, pages answer a plain 404 that
 * says so; the server runs either way. Mounted after the APIs.
 */
export function mountWebApp(app: express.Express, config: Pick<Config, "web" | "kyc">, photoLinks: PhotoLinks, log: Logger): void {
  const { web } = config;
  // The photos' origin is known once the server listens (without PUBLIC_URL).
  const securityHeaders = () => ({
    "Content-Security-Policy": contentSecurityPolicy(web, config.kyc?.baseUrl, photoLinks.urlOrigin),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
  });
  const indexFile = path.join(web.distDir, "index.html");
  const appConfig: AppConfig = { map_tile_url: web.mapTileUrl, sumsub_websdk_url: web.sumsubWebSdkUrl };

  app.get("/app-config.json", (_req, res) => {
    res.set(securityHeaders()).set("Cache-Control", "no-cache").json(appConfig);
  });

  app.use(
    express.static(web.distDir, {
      index: false,
      redirect: false,
      setHeaders: (res, file) => {
        const relative = path.relative(web.distDir, file).split(path.sep);
        res.set(securityHeaders()).set("Cache-Control", relative[0] === "assets" ? IMMUTABLE : "no-cache");
      },
    }),
  );

  app.get(/.*/, (req, res, next) => {
    const isPage = req.path === "/" || (!SERVER_PATHS.test(req.path) && /\btext\/html\b/.test(req.get("Accept") ?? ""));
    if (!isPage) return next();
    res.set(securityHeaders());
    res.sendFile(indexFile, { headers: { "Cache-Control": "no-cache" }, dotfiles: "allow" }, (err?: NodeJS.ErrnoException) => {
      if (!err || res.headersSent) return;
      if (err.code !== "ENOENT" && err.code !== "ENOTDIR") log.error({ err }, "serving the web app's index.html failed");
      res.status(404).type("text/plain").set("Cache-Control", "no-cache").send(NOT_BUILT);
    });
  });
}
