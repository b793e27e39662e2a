// Decode snapshot frames with the browser client's decoder; print what it holds and shows after each.
// Usage: node decode_snapshots.mjs FILE.json  ({"bounds": ..., "frames": [hex, ...]})
import { readFile } from "node:fs/promises";
import { SnapshotDecoder } from "../../web_client/src/protocol.js";

const input = JSON.parse(await readFile(process.argv[2], "utf8"));
const decoder = new SnapshotDecoder(input.bounds);
const out = [];
for (const hex of input.frames) {
  const bytes = Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16)));
  const decoded = decoder.decode(bytes.buffer);
  if (!decoded) {
    out.push(null);
    continue;
  }
  const avatars = {};
  for (const [id, held] of decoded.view) avatars[id] = { flags: held.flags, pose: Array.from(decoder.pose(held)), teleported: decoded.teleported.has(id) };
  const shown = {};
  for (const [id, held] of decoded.shown) shown[id] = { flags: held.flags, pose: Array.from(decoder.pose(held)) };
  out.push({ seq: decoded.seq, avatars, shown });
}
process.stdout.write(JSON.stringify(out));
