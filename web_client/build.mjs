// Bundle the client into dist/: one ES module with three.js inside, plus the static files.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outfile: "dist/app.js",
  logLevel: "warning",
});
cpSync("public", "dist", { recursive: true });
