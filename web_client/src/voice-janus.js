// @ts-check
// Voice through a Janus server (an SFU, its VideoRoom plugin, audio only): the page sends its microphone once, to
// Janus, and receives each voice the server chose for it (voice_peers) from Janus, one subscription per voice.
// The page talks to Janus's HTTP API directly (voice_state.janus gives the URL, the room, this visitor's token and
// the feed number to publish as): a session, events by long polling, keepalives; the token goes with every request,
// so only visitors the server admitted get in. A small client of its own rather than Janus's janus.js: that one is a
// global script with webrtc-adapter, its own PeerConnection handling and every plugin; this transport needs a dozen
// requests, and keeps its connections the same way voice-p2p.js does.

/** @typedef {import("./voice-p2p.js").TransportOptions} TransportOptions */
/**
 * @typedef {object} JanusInfo voice_state.janus
 * @property {string} url the Janus HTTP API, e.g. http://127.0.0.1:8088/janus
 * @property {number} room
 * @property {string} token
 * @property {number} feed this visitor's publisher id
 */
/**
 * @typedef {object} JanusEvent what Janus sends (a POST's answer or a long poll's event)
 * @property {string} janus
 * @property {string} [transaction]
 * @property {number} [sender] the handle it concerns
 * @property {{data?: Record<string, any>}} [plugindata]
 * @property {RTCSessionDescriptionInit} [jsep]
 * @property {{code: number, reason: string}} [error]
 * @property {{id: number}} [data]
 */

const VIDEOROOM = "janus.plugin.videoroom";
const KEEPALIVE_MS = 25000; // Janus drops a session after 60 s without requests
const POLL_EVENTS = 10; // events per long poll
const RETRY_MS = [250, 500, 1000, 2000]; // subscribing to a voice that is not published yet, or a lost session
const MAX_RETRY_MS = 15000;
const NO_SUCH_FEED = 428; // VideoRoom: that publisher is not (yet) in the room
const SESSION_GONE = [403, 458]; // a revoked token, or a session Janus no longer has

export class JanusError extends Error {
  /**
   * @param {string} message
   * @param {number} [code]
   */
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * POST a Janus API message. As text/plain, a "simple" cross-origin request: the browser sends it without a CORS
 * preflight (Janus reads the body as JSON whatever its type), which halves the round trips of each step.
 * @param {string} url
 * @param {Record<string, unknown>} message
 * @param {{signal?: AbortSignal, keepalive?: boolean}} [options]
 */
function postJson(url, message, options = {}) {
  return fetch(url, { method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: JSON.stringify(message), ...options });
}

/** One Janus session over HTTP, with its long poll and keepalives. */
class JanusSession {
  /**
   * @param {JanusInfo} info
   * @param {() => void} onLost Janus no longer knows this session (restarted, or the token was revoked)
   */
  constructor(info, onLost) {
    this.info = info;
    this.onLost = onLost;
    this.url = info.url.replace(/\/+$/, "");
    /** @type {number | null} */
    this.id = null;
    this.closed = false;
    /** @type {Map<string, {resolve: (event: JanusEvent) => void, reject: (error: Error) => void}>} */
    this.pending = new Map();
    /** @type {Map<number, (event: JanusEvent) => void>} events of each handle that answer no request */
    this.handles = new Map();
    this.abort = new AbortController();
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.keepalive = undefined;
    /** @type {Promise<number> | null} a handle attached ahead of time, for the next voice to hear */
    this.spare = null;
  }

  async open() {
    const answer = await this.post("", { janus: "create" });
    if (this.closed) return;
    this.id = /** @type {{id: number}} */ (answer.data).id;
    this.spare = this.attach("thirdspace-hear");
    this.spare.catch(() => {});
    this.poll();
    this.keepalive = setInterval(() => this.post(`/${this.id}`, { janus: "keepalive" }).catch(() => {}), KEEPALIVE_MS);
  }

  /**
   * A Janus API request: its answer, or JanusError.
   * @param {string} path
   * @param {Record<string, unknown>} body
   * @returns {Promise<JanusEvent>}
   */
  async post(path, body) {
    const transaction = Math.random().toString(36).slice(2);
    const response = await postJson(this.url + path, { ...body, transaction, token: this.info.token }, { signal: this.abort.signal });
    const answer = /** @type {JanusEvent} */ (await response.json());
    if (answer.janus === "error") throw new JanusError(answer.error?.reason || "janus error", answer.error?.code);
    return answer;
  }

  /** @param {string} [opaque] */
  async attach(opaque) {
    const answer = await this.post(`/${this.id}`, { janus: "attach", plugin: VIDEOROOM, opaque_id: opaque });
    return /** @type {{id: number}} */ (answer.data).id;
  }

  /**
   * A handle for hearing someone: one attached ahead of time if there is one (the next voice then starts a round
   * trip sooner), and another attached for the next time.
   */
  async handleToHear() {
    const spare = this.spare;
    this.spare = this.attach("thirdspace-hear");
    this.spare.catch(() => {});
    if (spare) {
      try {
        return await spare;
      } catch {
        // attach afresh below
      }
    }
    return this.attach("thirdspace-hear");
  }

  /** @param {number} handle */
  async detach(handle) {
    this.handles.delete(handle);
    if (this.closed) return;
    await this.post(`/${this.id}/${handle}`, { janus: "detach" }).catch(() => {});
  }

  /**
   * A VideoRoom request on a handle: the plugin's answer (waiting for its event when Janus acknowledges first).
   * @param {number} handle
   * @param {Record<string, unknown>} body
   * @param {RTCSessionDescriptionInit} [jsep]
   * @returns {Promise<{data: Record<string, any>, jsep?: RTCSessionDescriptionInit}>}
   */
  async message(handle, body, jsep) {
    const transaction = Math.random().toString(36).slice(2);
    /** @type {Promise<JanusEvent>} */
    const event = new Promise((resolve, reject) => this.pending.set(transaction, { resolve, reject }));
    event.catch(() => {});
    try {
      const message = { janus: "message", body, jsep, transaction, token: this.info.token };
      const response = await postJson(`${this.url}/${this.id}/${handle}`, message, { signal: this.abort.signal });
      /** @type {JanusEvent} */
      let answer = await response.json();
      if (answer.janus === "error") throw new JanusError(answer.error?.reason || "janus error", answer.error?.code);
      if (answer.janus === "ack") answer = await event;
      const data = answer.plugindata?.data || {};
      if (data.error_code) throw new JanusError(data.error || "videoroom error", data.error_code);
      return { data, jsep: answer.jsep };
    } finally {
      this.pending.delete(transaction);
    }
  }

  /**
   * @param {number} handle
   * @param {RTCIceCandidate | null} candidate null: the end of candidates
   */
  trickle(handle, candidate) {
    if (this.closed) return;
    const body = candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }
      : { completed: true };
    this.post(`/${this.id}/${handle}`, { janus: "trickle", candidate: body }).catch(() => {});
  }

  // Janus's events for this session, by long polling, until it closes.
  async poll() {
    let failures = 0;
    while (!this.closed) {
      try {
        const query = `?maxev=${POLL_EVENTS}&rid=${Date.now()}&token=${encodeURIComponent(this.info.token)}`;
        const response = await fetch(`${this.url}/${this.id}${query}`, { signal: this.abort.signal });
        const events = await response.json();
        failures = 0;
        for (const event of Array.isArray(events) ? events : [events]) this.dispatch(/** @type {JanusEvent} */ (event));
      } catch (error) {
        if (this.closed) return;
        if (error instanceof JanusError && SESSION_GONE.includes(error.code || 0)) {
          this.onLost();
          return;
        }
        await sleep(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
      }
    }
  }

  /** @param {JanusEvent} event */
  dispatch(event) {
    if (event.janus === "error") {
      throw new JanusError(event.error?.reason || "janus error", event.error?.code);
    }
    const waiting = event.transaction ? this.pending.get(event.transaction) : undefined;
    if (waiting && event.janus === "event") {
      waiting.resolve(event);
      return;
    }
    if (typeof event.sender === "number") this.handles.get(event.sender)?.(event);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    for (const { reject } of this.pending.values()) reject(new JanusError("closed"));
    this.pending.clear();
    // The session goes at once (its handles, their connections); then no more requests.
    if (this.id !== null) {
      postJson(`${this.url}/${this.id}`, { janus: "destroy", transaction: "bye", token: this.info.token }, { keepalive: true }).catch(() => {});
    }
    this.abort.abort();
  }
}

/**
 * A connection to Janus on one handle: this visitor's microphone (publisher) or one peer's voice (subscriber).
 */
class Leg {
  /**
   * @param {JanusSession} session
   * @param {RTCConfiguration} configuration
   */
  constructor(session, configuration) {
    this.session = session;
    this.pc = new RTCPeerConnection(configuration);
    /** @type {number | null} */
    this.handle = null;
    this.closed = false;
    this.hasTrack = false;
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (this.handle === null || this.closed) return;
      this.session.trickle(this.handle, candidate && candidate.candidate ? candidate : null);
    });
  }

  /**
   * @param {Promise<number>} attaching the handle, being attached
   * @param {(event: JanusEvent) => void} onEvent
   */
  async attach(attaching, onEvent) {
    this.handle = await attaching;
    this.session.handles.set(this.handle, onEvent);
    if (this.closed) this.session.detach(this.handle);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    if (this.handle !== null) this.session.detach(this.handle);
  }
}

export class JanusTransport {
  /** @param {TransportOptions} options */
  constructor({ config, onTrack, onTrackGone }) {
    this.config = config;
    this.onTrack = onTrack;
    this.onTrackGone = onTrackGone;
    /** @type {JanusInfo | null} */
    this.info = null;
    /** @type {JanusSession | null} */
    this.session = null;
    /** @type {Promise<JanusSession | null> | null} */
    this.opening = null;
    /** @type {MediaStreamTrack | null} */
    this.track = null;
    /** @type {Leg | null} the microphone's connection */
    this.publisher = null;
    /** @type {Promise<void>} publishing and unpublishing, one after the other */
    this.chain = Promise.resolve();
    this.roomMuted = false;
    this.kicked = false; // a moderator took the microphone off Janus: not again until the page turns it off and on
    /** @type {Map<number, number>} peer id -> the feed to hear, as the server chose (voice_peers) */
    this.wanted = new Map();
    /** @type {Map<number, Leg>} peer id -> their voice's connection */
    this.subscribers = new Map();
    this.closed = false;
    this.failures = 0; // sessions that could not be opened, one after the other
  }

  /** @returns {RTCConfiguration} */
  get rtcConfiguration() {
    return {
      iceServers: this.config.ice_servers || [],
      iceTransportPolicy: this.config.ice_transport_policy === "relay" ? "relay" : "all",
    };
  }

  /**
   * voice_state: where Janus is and this visitor's pass to it (`janus`, while listening), and a moderator's mute.
   * @param {{janus?: JanusInfo, room_muted?: boolean}} message
   */
  state(message) {
    this.roomMuted = Boolean(message.room_muted);
    const info = message.janus || null;
    const same = info && this.info && info.url === this.info.url && info.room === this.info.room && info.token === this.info.token;
    if (!same) {
      this.info = info;
      this.restart();
    } else if (this.info) {
      this.info.feed = /** @type {JanusInfo} */ (info).feed;
    }
    this.republish();
  }

  /**
   * The microphone, or none: with one, this visitor publishes it (audio only) as their feed.
   * @param {MediaStreamTrack | null} track
   */
  async setMicrophone(track) {
    if (!track) this.kicked = false;
    this.track = track;
    await this.republish();
  }

  /**
   * Changes to the voices this visitor hears: `add` entries {id, feed}, `remove` peer ids.
   * @param {{id: number, feed?: number}[]} add
   * @param {number[]} remove
   */
  peers(add = [], remove = []) {
    for (const id of remove) {
      this.wanted.delete(id);
      this.unsubscribe(id);
    }
    for (const { id, feed } of add) {
      if (typeof feed !== "number") continue;
      if (this.wanted.get(id) === feed && this.subscribers.has(id)) continue;
      this.wanted.set(id, feed);
      this.unsubscribe(id);
      this.subscribe(id, feed);
    }
  }

  /** Peer to peer only. */
  signal() {}

  /** Peer to peer only. */
  refused() {}

  /** The ids of the peers whose voice's connection is up. */
  connected() {
    return [...this.subscribers.entries()].filter(([, leg]) => leg.pc.connectionState === "connected").map(([id]) => id);
  }

  close() {
    this.closed = true;
    this.wanted.clear();
    this.info = null;
    this.restart();
  }

  // -- the session -----------------------------------------------------------------------------

  // A new session for new voice_state.janus details (or none): everything on the old one goes.
  restart() {
    this.publisher?.close();
    this.publisher = null;
    for (const id of [...this.subscribers.keys()]) this.unsubscribe(id);
    this.session?.close();
    this.session = null;
    this.opening = null;
    if (this.info && !this.closed) {
      for (const [id, feed] of this.wanted) this.subscribe(id, feed);
    }
  }

  /** @returns {Promise<JanusSession | null>} the open session, or null when there is none to have */
  open() {
    if (!this.opening) {
      const info = this.info;
      if (!info || this.closed) return Promise.resolve(null);
      const session = new JanusSession(info, () => this.lost(session));
      this.session = session;
      this.opening = session.open().then(
        () => {
          this.failures = 0;
          return session.closed ? null : session;
        },
        /** @returns {null} */
        (error) => {
          if (this.failures++ === 0) console.warn("voice: no Janus session", error);
          session.close();
          // Janus away, or restarted and not yet told this visitor's token again: try again, less and less often.
          const delay = Math.min(RETRY_MS[RETRY_MS.length - 1] * 2 ** (this.failures - 1), MAX_RETRY_MS);
          setTimeout(() => {
            if (this.session !== session || this.closed) return;
            this.restart();
            this.republish();
          }, delay);
          return null;
        },
      );
    }
    return this.opening;
  }

  /**
   * Janus lost the session (it restarted): a new one, with everything on it again, after a moment.
   * @param {JanusSession} session
   */
  async lost(session) {
    if (this.session !== session) return;
    await sleep(RETRY_MS[RETRY_MS.length - 1]);
    if (this.session !== session || this.closed) return;
    this.restart();
    this.republish();
  }

  // -- this visitor's microphone -----------------------------------------------------------------

  republish() {
    this.chain = this.chain.then(() => this.publishNow()).catch((error) => console.warn("voice: publishing failed", error));
    return this.chain;
  }

  async publishNow() {
    const want = this.track && !this.roomMuted && !this.kicked && this.info && !this.closed;
    if (!want) {
      if (this.publisher) {
        const leg = this.publisher;
        this.publisher = null;
        if (leg.handle !== null && !leg.closed) await this.session?.message(leg.handle, { request: "leave" }).catch(() => {});
        leg.close();
      }
      return;
    }
    if (this.publisher && !this.publisher.closed) {
      const sender = this.publisher.pc.getSenders()[0];
      if (sender && sender.track !== this.track) await sender.replaceTrack(this.track);
      return;
    }
    const session = await this.open();
    if (!session || !this.info) return;
    const info = this.info;
    const leg = new Leg(session, this.rtcConfiguration);
    this.publisher = leg;
    await leg.attach(session.attach(`thirdspace-speak-${info.feed}`), (event) => {
      const data = event.plugindata?.data;
      if (this.publisher !== leg) return;
      if (data?.leaving === "ok" || data?.unpublished === "ok") {
        // Kicked (a moderator's mute): this microphone stays off Janus until the page turns it off and on again.
        this.kicked = true;
        this.publisher = null;
        leg.close();
      } else if (event.janus === "hangup") {
        // The connection failed (a network change): publish again on a new one.
        this.publisher = null;
        leg.close();
        setTimeout(() => this.republish(), RETRY_MS[1]);
      }
    });
    await session.message(/** @type {number} */ (leg.handle), {
      request: "join",
      ptype: "publisher",
      room: info.room,
      id: info.feed,
      token: info.token,
    });
    leg.pc.addTransceiver(/** @type {MediaStreamTrack} */ (this.track), { direction: "sendonly" });
    await leg.pc.setLocalDescription(await leg.pc.createOffer());
    const { jsep } = await session.message(
      /** @type {number} */ (leg.handle),
      { request: "publish", audiocodec: "opus" },
      /** @type {RTCSessionDescriptionInit} */ (leg.pc.localDescription),
    );
    if (leg.closed) return;
    if (jsep) await leg.pc.setRemoteDescription(jsep);
  }

  // -- the others' voices ------------------------------------------------------------------------

  /**
   * Hear peer `id`'s feed: a subscriber handle, Janus's offer, our answer. A feed that is not published yet
   * (the server tells of a speaker as their page starts publishing) is asked for again, while still wanted.
   * @param {number} id
   * @param {number} feed
   */
  async subscribe(id, feed) {
    for (let attempt = 0; ; attempt++) {
      const session = await this.open();
      if (!session || this.wanted.get(id) !== feed || this.subscribers.has(id)) return;
      const leg = new Leg(session, this.rtcConfiguration);
      this.subscribers.set(id, leg);
      leg.pc.addEventListener("track", (event) => {
        if (leg.closed) return;
        leg.hasTrack = true;
        this.onTrack(id, event.streams[0] || new MediaStream([event.track]));
      });
      try {
        await leg.attach(session.handleToHear(), (event) => {
          // Janus hung up (the publisher left): listen again if the server still says so.
          if (event.janus === "hangup" && this.subscribers.get(id) === leg) {
            this.unsubscribe(id);
            if (this.wanted.get(id) === feed) setTimeout(() => this.subscribe(id, feed), RETRY_MS[1]);
          }
        });
        const info = /** @type {JanusInfo} */ (this.info);
        const handle = /** @type {number} */ (leg.handle);
        const joined = await session.message(handle, { request: "join", ptype: "subscriber", room: info.room, streams: [{ feed }] });
        if (leg.closed || !joined.jsep) return;
        await leg.pc.setRemoteDescription(joined.jsep);
        await leg.pc.setLocalDescription(await leg.pc.createAnswer());
        if (leg.closed) return;
        await session.message(handle, { request: "start" }, /** @type {RTCSessionDescriptionInit} */ (leg.pc.localDescription));
        return;
      } catch (error) {
        if (this.subscribers.get(id) === leg) this.unsubscribe(id);
        if (leg.session.closed || this.closed) return;
        if (!(error instanceof JanusError && error.code === NO_SUCH_FEED)) console.warn(`voice: cannot hear ${id}`, error);
        await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]);
      }
    }
  }

  /** @param {number} id */
  unsubscribe(id) {
    const leg = this.subscribers.get(id);
    if (!leg) return;
    this.subscribers.delete(id);
    leg.close();
    if (leg.hasTrack) this.onTrackGone(id);
  }
}
