// @ts-check
// The headset menu's keyboards: the letters of each script the page's languages write in. Arabic is typed in
// logical order (troika lays it out right to left and joins the letters); Devanagari vowel signs and the virama
// follow the consonant they belong to, as on a phone's keyboard. Chinese and Japanese have no input method here:
// their visitors get the Latin keys (pinyin, romaji) and the quick phrases.
import { primary } from "./i18n.js";

/** @typedef {{id: string, label: string, rows: string[][]}} Layout */

/** @type {Record<string, Layout>} */
export const LAYOUTS = {
  latin: {
    id: "latin",
    label: "ABC",
    rows: ["qwertyuiop", "asdfghjkl'", "zxcvbnm,.?"].map((row) => [...row]),
  },
  accents: {
    id: "accents",
    label: "àé",
    rows: ["éèêëàâäáã", "çñßíìîïóô", "öõúùûüœ¿¡"].map((row) => [...row]),
  },
  arabic: {
    id: "arabic",
    label: "عربي",
    rows: [
      ["ض", "ص", "ث", "ق", "ف", "غ", "ع", "ه", "خ", "ح", "ج"],
      ["ش", "س", "ي", "ب", "ل", "ا", "ت", "ن", "م", "ك", "ط"],
      ["ئ", "ء", "ؤ", "ر", "ى", "ة", "و", "ز", "ظ", "د", "ذ"],
      ["أ", "إ", "آ", "ـ", "،", "؟", ".", "!"],
    ],
  },
  devanagari: {
    id: "devanagari",
    label: "हिन्दी",
    rows: [
      ["अ", "आ", "इ", "ई", "उ", "ऊ", "ए", "ऐ", "ओ", "औ", "ं"],
      ["क", "ख", "ग", "घ", "च", "छ", "ज", "झ", "ट", "ठ", "ड"],
      ["ढ", "ण", "त", "थ", "द", "ध", "न", "प", "फ", "ब", "भ"],
      ["म", "य", "र", "ल", "व", "श", "ष", "स", "ह", "्", "।"],
      ["ा", "ि", "ी", "ु", "ू", "े", "ै", "ो", "ौ", "ृ", "?"],
    ],
  },
};

/**
 * The keyboards for a reader of `language`, theirs first.
 * @param {string} language
 * @returns {Layout[]}
 */
export function layoutsFor(language) {
  const own = { ar: ["arabic", "latin"], hi: ["devanagari", "latin"] }[primary(language)];
  const latin = ["fr", "es", "de", "pt"].includes(primary(language)) ? ["latin", "accents"] : ["latin"];
  return (own || latin).map((id) => LAYOUTS[id]);
}
