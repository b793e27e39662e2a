// @ts-check
// Where a new object goes and how big it is shown, and the edits that act on several nodes at once
// (duplicate and remove a selection, with everything under it). Plain data in, plain data out.

/** @typedef {import("../types.js").SceneDocument} SceneDocument */
/** @typedef {import("../types.js").NodeSpec} NodeSpec */
/** @typedef {{min: number[], max: number[]}} Box an asset's own box, in metres, at scale 1 */

/** A new object is shown at most this wide and deep (metres) and this tall, never larger than it is. */
export const FOOTPRINT_M = 2;
export const HEIGHT_M = 2.5;
/** Nothing new stands closer than this to a spawn point's centre (a visitor's body and some room). */
export const SPAWN_CLEARANCE_M = 0.75;

/**
 * The one scale factor that fits an asset in the footprint and height (1 if it already fits).
 * @param {Box} box
 */
export function fitScale(box) {
  const [sx, sy, sz] = [0, 1, 2].map((i) => Math.max(box.max[i] - box.min[i], 1e-6));
  return Math.min(1, FOOTPRINT_M / Math.max(sx, sz), HEIGHT_M / sy);
}

/**
 * Where to put an asset's origin so that it stands on `surface` (its lowest point on it), its footprint's centre
 * on the surface point, clear of every spawn point and inside the bounds.
 * @param {number[]} surface a point on a surface, in the scene
 * @param {Box} box the asset's box at scale 1
 * @param {number} scale
 * @param {{spawns: number[][], bounds: {min: number[], max: number[]}, away?: number[]}} scene `away`: the
 *   horizontal direction to move in when a spawn point is in the way (from the camera towards the point)
 * @returns {number[]} the node's position
 */
export function placement(surface, box, scale, { spawns, bounds, away = [0, -1] }) {
  const centre = [0, 2].map((i) => ((box.min[i] + box.max[i]) / 2) * scale); // the footprint's centre, from the origin
  const half = (Math.max(box.max[0] - box.min[0], box.max[2] - box.min[2]) * scale) / 2;
  const radius = half + SPAWN_CLEARANCE_M;
  let [x, z] = [surface[0], surface[2]];
  const length = Math.hypot(away[0], away[1]) || 1;
  const [dx, dz] = [away[0] / length, away[1] / length];
  // Step along `away` until no spawn point is within reach of the footprint (at most 40 m).
  for (let step = 0; step < 160; step++) {
    const blocked = spawns.some((p) => Math.hypot(p[0] - x, p[2] - z) < radius);
    if (!blocked) break;
    x += dx * 0.25;
    z += dz * 0.25;
  }
  // Inside the bounds, footprint and all (a scene smaller than the footprint keeps it centred).
  const clamp = (/** @type {number} */ v, /** @type {number} */ i) => {
    const lo = bounds.min[i] + half;
    const hi = bounds.max[i] - half;
    return lo > hi ? (bounds.min[i] + bounds.max[i]) / 2 : Math.min(hi, Math.max(lo, v));
  };
  x = clamp(x, 0);
  z = clamp(z, 2);
  return [x - centre[0], surface[1] - box.min[1] * scale, z - centre[1]];
}

/**
 * The ids of `ids` and of everything under them.
 * @param {NodeSpec[]} nodes
 * @param {Iterable<string>} ids
 * @returns {Set<string>}
 */
export function withDescendants(nodes, ids) {
  const found = new Set(ids);
  for (let grew = true; grew; ) {
    const before = found.size;
    for (const n of nodes) if (n.parent && found.has(n.parent)) found.add(n.id);
    grew = found.size > before;
  }
  return found;
}

/**
 * Remove nodes, everything under them and the overlays placed on them (and tour stops' mentions of those), as the
 * server's single-node removal does.
 * @param {SceneDocument} document changed in place
 * @param {string[]} ids
 */
export function removeNodes(document, ids) {
  const doomed = withDescendants(document.nodes, ids);
  document.nodes = document.nodes.filter((n) => !doomed.has(n.id));
  const gone = new Set((document.overlays || []).filter((o) => o.at.node && doomed.has(o.at.node)).map((o) => o.id));
  if (!gone.size) return;
  document.overlays = document.overlays.filter((o) => !gone.has(o.id));
  for (const tour of document.tours || []) {
    for (const stop of tour.stops) if (stop.overlays) stop.overlays = stop.overlays.filter((o) => !gone.has(o));
  }
}

/**
 * Copy nodes with everything under them, the copies beside the originals (`offset`, for the top ones).
 * @param {SceneDocument} document changed in place
 * @param {string[]} ids
 * @param {number[]} offset
 * @returns {string[]} the ids of the top copies, in the order of `ids`
 */
export function duplicateNodes(document, ids, offset) {
  const copied = withDescendants(document.nodes, ids);
  const top = ids.filter((id) => !ids.some((other) => other !== id && withDescendants(document.nodes, [other]).has(id)));
  const taken = new Set(document.nodes.map((n) => n.id));
  /** @type {Map<string, string>} */
  const renamed = new Map();
  for (const n of document.nodes) {
    if (!copied.has(n.id)) continue;
    const base = n.id.replace(/-copy(-\d+)?$/, "");
    let id = `${base}-copy`;
    for (let k = 2; taken.has(id); k++) id = `${base}-copy-${k}`;
    taken.add(id);
    renamed.set(n.id, id);
  }
  /** @type {NodeSpec[]} */
  const copies = [];
  for (const n of document.nodes) {
    const id = renamed.get(n.id);
    if (!id) continue;
    const copy = structuredClone(n);
    copy.id = id;
    if (n.parent && renamed.has(n.parent)) copy.parent = renamed.get(n.parent);
    if (top.includes(n.id)) {
      const at = n.position || [0, 0, 0];
      copy.position = /** @type {[number, number, number]} */ (at.map((v, i) => Math.round((v + offset[i]) * 1000) / 1000));
    }
    copies.push(copy);
  }
  document.nodes.push(...copies);
  return top.map((id) => renamed.get(id));
}
