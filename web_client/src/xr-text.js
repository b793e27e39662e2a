// @ts-check
// Text in the headset, shaped by troika-three-text (Arabic joined and right to left, Devanagari conjuncts) with
// the fonts the server serves (/static/fonts/, listed in fonts.json by the build). Each run of characters gets
// the font whose subset has them; a character no served font has (Chinese, Japanese) is drawn as U+FFFD, so
// troika never falls back to fetching fonts from its CDN.
import * as THREE from "three";
// troika-three-text ships its types (dist/types) without naming them in its package.json.
// @ts-expect-error
import { Text as TroikaText } from "troika-three-text";

/** @typedef {import("troika-three-text/dist/types/Text.js").Text & THREE.Mesh} Text a troika text mesh */
/** @type {new () => Text} */
const Text = TroikaText;

/** @typedef {{src: string, subset: string, ranges: [number, number][]}} ServedFont */

const REPLACEMENT = "\uFFFD";

export class FontTable {
  /** @param {ServedFont[]} fonts in the order to try them */
  constructor(fonts) {
    this.fonts = fonts;
  }

  /**
   * The fonts the server has for the headset.
   * @param {string} [url]
   * @returns {Promise<FontTable>}
   */
  static async load(url = "/static/fonts/fonts.json") {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    return new FontTable(await response.json());
  }

  /**
   * @param {number} codePoint
   * @returns {ServedFont | null}
   */
  fontOf(codePoint) {
    return this.fonts.find((font) => font.ranges.some(([first, last]) => codePoint >= first && codePoint <= last)) || null;
  }

  /**
   * Whether every letter of `text` is in a served font.
   * @param {string} text
   */
  covers(text) {
    return [...text].every((c) => /\s/.test(c) || this.fontOf(c.codePointAt(0)));
  }

  /**
   * `text` as troika is to draw it: characters without a font replaced, a font for the text and one for each
   * run of another script (troika's styleRanges, keyed by the index where the run starts).
   * @param {string} text
   * @returns {{text: string, font: string, styleRanges: Record<number, {font: string}> | null}}
   */
  runs(text) {
    let out = "";
    /** @type {(ServedFont | null)[]} the font of each UTF-16 unit of `out` (null: whitespace, any font) */
    const fontAt = [];
    for (const char of text) {
      const font = /\s/.test(char) ? null : this.fontOf(char.codePointAt(0));
      const drawn = /\s/.test(char) || font ? char : REPLACEMENT;
      out += drawn;
      for (let i = 0; i < drawn.length; i++) fontAt.push(drawn === REPLACEMENT ? this.fonts[0] : font);
    }
    const first = fontAt.find(Boolean) || this.fonts[0];
    /** @type {Record<number, {font: string}>} */
    const styleRanges = {};
    let current = first;
    fontAt.forEach((font, index) => {
      if (font && font !== current) {
        styleRanges[index] = { font: font.src };
        current = font;
      }
    });
    return { text: out, font: first.src, styleRanges: Object.keys(styleRanges).length ? styleRanges : null };
  }

  /**
   * A troika text mesh showing `text`.
   * @param {string} text
   * @param {object} [options]
   * @param {number} [options.size] metres
   * @param {string} [options.color]
   * @param {number} [options.maxWidth] metres; wrapped beyond
   * @param {"ltr" | "rtl" | "auto"} [options.direction]
   * @param {"left" | "center" | "right"} [options.align]
   * @returns {Text}
   */
  text(text, { size = 0.02, color = "#f7f3ea", maxWidth = Infinity, direction = "auto", align = "center" } = {}) {
    const mesh = new Text();
    this.set(mesh, text);
    Object.assign(mesh, { fontSize: size, color, maxWidth, direction, textAlign: align, anchorX: align, anchorY: "middle", overflowWrap: "break-word" });
    mesh.userData.source = text;
    mesh.renderOrder = 30; // over the panel it sits on
    mesh.material = new THREE.MeshBasicMaterial({ transparent: true, depthTest: false, depthWrite: false });
    mesh.raycast = () => {}; // the panel under it takes the pointer
    mesh.sync();
    return mesh;
  }

  /**
   * Change what a text mesh shows.
   * @param {Text} mesh
   * @param {string} text
   */
  set(mesh, text) {
    const { text: drawn, font, styleRanges } = this.runs(text);
    Object.assign(mesh, { text: drawn, font, styleRanges });
    mesh.userData.source = text;
  }
}
