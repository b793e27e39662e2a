// The WebSocket connection: JSON control messages and binary frames.
import { FLAG_TELEPORT, PROTOCOL_VERSION, SnapshotDecoder, encodePose } from "./protocol.js";

// Without an ack for this long, snapshots stop being deltas (see docs/protocol.md).
const ACK_REFRESH_MS = 250;

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.ack = null; // newest snapshot decoded; rides on every pose
    this.lastPose = null; // re-sent with a fresh ack when the page stops sending (a background tab)
    this.lastPoseAt = 0;
    this.decoder = null;
    this.ws = null;
  }

  join(hello) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      ws.binaryType = "arraybuffer";
      this.ws = ws;
      let welcomed = false;
      ws.addEventListener("open", () => {
        ws.send(JSON.stringify({ type: "hello", protocol: PROTOCOL_VERSION, ...hello }));
      });
      ws.addEventListener("message", (event) => {
        if (typeof event.data !== "string") {
          const decoded = this.decoder?.decode(event.data);
          if (!decoded) return; // its baseline is gone: the server sends a full one once our acks catch up
          this.ack = decoded.seq;
          if (this.lastPose && performance.now() - this.lastPoseAt > ACK_REFRESH_MS) {
            this.sendPose(this.lastPose.parts, this.lastPose.flags & ~FLAG_TELEPORT);
          }
          const avatars = [];
          for (const [id, held] of decoded.view) {
            const flags = decoded.teleported.has(id) ? held.flags | FLAG_TELEPORT : held.flags;
            const updated = decoded.updated.has(id);
            avatars.push({ id, flags, updated, parts: updated ? this.decoder.pose(held) : null });
          }
          this.emit("snapshot", { seq: decoded.seq, avatars });
          return;
        }
        const message = JSON.parse(event.data);
        if (!welcomed) {
          if (message.type === "welcome") {
            welcomed = true;
            this.decoder = new SnapshotDecoder(message.bounds);
            resolve(message);
          } else {
            reject(new Error(message.message || "could not join"));
            ws.close();
          }
          return;
        }
        this.emit(message.type, message);
      });
      ws.addEventListener("close", (event) => {
        if (!welcomed) reject(new Error(`connection closed (${event.code})`));
        this.emit("close", { code: event.code, reason: event.reason });
      });
    });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // Returns whether the pose went out (a congested socket skips it rather than queue stale poses).
  sendPose(parts, flags) {
    if (!this.open || this.ws.bufferedAmount > 64 * 1024) return false;
    this.ws.send(encodePose(parts, flags, this.ack));
    this.lastPose = { parts: parts.map((part) => part.slice()), flags };
    this.lastPoseAt = performance.now();
    return true;
  }

  send(message) {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  sendChat(text) {
    if (this.open) this.ws.send(JSON.stringify({ type: "chat", text }));
  }
}
