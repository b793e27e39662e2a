// @ts-check
// Other visitors: a head, a body and two hands in the style each chose (avatar-styles.js), moved through an
// interpolation buffer, with a name tag. Every visitor of a style shares its geometry: one instanced mesh per part
// and paint, so a crowd of a thousand costs a few dozen draw calls. Name tags are canvas sprites, shown for the
// nearest visitors; pointing at a visitor (mouse, tap, a controller's ray, or looking at them) shows their
// whole name.
import * as THREE from "three";
import { AVATAR_STYLES, buildStyle, DEFAULT_STYLE, lightShade, PAINTS, PART_NAMES, styleOf } from "./avatar-styles.js";
import { FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, PART_FLOATS } from "./protocol.js";
import { nameTagSprite, tagFontsFor } from "./sprites.js";

export { AVATAR_STYLES, DEFAULT_STYLE };
export const INTERPOLATION_DELAY_MS = 100;
const BUFFER_LENGTH = 32;
const TAG_HEIGHT_M = 0.33; // above the eyes
const MAX_TAGS = 24; // name tags shown at once (the nearest); the focused visitor's always shows
const TAG_RANGE_M = 14;
const KEEP_TAGS = 64; // drawn tags kept for visitors who may come near again
const FOCUS_RANGE_M = 25;
const TAP_FOCUS_MS = 4000;
const TORSO_DROP_M = 0.55;

/** @typedef {import("./types.js").Visitor} Visitor */
/** @typedef {{time: number, flags: number, parts: ArrayLike<number>}} Sample a pose as received, at page time `time` */

const _qa = new THREE.Quaternion();
const _qb = new THREE.Quaternion();
const _euler = new THREE.Euler();
const _up = new THREE.Vector3(0, 1, 0);
const _v = new THREE.Vector3();
const _one = new THREE.Vector3(1, 1, 1);
const _matrix = new THREE.Matrix4();
const _sphere = new THREE.Sphere();
// An untracked hand hangs with its fingers down and its palm turned in.
const HANG_LEFT = new THREE.Quaternion().setFromEuler(new THREE.Euler(-Math.PI / 2, 0, Math.PI / 2, "XYZ"));
const HANG_RIGHT = new THREE.Quaternion().setFromEuler(new THREE.Euler(-Math.PI / 2, 0, -Math.PI / 2, "XYZ"));

/**
 * Where an untracked hand of `style` hangs, from the head's position and yaw.
 * @param {string} style
 * @param {0 | 1} side 0 left, 1 right
 * @param {THREE.Vector3} head
 * @param {THREE.Quaternion} yaw
 * @param {THREE.Vector3} position out
 * @param {THREE.Quaternion} rotation out
 */
export function restingHand(style, side, head, yaw, position, rotation) {
  const rest = AVATAR_STYLES.find((s) => s.id === style)?.rest || AVATAR_STYLES[0].rest;
  position.set(side === 0 ? rest[0] : -rest[0], rest[1], rest[2]).applyQuaternion(yaw).add(head);
  rotation.copy(yaw).multiply(side === 0 ? HANG_LEFT : HANG_RIGHT);
}

class Avatar {
  /** @param {Visitor} visitor */
  constructor(visitor) {
    this.visitor = visitor;
    this.style = styleOf(visitor.avatar);
    this.colour = new THREE.Color(visitor.colour || "#4a90d9");
    this.light = lightShade(this.colour, new THREE.Color());
    /** @type {Sample[]} oldest first */
    this.buffer = [];
    // Holds the name tag and says whether the avatar shows (the frame loop may hide it, as in an AR tour).
    this.group = new THREE.Group();
    this.group.name = `avatar-${visitor.id}`;
    this.group.visible = false;
    this.position = new THREE.Vector3(); // the head
    this.rotation = new THREE.Quaternion();
    this.yaw = new THREE.Quaternion();
    this.hands = [0, 1].map(() => ({ position: new THREE.Vector3(), rotation: new THREE.Quaternion(), tracked: false }));
    /** @type {{sprite: THREE.Sprite, text: string} | null} */
    this.tag = null;
    /** @type {{sprite: THREE.Sprite, text: string} | null} */
    this.fullTag = null;
    this.shownTag = "";
    this.staleTags = false; // drawn before the name's fonts had loaded
  }

  /**
   * @param {number} time
   * @param {number} flags
   * @param {ArrayLike<number>} parts
   */
  push(time, flags, parts) {
    if (flags & FLAG_TELEPORT) this.buffer.length = 0; // jump, do not glide
    this.buffer.push({ time, flags, parts });
    if (this.buffer.length > BUFFER_LENGTH) this.buffer.shift();
  }

  /**
   * The pose interpolated at `renderTime` (page time, a little behind now).
   * @param {number} renderTime
   */
  update(renderTime) {
    const buffer = this.buffer;
    if (buffer.length === 0) return;
    let a = buffer[0];
    let b = buffer[0];
    for (let i = buffer.length - 1; i >= 0; i--) {
      if (buffer[i].time <= renderTime) {
        a = buffer[i];
        b = buffer[Math.min(i + 1, buffer.length - 1)];
        break;
      }
    }
    const span = b.time - a.time;
    const t = span > 0 ? Math.min(1, Math.max(0, (renderTime - a.time) / span)) : 1;
    this.group.visible = true;
    for (let p = 0; p < 3; p++) {
      const o = p * PART_FLOATS;
      const bit = p === 1 ? FLAG_LEFT : FLAG_RIGHT;
      const target = p === 0 ? this : this.hands[p - 1];
      if (p > 0) {
        /** @type {{tracked: boolean}} */ (target).tracked = Boolean(b.flags & bit);
        if (!(b.flags & bit)) continue;
      }
      const from = p === 0 || a.flags & bit ? a : b; // a hand just picked up starts where it is, not at the origin
      target.position.set(
        from.parts[o] + (b.parts[o] - from.parts[o]) * t,
        from.parts[o + 1] + (b.parts[o + 1] - from.parts[o + 1]) * t,
        from.parts[o + 2] + (b.parts[o + 2] - from.parts[o + 2]) * t,
      );
      _qa.fromArray(from.parts, o + 3);
      _qb.fromArray(b.parts, o + 3);
      target.rotation.slerpQuaternions(_qa, _qb, t);
    }
    this.yaw.setFromAxisAngle(_up, _euler.setFromQuaternion(this.rotation, "YXZ").y);
    for (const side of /** @type {const} */ ([0, 1])) {
      const h = this.hands[side];
      if (!h.tracked) restingHand(this.style, side, this.position, this.yaw, h.position, h.rotation);
    }
    this.group.position.copy(this.position);
  }

  /**
   * Show the short tag, the full one, or none.
   * @param {"short" | "full" | null} which
   */
  showTag(which) {
    if (this.staleTags) {
      this.staleTags = false;
      this.dropTags();
    }
    if (which === "short" && !this.tag) this.tag = this.addTag(false);
    if (which === "full" && !this.fullTag) this.fullTag = this.addTag(true);
    if (this.tag) this.tag.sprite.visible = which === "short";
    if (this.fullTag) this.fullTag.sprite.visible = which === "full";
    this.shownTag = which === "short" ? this.tag.text : which === "full" ? this.fullTag.text : "";
  }

  /** @param {boolean} full */
  addTag(full) {
    // Drawn now in whatever font there is, and again once the name's own faces have loaded.
    tagFontsFor(this.visitor.name)?.then(() => (this.staleTags = true));
    const tag = nameTagSprite(this.visitor.name, { full });
    tag.sprite.position.set(0, TAG_HEIGHT_M, 0);
    this.group.add(tag.sprite);
    return tag;
  }

  // Drop drawn tags (they are drawn again when needed).
  dropTags() {
    for (const tag of [this.tag, this.fullTag]) {
      if (!tag) continue;
      this.group.remove(tag.sprite);
      tag.sprite.material.map?.dispose();
      tag.sprite.material.dispose();
    }
    this.tag = this.fullTag = null;
    this.shownTag = "";
  }

  hide() {
    this.buffer.length = 0;
    this.group.visible = false;
  }

  dispose() {
    this.dropTags();
  }

  /**
   * How far along `ray` it hits this avatar's head or body, or Infinity.
   * @param {THREE.Ray} ray
   */
  hitBy(ray) {
    let best = Infinity;
    for (const [drop, radius] of [[0, 0.18], [TORSO_DROP_M, 0.3]]) {
      _sphere.center.copy(this.position).y -= drop;
      _sphere.radius = radius;
      if (ray.intersectSphere(_sphere, _v)) best = Math.min(best, _v.distanceTo(ray.origin));
    }
    return best;
  }
}

/** Shared by every style: the visitor's colour (or its light shade) per instance, or fixed vertex colours. */
function crowdMaterials() {
  return {
    tinted: new THREE.MeshStandardMaterial({ color: "#ffffff", roughness: 0.75 }),
    fixed: new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.8 }),
  };
}

// One style's instanced meshes: per part one matrix buffer shared by its paints, per paint one colour buffer.
class StyleMeshes {
  /**
   * @param {string} style
   * @param {THREE.Object3D} root
   * @param {ReturnType<typeof crowdMaterials>} materials
   */
  constructor(style, root, materials) {
    this.style = style;
    this.root = root;
    this.materials = materials;
    this.geometry = buildStyle(style);
    this.capacity = 0;
    this.count = 0;
    /** @type {THREE.InstancedMesh[]} */
    this.meshes = [];
    /** @type {Record<string, THREE.InstancedBufferAttribute>} */
    this.matrices = {};
    /** @type {Record<string, THREE.InstancedBufferAttribute>} */
    this.colours = {};
    this.grow(16);
  }

  /** @param {number} capacity */
  grow(capacity) {
    for (const mesh of this.meshes) {
      this.root.remove(mesh);
      mesh.dispose();
    }
    this.meshes = [];
    const old = { matrices: this.matrices, colours: this.colours };
    this.capacity = capacity;
    for (const paint of ["tint", "light"]) this.colours[paint] = resized(old.colours[paint], capacity, 3);
    for (const part of PART_NAMES) {
      const matrices = (this.matrices[part] = resized(old.matrices[part], capacity, 16));
      for (const paint of PAINTS) {
        const geometry = this.geometry[part][paint];
        if (!geometry) continue;
        const mesh = new THREE.InstancedMesh(geometry, paint === "fixed" ? this.materials.fixed : this.materials.tinted, capacity);
        mesh.instanceMatrix = matrices;
        if (paint !== "fixed") mesh.instanceColor = this.colours[paint];
        mesh.frustumCulled = false; // the crowd spreads over the scene; its bounds would change every frame
        mesh.name = `avatars-${this.style}-${part}-${paint}`;
        mesh.count = 0;
        this.meshes.push(mesh);
        this.root.add(mesh);
      }
    }
  }

  /** @param {Avatar} avatar */
  add(avatar) {
    if (this.count === this.capacity) this.grow(this.capacity * 2);
    const i = this.count++;
    _matrix.compose(avatar.position, avatar.rotation, _one).toArray(this.matrices.head.array, i * 16);
    _v.copy(avatar.position);
    _matrix.compose(_v, avatar.yaw, _one).toArray(this.matrices.body.array, i * 16);
    avatar.hands.forEach((h, side) => _matrix.compose(h.position, h.rotation, _one).toArray(this.matrices[side ? "right" : "left"].array, i * 16));
    avatar.colour.toArray(this.colours.tint.array, i * 3);
    avatar.light.toArray(this.colours.light.array, i * 3);
  }

  finish() {
    for (const attribute of [...Object.values(this.matrices), ...Object.values(this.colours)]) {
      attribute.clearUpdateRanges();
      attribute.addUpdateRange(0, this.count * attribute.itemSize);
      attribute.needsUpdate = true;
    }
    for (const mesh of this.meshes) mesh.count = this.count;
    this.count = 0;
  }

  dispose() {
    for (const mesh of this.meshes) {
      this.root.remove(mesh);
      mesh.dispose();
    }
    for (const part of Object.values(this.geometry)) for (const g of Object.values(part)) g?.dispose();
  }
}

/**
 * @param {THREE.InstancedBufferAttribute | undefined} old
 * @param {number} capacity
 * @param {number} itemSize
 */
function resized(old, capacity, itemSize) {
  const array = new Float32Array(capacity * itemSize);
  if (old) array.set(old.array.subarray(0, Math.min(old.array.length, array.length)));
  const attribute = new THREE.InstancedBufferAttribute(array, itemSize);
  attribute.setUsage(THREE.DynamicDrawUsage);
  return attribute;
}

export class Avatars {
  /**
   * The avatars are drawn just before each render of `scene` (after the frame loop has said who shows), with
   * that render's camera: the headset's in VR.
   * @param {THREE.Scene} scene where avatars are added
   * @param {number} selfId this page's visitor, who has no avatar here
   */
  constructor(scene, selfId) {
    this.scene = scene;
    this.selfId = selfId;
    /** @type {Map<number, Avatar>} */
    this.byId = new Map();
    this.root = new THREE.Group();
    this.root.name = "avatars";
    scene.add(this.root);
    this.materials = crowdMaterials();
    /** @type {Map<string, StyleMeshes>} */
    this.styles = new Map();
    /** @type {{x: number, y: number} | null} where a mouse hovers, in CSS pixels of the canvas */
    this.hover = null;
    /** @type {{x: number, y: number} | null} a tap not yet looked at */
    this.tap = null;
    this.tapped = { id: 0, until: 0 };
    this.focusedId = 0;
    /** @type {THREE.Camera | null} */
    this.camera = null;
    /** @type {HTMLElement | null} */
    this.dom = null;
    this.raycaster = new THREE.Raycaster();
    const previous = scene.onBeforeRender;
    scene.onBeforeRender = (renderer, s, camera, geometry, material, group) => {
      previous.call(scene, renderer, s, camera, geometry, material, group);
      this.draw(renderer, camera);
    };
  }

  /** @param {Visitor} visitor */
  add(visitor) {
    if (visitor.id === this.selfId || this.byId.has(visitor.id)) return;
    const avatar = new Avatar(visitor);
    this.byId.set(visitor.id, avatar);
    this.root.add(avatar.group);
  }

  /** @param {number} id */
  remove(id) {
    const avatar = this.byId.get(id);
    if (!avatar) return;
    this.root.remove(avatar.group);
    avatar.dispose();
    this.byId.delete(id);
  }

  /**
   * A snapshot holds every avatar in this visitor's interest; the others are hidden until they return.
   * Only avatars it moved are sampled, so a far avatar updated every third tick still glides.
   * @param {import("./types.js").Snapshot} snapshot
   * @param {number} now page time
   */
  onSnapshot(snapshot, now) {
    const seen = new Set();
    for (const { id, flags, updated, parts } of snapshot.avatars) {
      seen.add(id);
      if (updated) this.byId.get(id)?.push(now, flags, parts);
    }
    for (const [id, avatar] of this.byId) if (!seen.has(id)) avatar.hide();
  }

  /**
   * What the tests read: who is drawn where, in which style, and what their name tag says.
   * hands: left then right, where each is drawn and whether it follows a controller or tracked hand (else it rests).
   * @returns {{id: number, name: string, style: string, colour: string, visible: boolean, position: number[],
   *   hands: {tracked: boolean, position: number[]}[], tag: string, focused: boolean, screen: number[] | null}[]}
   */
  list() {
    return [...this.byId.values()].map((a) => ({
      id: a.visitor.id,
      name: a.visitor.name,
      style: a.style,
      colour: `#${a.colour.getHexString()}`,
      visible: a.group.visible,
      position: a.position.toArray(),
      hands: a.hands.map((h) => ({ tracked: h.tracked, position: h.position.toArray() })),
      tag: a.shownTag,
      focused: a.visitor.id === this.focusedId,
      screen: this.onScreen(a.position),
    }));
  }

  /**
   * A point's place on the canvas in CSS pixels, as last drawn, or null when behind the camera.
   * @param {THREE.Vector3} point
   */
  onScreen(point) {
    if (!this.camera || !this.dom) return null;
    const p = point.clone().project(this.camera);
    if (!(p.z <= 1 && Number.isFinite(p.x) && Number.isFinite(p.y))) return null;
    const rect = this.dom.getBoundingClientRect();
    return [((p.x + 1) / 2) * rect.width, ((1 - p.y) / 2) * rect.height];
  }

  /** @param {number} now page time */
  update(now) {
    const renderTime = now - INTERPOLATION_DELAY_MS;
    for (const avatar of this.byId.values()) avatar.update(renderTime);
  }

  /**
   * Write every shown avatar into its style's instances, pick the name tags, and follow what is pointed at.
   * @param {THREE.WebGLRenderer} renderer
   * @param {THREE.Camera} camera
   */
  draw(renderer, camera) {
    if (this.dom !== renderer.domElement) this.listen(renderer.domElement);
    if (!renderer.xr.isPresenting) this.camera = camera;
    /** @type {Avatar[]} */
    const shown = [];
    for (const avatar of this.byId.values()) {
      if (!avatar.group.visible) continue;
      shown.push(avatar);
      let meshes = this.styles.get(avatar.style);
      if (!meshes) this.styles.set(avatar.style, (meshes = new StyleMeshes(avatar.style, this.root, this.materials)));
      meshes.add(avatar);
    }
    for (const meshes of this.styles.values()) meshes.finish();
    this.focusedId = this.focus(renderer, camera, shown);
    this.pickTags(camera, shown);
  }

  /**
   * Who is pointed at now: a tap (for a few seconds), the mouse, or the middle of the view; in a headset a
   * controller's ray or the gaze.
   * @param {THREE.WebGLRenderer} renderer
   * @param {THREE.Camera} camera
   * @param {Avatar[]} shown
   */
  focus(renderer, camera, shown) {
    const now = performance.now();
    /** @type {THREE.Ray[]} */
    const rays = [];
    if (renderer.xr.isPresenting) {
      for (let i = 0; i < 2; i++) {
        const controller = renderer.xr.getController(i);
        if (controller.visible) rays.push(this.rayFrom(controller.matrixWorld));
      }
      rays.push(this.rayFrom(camera.matrixWorld));
    } else if (this.dom) {
      if (this.tap) {
        this.tapped = { id: this.nearestHit([this.rayAt(this.tap, camera)], shown), until: now + TAP_FOCUS_MS };
        this.tap = null;
      }
      if (this.tapped.id && now < this.tapped.until && shown.some((a) => a.visitor.id === this.tapped.id)) return this.tapped.id;
      if (this.hover) rays.push(this.rayAt(this.hover, camera));
      rays.push(this.rayFrom(camera.matrixWorld)); // whoever is in the middle of the view: turning to face them
    }
    return rays.length ? this.nearestHit(rays, shown) : 0;
  }

  /** @param {THREE.Matrix4} matrixWorld of something pointing down its -z */
  rayFrom(matrixWorld) {
    const ray = new THREE.Ray();
    ray.origin.setFromMatrixPosition(matrixWorld);
    ray.direction.set(0, 0, -1).transformDirection(matrixWorld);
    return ray;
  }

  /**
   * @param {{x: number, y: number}} at CSS pixels
   * @param {THREE.Camera} camera
   */
  rayAt(at, camera) {
    const rect = this.dom.getBoundingClientRect();
    this.raycaster.setFromCamera(new THREE.Vector2((at.x / rect.width) * 2 - 1, 1 - (at.y / rect.height) * 2), camera);
    return this.raycaster.ray.clone();
  }

  /**
   * @param {THREE.Ray[]} rays
   * @param {Avatar[]} shown
   * @returns {number} the visitor id hit nearest, or 0
   */
  nearestHit(rays, shown) {
    let best = FOCUS_RANGE_M;
    let id = 0;
    for (const ray of rays) {
      for (const avatar of shown) {
        const distance = avatar.hitBy(ray);
        if (distance < best) [best, id] = [distance, avatar.visitor.id];
      }
      if (id) return id; // the first ray that hits wins: a controller before the gaze
    }
    return id;
  }

  /**
   * The nearest visitors get their short tag; the focused one the full name.
   * @param {THREE.Camera} camera
   * @param {Avatar[]} shown
   */
  pickTags(camera, shown) {
    const eye = _v.setFromMatrixPosition(camera.matrixWorld).clone();
    const near = shown
      .map((a) => ({ a, d: a.position.distanceToSquared(eye) }))
      .filter(({ d }) => d < TAG_RANGE_M * TAG_RANGE_M)
      .sort((x, y) => x.d - y.d)
      .slice(0, MAX_TAGS);
    const short = new Set(near.map(({ a }) => a));
    let drawn = 0;
    for (const avatar of this.byId.values()) {
      const which = avatar.visitor.id === this.focusedId ? "full" : short.has(avatar) ? "short" : null;
      if (which || avatar.tag || avatar.fullTag) avatar.showTag(which);
      if (avatar.tag || avatar.fullTag) drawn++;
    }
    for (const avatar of this.byId.values()) {
      if (drawn <= KEEP_TAGS) break;
      if (avatar.shownTag || !(avatar.tag || avatar.fullTag)) continue;
      avatar.dropTags();
      drawn--;
    }
  }

  /** @param {HTMLElement} dom the canvas: a mouse hovering, or a tap (touch or pen, without dragging) */
  listen(dom) {
    this.dom = dom;
    /** @type {{x: number, y: number, t: number} | null} */
    let down = null;
    /** @param {PointerEvent} e */
    const at = (e) => {
      const rect = dom.getBoundingClientRect();
      return { x: e.clientX - rect.left, y: e.clientY - rect.top };
    };
    // The "generated" labels float over the canvas: the mouse over one still points into the scene behind it.
    /** @param {PointerEvent} e */
    const onScene = (e) => e.target === dom || (e.target instanceof Element && e.target.closest(".generated-label") !== null);
    window.addEventListener("pointermove", (e) => (this.hover = e.pointerType === "mouse" && onScene(e) ? at(e) : null));
    document.documentElement.addEventListener("pointerleave", () => (this.hover = null));
    dom.addEventListener("pointerdown", (e) => (down = { ...at(e), t: e.timeStamp }));
    dom.addEventListener("pointerup", (e) => {
      const p = at(e);
      if (e.pointerType !== "mouse" && down && Math.hypot(p.x - down.x, p.y - down.y) < 12 && e.timeStamp - down.t < 500) this.tap = p;
      down = null;
    });
  }
}

/**
 * One style standing still, for the lobby's preview: plain meshes over the same shared geometry.
 * @param {string} style
 * @param {string} colour "#rrggbb"
 * @param {Map<string, import("./avatar-styles.js").StyleGeometry>} cache geometry per style, kept by the caller
 * @returns {THREE.Group}
 */
export function standingAvatar(style, colour, cache) {
  style = styleOf(style);
  if (!cache.has(style)) cache.set(style, buildStyle(style));
  const geometry = cache.get(style);
  const tint = new THREE.Color(colour);
  /** @type {Record<string, THREE.Material>} */
  const materials = {
    tint: new THREE.MeshStandardMaterial({ color: tint, roughness: 0.75 }),
    light: new THREE.MeshStandardMaterial({ color: lightShade(tint, new THREE.Color()), roughness: 0.75 }),
    fixed: new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.8 }),
  };
  const group = new THREE.Group();
  const head = new THREE.Vector3(0, 0, 0);
  const yaw = new THREE.Quaternion();
  for (const part of PART_NAMES) {
    const holder = new THREE.Group();
    if (part === "left" || part === "right") restingHand(style, part === "left" ? 0 : 1, head, yaw, holder.position, holder.quaternion);
    for (const paint of PAINTS) if (geometry[part][paint]) holder.add(new THREE.Mesh(geometry[part][paint], materials[paint]));
    group.add(holder);
  }
  return group;
}
