// Bundle the visitor page (app.js) and the curator page (curate.js) into dist/, sharing three.js in a chunk;
// copy the fonts the headset menu draws its text with (served from /static/fonts/, never from a CDN).
import { build } from "esbuild";
import { copyFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

// The headset menu's fonts, one file per script, in the order the menu tries them for a character. Each
// @fontsource subset's unicode-range (from its CSS) says which characters it has; the menu reads that from
// fonts.json, so that it never hands a font a character it lacks (which would send troika to its CDN).
const FONTS = [
  { package: "noto-sans", subset: "latin" },
  { package: "noto-sans", subset: "latin-ext" },
  { package: "noto-sans", subset: "greek" },
  { package: "noto-sans", subset: "cyrillic" },
  { package: "noto-sans-arabic", subset: "arabic" },
  { package: "noto-sans-devanagari", subset: "devanagari" },
];

/**
 * The subset's unicode-range in its package's CSS, as [first, last] code points.
 * @param {string} css
 * @param {string} file
 */
function rangesOf(css, file) {
  const face = css.split("@font-face").find((block) => block.includes(`/${file}.woff`));
  const range = face && /unicode-range:\s*([^;]+);/.exec(face);
  if (!range) throw new Error(`no unicode-range for ${file}`);
  return range[1].split(",").map((part) => {
    const [first, last = first] = part.trim().replace(/^U\+/i, "").split("-");
    return [parseInt(first, 16), parseInt(last, 16)];
  });
}

// Built into dist.new, then swapped in: a server running meanwhile never serves a half-built client.
const OUT = "dist.new";

function copyFonts() {
  mkdirSync(`${OUT}/fonts`, { recursive: true });
  const table = FONTS.map(({ package: name, subset }) => {
    const file = `${name}-${subset}-400-normal`;
    copyFileSync(`node_modules/@fontsource/${name}/files/${file}.woff`, `${OUT}/fonts/${file}.woff`);
    return { src: `/static/fonts/${file}.woff`, subset, ranges: rangesOf(readFileSync(`node_modules/@fontsource/${name}/400.css`, "utf-8"), file) };
  });
  writeFileSync(`${OUT}/fonts/fonts.json`, JSON.stringify(table));
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: { app: "src/main.js", curate: "src/curate/main.js" },
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ["es2022"],
  outdir: OUT,
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
cpSync("public", OUT, { recursive: true });
copyFonts();
rmSync("dist.old", { recursive: true, force: true });
try {
  renameSync("dist", "dist.old");
} catch {
  // the first build: no dist yet
}
renameSync(OUT, "dist");
rmSync("dist.old", { recursive: true, force: true });
