import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The web app's build: static files into dist/web, which the server serves at /.
 * The server's Content-Security-Policy allows no inline script or style, so
 * nothing here may emit one: styles stay in CSS files, and the module-preload
 * polyfill (an inline-free part of the entry, but needless in the browsers the
 * app targets) is left out.
 */
export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    // Keep every asset a file: a data: URL for a font or image would be fine under img-src, not under font-src.
    assetsInlineLimit: 0,
    sourcemap: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 400,
  },
  logLevel: "warn",
});
