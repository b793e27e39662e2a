// @ts-check
// The WebSocket connection: JSON control messages and binary frames.
// A dropped connection comes back by itself: it reconnects with backoff and resumes the visitor's place
// (see docs/protocol.md), following redirects to the node that holds the room and a closing node's "move".
import { FLAG_TELEPORT, PROTOCOL_VERSION, SnapshotDecoder, encodePose } from "./protocol.js";

// Without an ack for this long, snapshots stop being deltas (see docs/protocol.md).
const ACK_REFRESH_MS = 250;
const MAX_REDIRECTS = 5;
const FINAL_CLOSE_CODES = new Set([1000, 1001, 1008, 4003, 4004, 4008]); // left, kicked, closed, refused, flooded: do not come back
const JOIN_TIMEOUT_MS = 10000;
const RETRY_TIMEOUT_MS = 3000; // one reconnect attempt: a node that does not answer is skipped
const GIVE_UP_MS = 60000;

/** @typedef {import("./types.js").Welcome} Welcome */
/** @typedef {import("./types.js").Hello} Hello */
/** @typedef {Hello & {type: "hello", protocol: number}} HelloMessage */
/** @typedef {import("./types.js").CloseDetail} CloseDetail */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Events: "snapshot", one per control message type ("chat", "join", "move", ...), "reconnecting" (the connection
// dropped), "resumed" / "rejoined" (back, with the new welcome: the same place, or a new one after the resume
// window), and "close" (gone for good: a final close code, or no way back within GIVE_UP_MS).
export class Connection extends EventTarget {
  /** @param {string} url the server's /ws */
  constructor(url) {
    super();
    this.url = url;
    /** @type {number | null} newest snapshot decoded; rides on every pose */
    this.ack = null;
    /** @type {{parts: number[][], flags: number} | null} re-sent with a fresh ack when the page stops sending (a background tab) */
    this.lastPose = null;
    this.lastPoseAt = 0;
    /** @type {SnapshotDecoder | null} */
    this.decoder = null;
    /** @type {WebSocket | null} the live socket */
    this.ws = null;
    /** @type {HelloMessage | null} */
    this.hello = null;
    /** @type {Welcome | null} the latest: its room, resume token and nodes are what a reconnect uses */
    this.welcome = null;
    /** @type {{url: string, room: string} | null} from a node shutting down */
    this.movedTo = null;
  }

  /**
   * The first welcome; after it, the connection keeps itself up.
   * @param {Hello} hello
   * @returns {Promise<Welcome>}
   */
  async join(hello) {
    this.hello = { type: "hello", protocol: PROTOCOL_VERSION, ...hello };
    this.welcome = await this.handshake(this.url, this.hello, JOIN_TIMEOUT_MS);
    return this.welcome;
  }

  /**
   * Connect and say hello, following redirects; resolves with the welcome once this connection is the live one.
   * @param {string} url
   * @param {HelloMessage} hello
   * @param {number} timeoutMs
   * @returns {Promise<Welcome>}
   */
  async handshake(url, hello, timeoutMs) {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const welcome = await this.dial(url, hello, timeoutMs);
      if (!welcome.redirect) return welcome;
      [url, hello] = [welcome.redirect, { ...hello, room: welcome.room }]; // that node closes this socket (1000)
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects`);
  }

  /**
   * One socket, one hello: the welcome (perhaps a redirect), or an error.
   * @param {string} url
   * @param {HelloMessage} hello
   * @param {number} timeoutMs
   * @returns {Promise<Welcome>}
   */
  dial(url, hello, timeoutMs) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      let answered = false;
      const timer = setTimeout(() => answered || ws.close(), timeoutMs);
      ws.addEventListener("open", () => ws.send(JSON.stringify(hello)));
      ws.addEventListener("message", (event) => {
        if (answered) {
          if (ws === this.ws) this.receive(event.data);
          return;
        }
        answered = true;
        clearTimeout(timer);
        const message = typeof event.data === "string" ? JSON.parse(event.data) : {};
        if (message.type !== "welcome") {
          reject(new Error(message.message || "could not join"));
          ws.close();
          return;
        }
        if (!message.redirect) {
          // Live from here: the messages that follow the welcome (a tour_state) go through receive().
          this.ws = ws;
          this.decoder = new SnapshotDecoder(message.bounds);
          this.ack = null; // the new connection starts from a full snapshot
        }
        resolve(message);
      });
      ws.addEventListener("close", (event) => {
        clearTimeout(timer);
        if (!answered) reject(new Error(`connection closed (${event.code})`));
        else if (ws === this.ws) this.dropped(event);
      });
    });
  }

  /** @param {string | ArrayBuffer} data a frame on the live socket */
  receive(data) {
    if (typeof data !== "string") {
      const decoded = this.decoder.decode(data);
      if (!decoded) return; // its baseline is gone: the server sends a full one once our acks catch up
      this.ack = decoded.seq;
      if (this.lastPose && performance.now() - this.lastPoseAt > ACK_REFRESH_MS) {
        this.sendPose(this.lastPose.parts, this.lastPose.flags & ~FLAG_TELEPORT);
      }
      /** @type {import("./types.js").SnapshotAvatar[]} */
      const avatars = [];
      for (const [id, held] of decoded.shown) {
        const flags = decoded.teleported.has(id) ? held.flags | FLAG_TELEPORT : held.flags;
        const updated = decoded.updated.has(id);
        avatars.push({ id, flags, updated, parts: updated ? this.decoder.pose(held) : null });
      }
      this.emit("snapshot", { seq: decoded.seq, avatars });
      return;
    }
    const message = JSON.parse(data);
    if (message.type === "move") this.movedTo = { url: message.url, room: message.room }; // a 4005 close follows
    this.emit(message.type, message);
  }

  /** @param {CloseEvent} event */
  dropped(event) {
    const detail = { code: event.code, reason: event.reason };
    if (FINAL_CLOSE_CODES.has(event.code)) this.emit("close", detail);
    else this.reconnect(detail);
  }

  /**
   * Back to the same place while the server keeps it: try the node a move named, this page's server, the other nodes.
   * @param {CloseDetail} detail why the socket closed
   */
  async reconnect(detail) {
    this.emit("reconnecting", detail);
    const hello = { ...this.hello, room: this.welcome.room, resume: this.welcome.resume };
    const urls = [this.url, ...(this.welcome.nodes || []).filter((url) => url !== this.url)];
    if (this.movedTo) {
      urls.unshift(this.movedTo.url);
      hello.room = this.movedTo.room;
      this.movedTo = null;
    }
    const started = performance.now();
    let delay = 100;
    for (let attempt = 0; performance.now() - started < GIVE_UP_MS; attempt++) {
      await sleep(delay * (0.5 + Math.random()));
      // Quick retries while a failed node's heartbeat runs out, then back off further.
      delay = Math.min(delay * 2, performance.now() - started < 10000 ? 500 : 5000);
      try {
        this.welcome = await this.handshake(urls[attempt % urls.length], hello, RETRY_TIMEOUT_MS);
      } catch {
        continue;
      }
      this.emit(this.welcome.resumed ? "resumed" : "rejoined", this.welcome);
      return;
    }
    this.emit("close", detail);
  }

  /**
   * Into another room of the scene (to join a tour led there): leave this one, join that one.
   * @param {string} room
   * @returns {Promise<Welcome>}
   */
  async switchRoom(room) {
    const old = this.ws;
    this.ws = null; // its close is a leave, not a drop to recover from
    old?.close(1000, "changing rooms");
    this.welcome = await this.handshake(this.url, { ...this.hello, room }, JOIN_TIMEOUT_MS);
    return this.welcome;
  }

  /**
   * @param {string} type
   * @param {unknown} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Send a pose with the newest ack.
   * @param {number[][]} parts head, left, right: px py pz qx qy qz qw
   * @param {number} flags
   * @returns {boolean} whether the pose went out (a congested socket skips it rather than queue stale poses)
   */
  sendPose(parts, flags) {
    if (!this.open || this.ws.bufferedAmount > 64 * 1024) return false;
    this.ws.send(encodePose(parts, flags, this.ack));
    this.lastPose = { parts: parts.map((part) => part.slice()), flags };
    this.lastPoseAt = performance.now();
    return true;
  }

  /** @param {{type: string} & Record<string, unknown>} message a control message */
  send(message) {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  /** @param {string} text */
  sendChat(text) {
    if (this.open) this.ws.send(JSON.stringify({ type: "chat", text }));
  }
}
