// @ts-check
// Protocol v2 on the wire. Mirrors server/thirdspace/protocol/constants.py and
// server/thirdspace/sync/layout.py; tests/protocol/test_constants.py keeps them equal.
// See docs/protocol.md.
export const PROTOCOL_VERSION = 2;
export const FRAME_POSE = 0x01;
export const FRAME_SNAPSHOT_V2 = 0x03;
export const PART_FLOATS = 7;
export const PARTS = 3; // head, left, right
export const FLAG_LEFT = 0x01;
export const FLAG_RIGHT = 0x02;
export const FLAG_TELEPORT = 0x04;
export const FLAG_ACK = 0x08;
export const POSE_FRAME_SIZE = 88;
export const MAX_CHAT_CHARS = 500;
export const MAX_NAME_CHARS = 64;
export const MAX_SDP_CHARS = 10000; // a voice offer or answer
export const MAX_CANDIDATE_CHARS = 1000; // one ICE candidate line

export const POS_STEPS_PER_M = 512;
export const QUAT_BITS = 11;
export const QUAT_MAX = 2047;
export const QUAT_PACKED_BITS = 35;
export const QUAT_INDEX_SHIFT = 33;
export const WIDTH_BITS = 4;
export const WIDTH_ABSOLUTE = 15;
export const NEW_COUNT_BITS = 8;
export const ID_BITS = 16;
export const FLAG_BITS = 3;
export const SNAPSHOT_V2_HEADER_SIZE = 6;
export const SNAPSHOT_FULL = 0x01;
const QUAT_RANGE = Math.SQRT1_2;
const KEEP_VIEWS = 64;

/**
 * A pose frame.
 * @param {Iterable<number>[]} parts three arrays [px, py, pz, qx, qy, qz, qw] (head, left, right)
 * @param {number} flags
 * @param {number | null} ack the newest snapshot sequence decoded, or null
 * @returns {ArrayBuffer}
 */
export function encodePose(parts, flags, ack) {
  const buffer = new ArrayBuffer(POSE_FRAME_SIZE);
  const view = new DataView(buffer);
  view.setUint8(0, FRAME_POSE);
  view.setUint8(1, ack === null ? flags : flags | FLAG_ACK);
  view.setUint16(2, ack === null ? 0 : ack, true);
  let offset = 4;
  for (const part of parts) {
    for (const value of part) {
      view.setFloat32(offset, value, true);
      offset += 4;
    }
  }
  return buffer;
}

/**
 * The bits a quantised position takes on an axis `spanM` metres long.
 * @param {number} spanM
 * @returns {number}
 */
export function axisBits(spanM) {
  const steps = Math.round(spanM * POS_STEPS_PER_M);
  return Math.max(1, steps === 0 ? 0 : Math.floor(Math.log2(steps)) + 1);
}

class BitReader {
  /**
   * @param {Uint8Array} bytes
   * @param {number} startBit
   */
  constructor(bytes, startBit) {
    this.bytes = bytes;
    this.pos = startBit;
  }

  /**
   * The next `nbits` bits, least significant first (up to 53 bits).
   * @param {number} nbits
   * @returns {number}
   */
  get(nbits) {
    if (this.pos + nbits > this.bytes.length * 8) throw new Error("snapshot ends early");
    let value = 0;
    let shift = 0;
    while (nbits > 0) {
      const off = this.pos & 7;
      const take = Math.min(8 - off, nbits);
      value += ((this.bytes[this.pos >> 3] >> off) & ((1 << take) - 1)) * 2 ** shift;
      shift += take;
      nbits -= take;
      this.pos += take;
    }
    return value;
  }
}

/** @param {number} v */
const unzigzag = (v) => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);
const QUAT_SHIFTS = [2 * QUAT_BITS, QUAT_BITS, 0];
// Packed rotations are 35 bits: plain arithmetic, since JavaScript's bitwise operators stop at 32.
/**
 * @param {number} packed
 * @param {number} shift
 */
const component = (packed, shift) => Math.floor(packed / 2 ** shift) % (QUAT_MAX + 1);

/**
 * @param {number} packed 35 bits: the dropped component's index, then three 11-bit components
 * @returns {number[]} x, y, z, w
 */
function unpackQuaternion(packed) {
  const largest = Math.floor(packed / 2 ** QUAT_INDEX_SHIFT);
  const small = QUAT_SHIFTS.map((shift) => (component(packed, shift) / QUAT_MAX) * 2 * QUAT_RANGE - QUAT_RANGE);
  const w = Math.sqrt(Math.max(0, 1 - small[0] ** 2 - small[1] ** 2 - small[2] ** 2));
  small.splice(largest, 0, w);
  return small;
}

/** @typedef {number[]} QuantisedPart x, y, z steps from bounds.min, and the packed rotation */
/** @typedef {{flags: number, parts: QuantisedPart[]}} HeldAvatar an avatar's state in a decoded view */
/** @typedef {Map<number, HeldAvatar>} View avatar id -> its state */
/**
 * @typedef {object} Decoded
 * @property {number} seq
 * @property {View} view the snapshot's view: the baseline for later snapshots
 * @property {View} shown every avatar of the view at the newest state decoded for it: what to draw
 * @property {Set<number>} teleported
 * @property {Set<number>} updated avatars this snapshot sent (moved or added)
 */

// Applies version 2 snapshots to the views it decoded before (kept by sequence number). What to draw is
// separate: an avatar kept in a view comes from an older baseline when acks lag, so each avatar is shown at
// the newest state any snapshot sent for it (snapshots arrive in order), never at an older one.
export class SnapshotDecoder {
  /** @param {import("./types.js").Bounds} bounds */
  constructor(bounds) {
    this.min = bounds.min;
    this.axisBits = [0, 1, 2].map((a) => axisBits(bounds.max[a] - bounds.min[a]));
    /** @type {Map<number, View>} seq -> the view it decoded to */
    this.views = new Map();
    /** @type {Map<number, {seq: number, held: HeldAvatar}>} id -> the last view holding it, and its newest state */
    this.newest = new Map();
  }

  /**
   * @param {ArrayBuffer} buffer a snapshot frame
   * @returns {Decoded | null} null when the snapshot's baseline is no longer known
   */
  decode(buffer) {
    const bytes = new Uint8Array(buffer);
    if (bytes.length < SNAPSHOT_V2_HEADER_SIZE || bytes[0] !== FRAME_SNAPSHOT_V2) return null;
    const seq = bytes[2] | (bytes[3] << 8);
    const baseline = bytes[4] | (bytes[5] << 8);
    /** @type {View} */
    let base;
    if (bytes[1] & SNAPSHOT_FULL) base = new Map();
    else if (this.views.has(baseline)) base = this.views.get(baseline);
    else return null;
    const r = new BitReader(bytes, SNAPSHOT_V2_HEADER_SIZE * 8);
    /** @type {View} */
    const view = new Map();
    const teleported = new Set(); // the teleport flag belongs to this snapshot, not to the held state
    const updated = new Set(); // avatars this snapshot moved or added
    /**
     * @param {number} id
     * @param {HeldAvatar} avatar
     */
    const hold = (id, avatar) => {
      updated.add(id);
      if (avatar.flags & FLAG_TELEPORT) teleported.add(id);
      view.set(id, { flags: avatar.flags & ~FLAG_TELEPORT, parts: avatar.parts });
    };
    // Each avatar of the baseline: a bit "changed", then for a changed one a bit "removed" (else an update follows).
    for (const id of [...base.keys()].sort((a, b) => a - b)) {
      const changed = r.get(1) === 1;
      if (!changed) view.set(id, base.get(id));
      else if (r.get(1) === 0) hold(id, this.update(r, base.get(id)));
    }
    if (r.get(1)) {
      const count = r.get(NEW_COUNT_BITS) + 1;
      for (let i = 0; i < count; i++) {
        const id = r.get(ID_BITS);
        hold(id, this.full(r));
      }
    }
    this.views.set(seq, view);
    for (const old of this.views.keys()) if (((seq - old) & 0xffff) >= KEEP_VIEWS) this.views.delete(old);
    return { seq, view, shown: this.show(seq, view, updated), teleported, updated };
  }

  /**
   * @param {number} seq
   * @param {View} view
   * @param {Set<number>} updated
   * @returns {View}
   */
  show(seq, view, updated) {
    for (const [id, held] of view) {
      const newest = this.newest.get(id);
      this.newest.set(id, { seq, held: updated.has(id) || !newest ? held : newest.held });
    }
    // out of every view kept: such an avatar can only come back as new
    for (const [id, { seq: last }] of this.newest) if (((seq - last) & 0xffff) >= KEEP_VIEWS) this.newest.delete(id);
    /** @type {View} */
    const shown = new Map();
    for (const id of view.keys()) shown.set(id, this.newest.get(id).held);
    return shown;
  }

  /**
   * @param {BitReader} r
   * @returns {QuantisedPart}
   */
  partFull(r) {
    return [r.get(this.axisBits[0]), r.get(this.axisBits[1]), r.get(this.axisBits[2]), r.get(QUAT_PACKED_BITS)];
  }

  /**
   * @param {BitReader} r
   * @returns {HeldAvatar}
   */
  full(r) {
    const flags = r.get(FLAG_BITS);
    const none = [0, 0, 0, 0];
    const parts = [this.partFull(r), flags & FLAG_LEFT ? this.partFull(r) : none, flags & FLAG_RIGHT ? this.partFull(r) : none];
    return { flags, parts };
  }

  /**
   * @param {BitReader} r
   * @param {QuantisedPart} held
   * @returns {QuantisedPart}
   */
  partDelta(r, held) {
    if (r.get(1) === 0) return held;
    const out = held.slice();
    const width = r.get(WIDTH_BITS);
    for (let a = 0; a < 3; a++) out[a] = width === WIDTH_ABSOLUTE ? r.get(this.axisBits[a]) : held[a] + unzigzag(r.get(width));
    if (r.get(1)) {
      if (r.get(1)) {
        const w = r.get(WIDTH_BITS);
        let value = Math.floor(held[3] / 2 ** QUAT_INDEX_SHIFT) * 2 ** QUAT_INDEX_SHIFT;
        for (const shift of QUAT_SHIFTS) {
          const next = component(held[3], shift) + unzigzag(r.get(w));
          value += (((next % (QUAT_MAX + 1)) + QUAT_MAX + 1) % (QUAT_MAX + 1)) * 2 ** shift;
        }
        out[3] = value;
      } else {
        out[3] = r.get(QUAT_PACKED_BITS);
      }
    }
    return out;
  }

  /**
   * @param {BitReader} r
   * @param {HeldAvatar} held
   * @returns {HeldAvatar}
   */
  update(r, held) {
    const flags = r.get(FLAG_BITS);
    const parts = [this.partDelta(r, held.parts[0]), [0, 0, 0, 0], [0, 0, 0, 0]];
    for (const [p, bit] of [[1, FLAG_LEFT], [2, FLAG_RIGHT]]) {
      if (flags & bit) parts[p] = held.flags & bit ? this.partDelta(r, held.parts[p]) : this.partFull(r);
    }
    return { flags, parts };
  }

  /**
   * @param {HeldAvatar} held
   * @returns {Float32Array} 21 floats: head, left, right as px py pz qx qy qz qw
   */
  pose(held) {
    const out = new Float32Array(PARTS * PART_FLOATS);
    for (let p = 0; p < 3; p++) {
      const o = p * PART_FLOATS;
      out[o + 6] = 1;
      if (p > 0 && !(held.flags & (p === 1 ? FLAG_LEFT : FLAG_RIGHT))) continue;
      const part = held.parts[p];
      for (let a = 0; a < 3; a++) out[o + a] = part[a] / POS_STEPS_PER_M + this.min[a];
      out.set(unpackQuaternion(part[3]), o + 3);
    }
    return out;
  }
}
