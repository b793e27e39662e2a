// A recorded crowd encoded by Colyseus' state sync (@colyseus/schema), tick by tick.
//
//   node benchmarks/peers/colyseus_encode.mjs TRACE [--max-ticks N] [--verify]
//
// TRACE is the file benchmarks/sync_scaling.py writes: one line of JSON, then the poses.
//   {"format": "thirdspace-crowd-trace", "version": 1, "ticks": T, "entities": N, "parts": 3, "fields": 7, "tick_hz": 20}\n
//   then T * N * 3 * 7 little-endian float32: for each tick, for each visitor, head, left hand and
//   right hand, each x y z qx qy qz qw (metres, unit quaternion).
//
// The state is what a Colyseus room would hold: a MapSchema of avatars keyed by session id, each
// avatar with head, left and right child schemas of seven float32 fields.  Tick 0 adds everyone
// (the first, full state, reported on its own); every later tick assigns each visitor's poses
// (the schema records the fields whose value changed), encodes the patch with Encoder.encode() and
// discards the changes, as a Colyseus room does once per patch; every client of the room gets
// that same patch.  The first tenth of the ticks is left out of the totals, as in
// `thirdspace bench sync`.
//
// Prints JSON: the patch bytes of every tick after the first, and the totals.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { performance } from "node:perf_hooks";

import { Decoder, Encoder, MapSchema, schema, t } from "@colyseus/schema";

const PARTS = 3;
const FIELDS = 7;
const NAMES = ["x", "y", "z", "qx", "qy", "qz", "qw"];

export const Pose = schema(
  { x: t.float32(), y: t.float32(), z: t.float32(), qx: t.float32(), qy: t.float32(), qz: t.float32(), qw: t.float32() },
  "Pose",
);
export const Avatar = schema({ head: Pose, left: Pose, right: Pose }, "Avatar");
export const RoomState = schema({ avatars: t.map(Avatar) }, "RoomState");

function usage(message) {
  process.stderr.write(`colyseus_encode.mjs: ${message}\nusage: node colyseus_encode.mjs TRACE [--max-ticks N] [--verify]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { trace: undefined, maxTicks: Infinity, verify: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--max-ticks") options.maxTicks = Number.parseInt(argv[++i], 10);
    else if (argv[i] === "--verify") options.verify = true;
    else if (options.trace === undefined) options.trace = argv[i];
    else usage(`unexpected argument ${argv[i]}`);
  }
  if (options.trace === undefined) usage("no trace file given");
  if (!(options.maxTicks >= 2)) usage("--max-ticks needs a number of at least 2");
  return options;
}

/** The trace's header, and a reader of one tick at a time (a Float32Array of entities * 21). */
function openTrace(path) {
  const fd = openSync(path, "r");
  const head = Buffer.alloc(4096);
  const got = readSync(fd, head, 0, head.length, 0);
  const end = head.subarray(0, got).indexOf(0x0a);
  if (end < 0) throw new Error(`${path}: no header line`);
  const header = JSON.parse(head.subarray(0, end).toString("utf8"));
  if (header.format !== "thirdspace-crowd-trace" || header.version !== 1 || header.parts !== PARTS || header.fields !== FIELDS) {
    throw new Error(`${path}: not a version 1 crowd trace of 3 parts of 7 fields`);
  }
  const stride = header.entities * PARTS * FIELDS;
  const start = end + 1;
  const read = (tick, into) => {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, stride * 4);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, start + tick * stride * 4 + done);
      if (n === 0) throw new Error(`${path}: ends inside tick ${tick}`);
      done += n;
    }
    return into;
  };
  return { header, stride, read, close: () => closeSync(fd) };
}

/** A session id as Colyseus makes them (nine characters), deterministic for the benchmark. */
function sessionId(index) {
  return `s${index.toString(36).padStart(8, "0")}`;
}

function assign(pose, values, offset) {
  pose.x = values[offset];
  pose.y = values[offset + 1];
  pose.z = values[offset + 2];
  pose.qx = values[offset + 3];
  pose.qy = values[offset + 4];
  pose.qz = values[offset + 5];
  pose.qw = values[offset + 6];
}

function median(values) {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(value, digits) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Compare a client's decoded state with the poses of the last tick (float32 exact). */
function verify(decoded, keys, poses) {
  let mismatches = 0;
  for (let i = 0; i < keys.length; i++) {
    const avatar = decoded.avatars.get(keys[i]);
    if (avatar === undefined) {
      mismatches++;
      continue;
    }
    [avatar.head, avatar.left, avatar.right].forEach((pose, part) => {
      NAMES.forEach((name, field) => {
        if (Math.fround(pose[name]) !== poses[(i * PARTS + part) * FIELDS + field]) mismatches++;
      });
    });
  }
  return mismatches;
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const trace = openTrace(options.trace);
  const { header, stride } = trace;
  const n = header.entities;
  const hz = header.tick_hz;
  const ticks = Math.min(header.ticks, options.maxTicks);
  // One encode of the whole room must fit without the encoder warning on each growth.
  Encoder.BUFFER_SIZE = Math.max(Encoder.BUFFER_SIZE, Math.ceil((n * PARTS * (FIELDS * 5 + 8) + 1024) / 1024) * 1024);

  let previous = new Float32Array(stride);
  let current = new Float32Array(stride);
  trace.read(0, previous);

  const state = new RoomState();
  const encoder = new Encoder(state);
  const client = options.verify ? new Decoder(new RoomState()) : undefined;
  const keys = [];
  const avatars = [];
  let begin = performance.now();
  for (let i = 0; i < n; i++) {
    const avatar = new Avatar({ head: new Pose(), left: new Pose(), right: new Pose() });
    assign(avatar.head, previous, (i * PARTS + 0) * FIELDS);
    assign(avatar.left, previous, (i * PARTS + 1) * FIELDS);
    assign(avatar.right, previous, (i * PARTS + 2) * FIELDS);
    keys.push(sessionId(i));
    avatars.push(avatar);
    state.avatars.set(keys[i], avatar);
  }
  const firstPatch = encoder.encode();
  const firstPatchBytes = firstPatch.byteLength;
  client?.decode(firstPatch);
  encoder.discardChanges();
  const firstMs = performance.now() - begin;
  const fullStateBytes = encoder.encodeAll().byteLength; // what a client joining later receives

  const skip = Math.max(1, Math.floor(ticks / 10));
  const patchBytes = [];
  const applyMs = [];
  const encodeMs = [];
  let measuredBytes = 0;
  let measuredParts = 0;
  let measuredFields = 0;
  let measuredTicks = 0;
  for (let tick = 1; tick < ticks; tick++) {
    trace.read(tick, current);
    let partsChanged = 0;
    let fieldsChanged = 0;
    for (let p = 0; p < n * PARTS; p++) {
      let changed = 0;
      for (let f = p * FIELDS; f < (p + 1) * FIELDS; f++) if (current[f] !== previous[f]) changed++;
      fieldsChanged += changed;
      if (changed) partsChanged++;
    }
    begin = performance.now();
    for (let i = 0; i < n; i++) {
      const avatar = avatars[i];
      assign(avatar.head, current, (i * PARTS + 0) * FIELDS);
      assign(avatar.left, current, (i * PARTS + 1) * FIELDS);
      assign(avatar.right, current, (i * PARTS + 2) * FIELDS);
    }
    const applied = performance.now();
    const patch = encoder.encode();
    const bytes = patch.byteLength;
    client?.decode(patch); // before discardChanges(): the patch is a view of the encoder's buffer
    encoder.discardChanges();
    const encoded = performance.now();
    patchBytes.push(bytes);
    if (tick >= skip) {
      applyMs.push(applied - begin);
      encodeMs.push(encoded - applied);
      measuredBytes += bytes;
      measuredParts += partsChanged;
      measuredFields += fieldsChanged;
      measuredTicks++;
    }
    [previous, current] = [current, previous];
  }
  trace.close();

  const report = {
    encoder: "@colyseus/schema",
    version: readVersion(),
    entities: n,
    tick_hz: hz,
    ticks,
    ticks_in_trace: header.ticks,
    capped: ticks < header.ticks,
    measured_ticks: measuredTicks,
    first_patch_bytes: firstPatchBytes,
    first_patch_ms: round(firstMs, 3),
    full_state_bytes: fullStateBytes,
    patch_bytes: patchBytes,
    patch_bytes_mean: round(measuredBytes / Math.max(measuredTicks, 1), 1),
    bytes_per_client_per_s: round((measuredBytes / Math.max(measuredTicks, 1)) * hz, 1),
    bytes_per_part_update: round(measuredBytes / Math.max(measuredParts, 1), 2),
    bytes_per_field_update: round(measuredBytes / Math.max(measuredFields, 1), 2),
    parts_changed_per_tick: round(measuredParts / Math.max(measuredTicks, 1), 1),
    apply_ms_p50: round(median(applyMs), 3),
    encode_ms_p50: round(median(encodeMs), 3),
    encode_ms_max: round(encodeMs.length ? Math.max(...encodeMs) : 0, 3),
  };
  if (client) report.verify_mismatches = verify(client.state, keys, previous);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function readVersion() {
  const url = new URL("./node_modules/@colyseus/schema/package.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).version;
}

main();
