// @ts-check
// Voice peer to peer: one RTCPeerConnection per voice peer the server paired this visitor with (voice_peers),
// signalled over the room's WebSocket (signal messages, relayed by the server only between paired visitors).
// Each connection has one audio transceiver, sendrecv; the microphone goes in with replaceTrack (null while it is
// off), so turning it on or off never renegotiates. The side told `offer: true` makes the offer.

/**
 * @typedef {object} VoiceConfig welcome.voice
 * @property {"p2p" | "janus"} transport
 * @property {number} hearing_radius_m
 * @property {number} max_voices
 * @property {RTCIceServer[]} [ice_servers]
 * @property {"all" | "relay"} [ice_transport_policy]
 */
/**
 * @typedef {object} TransportOptions
 * @property {(message: {type: string} & Record<string, unknown>) => void} send a control message to the server
 * @property {VoiceConfig} config
 * @property {(peerId: number, stream: MediaStream) => void} onTrack a peer's voice arrived
 * @property {(peerId: number) => void} onTrackGone that peer's voice is gone
 */

const MAX_SDP = 10000; // the server's limits (docs/protocol.md): larger is refused, so it is not sent
const MAX_CANDIDATE = 1000;

class Peer {
  /**
   * @param {number} id
   * @param {boolean} offer this side makes the offer
   * @param {RTCConfiguration} configuration
   */
  constructor(id, offer, configuration) {
    this.id = id;
    this.offer = offer;
    this.pc = new RTCPeerConnection(configuration);
    /** @type {RTCRtpTransceiver | null} */
    this.transceiver = null;
    /** @type {RTCIceCandidateInit[]} candidates that came before the remote description */
    this.early = [];
    this.closed = false;
    this.hasTrack = false;
  }
}

export class P2PTransport {
  /** @param {TransportOptions} options */
  constructor({ send, config, onTrack, onTrackGone }) {
    this.send = send;
    this.config = config;
    this.onTrack = onTrack;
    this.onTrackGone = onTrackGone;
    /** @type {Map<number, Peer>} */
    this.byId = new Map();
    /** @type {MediaStreamTrack | null} */
    this.track = null;
  }

  /** @returns {RTCConfiguration} */
  get rtcConfiguration() {
    return {
      iceServers: this.config.ice_servers || [],
      iceTransportPolicy: this.config.ice_transport_policy === "relay" ? "relay" : "all",
    };
  }

  /**
   * The microphone for every connection, or none (silence).
   * @param {MediaStreamTrack | null} track
   */
  async setMicrophone(track) {
    this.track = track;
    await Promise.all([...this.byId.values()].map((peer) => peer.transceiver?.sender.replaceTrack(track).catch(() => {})));
  }

  /**
   * Changes to this visitor's voice peers.
   * @param {{id: number, offer?: boolean}[]} add
   * @param {number[]} remove
   */
  peers(add = [], remove = []) {
    for (const id of remove) this.drop(id);
    for (const { id, offer } of add) {
      if (this.byId.has(id)) continue;
      const peer = new Peer(id, Boolean(offer), this.rtcConfiguration);
      this.byId.set(id, peer);
      this.wire(peer);
      if (peer.offer) this.makeOffer(peer);
    }
  }

  /** @param {Peer} peer */
  wire(peer) {
    const { pc, id } = peer;
    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (!candidate || !candidate.candidate || peer.closed) return; // the end of candidates is not sent
      if (candidate.candidate.length > MAX_CANDIDATE) return;
      this.send({
        type: "signal",
        to: id,
        kind: "candidate",
        candidate: { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex },
      });
    });
    pc.addEventListener("track", (event) => {
      if (peer.closed) return;
      peer.hasTrack = true;
      this.onTrack(id, event.streams[0] || new MediaStream([event.track]));
    });
    pc.addEventListener("connectionstatechange", () => {
      // A connection that fails (a network change) tries again with fresh candidates; the offerer asks.
      if (pc.connectionState === "failed" && peer.offer && !peer.closed) this.makeOffer(peer, true);
    });
  }

  /**
   * @param {Peer} peer
   * @param {boolean} [restart] ICE anew
   */
  async makeOffer(peer, restart = false) {
    try {
      if (!peer.transceiver) {
        peer.transceiver = peer.pc.addTransceiver("audio", { direction: "sendrecv" });
        await peer.transceiver.sender.replaceTrack(this.track);
      }
      const offer = await peer.pc.createOffer(restart ? { iceRestart: true } : {});
      if (peer.closed) return;
      await peer.pc.setLocalDescription(offer);
      this.sendDescription(peer, "offer");
    } catch (error) {
      if (!peer.closed) console.warn(`voice: no offer to ${peer.id}`, error);
    }
  }

  /**
   * @param {Peer} peer
   * @param {"offer" | "answer"} kind
   */
  sendDescription(peer, kind) {
    const sdp = peer.pc.localDescription?.sdp || "";
    if (sdp.length > MAX_SDP) {
      console.warn(`voice: the ${kind} for ${peer.id} is too long to send`);
      return;
    }
    this.send({ type: "signal", to: peer.id, kind, sdp });
  }

  /**
   * A signal from a paired visitor: their offer, answer or one of their ICE candidates.
   * @param {{from: number, kind: string, sdp?: string, candidate?: RTCIceCandidateInit}} message
   */
  signal(message) {
    const peer = this.byId.get(message.from);
    if (!peer || peer.closed) return; // not (or no longer) a peer of ours
    this.handle(peer, message).catch((error) => {
      if (!peer.closed) console.warn(`voice: a signal from ${peer.id} failed`, error);
    });
  }

  /**
   * @param {Peer} peer
   * @param {{kind: string, sdp?: string, candidate?: RTCIceCandidateInit}} message
   */
  async handle(peer, { kind, sdp, candidate }) {
    const { pc } = peer;
    if (kind === "offer" && typeof sdp === "string") {
      await pc.setRemoteDescription({ type: "offer", sdp });
      if (!peer.transceiver) {
        peer.transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === "audio") || null;
        if (peer.transceiver) {
          peer.transceiver.direction = "sendrecv";
          await peer.transceiver.sender.replaceTrack(this.track);
        }
      }
      await pc.setLocalDescription(await pc.createAnswer());
      if (peer.closed) return;
      this.sendDescription(peer, "answer");
      await this.flushEarly(peer);
    } else if (kind === "answer" && typeof sdp === "string") {
      if (pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription({ type: "answer", sdp });
      await this.flushEarly(peer);
    } else if (kind === "candidate" && candidate) {
      if (!pc.remoteDescription) peer.early.push(candidate);
      else await pc.addIceCandidate(candidate);
    }
  }

  /** @param {Peer} peer */
  async flushEarly(peer) {
    const early = peer.early.splice(0);
    for (const candidate of early) await peer.pc.addIceCandidate(candidate).catch(() => {});
  }

  /** A voice_state: nothing to do peer to peer. */
  state() {}

  /**
   * The server refused one of our signals: not_paired means that peer is gone (a race with a remove).
   * @param {{code: string, to?: number, peer?: number}} message
   */
  refused(message) {
    if (message.code !== "not_paired") return;
    const id = message.to ?? message.peer;
    if (typeof id === "number") this.drop(id);
  }

  /** @param {number} id */
  drop(id) {
    const peer = this.byId.get(id);
    if (!peer) return;
    peer.closed = true;
    this.byId.delete(id);
    peer.pc.close();
    if (peer.hasTrack) this.onTrackGone(id);
  }

  /** The ids of the peers whose connection is up. */
  connected() {
    return [...this.byId.values()].filter((peer) => peer.pc.connectionState === "connected").map((peer) => peer.id);
  }

  close() {
    for (const id of [...this.byId.keys()]) this.drop(id);
  }
}
