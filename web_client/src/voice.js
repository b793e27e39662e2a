// @ts-check
// The page's voice: the voices of the people near the visitor, each played at that visitor's avatar head
// (three.js PositionalAudio, an HRTF panner fading out by the hearing radius), and the visitor's own microphone,
// asked for only when they turn their voice on: open microphone or push to talk (hold V; the hold-to-talk button
// on a phone; a controller's grip in a headset). Whom the visitor hears is the server's choice (voice_peers); the
// audio itself travels peer to peer (voice-p2p.js) or through a Janus server (voice-janus.js).
import * as THREE from "three";
import { el, find, messageOf } from "./dom.js";
import { addWords } from "./i18n.js";
import { JanusTransport } from "./voice-janus.js";
import { P2PTransport } from "./voice-p2p.js";

/** @typedef {import("./voice-p2p.js").VoiceConfig} VoiceConfig */
/**
 * @typedef {object} Transport what voice-p2p.js and voice-janus.js both offer
 * @property {(track: MediaStreamTrack | null) => Promise<void>} setMicrophone
 * @property {(add: any[], remove: number[]) => void} peers
 * @property {(message: any) => void} signal
 * @property {(message: any) => void} state
 * @property {(message: any) => void} refused
 * @property {() => void} close
 * @property {() => number[]} [connected]
 */
/**
 * @typedef {object} Voice one peer's voice as this page plays it
 * @property {number} id
 * @property {MediaStream} stream
 * @property {HTMLAudioElement} element muted: Chromium gives Web Audio a remote stream's samples only while one plays it
 * @property {THREE.PositionalAudio} audio
 * @property {AnalyserNode} analyser before the panner: what arrives
 * @property {AnalyserNode[]} sides after the panner: left, right
 * @property {ChannelSplitterNode} splitter
 * @property {THREE.Mesh} ring the speaking indicator over the avatar
 */

// The analysers hold the last WINDOW samples (0.68 s at 48 kHz): a voice comes in words and pauses, so a level is
// the loudest BLOCK of that window. Reading them needs no timer (background pages have theirs slowed down).
const WINDOW = 32768;
const BLOCK = 2048;
const SHOW_EVERY_MS = 100; // the speaking rings and dots follow this often
const SPEAKING_RMS = 0.01;
const REF_DISTANCE_M = 1;
const PTT_KEY = "KeyV";
const GRIP = 1; // xr-standard: the squeeze button
// Errors the server answers voice messages with: voice.js handles them, they are not chat lines.
const VOICE_ERRORS = new Set(["not_paired", "voice_unavailable"]);
const VOICE_FIELDS = new Set(["to", "sdp", "candidate", "announce", "listen", "speak"]);

/**
 * Whether an error message answers one of the page's voice messages.
 * @param {{code?: string, field?: string}} message
 */
export function isVoiceError(message) {
  return VOICE_ERRORS.has(message.code || "") || VOICE_FIELDS.has(message.field || "");
}

addWords({
  en: {
    voice_mute_one: "Mute", voice_unmute_one: "Unmute",
    voice_on: "Turn my voice on", voice_off: "Turn my voice off", voice_open: "Open microphone", voice_ptt: "Push to talk",
    voice_mode: "Voice mode", voice_hold: "Hold to talk", voice_hold_key: "Hold V to talk", voice_hold_grip: "Hold the grip button to talk",
    voice_mute_me: "Mute me", voice_unmute_me: "Unmute me", voice_room_muted: "A moderator muted your microphone.",
    voice_no_mic: "No microphone: {error}", voice_speaking: "speaking", voice_you: "You", voice_people: "Voices near you",
    voice_mute: "Mute {name}", voice_unmute: "Unmute {name}", voice_muted_here: "muted", voice_listening: "You hear the people near you.",
    voice_none: "No one near you is talking.", voice_failed: "Voice is not available: {error}", xr_voice: "Voice",
  },
  fr: {
    voice_mute_one: "Couper", voice_unmute_one: "Rétablir",
    voice_on: "Activer ma voix", voice_off: "Couper ma voix", voice_open: "Micro ouvert", voice_ptt: "Appuyer pour parler",
    voice_mode: "Mode vocal", voice_hold: "Maintenir pour parler", voice_hold_key: "Maintenez V pour parler", voice_hold_grip: "Maintenez la gâchette latérale pour parler",
    voice_mute_me: "Couper mon micro", voice_unmute_me: "Rétablir mon micro", voice_room_muted: "Un modérateur a coupé votre micro.",
    voice_no_mic: "Pas de micro : {error}", voice_speaking: "parle", voice_you: "Vous", voice_people: "Voix près de vous",
    voice_mute: "Couper {name}", voice_unmute: "Rétablir {name}", voice_muted_here: "coupé", voice_listening: "Vous entendez les personnes proches.",
    voice_none: "Personne ne parle près de vous.", voice_failed: "La voix n'est pas disponible : {error}", xr_voice: "Voix",
  },
  es: {
    voice_mute_one: "Silenciar", voice_unmute_one: "Escuchar",
    voice_on: "Activar mi voz", voice_off: "Desactivar mi voz", voice_open: "Micrófono abierto", voice_ptt: "Pulsar para hablar",
    voice_mode: "Modo de voz", voice_hold: "Mantén para hablar", voice_hold_key: "Mantén V para hablar", voice_hold_grip: "Mantén el botón lateral para hablar",
    voice_mute_me: "Silenciarme", voice_unmute_me: "Activar mi micrófono", voice_room_muted: "Un moderador silenció tu micrófono.",
    voice_no_mic: "Sin micrófono: {error}", voice_speaking: "habla", voice_you: "Tú", voice_people: "Voces cerca de ti",
    voice_mute: "Silenciar a {name}", voice_unmute: "Escuchar a {name}", voice_muted_here: "silenciado", voice_listening: "Oyes a las personas cercanas.",
    voice_none: "Nadie habla cerca de ti.", voice_failed: "La voz no está disponible: {error}", xr_voice: "Voz",
  },
  ar: {
    voice_mute_one: "اكتم", voice_unmute_one: "ألغِ الكتم",
    voice_on: "شغّل صوتي", voice_off: "أوقف صوتي", voice_open: "ميكروفون مفتوح", voice_ptt: "اضغط لتتكلم",
    voice_mode: "وضع الصوت", voice_hold: "اضغط مطولًا لتتكلم", voice_hold_key: "اضغط مطولًا على V لتتكلم", voice_hold_grip: "اضغط مطولًا على زر القبضة لتتكلم",
    voice_mute_me: "اكتم صوتي", voice_unmute_me: "ألغِ كتم صوتي", voice_room_muted: "كتم أحد المشرفين الميكروفون الخاص بك.",
    voice_no_mic: "لا يوجد ميكروفون: {error}", voice_speaking: "يتكلم", voice_you: "أنت", voice_people: "أصوات بالقرب منك",
    voice_mute: "اكتم {name}", voice_unmute: "ألغِ كتم {name}", voice_muted_here: "مكتوم", voice_listening: "تسمع الناس القريبين منك.",
    voice_none: "لا أحد يتكلم بالقرب منك.", voice_failed: "الصوت غير متاح: {error}", xr_voice: "الصوت",
  },
  zh: {
    voice_mute_one: "静音", voice_unmute_one: "取消静音",
    voice_on: "打开我的语音", voice_off: "关闭我的语音", voice_open: "开放麦克风", voice_ptt: "按住说话",
    voice_mode: "语音模式", voice_hold: "按住说话", voice_hold_key: "按住 V 说话", voice_hold_grip: "按住握持键说话",
    voice_mute_me: "静音自己", voice_unmute_me: "取消静音", voice_room_muted: "管理员已将你的麦克风静音。",
    voice_no_mic: "没有麦克风：{error}", voice_speaking: "正在说话", voice_you: "你", voice_people: "附近的声音",
    voice_mute: "静音 {name}", voice_unmute: "取消静音 {name}", voice_muted_here: "已静音", voice_listening: "你能听到附近的人。",
    voice_none: "附近没有人在说话。", voice_failed: "语音不可用：{error}", xr_voice: "语音",
  },
  hi: {
    voice_mute_one: "म्यूट", voice_unmute_one: "म्यूट हटाएँ",
    voice_on: "मेरी आवाज़ चालू करें", voice_off: "मेरी आवाज़ बंद करें", voice_open: "खुला माइक्रोफ़ोन", voice_ptt: "दबाकर बोलें",
    voice_mode: "आवाज़ का तरीका", voice_hold: "बोलने के लिए दबाए रखें", voice_hold_key: "बोलने के लिए V दबाए रखें", voice_hold_grip: "बोलने के लिए ग्रिप बटन दबाए रखें",
    voice_mute_me: "मुझे म्यूट करें", voice_unmute_me: "मेरा म्यूट हटाएँ", voice_room_muted: "एक मॉडरेटर ने आपका माइक्रोफ़ोन म्यूट कर दिया है।",
    voice_no_mic: "माइक्रोफ़ोन नहीं: {error}", voice_speaking: "बोल रहे हैं", voice_you: "आप", voice_people: "आपके पास की आवाज़ें",
    voice_mute: "{name} को म्यूट करें", voice_unmute: "{name} का म्यूट हटाएँ", voice_muted_here: "म्यूट", voice_listening: "आप अपने पास के लोगों को सुनते हैं।",
    voice_none: "आपके पास कोई नहीं बोल रहा।", voice_failed: "आवाज़ उपलब्ध नहीं: {error}", xr_voice: "आवाज़",
  },
  sw: {
    voice_mute_one: "Nyamazisha", voice_unmute_one: "Rudisha sauti",
    voice_on: "Washa sauti yangu", voice_off: "Zima sauti yangu", voice_open: "Maikrofoni wazi", voice_ptt: "Bonyeza uongee",
    voice_mode: "Hali ya sauti", voice_hold: "Shikilia uongee", voice_hold_key: "Shikilia V uongee", voice_hold_grip: "Shikilia kitufe cha kushika uongee",
    voice_mute_me: "Ninyamazishe", voice_unmute_me: "Rudisha sauti yangu", voice_room_muted: "Msimamizi amenyamazisha maikrofoni yako.",
    voice_no_mic: "Hakuna maikrofoni: {error}", voice_speaking: "anaongea", voice_you: "Wewe", voice_people: "Sauti karibu nawe",
    voice_mute: "Nyamazisha {name}", voice_unmute: "Rudisha sauti ya {name}", voice_muted_here: "amenyamazishwa", voice_listening: "Unasikia watu walio karibu nawe.",
    voice_none: "Hakuna anayeongea karibu nawe.", voice_failed: "Sauti haipatikani: {error}", xr_voice: "Sauti",
  },
  ja: {
    voice_mute_one: "ミュート", voice_unmute_one: "ミュート解除",
    voice_on: "自分の音声をオンにする", voice_off: "自分の音声をオフにする", voice_open: "常時マイク", voice_ptt: "押して話す",
    voice_mode: "音声モード", voice_hold: "押している間話す", voice_hold_key: "V を押している間話す", voice_hold_grip: "グリップボタンを押している間話す",
    voice_mute_me: "自分をミュート", voice_unmute_me: "ミュート解除", voice_room_muted: "モデレーターがあなたのマイクをミュートしました。",
    voice_no_mic: "マイクがありません：{error}", voice_speaking: "話しています", voice_you: "あなた", voice_people: "近くの声",
    voice_mute: "{name} をミュート", voice_unmute: "{name} のミュートを解除", voice_muted_here: "ミュート中", voice_listening: "近くの人の声が聞こえます。",
    voice_none: "近くで話している人はいません。", voice_failed: "音声は使えません：{error}", xr_voice: "音声",
  },
  de: {
    voice_mute_one: "Stumm", voice_unmute_one: "Wieder hören",
    voice_on: "Meine Stimme einschalten", voice_off: "Meine Stimme ausschalten", voice_open: "Offenes Mikrofon", voice_ptt: "Drücken zum Sprechen",
    voice_mode: "Sprachmodus", voice_hold: "Halten zum Sprechen", voice_hold_key: "V halten zum Sprechen", voice_hold_grip: "Greiftaste halten zum Sprechen",
    voice_mute_me: "Mich stummschalten", voice_unmute_me: "Stummschaltung aufheben", voice_room_muted: "Eine Moderation hat dein Mikrofon stummgeschaltet.",
    voice_no_mic: "Kein Mikrofon: {error}", voice_speaking: "spricht", voice_you: "Du", voice_people: "Stimmen in deiner Nähe",
    voice_mute: "{name} stummschalten", voice_unmute: "{name} wieder hören", voice_muted_here: "stumm", voice_listening: "Du hörst die Menschen in deiner Nähe.",
    voice_none: "In deiner Nähe spricht niemand.", voice_failed: "Sprache ist nicht verfügbar: {error}", xr_voice: "Stimme",
  },
  pt: {
    voice_mute_one: "Silenciar", voice_unmute_one: "Ouvir",
    voice_on: "Ligar a minha voz", voice_off: "Desligar a minha voz", voice_open: "Microfone aberto", voice_ptt: "Carregar para falar",
    voice_mode: "Modo de voz", voice_hold: "Mantenha para falar", voice_hold_key: "Mantenha V para falar", voice_hold_grip: "Mantenha o botão lateral para falar",
    voice_mute_me: "Silenciar-me", voice_unmute_me: "Reativar o meu microfone", voice_room_muted: "Um moderador silenciou o seu microfone.",
    voice_no_mic: "Sem microfone: {error}", voice_speaking: "a falar", voice_you: "Você", voice_people: "Vozes perto de si",
    voice_mute: "Silenciar {name}", voice_unmute: "Ouvir {name}", voice_muted_here: "silenciado", voice_listening: "Ouve as pessoas perto de si.",
    voice_none: "Ninguém fala perto de si.", voice_failed: "A voz não está disponível: {error}", xr_voice: "Voz",
  },
}); // prettier-ignore

/**
 * What an analyser heard over its window: the loudest block's rms, and the whole window's (0..1).
 * @param {AnalyserNode} analyser
 * @param {Float32Array<ArrayBuffer>} buffer
 */
function loudness(analyser, buffer) {
  analyser.getFloatTimeDomainData(buffer);
  let peak = 0;
  let total = 0;
  for (let start = 0; start < buffer.length; start += BLOCK) {
    let sum = 0;
    const end = Math.min(buffer.length, start + BLOCK);
    for (let i = start; i < end; i++) sum += buffer[i] * buffer[i];
    total += sum;
    peak = Math.max(peak, Math.sqrt(sum / (end - start)));
  }
  return { peak, rms: Math.sqrt(total / buffer.length) };
}

/**
 * An analyser holding the last WINDOW samples.
 * @param {BaseAudioContext} context
 */
function meter(context) {
  const analyser = context.createAnalyser();
  analyser.fftSize = WINDOW;
  return analyser;
}

export class VoiceChat {
  /**
   * @param {object} options
   * @param {import("./stage.js").Stage} options.stage its camera holds the listener (the headset's pose in VR)
   * @param {import("./avatars.js").Avatars} options.avatars each voice plays at its visitor's head
   * @param {import("./net.js").Connection} options.connection
   * @param {import("./i18n.js").Words} options.words
   * @param {HTMLElement} options.panel the page's voice controls (#voice)
   * @param {object} options.state the page state: `voice` holds the test hooks
   */
  constructor({ stage, avatars, connection, words, panel, state }) {
    this.stage = stage;
    this.avatars = avatars;
    this.connection = connection;
    this.words = words;
    this.panel = panel;
    this.listener = new THREE.AudioListener();
    stage.camera.add(this.listener);
    this.context = this.listener.context;
    /** @type {VoiceConfig | null} */
    this.config = null;
    /** @type {Transport | null} */
    this.transport = null;
    /** @type {Map<number, Voice>} */
    this.voices = new Map();
    /** @type {Set<number>} visitors this visitor muted for themselves */
    this.mutedHere = new Set();
    /** @type {MediaStreamTrack | null} */
    this.mic = null;
    /** @type {{analyser: AnalyserNode, source: MediaStreamAudioSourceNode} | null} */
    this.micMeter = null;
    this.asking = false; // the microphone is being asked for
    /** @type {"open" | "ptt"} */
    this.mode = "open";
    this.selfMuted = false;
    this.roomMuted = false;
    this.held = { key: false, button: false, grip: false };
    this.problem = "";
    /** @type {(() => void)[]} */
    this.listeners = [];
    this.buffer = new Float32Array(WINDOW);
    this.lastShown = 0;
    this.ringGeometry = new THREE.TorusGeometry(0.2, 0.014, 6, 32).rotateX(Math.PI / 2);
    this.ringMaterial = new THREE.MeshBasicMaterial({ color: "#7fe0ff" });
    this.speakingShown = new Map();
    this.selfSpeakingShown = false;
    this.build();
    this.follow(connection);
    this.listenForKeys();
    // Browsers start audio only after a gesture: the first one resumes it.
    const resume = () => this.context.state !== "running" && this.context.resume().catch(() => {});
    for (const type of ["pointerdown", "keydown", "touchend"]) addEventListener(type, resume, { capture: true });
    // Each render (the page's or the headset's): voices follow their avatars, rings show who speaks, grips talk.
    const scene = stage.scene;
    const previous = scene.onBeforeRender;
    scene.onBeforeRender = (renderer, s, camera, geometry, material, group) => {
      previous.call(scene, renderer, s, camera, geometry, material, group);
      this.frame(renderer);
    };
    /** @type {any} */ (state).voice = this.hooks();
  }

  // -- the room's messages ----------------------------------------------------------------------

  /** @param {import("./net.js").Connection} connection */
  follow(connection) {
    /**
     * @param {string} type
     * @param {(detail: any) => void} listener
     */
    const on = (type, listener) => connection.addEventListener(type, (e) => listener(/** @type {CustomEvent} */ (e).detail));
    on("voice_state", (message) => this.onState(message));
    on("voice_peers", (message) => this.transport?.peers(message.add || [], message.remove || []));
    on("signal", (message) => this.transport?.signal(message));
    on("error", (message) => isVoiceError(message) && this.transport?.refused(message));
    on("reconnecting", () => this.dropPeers()); // the server pairs us again after the welcome
    on("resumed", (welcome) => this.start(welcome));
    on("rejoined", (welcome) => this.start(welcome));
    on("close", () => this.stop()); // kicked, the room closed, or gone for good
  }

  /**
   * After every welcome (the first, a resumed one, a new room): voice as the server offers it, listening, and
   * speaking again if the visitor had turned their voice on.
   * @param {object} welcome
   */
  start(welcome) {
    this.dropPeers();
    this.config = /** @type {{voice?: VoiceConfig}} */ (welcome).voice || null;
    this.roomMuted = false;
    this.problem = "";
    if (this.config) {
      try {
        this.transport = this.makeTransport(this.config);
        if (this.mic) this.transport.setMicrophone(this.sending ? this.mic : null);
      } catch (error) {
        this.problem = this.words.t("voice_failed", { error: messageOf(error) });
        this.transport = null;
      }
    }
    this.sendState();
    this.render();
  }

  /** @param {VoiceConfig} config */
  makeTransport(config) {
    const options = {
      send: (/** @type {{type: string} & Record<string, unknown>} */ message) => this.connection.send(message),
      config,
      onTrack: (/** @type {number} */ id, /** @type {MediaStream} */ stream) => this.addVoice(id, stream),
      onTrackGone: (/** @type {number} */ id) => this.removeVoice(id),
    };
    return /** @type {Transport} */ (config.transport === "janus" ? new JanusTransport(options) : new P2PTransport(options));
  }

  sendState() {
    if (!this.transport) return;
    this.connection.send({ type: "voice", listen: true, speak: Boolean(this.mic), announce: false });
  }

  /** @param {{room_muted?: boolean}} message */
  onState(message) {
    const was = this.roomMuted;
    this.roomMuted = Boolean(message.room_muted);
    this.transport?.state(message);
    if (was !== this.roomMuted) this.applyMic();
    this.render();
  }

  dropPeers() {
    this.transport?.close();
    this.transport = null;
    for (const id of [...this.voices.keys()]) this.removeVoice(id);
  }

  // The connection is gone for good: no peers, no microphone.
  stop() {
    this.dropPeers();
    this.config = null;
    this.stopMic();
    this.render();
  }

  // -- the visitor's own voice ------------------------------------------------------------------

  /** Whether the microphone's sound goes out now. */
  get sending() {
    if (!this.mic || this.selfMuted || this.roomMuted) return false;
    return this.mode === "open" || this.held.key || this.held.button || this.held.grip;
  }

  // Turn the visitor's voice on (asking for the microphone) or off (stopping it).
  async toggle() {
    if (this.mic) {
      this.stopMic();
      this.sendState();
      this.render();
      return;
    }
    if (this.asking || this.roomMuted || !this.transport) return;
    this.asking = true;
    this.problem = "";
    this.render();
    this.context.resume().catch(() => {});
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
      this.mic = stream.getAudioTracks()[0];
      const source = this.context.createMediaStreamSource(stream);
      const analyser = meter(this.context);
      source.connect(analyser);
      this.micMeter = { analyser, source };
      this.applyMic();
      this.sendState();
    } catch (error) {
      this.problem = this.words.t("voice_no_mic", { error: messageOf(error) });
    } finally {
      this.asking = false;
      this.render();
    }
  }

  stopMic() {
    this.mic?.stop();
    this.mic = null;
    this.micMeter?.source.disconnect();
    this.micMeter = null;
    this.transport?.setMicrophone(null);
  }

  // The track goes out while the visitor may speak; otherwise silence, and no track at all while a moderator mutes.
  applyMic() {
    if (!this.mic) return;
    const sending = this.sending;
    this.mic.enabled = sending;
    this.transport?.setMicrophone(this.roomMuted ? null : this.mic);
    this.render();
  }

  /** @param {"open" | "ptt"} mode */
  setMode(mode) {
    this.mode = mode;
    this.applyMic();
  }

  muteSelf() {
    this.selfMuted = !this.selfMuted;
    this.applyMic();
  }

  /**
   * Push to talk: the key, the button or the grip held down, or let go.
   * @param {"key" | "button" | "grip"} what
   * @param {boolean} down
   */
  hold(what, down) {
    if (this.held[what] === down) return;
    this.held[what] = down;
    if (this.mode === "ptt") this.applyMic();
  }

  listenForKeys() {
    addEventListener("keydown", (e) => {
      if (e.code !== PTT_KEY || e.repeat) return;
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLSelectElement) return;
      this.hold("key", true);
    });
    addEventListener("keyup", (e) => e.code === PTT_KEY && this.hold("key", false));
    addEventListener("blur", () => this.hold("key", false));
  }

  // -- the others' voices -----------------------------------------------------------------------

  /**
   * @param {number} id
   * @param {MediaStream} stream
   */
  addVoice(id, stream) {
    this.removeVoice(id);
    const element = new Audio();
    element.muted = true;
    element.srcObject = stream;
    element.play().catch(() => {});
    const audio = new THREE.PositionalAudio(this.listener);
    audio.name = `voice-${id}`;
    const analyser = meter(this.context);
    audio.setMediaStreamSource(stream);
    audio.setFilters([analyser]);
    audio.panner.panningModel = "HRTF";
    audio.setDistanceModel("linear");
    audio.setRefDistance(REF_DISTANCE_M);
    audio.setMaxDistance(this.config?.hearing_radius_m || 12);
    audio.setRolloffFactor(1);
    audio.setVolume(0); // until it stands at its avatar's head
    const splitter = this.context.createChannelSplitter(2);
    audio.panner.connect(splitter);
    const sides = [0, 1].map((channel) => {
      const side = meter(this.context);
      splitter.connect(side, channel);
      return side;
    });
    const ring = new THREE.Mesh(this.ringGeometry, this.ringMaterial);
    ring.name = `speaking-${id}`;
    ring.position.y = 0.24;
    ring.visible = false;
    this.voices.set(id, { id, stream, element, audio, analyser, sides, splitter, ring });
    this.render();
  }

  /** @param {number} id */
  removeVoice(id) {
    const voice = this.voices.get(id);
    if (!voice) return;
    this.voices.delete(id);
    voice.audio.disconnect();
    voice.audio.panner.disconnect();
    voice.splitter.disconnect();
    voice.audio.removeFromParent();
    voice.ring.removeFromParent();
    voice.element.srcObject = null;
    this.speakingShown.delete(id);
    this.render();
  }

  /**
   * Hear someone, or not, on this page only.
   * @param {number} id
   */
  toggleMuteHere(id) {
    if (this.mutedHere.has(id)) this.mutedHere.delete(id);
    else this.mutedHere.add(id);
    this.render();
  }

  /**
   * Each render: every voice at its avatar's head (silent while it has none), rings over those who speak, and
   * in a headset the grips for push to talk.
   * @param {THREE.WebGLRenderer} renderer
   */
  frame(renderer) {
    for (const voice of this.voices.values()) {
      const avatar = this.avatars.byId.get(voice.id);
      if (avatar && voice.audio.parent !== avatar.group) {
        avatar.group.add(voice.audio);
        avatar.group.add(voice.ring);
      }
      const placed = Boolean(avatar) && voice.audio.parent === avatar?.group;
      const volume = placed && !this.mutedHere.has(voice.id) ? 1 : 0;
      if (voice.audio.getVolume() !== volume) voice.audio.setVolume(volume);
    }
    const now = performance.now();
    if (now - this.lastShown > SHOW_EVERY_MS) {
      this.lastShown = now;
      this.showSpeaking();
    }
    if (renderer.xr.isPresenting) {
      const session = renderer.xr.getSession();
      let grip = false;
      for (const source of session?.inputSources || []) grip = grip || Boolean(source.gamepad?.buttons[GRIP]?.pressed);
      this.hold("grip", grip);
    } else if (this.held.grip) this.hold("grip", false);
  }

  // Who speaks now: the rings over the avatars, and (only what changed) the page's dots and the headset's menu.
  showSpeaking() {
    let changed = false;
    for (const [id, voice] of this.voices) {
      const speaking = this.speaking(id);
      voice.ring.visible = speaking && !this.mutedHere.has(id);
      if (this.speakingShown.get(id) !== speaking) {
        this.speakingShown.set(id, speaking);
        changed = true;
      }
    }
    const self = this.selfSpeaking();
    if (self !== this.selfSpeakingShown) {
      this.selfSpeakingShown = self;
      changed = true;
    }
    if (changed) this.renderSpeaking();
  }

  /**
   * The loudest moment of a voice over the last 0.68 s, as received (rms 0..1); 0 for someone not heard.
   * @param {number} id
   */
  level(id) {
    const voice = this.voices.get(id);
    return voice ? loudness(voice.analyser, this.buffer).peak : 0;
  }

  /**
   * (left - right) / (left + right) of the rms after the panner: > 0 when the voice comes from the left.
   * @param {number} id
   */
  balance(id) {
    const voice = this.voices.get(id);
    if (!voice) return 0;
    const [left, right] = voice.sides.map((side) => loudness(side, this.buffer).rms);
    return left + right > 1e-6 ? (left - right) / (left + right) : 0;
  }

  /** @param {number} id */
  speaking(id) {
    return this.level(id) > SPEAKING_RMS;
  }

  selfSpeaking() {
    return Boolean(this.micMeter && this.mic?.enabled && loudness(this.micMeter.analyser, this.buffer).peak > SPEAKING_RMS);
  }

  // -- what the visitor sees --------------------------------------------------------------------

  /** @param {() => void} listener called when anything the voice controls show changes */
  onChange(listener) {
    this.listeners.push(listener);
  }

  build() {
    const w = this.words;
    this.toggleButton = el("button", { type: "button", id: "voice-toggle", onclick: () => this.toggle() });
    this.modeSelect = el(
      "select",
      { id: "voice-mode", "aria-label": w.t("voice_mode"), onchange: () => this.setMode(this.modeSelect.value === "ptt" ? "ptt" : "open") },
      el("option", { value: "open" }, w.t("voice_open")),
      el("option", { value: "ptt" }, w.t("voice_ptt")),
    );
    this.talkButton = el("button", { type: "button", id: "voice-talk", class: "voice-talk" }, w.t("voice_hold"));
    /** @param {boolean} down */
    const press = (down) => (/** @type {Event} */ e) => {
      e.preventDefault();
      this.hold("button", down);
    };
    this.talkButton.addEventListener("pointerdown", press(true));
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) this.talkButton.addEventListener(type, press(false));
    this.talkButton.addEventListener("contextmenu", (e) => e.preventDefault()); // a long press is not a menu
    this.muteButton = el("button", { type: "button", id: "voice-mute", onclick: () => this.muteSelf() });
    this.selfDot = el("span", { id: "voice-self", class: "voice-dot", role: "img" });
    this.note = el("p", { id: "voice-note", class: "voice-note small", "aria-live": "polite" });
    this.hint = el("span", { class: "voice-hint small for-pointer" }, w.t("voice_hold_key"));
    this.peerList = el("ul", { id: "voice-peers", class: "voice-peers small", "aria-label": w.t("voice_people") });
    const controls = el("div", { class: "row voice-controls" }, this.selfDot, this.toggleButton, this.modeSelect, this.talkButton, this.muteButton, this.hint);
    this.panel.replaceChildren(controls, this.note, this.peerList);
    this.render();
  }

  // The controls as things are now.
  render() {
    const w = this.words;
    const on = Boolean(this.mic);
    this.panel.hidden = !this.config;
    this.toggleButton.textContent = on ? w.t("voice_off") : w.t("voice_on");
    this.toggleButton.setAttribute("aria-pressed", String(on));
    this.toggleButton.disabled = this.asking || this.roomMuted || (!on && !this.transport);
    this.modeSelect.value = this.mode;
    this.modeSelect.hidden = !on;
    this.talkButton.hidden = !on || this.mode !== "ptt" || this.roomMuted;
    this.hint.hidden = !on || this.mode !== "ptt" || this.roomMuted;
    this.talkButton.classList.toggle("held", this.held.button || this.held.key);
    this.muteButton.hidden = !on || this.roomMuted;
    this.muteButton.textContent = this.selfMuted ? w.t("voice_unmute_me") : w.t("voice_mute_me");
    this.muteButton.setAttribute("aria-pressed", String(this.selfMuted));
    this.note.textContent = this.roomMuted ? w.t("voice_room_muted") : this.problem || (on ? "" : w.t("voice_listening"));
    this.note.classList.toggle("warning", this.roomMuted || Boolean(this.problem));
    this.peerList.replaceChildren(
      ...[...this.voices.keys()].map((id) => {
        const name = this.nameOf(id);
        const muted = this.mutedHere.has(id);
        return el(
          "li",
          { "data-peer": id },
          el("span", { class: "voice-dot", role: "img" }),
          el("span", { class: "name", dir: "auto" }, name),
          el("button", { type: "button", class: "quiet", "aria-pressed": String(muted), onclick: () => this.toggleMuteHere(id) }, muted ? w.t("voice_unmute", { name }) : w.t("voice_mute", { name })),
        );
      }),
    );
    this.renderSpeaking();
  }

  // The speaking dots (yours and the others'), and the headset menu told.
  renderSpeaking() {
    const w = this.words;
    const self = this.selfSpeaking();
    this.selfDot.classList.toggle("speaking", self);
    this.selfDot.classList.toggle("on", this.sending);
    this.selfDot.setAttribute("aria-label", self ? `${w.t("voice_you")}: ${w.t("voice_speaking")}` : w.t("voice_you"));
    for (const item of this.peerList.children) {
      const id = Number(/** @type {HTMLElement} */ (item).dataset.peer);
      item.classList.toggle("speaking", this.speaking(id) && !this.mutedHere.has(id));
    }
    for (const listener of this.listeners) listener();
  }

  /** @param {number} id */
  nameOf(id) {
    return this.avatars.byId.get(id)?.visitor.name || `#${id}`;
  }

  /** What the headset menu shows: the same state, to draw in the world. */
  menuState() {
    return {
      available: Boolean(this.transport),
      on: Boolean(this.mic),
      mode: this.mode,
      selfMuted: this.selfMuted,
      roomMuted: this.roomMuted,
      speaking: this.selfSpeaking(),
      problem: this.problem,
      peers: [...this.voices.keys()].map((id) => ({ id, name: this.nameOf(id), speaking: this.speaking(id), muted: this.mutedHere.has(id) })),
    };
  }

  /** The test hooks (window.thirdspace.voice). */
  hooks() {
    const voice = this;
    return {
      get state() {
        return {
          transport: voice.config?.transport || null,
          hearingRadius: voice.config?.hearing_radius_m ?? null,
          listening: Boolean(voice.transport),
          on: Boolean(voice.mic),
          sending: voice.sending,
          mode: voice.mode,
          selfMuted: voice.selfMuted,
          roomMuted: voice.roomMuted,
          selfSpeaking: voice.selfSpeaking(),
          audio: voice.context.state,
          audioTime: voice.context.currentTime,
          voices: [...voice.voices.keys()],
          mutedHere: [...voice.mutedHere],
        };
      },
      peers: () => voice.transport?.connected?.() || [],
      level: (/** @type {number} */ id) => voice.level(id),
      balance: (/** @type {number} */ id) => voice.balance(id),
      speaking: (/** @type {number} */ id) => voice.speaking(id),
      // How loud this page plays that voice: 1, or 0 while muted here (or while its avatar is not in view yet).
      volume: (/** @type {number} */ id) => voice.voices.get(id)?.audio.getVolume() ?? 0,
      ringShown: (/** @type {number} */ id) => Boolean(voice.voices.get(id)?.ring.visible && voice.voices.get(id)?.ring.parent),
    };
  }
}

/**
 * The page's voice, in the #voice panel.
 * @param {Omit<ConstructorParameters<typeof VoiceChat>[0], "panel">} options
 */
export function setUpVoice(options) {
  return new VoiceChat({ ...options, panel: find("#voice") });
}
