// Protocol v1 on the wire. Mirrors server/thirdspace/protocol/constants.py;
// tests/protocol/test_constants.py keeps the two equal. See docs/protocol.md.
export const PROTOCOL_VERSION = 1;
export const FRAME_POSE = 0x01;
export const FRAME_SNAPSHOT = 0x02;
export const PART_FLOATS = 7;
export const PARTS = 3; // head, left, right
export const FLAG_LEFT = 0x01;
export const FLAG_RIGHT = 0x02;
export const FLAG_TELEPORT = 0x04;
export const POSE_FRAME_SIZE = 88;
export const SNAPSHOT_HEADER_SIZE = 8;
export const SNAPSHOT_ENTRY_SIZE = 88;
export const MAX_CHAT_CHARS = 500;
export const MAX_NAME_CHARS = 32;

// parts: array of 3 arrays [px, py, pz, qx, qy, qz, qw] (head, left, right).
export function encodePose(parts, flags, seq) {
  const buffer = new ArrayBuffer(POSE_FRAME_SIZE);
  const view = new DataView(buffer);
  view.setUint8(0, FRAME_POSE);
  view.setUint8(1, flags);
  view.setUint16(2, seq & 0xffff, true);
  let offset = 4;
  for (const part of parts) {
    for (const value of part) {
      view.setFloat32(offset, value, true);
      offset += 4;
    }
  }
  return buffer;
}

// Returns {tick, avatars: [{id, flags, parts: Float32Array(21)}]} or null if not a snapshot.
export function decodeSnapshot(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < SNAPSHOT_HEADER_SIZE || view.getUint8(0) !== FRAME_SNAPSHOT) return null;
  const count = view.getUint16(2, true);
  if (buffer.byteLength !== SNAPSHOT_HEADER_SIZE + count * SNAPSHOT_ENTRY_SIZE) return null;
  const tick = view.getUint32(4, true);
  const avatars = [];
  for (let i = 0; i < count; i++) {
    const base = SNAPSHOT_HEADER_SIZE + i * SNAPSHOT_ENTRY_SIZE;
    const parts = new Float32Array(PARTS * PART_FLOATS);
    for (let j = 0; j < parts.length; j++) parts[j] = view.getFloat32(base + 4 + j * 4, true);
    avatars.push({ id: view.getUint16(base, true), flags: view.getUint8(base + 2), parts });
  }
  return { tick, avatars };
}
