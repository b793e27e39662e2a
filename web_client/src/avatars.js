// @ts-check
// Other visitors: a head, two hands and a name tag, moved through an interpolation buffer.
import * as THREE from "three";
import { FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, PART_FLOATS } from "./protocol.js";
import { canvasSprite } from "./sprites.js";

export const INTERPOLATION_DELAY_MS = 100;
const BUFFER_LENGTH = 32;

/** @typedef {import("./types.js").Visitor} Visitor */
/** @typedef {{time: number, flags: number, parts: ArrayLike<number>}} Sample a pose as received, at page time `time` */

/**
 * @param {string} text
 * @returns {THREE.Sprite}
 */
function nameTag(text) {
  const sprite = canvasSprite(
    512,
    96,
    (ctx) => {
      ctx.fillStyle = "rgba(20, 22, 28, 0.72)";
      ctx.beginPath();
      ctx.roundRect(0, 8, 512, 80, 40);
      ctx.fill();
      ctx.fillStyle = "#ffffff";
      ctx.font = "600 44px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(text, 256, 50, 480);
    },
    0.8,
  );
  sprite.position.set(0, 0.32, 0);
  return sprite;
}

// Untracked hands rest beside the body, relative to the head.
const RESTING_HANDS = [new THREE.Vector3(-0.22, -0.55, -0.1), new THREE.Vector3(0.22, -0.55, -0.1)];

class Avatar {
  /** @param {Visitor} visitor */
  constructor(visitor) {
    this.visitor = visitor;
    /** @type {Sample[]} oldest first */
    this.buffer = [];
    const material = new THREE.MeshStandardMaterial({ color: visitor.colour, roughness: 0.6 });
    this.group = new THREE.Group();
    this.group.name = `avatar-${visitor.id}`;
    this.head = new THREE.Mesh(new THREE.SphereGeometry(0.14, 24, 16), material);
    const visor = new THREE.Mesh(
      new THREE.BoxGeometry(0.2, 0.07, 0.06),
      new THREE.MeshStandardMaterial({ color: "#1b1e24", roughness: 0.3 }),
    );
    visor.position.set(0, 0.02, -0.12);
    this.head.add(visor);
    const body = new THREE.Mesh(new THREE.CylinderGeometry(0.12, 0.2, 0.6, 16), material);
    body.position.set(0, -0.55, 0);
    this.body = body;
    this.head.add(nameTag(visitor.name));
    this.hands = [0, 1].map(() => new THREE.Mesh(new THREE.BoxGeometry(0.08, 0.04, 0.12), material));
    this.group.add(this.head, body, ...this.hands);
    this.group.visible = false;
    this.position = new THREE.Vector3();
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
   * Show the pose interpolated at `renderTime` (page time, a little behind now).
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
    const parts = [this.head, ...this.hands];
    for (let p = 0; p < 3; p++) {
      const mesh = parts[p];
      const o = p * PART_FLOATS;
      const bit = p === 1 ? FLAG_LEFT : FLAG_RIGHT;
      if (p > 0 && !(b.flags & bit)) continue;
      const from = p === 0 || a.flags & bit ? a : b; // a hand just picked up starts where it is, not at the origin
      mesh.position.set(
        from.parts[o] + (b.parts[o] - from.parts[o]) * t,
        from.parts[o + 1] + (b.parts[o + 1] - from.parts[o + 1]) * t,
        from.parts[o + 2] + (b.parts[o + 2] - from.parts[o + 2]) * t,
      );
      _qa.fromArray(from.parts, o + 3);
      _qb.fromArray(b.parts, o + 3);
      mesh.quaternion.slerpQuaternions(_qa, _qb, t);
    }
    const yaw = _euler.setFromQuaternion(this.head.quaternion, "YXZ").y;
    _qa.setFromAxisAngle(_up, yaw);
    this.body.position.copy(this.head.position).add(_offset.set(0, -0.55, 0));
    this.body.quaternion.copy(_qa);
    for (let h = 0; h < 2; h++) {
      if (!(b.flags & (h === 0 ? FLAG_LEFT : FLAG_RIGHT))) {
        this.hands[h].position.copy(RESTING_HANDS[h]).applyQuaternion(_qa).add(this.head.position);
        this.hands[h].quaternion.copy(_qa);
      }
    }
    this.position.copy(this.head.position);
  }

  hide() {
    this.buffer.length = 0;
    this.group.visible = false;
  }

  dispose() {
    this.group.traverse((o) => {
      if (!(o instanceof THREE.Mesh || o instanceof THREE.Sprite)) return;
      o.geometry?.dispose();
      const material = /** @type {THREE.Material & {map?: THREE.Texture}} */ (o.material);
      material?.map?.dispose();
      material?.dispose();
    });
  }
}

const _qa = new THREE.Quaternion();
const _qb = new THREE.Quaternion();
const _euler = new THREE.Euler();
const _up = new THREE.Vector3(0, 1, 0);
const _offset = new THREE.Vector3();

export class Avatars {
  /**
   * @param {THREE.Object3D} scene where avatars are added
   * @param {number} selfId this page's visitor, who has no avatar here
   */
  constructor(scene, selfId) {
    this.scene = scene;
    this.selfId = selfId;
    /** @type {Map<number, Avatar>} */
    this.byId = new Map();
  }

  /** @param {Visitor} visitor */
  add(visitor) {
    if (visitor.id === this.selfId || this.byId.has(visitor.id)) return;
    const avatar = new Avatar(visitor);
    this.byId.set(visitor.id, avatar);
    this.scene.add(avatar.group);
  }

  /** @param {number} id */
  remove(id) {
    const avatar = this.byId.get(id);
    if (!avatar) return;
    this.scene.remove(avatar.group);
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

  /** @returns {{id: number, name: string, visible: boolean, position: number[]}[]} */
  list() {
    return [...this.byId.values()].map((a) => ({
      id: a.visitor.id,
      name: a.visitor.name,
      visible: a.group.visible,
      position: a.position.toArray(),
    }));
  }

  /** @param {number} now page time */
  update(now) {
    const renderTime = now - INTERPOLATION_DELAY_MS;
    for (const avatar of this.byId.values()) avatar.update(renderTime);
  }
}
