// @ts-check
// Walkable space: the scene's walk grid, the same one the server checks every pose against (GET
// /api/scenes/ID/walk, docs/scene-format.md "Walkable space"). Walking slides along walls, the fountain's rim
// and plinths; the feet follow the floor (steps, carpets, hills); a teleport lands only where a visitor may stand.
// The rig carries its map in `rig.userData.walk` (set by main.js), which the controls and teleport read.

import { Vector3 } from "three";

const MAGIC = "TSWALK1\0";
const HEADER_BYTES = 28;
export const BODY_RADIUS_M = 0.25; // a visitor's feet keep this far from anything they cannot stand on
export const STEP_M = 0.35; // the highest step up or down between neighbouring cells (the server's rule)
const SUBSTEP_M = 0.1; // a long move is taken in steps this long, so it cannot jump a thin wall
const AROUND = 8; // points on the body's circle tested at each step

export class WalkMap {
  /**
   * @param {ArrayBuffer} buffer the served grid
   */
  constructor(buffer) {
    const view = new DataView(buffer);
    const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 8));
    if (magic !== MAGIC) throw new Error("not a walk grid");
    this.nx = view.getUint32(8, true);
    this.nz = view.getUint32(12, true);
    this.originX = view.getFloat32(16, true);
    this.originZ = view.getFloat32(20, true);
    this.cell = view.getFloat32(24, true);
    const cells = this.nx * this.nz;
    if (buffer.byteLength !== HEADER_BYTES + 8 * cells) throw new Error("walk grid of the wrong length");
    /** @type {Float32Array} x-major: cell (i, j) is floor[i * nz + j]; NaN where nobody may stand */
    this.floor = new Float32Array(buffer.slice(HEADER_BYTES, HEADER_BYTES + 4 * cells));
  }

  /**
   * The floor's height under (x, z), or null where nobody may stand.
   * @param {number} x
   * @param {number} z
   * @returns {number | null}
   */
  floorAt(x, z) {
    const i = Math.floor((x - this.originX) / this.cell);
    const j = Math.floor((z - this.originZ) / this.cell);
    if (i < 0 || j < 0 || i >= this.nx || j >= this.nz) return null;
    const floor = this.floor[i * this.nz + j];
    return Number.isNaN(floor) ? null : floor;
  }

  /**
   * Whether a visitor may stand with their feet at (x, z): the whole body's circle over floor within a step of
   * `from` (the floor they come from; the centre's floor if not given).
   * @param {number} x
   * @param {number} z
   * @param {number | null} [from]
   * @returns {boolean}
   */
  canStand(x, z, from = null) {
    const centre = this.floorAt(x, z);
    if (centre === null) return false;
    const level = from ?? centre;
    if (Math.abs(centre - level) > STEP_M) return false;
    for (let k = 0; k < AROUND; k++) {
      const angle = (k / AROUND) * 2 * Math.PI;
      const floor = this.floorAt(x + BODY_RADIUS_M * Math.cos(angle), z + BODY_RADIUS_M * Math.sin(angle));
      if (floor === null || Math.abs(floor - centre) > STEP_M) return false;
    }
    return true;
  }

  /**
   * Move feet at (x, z) by (dx, dz), sliding along what blocks the way: the whole step if it is clear, else its x
   * or z part alone, else nothing. Long steps go in pieces.
   * @param {number} x
   * @param {number} z
   * @param {number} dx
   * @param {number} dz
   * @returns {{x: number, z: number, blocked: boolean}} where the feet end up, and whether anything was in the way
   */
  move(x, z, dx, dz) {
    const pieces = Math.max(1, Math.ceil(Math.hypot(dx, dz) / SUBSTEP_M));
    const sx = dx / pieces;
    const sz = dz / pieces;
    let blocked = false;
    const stuck = !this.canStand(x, z); // already somewhere nobody may stand (the scene changed): let them out
    for (let k = 0; k < pieces; k++) {
      const from = this.floorAt(x, z);
      if (stuck || this.canStand(x + sx, z + sz, from)) {
        x += sx;
        z += sz;
      } else if (sx && this.canStand(x + sx, z, from)) {
        x += sx;
        blocked = true;
      } else if (sz && this.canStand(x, z + sz, from)) {
        z += sz;
        blocked = true;
      } else {
        return { x, z, blocked: true };
      }
    }
    return { x, z, blocked };
  }
}

/**
 * The scene's walk map, or null when the server has none for it (then visitors walk anywhere in the bounds).
 * @param {string} sceneId
 * @returns {Promise<WalkMap | null>}
 */
export async function fetchWalkMap(sceneId) {
  const response = await fetch(`/api/scenes/${encodeURIComponent(sceneId)}/walk`);
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`walk grid: HTTP ${response.status}`);
  return new WalkMap(await response.arrayBuffer());
}

/**
 * The walk map the rig moves in (main.js sets it), or null.
 * @param {import("three").Object3D} rig
 * @returns {WalkMap | null}
 */
export function walkMapOf(rig) {
  const walk = rig.userData.walk;
  return walk instanceof WalkMap ? walk : null;
}

/**
 * Walk the rig by (dx, dz), as every way of walking does (keys, joystick, click, a headset's thumbstick): the
 * visitor's feet at `feet` move through the rig's walk map, sliding along what blocks the way, and the rig's
 * height follows the floor there; without a walk map the step is taken as it is.
 * @param {import("three").Object3D} rig moved
 * @param {{x: number, z: number}} feet where the visitor stands (the rig's origin; in a headset, under the head)
 * @param {number} dx
 * @param {number} dz
 * @param {number} dt seconds the step takes, for the feet's easing onto a new floor height
 * @returns {{travelled: number, blocked: boolean}} how far the feet went, and whether anything was in the way
 */
export function walkRig(rig, feet, dx, dz, dt) {
  const walk = walkMapOf(rig);
  const moved = walk ? walk.move(feet.x, feet.z, dx, dz) : { x: feet.x + dx, z: feet.z + dz, blocked: false };
  const travelled = Math.hypot(moved.x - feet.x, moved.z - feet.z);
  rig.position.x += moved.x - feet.x;
  rig.position.z += moved.z - feet.z;
  const floor = walk?.floorAt(moved.x, moved.z) ?? null;
  if (floor !== null) rig.position.y += (floor - rig.position.y) * Math.min(1, dt * 12);
  return { travelled, blocked: moved.blocked };
}

/**
 * Keep the rig's walk map current and honour the server's check: a `not_walkable` error (a pose the server
 * refused: docs/protocol.md) brings the visitor back where the room keeps them, except in AR, where the real room
 * is the floor; a newly published scene brings its new walk map.
 * @param {object} options
 * @param {EventTarget} options.connection the room's (net.js): "error" and "scene" events
 * @param {import("three").Object3D} options.rig
 * @param {import("three").Camera} options.camera the viewer (the headset's, in VR)
 * @param {() => boolean} options.inAR
 * @param {string} options.sceneId
 */
export function followWalkMap({ connection, rig, camera, inAR, sceneId }) {
  connection.addEventListener("error", (e) => {
    const message = /** @type {CustomEvent} */ (e).detail;
    if (message?.code !== "not_walkable" || !Array.isArray(message.at) || inAR()) return;
    const [x, , z] = message.at;
    const head = camera.getWorldPosition(camera.position.clone());
    rig.position.x += x - head.x;
    rig.position.z += z - head.z;
  });
  connection.addEventListener("scene", () => {
    fetchWalkMap(sceneId)
      .then((walk) => (rig.userData.walk = walk))
      .catch(() => {}); // the map in use stays: the server's check still holds
  });
}

/**
 * What the page state (page-state.js) shows of walking: where the rig's feet are, its heading and the head; and
 * where a point of the scene shows on the page.
 * @param {import("./stage.js").Stage} stage
 * @returns {Pick<import("./page-state.js").PageState, "walker" | "screenPoint">}
 */
export function walkerState({ renderer, rig, camera }) {
  return {
    walker: () => {
      const viewer = renderer.xr.isPresenting ? renderer.xr.getCamera() : camera;
      const head = new Vector3().setFromMatrixPosition(viewer.matrixWorld);
      return { rig: rig.position.toArray(), yaw: rig.rotation.y, head: head.toArray() };
    },
    screenPoint: (point) => {
      const p = new Vector3().fromArray(point).project(camera);
      if (p.z > 1) return null;
      const rect = renderer.domElement.getBoundingClientRect();
      return [rect.left + ((p.x + 1) / 2) * rect.width, rect.top + ((1 - p.y) / 2) * rect.height];
    },
  };
}
