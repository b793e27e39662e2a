// Bundle the visitor page (app.js) and the curator page (curate.js) into dist/, sharing three.js in a chunk.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: { app: "src/main.js", curate: "src/curate/main.js" },
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outdir: "dist",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
cpSync("public", "dist", { recursive: true });
