// @ts-check
// Text drawn on a canvas and shown as a sprite: name tags, "generated" signs, overlay boards in headsets.
// Visitor and curator text is drawn as pixels, so it never becomes markup.
import * as THREE from "three";

/**
 * `draw(ctx, width, height)` paints the canvas; the sprite is `widthM` metres wide, its height in proportion.
 * @param {number} width pixels
 * @param {number} height pixels
 * @param {(ctx: CanvasRenderingContext2D, width: number, height: number) => void} draw
 * @param {number} widthM
 * @param {{overlay?: boolean}} [options] overlay: drawn over the scene, never hit by a ray
 * @returns {THREE.Sprite}
 */
export function canvasSprite(width, height, draw, widthM, { overlay = false } = {}) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  draw(canvas.getContext("2d"), width, height);
  const texture = new THREE.CanvasTexture(canvas);
  texture.colorSpace = THREE.SRGBColorSpace;
  const material = new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false, depthTest: !overlay });
  const sprite = new THREE.Sprite(material);
  sprite.scale.set(widthM, (widthM * height) / width, 1);
  if (overlay) {
    sprite.renderOrder = 10; // drawn over the scene: a sign, not part of it
    sprite.raycast = () => {}; // and not somewhere to walk or click
  }
  return sprite;
}

// -- name tags ----------------------------------------------------------------------------------------------

const TAG_FAMILY = "Third Space Names";
const TAG_FONT = `600 40px '${TAG_FAMILY}', system-ui, sans-serif`;
const TAG_HEIGHT = 88;
const TAG_WIDTH = 512; // the widest short tag; a focused tag grows to fit the whole name
const TAG_PADDING = 30;
const TAG_METRES_PER_PIXEL = 0.7 / TAG_WIDTH;
const RTL_SCRIPT = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}]/u;
const LETTER = /\p{L}/u;

/** @type {Promise<void> | null} */
let tagFaces = null;
let facesAdded = false;
/** @type {Set<string>} names whose fonts were asked for */
const asked = new Set();

/**
 * The page's own Noto faces (the files the headset menu draws with, listed in fonts.json), so that Latin, Greek,
 * Cyrillic, Arabic and Devanagari names are drawn alike on every device; other scripts (Chinese, Japanese...)
 * come from the device's fonts. The browser fetches a face only when a name needs its characters.
 * @param {string} [url]
 */
function addTagFaces(url = "/static/fonts/fonts.json") {
  tagFaces ??= fetch(url)
    .then((response) => /** @type {Promise<{src: string, ranges: [number, number][]}[]>} */ (response.ok ? response.json() : Promise.resolve([])))
    .then((/** @type {{src: string, ranges: [number, number][]}[]} */ table) => {
      const hex = (/** @type {number} */ n) => n.toString(16);
      for (const { src, ranges } of table) {
        const unicodeRange = ranges.map(([a, b]) => (a === b ? `U+${hex(a)}` : `U+${hex(a)}-${hex(b)}`)).join(", ");
        document.fonts.add(new FontFace(TAG_FAMILY, `url(${src})`, { unicodeRange }));
      }
      facesAdded = true;
    })
    .catch(() => {}); // the device's fonts draw the names instead
  return tagFaces;
}

/**
 * Null when `name` can be drawn now in the name tags' font; otherwise a promise settled once its faces have
 * loaded (or failed to), once per name, after which the tag is worth drawing again.
 * @param {string} name
 * @returns {Promise<void> | null}
 */
export function tagFontsFor(name) {
  if (asked.has(name) || (facesAdded && document.fonts.check(TAG_FONT, name))) return null;
  asked.add(name);
  return addTagFaces()
    .then(() => document.fonts.load(TAG_FONT, name))
    .then(
      () => {},
      () => {},
    );
}

/**
 * Whether a name reads right to left: its first letter is in a right-to-left script (the Unicode bidi rule P2).
 * @param {string} text
 */
export function isRtlText(text) {
  for (const c of text) if (LETTER.test(c)) return RTL_SCRIPT.test(c);
  return false;
}

/**
 * The longest start of `text` that fits `maxWidth` with an ellipsis, cut between graphemes (never inside an
 * accented letter, a Devanagari cluster or an emoji); `text` itself when it fits.
 * @param {CanvasRenderingContext2D} ctx with the font set
 * @param {string} text
 * @param {number} maxWidth pixels
 */
export function fitText(ctx, text, maxWidth) {
  if (ctx.measureText(text).width <= maxWidth) return text;
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)].map((s) => s.segment);
  let low = 0;
  let high = graphemes.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (ctx.measureText(`${graphemes.slice(0, mid).join("").trimEnd()}…`).width <= maxWidth) low = mid;
    else high = mid - 1;
  }
  return `${graphemes.slice(0, low).join("").trimEnd()}…`;
}

/**
 * A visitor's name over their head. The short tag is at most 0.7 m wide and ends a longer name with an ellipsis; the full
 * tag (shown while someone points at, taps or looks at the visitor) is as wide as the whole name. The browser
 * shapes the text (Arabic letters join, Devanagari clusters form) and `direction` follows the name's first
 * letter, so an Arabic name reads from the right and its ellipsis sits at its left end.
 * @param {string} name
 * @param {{full?: boolean}} [options]
 * @returns {{sprite: THREE.Sprite, text: string}} text: what the tag shows
 */
export function nameTagSprite(name, { full = false } = {}) {
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = TAG_FONT;
  const text = full ? name : fitText(measure, name, TAG_WIDTH - 2 * TAG_PADDING);
  const fitted = Math.ceil(measure.measureText(text).width) + 2 * TAG_PADDING; // a short name, a narrow tag
  const width = Math.max(TAG_HEIGHT * 2, full ? Math.min(2048, fitted) : Math.min(TAG_WIDTH, fitted));
  const sprite = canvasSprite(
    width,
    TAG_HEIGHT,
    (ctx) => {
      ctx.fillStyle = full ? "rgba(20, 22, 28, 0.9)" : "rgba(20, 22, 28, 0.72)";
      ctx.beginPath();
      ctx.roundRect(0, 4, width, TAG_HEIGHT - 8, (TAG_HEIGHT - 8) / 2);
      ctx.fill();
      ctx.fillStyle = "#ffffff";
      ctx.font = TAG_FONT;
      ctx.direction = isRtlText(name) ? "rtl" : "ltr";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(text, width / 2, TAG_HEIGHT / 2 + 2);
    },
    width * TAG_METRES_PER_PIXEL,
  );
  sprite.name = full ? "name-tag-full" : "name-tag";
  return { sprite, text };
}
