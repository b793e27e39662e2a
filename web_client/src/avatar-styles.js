// @ts-check
// The avatar styles a visitor can pick in the lobby: a head, a body and two hands each, built from a few shared
// shapes, with patterns and colours drawn from clothing of several cultures. Each part is split by paint: "tint"
// takes the visitor's colour, "light" a light shade of it (faces and hands), "#rrggbb" a fixed colour, so one
// geometry per part and paint serves every visitor of the style (avatars.js instances them).
import * as THREE from "three";
import { mergeGeometries } from "three/addons/utils/BufferGeometryUtils.js";
import { addWords } from "./i18n.js";

/** @typedef {"tint" | "light" | string} Paint */
/** @typedef {{geometry: THREE.BufferGeometry, paint: Paint}} Piece */
/** @typedef {"head" | "body" | "left" | "right"} PartName head: follows the head pose; body: its position and yaw */
/**
 * @typedef {object} StyleSpec
 * @property {string} id the hello's `avatar`
 * @property {(pieces: Piece[]) => void} head headwear and hair, added to the shared face
 * @property {(pieces: Piece[]) => void} body
 * @property {Paint} cuff the wrist band of the hands
 * @property {[number, number, number]} rest where the left hand hangs when untracked, from the head (yaw only)
 */
/** @typedef {Record<"tint" | "light" | "fixed", THREE.BufferGeometry | null>} PaintedGeometry */
/** @typedef {Record<PartName, PaintedGeometry>} StyleGeometry */

export const PAINTS = /** @type {const} */ (["tint", "light", "fixed"]);
export const PART_NAMES = /** @type {const} */ (["head", "body", "left", "right"]);

// Profiles for LatheGeometry: [radius, height from the eyes] from the hem up to the neck, closed at both ends.
const TUNIC = [[0.001, -1.0], [0.2, -1.0], [0.215, -0.82], [0.19, -0.62], [0.2, -0.44], [0.18, -0.31], [0.1, -0.22], [0.001, -0.2]];
const ROBE = [[0.001, -1.42], [0.25, -1.42], [0.235, -1.12], [0.205, -0.78], [0.2, -0.46], [0.18, -0.31], [0.1, -0.22], [0.001, -0.2]];
const KURTA = [[0.001, -1.12], [0.23, -1.12], [0.215, -0.85], [0.195, -0.62], [0.2, -0.44], [0.18, -0.31], [0.1, -0.22], [0.001, -0.2]];
const PONCHO = [[0.001, -0.9], [0.36, -0.9], [0.345, -0.6], [0.24, -0.34], [0.1, -0.23], [0.001, -0.21]];
const SWEATER = [[0.001, -0.96], [0.2, -0.96], [0.205, -0.8], [0.19, -0.62], [0.205, -0.44], [0.185, -0.31], [0.1, -0.22], [0.001, -0.2]];
const SEGMENTS = 20;

/**
 * The profile's radius at height `y` (profiles go up).
 * @param {number[][]} profile
 * @param {number} y
 */
function radiusAt(profile, y) {
  for (let i = 1; i < profile.length; i++) {
    const [r0, y0] = profile[i - 1];
    const [r1, y1] = profile[i];
    if (y <= y1 && y >= y0) return y1 === y0 ? Math.max(r0, r1) : r0 + ((r1 - r0) * (y - y0)) / (y1 - y0);
  }
  return 0.001;
}

/**
 * The band of a profile between two heights, turned around the vertical axis (optionally only a sector of it).
 * @param {number[][]} profile
 * @param {number} from lower height
 * @param {number} to upper height
 * @param {number} [phiStart] radians; the front (-z) is at PI
 * @param {number} [phiLength]
 */
function band(profile, from, to, phiStart = 0, phiLength = Math.PI * 2) {
  /** @param {number} y the profile's own points at `y` (the closed hem or neck), else the radius there */
  const at = (y) => {
    const own = profile.filter((p) => p[1] === y);
    return (own.length ? own : [[radiusAt(profile, y), y]]).map(([r]) => new THREE.Vector2(r, y));
  };
  const points = at(from);
  for (const [r, y] of profile) if (y > from && y < to) points.push(new THREE.Vector2(r, y));
  points.push(...at(to));
  const segments = Math.max(2, Math.round((SEGMENTS * phiLength) / (Math.PI * 2)));
  return new THREE.LatheGeometry(points, segments, phiStart, phiLength);
}

/**
 * A profile painted in bands from the hem up: `[top height, paint]` each (the last band reaches the neck), and a
 * band may be striped: `[top height, [paint, paint, ...], stripes]`.
 * @param {Piece[]} pieces
 * @param {number[][]} profile
 * @param {[number, Paint | Paint[], number?][]} bands
 */
function painted(pieces, profile, bands) {
  let from = profile[0][1];
  for (const [to, paint, stripes = 1] of bands) {
    if (Array.isArray(paint)) {
      const step = (Math.PI * 2) / stripes;
      for (let s = 0; s < stripes; s++) pieces.push({ geometry: band(profile, from, to, s * step, step), paint: paint[s % paint.length] });
    } else pieces.push({ geometry: band(profile, from, to), paint });
    from = to;
  }
}

/**
 * @param {THREE.BufferGeometry} geometry
 * @param {{at?: number[], scale?: number[], rotate?: number[]}} place rotate: Euler XYZ radians
 */
function placed(geometry, { at = [0, 0, 0], scale = [1, 1, 1], rotate = [0, 0, 0] }) {
  const matrix = new THREE.Matrix4().compose(
    new THREE.Vector3(...at),
    new THREE.Quaternion().setFromEuler(new THREE.Euler(rotate[0], rotate[1], rotate[2])),
    new THREE.Vector3(...scale),
  );
  return geometry.applyMatrix4(matrix);
}

const sphere = (/** @type {number} */ r, widthSegments = 16, heightSegments = 12) => new THREE.SphereGeometry(r, widthSegments, heightSegments);

/**
 * Legs below a short garment.
 * @param {Piece[]} pieces
 * @param {Paint} paint
 * @param {number} top
 */
function legs(pieces, paint, top) {
  for (const x of [-0.075, 0.075]) pieces.push({ geometry: placed(new THREE.CylinderGeometry(0.07, 0.06, 1.46 + top, 10), { at: [x, (top - 1.46) / 2, 0] }), paint });
}

/** A round cap over the crown: the top of a sphere a little larger than the head. */
function cap(/** @type {number} */ r, /** @type {number} */ thetaLength = Math.PI / 2.3) {
  return new THREE.SphereGeometry(r, 18, 8, 0, Math.PI * 2, 0, thetaLength);
}

const GOLD = "#e3b21b";
const DARK = "#1b1e24";

/** @type {StyleSpec[]} */
const SPECS = [
  {
    id: "traveller",
    head: () => {},
    body: (p) => {
      painted(p, TUNIC, [[-0.68, "tint"], [-0.62, "#3a2f28"], [-0.2, "tint"]]);
      p.push({ geometry: placed(new THREE.TorusGeometry(0.105, 0.034, 8, 20), { at: [0, -0.25, 0], rotate: [Math.PI / 2, 0, 0] }), paint: "#e0b354" });
      legs(p, "#3a3f4a", -0.98);
    },
    cuff: "#e0b354",
    rest: [-0.28, -0.8, -0.02],
  },
  {
    // Kente, the woven strip cloth of the Akan and Ewe (Ghana, Togo): gold, green, red and black stripes.
    id: "kente",
    head: (p) => {
      p.push({ geometry: placed(new THREE.CylinderGeometry(0.112, 0.122, 0.075, 18, 1, true), { at: [0, 0.075, 0.005] }), paint: "#1d7a3e" });
      p.push({ geometry: placed(new THREE.CircleGeometry(0.112, 18), { at: [0, 0.1125, 0.005], rotate: [-Math.PI / 2, 0, 0] }), paint: GOLD });
    },
    body: (p) => {
      const weave = [GOLD, "#1d7a3e", GOLD, "#b8261c", "#111111"];
      painted(p, ROBE, [[-1.26, weave, 25], [-0.9, "tint"], [-0.84, GOLD], [-0.56, "tint"], [-0.3, weave, 25], [-0.2, GOLD]]);
    },
    cuff: GOLD,
    rest: [-0.29, -0.82, -0.02],
  },
  {
    // Kimono (Japan): a long robe, a wide obi sash with a cord, a white collar; hair gathered in a bun.
    id: "kimono",
    head: (p) => {
      p.push({ geometry: placed(sphere(0.133), { at: [0, 0.015, 0.022] }), paint: "#1f1b18" });
      p.push({ geometry: placed(sphere(0.055), { at: [0, 0.105, 0.085] }), paint: "#1f1b18" });
      p.push({ geometry: placed(new THREE.CylinderGeometry(0.005, 0.005, 0.17, 6), { at: [0, 0.11, 0.09], rotate: [0, 0, 1.2] }), paint: "#b8261c" });
    },
    body: (p) => {
      painted(p, ROBE, [[-1.36, DARK], [-0.69, "tint"], [-0.61, "#efe1b4"], [-0.59, "#b8261c"], [-0.5, "#efe1b4"], [-0.33, "tint"], [-0.2, "#f5f0e6"]]);
    },
    cuff: "#f5f0e6",
    rest: [-0.29, -0.82, -0.02],
  },
  {
    // Kurta (South Asia): a long shirt with an embroidered neckline and hem, over light trousers.
    id: "kurta",
    head: () => {},
    body: (p) => {
      painted(p, KURTA, [[-1.04, "#d4a017"], [-1.0, "#8b1e3f"], [-0.33, "tint"], [-0.28, ["#d4a017", "#8b1e3f"], 20], [-0.2, "#d4a017"]]);
      legs(p, "#f2ede3", -1.1);
    },
    cuff: "#d4a017",
    rest: [-0.28, -0.82, -0.02],
  },
  {
    // Poncho (the Andes): a wide woven poncho with bright stripes, and a knitted chullo with ear flaps.
    id: "poncho",
    head: (p) => {
      p.push({ geometry: placed(cap(0.136), { at: [0, 0.012, 0.004] }), paint: "#c0392b" });
      p.push({ geometry: placed(sphere(0.026, 10, 8), { at: [0, 0.15, 0.004] }), paint: "#f1c40f" });
      for (const x of [-0.118, 0.118]) p.push({ geometry: placed(sphere(0.045, 10, 8), { at: [x, -0.045, 0.01], scale: [0.35, 1.3, 1] }), paint: "#c0392b" });
    },
    body: (p) => {
      painted(p, PONCHO, [
        [-0.86, "#f1c40f"], [-0.82, "#c0392b"], [-0.64, "tint"], [-0.6, "#1f6f8b"], [-0.57, ["#f1c40f", "#c0392b"], 24], [-0.54, "#1f6f8b"],
        [-0.4, "tint"], [-0.37, "#c0392b"], [-0.21, "tint"],
      ]); // prettier-ignore
      legs(p, "#3a3a40", -0.88);
    },
    cuff: "#c0392b",
    rest: [-0.2, -0.97, -0.12],
  },
  {
    // Djellaba (the Maghreb): a long hooded robe with a contrasting braid down the front and at the hem.
    id: "djellaba",
    head: (p) => {
      const open = 1.1; // radians of the hood left open around the face
      p.push({ geometry: placed(new THREE.SphereGeometry(0.148, 18, 12, Math.PI * 1.5 + open, Math.PI * 2 - 2 * open, 0, Math.PI * 0.78), { at: [0, 0.012, 0.02] }), paint: "tint" });
      p.push({ geometry: placed(new THREE.ConeGeometry(0.06, 0.16, 12), { at: [0, -0.01, 0.19], rotate: [-2.2, 0, 0] }), paint: "tint" });
    },
    body: (p) => {
      painted(p, ROBE, [[-1.34, "#efe3c2"], [-0.2, "tint"]]);
      const braid = 0.1;
      // the braid down the front: a narrow sector of a slightly wider profile
      const outer = ROBE.map(([r, y]) => [r > 0.01 ? r + 0.004 : r, y]);
      p.push({ geometry: band(outer, -1.34, -0.24, Math.PI - braid / 2, braid), paint: "#efe3c2" });
    },
    cuff: "#efe3c2",
    rest: [-0.29, -0.82, -0.02],
  },
  {
    // Kanga (the Swahili coast): a printed wrap with a bold border, and a kilemba head wrap.
    id: "kanga",
    head: (p) => {
      p.push({ geometry: placed(cap(0.14, Math.PI / 2.1), { at: [0, 0.02, 0.01], scale: [1, 1.25, 1] }), paint: "#e4572e" });
      p.push({ geometry: placed(new THREE.TorusGeometry(0.12, 0.028, 8, 22), { at: [0, 0.06, 0.01], rotate: [Math.PI / 2 + 0.25, 0, 0] }), paint: GOLD });
    },
    body: (p) => {
      painted(p, ROBE, [[-1.3, DARK], [-1.26, [GOLD, "#e4572e"], 24], [-0.5, "tint"], [-0.45, DARK], [-0.42, GOLD], [-0.2, "tint"]]);
    },
    cuff: GOLD,
    rest: [-0.29, -0.82, -0.02],
  },
  {
    // A Nordic knitted sweater (Norway, Iceland): a patterned yoke and ribbing, and a beanie with a pompom.
    id: "nordic",
    head: (p) => {
      p.push({ geometry: placed(cap(0.137), { at: [0, 0.012, 0.006] }), paint: "tint" });
      p.push({ geometry: placed(new THREE.TorusGeometry(0.124, 0.02, 8, 22), { at: [0, 0.045, 0.006], rotate: [Math.PI / 2, 0, 0] }), paint: "#f4f1ea" });
      p.push({ geometry: placed(sphere(0.034, 10, 8), { at: [0, 0.15, 0.006] }), paint: "#f4f1ea" });
    },
    body: (p) => {
      painted(p, SWEATER, [[-0.9, "#f4f1ea"], [-0.46, "tint"], [-0.43, "#f4f1ea"], [-0.37, ["#f4f1ea", "tint"], 20], [-0.34, "#1d3557"], [-0.31, ["tint", "#f4f1ea"], 20], [-0.2, "#f4f1ea"]]);
      legs(p, "#2b2d42", -0.94);
    },
    cuff: "#f4f1ea",
    rest: [-0.28, -0.8, -0.02],
  },
];

export const DEFAULT_STYLE = SPECS[0].id;
/** The styles in the lobby's order; `id` is the hello's `avatar`. */
export const AVATAR_STYLES = SPECS.map(({ id, rest }) => ({ id, rest }));

/**
 * A visitor's style: the one named, or the default for a name this page does not know.
 * @param {string | undefined} id
 * @returns {string}
 */
export function styleOf(id) {
  return SPECS.some((s) => s.id === id) ? id : DEFAULT_STYLE;
}

/** The face every style shares: a head looking down -z, with eyes. */
function face() {
  /** @type {Piece[]} */
  const pieces = [{ geometry: placed(sphere(0.125, 20, 14), { scale: [1, 1.08, 1] }), paint: "light" }];
  for (const x of [-0.042, 0.042]) pieces.push({ geometry: placed(sphere(0.016, 8, 6), { at: [x, 0.018, -0.114] }), paint: DARK });
  return pieces;
}

/**
 * A hand in the pose's frame: fingers along -z, palm down, thumb inwards; the wrist band at +z.
 * @param {1 | -1} side 1 the left hand (thumb towards +x), -1 the right
 * @param {Paint} cuff
 */
function hand(side, cuff) {
  /** @type {Piece[]} */
  const pieces = [{ geometry: placed(sphere(1, 12, 8), { at: [0, 0, 0.02], scale: [0.043, 0.018, 0.05] }), paint: "light" }];
  const fingers = [[-0.028, 0.036], [-0.0095, 0.044], [0.0095, 0.046], [0.028, 0.04]];
  for (const [x, length] of fingers) {
    const finger = new THREE.CapsuleGeometry(0.0088, length, 3, 8);
    pieces.push({ geometry: placed(finger, { at: [x * side, -0.005, -0.03 - length / 2], rotate: [Math.PI / 2 + 0.22, 0, 0] }), paint: "light" });
  }
  const thumb = new THREE.CapsuleGeometry(0.0105, 0.034, 3, 8);
  pieces.push({ geometry: placed(thumb, { at: [0.048 * side, -0.004, -0.002], rotate: [Math.PI / 2, 0, -0.7 * side] }), paint: "light" });
  pieces.push({ geometry: placed(new THREE.TorusGeometry(0.034, 0.011, 6, 16), { at: [0, 0, 0.068], scale: [1, 0.65, 1] }), paint: cuff });
  return pieces;
}

/**
 * Merge pieces by paint; fixed colours become vertex colours (linear, as three.js shades).
 * @param {Piece[]} pieces
 * @returns {PaintedGeometry}
 */
function byPaint(pieces) {
  /** @type {Record<string, THREE.BufferGeometry[]>} */
  const groups = { tint: [], light: [], fixed: [] };
  const colour = new THREE.Color();
  for (const { geometry, paint } of pieces) {
    const plain = geometry.index ? geometry.toNonIndexed() : geometry;
    for (const name of Object.keys(plain.attributes)) if (name !== "position" && name !== "normal") plain.deleteAttribute(name);
    if (paint === "tint" || paint === "light") groups[paint].push(plain);
    else {
      colour.set(paint);
      const count = plain.attributes.position.count;
      const colours = new Float32Array(count * 3);
      for (let i = 0; i < count; i++) colour.toArray(colours, i * 3);
      plain.setAttribute("color", new THREE.BufferAttribute(colours, 3));
      groups.fixed.push(plain);
    }
    if (plain !== geometry) geometry.dispose();
  }
  /** @param {THREE.BufferGeometry[]} list */
  const merge = (list) => {
    if (list.length === 0) return null;
    const merged = mergeGeometries(list);
    for (const g of list) g.dispose();
    merged.computeBoundingSphere();
    return merged;
  };
  return { tint: merge(groups.tint), light: merge(groups.light), fixed: merge(groups.fixed) };
}

/**
 * The geometry of one style: each part split by paint. Build once per style and share.
 * @param {string} id
 * @returns {StyleGeometry}
 */
export function buildStyle(id) {
  const spec = SPECS.find((s) => s.id === styleOf(id));
  const head = face();
  spec.head(head);
  /** @type {Piece[]} */
  const body = [{ geometry: placed(new THREE.CylinderGeometry(0.045, 0.05, 0.12, 10, 1, true), { at: [0, -0.17, 0] }), paint: "light" }];
  spec.body(body);
  return { head: byPaint(head), body: byPaint(body), left: byPaint(hand(1, spec.cuff)), right: byPaint(hand(-1, spec.cuff)) };
}

/**
 * The shade of a visitor's colour that faces and hands are drawn in.
 * @param {THREE.Color} colour
 * @param {THREE.Color} target
 */
export function lightShade(colour, target) {
  return target.copy(colour).lerp(WHITE, 0.6);
}
const WHITE = new THREE.Color("#ffffff");

addWords({
  en: {
    avatar_style: "Avatar style", avatar_traveller: "Traveller", avatar_kente: "Kente", avatar_kimono: "Kimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Djellaba", avatar_kanga: "Kanga", avatar_nordic: "Nordic knit",
    avatar_about_traveller: "A tunic, a belt and a scarf.", avatar_about_kente: "Woven stripes of Ghana's kente cloth, with a kufi cap.",
    avatar_about_kimono: "A Japanese kimono with an obi sash, hair in a bun.", avatar_about_kurta: "A South Asian kurta with an embroidered neckline.",
    avatar_about_poncho: "An Andean poncho and a chullo hat with ear flaps.", avatar_about_djellaba: "A hooded djellaba of the Maghreb, with a braided trim.",
    avatar_about_kanga: "A Swahili kanga wrap with a bold border, and a kilemba head wrap.", avatar_about_nordic: "A Nordic patterned sweater and a beanie.",
  },
  fr: {
    avatar_style: "Style d'avatar", avatar_traveller: "Voyageur", avatar_kente: "Kente", avatar_kimono: "Kimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Djellaba", avatar_kanga: "Kanga", avatar_nordic: "Tricot nordique",
    avatar_about_traveller: "Une tunique, une ceinture et une écharpe.", avatar_about_kente: "Les bandes tissées du kente du Ghana, avec un kufi.",
    avatar_about_kimono: "Un kimono japonais avec une ceinture obi, les cheveux en chignon.", avatar_about_kurta: "Une kurta d'Asie du Sud à l'encolure brodée.",
    avatar_about_poncho: "Un poncho andin et un chullo à oreillettes.", avatar_about_djellaba: "Une djellaba à capuche du Maghreb, bordée d'une tresse.",
    avatar_about_kanga: "Un kanga swahili à large bordure, et un foulard kilemba.", avatar_about_nordic: "Un pull nordique à motifs et un bonnet.",
  },
  es: {
    avatar_style: "Estilo de avatar", avatar_traveller: "Viajero", avatar_kente: "Kente", avatar_kimono: "Kimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Chilaba", avatar_kanga: "Kanga", avatar_nordic: "Punto nórdico",
    avatar_about_traveller: "Una túnica, un cinturón y una bufanda.", avatar_about_kente: "Las franjas tejidas del kente de Ghana, con un gorro kufi.",
    avatar_about_kimono: "Un kimono japonés con faja obi y el pelo recogido en un moño.", avatar_about_kurta: "Una kurta del sur de Asia con el cuello bordado.",
    avatar_about_poncho: "Un poncho andino y un chullo con orejeras.", avatar_about_djellaba: "Una chilaba magrebí con capucha y ribete trenzado.",
    avatar_about_kanga: "Un kanga suajili de borde llamativo y un turbante kilemba.", avatar_about_nordic: "Un jersey nórdico con dibujos y un gorro.",
  },
  ar: {
    avatar_style: "نمط الصورة الرمزية", avatar_traveller: "مسافر", avatar_kente: "كينتي", avatar_kimono: "كيمونو", avatar_kurta: "كورتا",
    avatar_poncho: "بونشو", avatar_djellaba: "جلابة", avatar_kanga: "كانغا", avatar_nordic: "صوف شمالي",
    avatar_about_traveller: "سترة طويلة وحزام ووشاح.", avatar_about_kente: "خطوط منسوجة من قماش الكينتي الغاني، مع قبعة كوفي.",
    avatar_about_kimono: "كيمونو ياباني بحزام أوبي، والشعر معقوص.", avatar_about_kurta: "كورتا من جنوب آسيا بياقة مطرزة.",
    avatar_about_poncho: "بونشو من جبال الأنديز وقبعة تشولو بغطاءين للأذنين.", avatar_about_djellaba: "جلابة مغاربية بقلنسوة وحاشية مضفورة.",
    avatar_about_kanga: "كانغا سواحلية بحاشية عريضة، وعمامة كيلمبا.", avatar_about_nordic: "كنزة شمالية مزخرفة وقبعة صوفية.",
  },
  zh: {
    avatar_style: "形象风格", avatar_traveller: "旅人", avatar_kente: "肯特布", avatar_kimono: "和服", avatar_kurta: "库尔塔",
    avatar_poncho: "斗篷", avatar_djellaba: "吉拉巴长袍", avatar_kanga: "康加布", avatar_nordic: "北欧针织",
    avatar_about_traveller: "一件长衫、一条腰带和一条围巾。", avatar_about_kente: "加纳肯特布的编织条纹，配库菲帽。",
    avatar_about_kimono: "日本和服配腰带，头发盘成发髻。", avatar_about_kurta: "南亚库尔塔长衫，领口有刺绣。",
    avatar_about_poncho: "安第斯斗篷和带护耳的丘约帽。", avatar_about_djellaba: "马格里布带兜帽的吉拉巴长袍，饰有编织滚边。",
    avatar_about_kanga: "斯瓦希里康加布，宽边醒目，配基伦巴头巾。", avatar_about_nordic: "北欧花纹毛衣和毛线帽。",
  },
  hi: {
    avatar_style: "अवतार की शैली", avatar_traveller: "यात्री", avatar_kente: "केंटे", avatar_kimono: "किमोनो", avatar_kurta: "कुर्ता",
    avatar_poncho: "पोंचो", avatar_djellaba: "जेलाबा", avatar_kanga: "कांगा", avatar_nordic: "नॉर्डिक बुनाई",
    avatar_about_traveller: "एक अंगरखा, एक पेटी और एक दुपट्टा।", avatar_about_kente: "घाना के केंटे कपड़े की बुनी धारियाँ, कूफ़ी टोपी के साथ।",
    avatar_about_kimono: "ओबी कमरबंद वाला जापानी किमोनो, बालों का जूड़ा।", avatar_about_kurta: "कढ़ाईदार गले वाला दक्षिण एशियाई कुर्ता।",
    avatar_about_poncho: "एंडीज़ का पोंचो और कान ढकने वाली चुल्लो टोपी।", avatar_about_djellaba: "मग़रिब का हुड वाला जेलाबा, गुँथी किनारी के साथ।",
    avatar_about_kanga: "चौड़ी किनारी वाला स्वाहिली कांगा, और किलेम्बा साफ़ा।", avatar_about_nordic: "नॉर्डिक नमूनेदार स्वेटर और ऊनी टोपी।",
  },
  sw: {
    avatar_style: "Mtindo wa avatar", avatar_traveller: "Msafiri", avatar_kente: "Kente", avatar_kimono: "Kimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Jelaba", avatar_kanga: "Kanga", avatar_nordic: "Sweta ya Kinordiki",
    avatar_about_traveller: "Kanzu fupi, mshipi na skafu.", avatar_about_kente: "Mistari iliyofumwa ya kitambaa cha kente cha Ghana, na kofia ya kufi.",
    avatar_about_kimono: "Kimono ya Kijapani yenye mshipi wa obi, nywele zimefungwa fundo.", avatar_about_kurta: "Kurta ya Asia Kusini yenye shingo iliyotariziwa.",
    avatar_about_poncho: "Poncho ya Andes na kofia ya chullo yenye vifuniko vya masikio.", avatar_about_djellaba: "Jelaba ya Maghreb yenye kofia na utepe uliosukwa.",
    avatar_about_kanga: "Kanga ya Kiswahili yenye pindo pana, na kilemba.", avatar_about_nordic: "Sweta ya Kinordiki yenye nakshi na kofia ya sufu.",
  },
  ja: {
    avatar_style: "アバターのスタイル", avatar_traveller: "旅人", avatar_kente: "ケンテ", avatar_kimono: "着物", avatar_kurta: "クルタ",
    avatar_poncho: "ポンチョ", avatar_djellaba: "ジェラバ", avatar_kanga: "カンガ", avatar_nordic: "北欧ニット",
    avatar_about_traveller: "チュニックとベルトとスカーフ。", avatar_about_kente: "ガーナのケンテ布の織り縞に、クフィ帽。",
    avatar_about_kimono: "帯を締めた着物に、まとめ髪。", avatar_about_kurta: "襟元に刺繍のある南アジアのクルタ。",
    avatar_about_poncho: "アンデスのポンチョと耳当て付きのチュージョ帽。", avatar_about_djellaba: "編み紐の縁取りがあるマグリブのフード付きジェラバ。",
    avatar_about_kanga: "太い縁取りのスワヒリのカンガと、キレンバの頭巻き。", avatar_about_nordic: "模様編みの北欧セーターとニット帽。",
  },
  de: {
    avatar_style: "Avatar-Stil", avatar_traveller: "Reisende", avatar_kente: "Kente", avatar_kimono: "Kimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Dschellaba", avatar_kanga: "Kanga", avatar_nordic: "Nordischer Strick",
    avatar_about_traveller: "Eine Tunika, ein Gürtel und ein Schal.", avatar_about_kente: "Gewebte Streifen des Kente-Stoffs aus Ghana, mit Kufi-Kappe.",
    avatar_about_kimono: "Ein japanischer Kimono mit Obi-Gürtel, das Haar im Knoten.", avatar_about_kurta: "Eine südasiatische Kurta mit besticktem Ausschnitt.",
    avatar_about_poncho: "Ein Poncho aus den Anden und eine Chullo-Mütze mit Ohrenklappen.", avatar_about_djellaba: "Eine Dschellaba des Maghreb mit Kapuze und geflochtener Borte.",
    avatar_about_kanga: "Ein Swahili-Kanga mit kräftiger Borte und ein Kilemba-Kopftuch.", avatar_about_nordic: "Ein gemusterter nordischer Pullover und eine Mütze.",
  },
  pt: {
    avatar_style: "Estilo do avatar", avatar_traveller: "Viajante", avatar_kente: "Kente", avatar_kimono: "Quimono", avatar_kurta: "Kurta",
    avatar_poncho: "Poncho", avatar_djellaba: "Djellaba", avatar_kanga: "Kanga", avatar_nordic: "Tricô nórdico",
    avatar_about_traveller: "Uma túnica, um cinto e um cachecol.", avatar_about_kente: "As listras tecidas do kente de Gana, com um gorro kufi.",
    avatar_about_kimono: "Um quimono japonês com faixa obi e o cabelo preso em coque.", avatar_about_kurta: "Uma kurta do sul da Ásia com gola bordada.",
    avatar_about_poncho: "Um poncho andino e um gorro chullo com protetores de orelha.", avatar_about_djellaba: "Uma djellaba magrebina com capuz e debrum trançado.",
    avatar_about_kanga: "Uma kanga suaíli de barra marcante e um turbante kilemba.", avatar_about_nordic: "Um suéter nórdico estampado e um gorro.",
  },
}); // prettier-ignore
