// The WebSocket connection: JSON control messages and binary frames.
import { PROTOCOL_VERSION, decodeSnapshot, encodePose } from "./protocol.js";

export class Connection extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.seq = 0;
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
          const snapshot = decodeSnapshot(event.data);
          if (snapshot) this.emit("snapshot", snapshot);
          return;
        }
        const message = JSON.parse(event.data);
        if (!welcomed) {
          if (message.type === "welcome") {
            welcomed = true;
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

  sendPose(parts, flags) {
    if (!this.open || this.ws.bufferedAmount > 64 * 1024) return; // never queue stale poses
    this.seq = (this.seq + 1) & 0xffff;
    this.ws.send(encodePose(parts, flags, this.seq));
  }

  sendChat(text) {
    if (this.open) this.ws.send(JSON.stringify({ type: "chat", text }));
  }
}
