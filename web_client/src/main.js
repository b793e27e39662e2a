// @ts-check
// Third Space visitor page: the composition root. The lobby, then the scene (stage, streamed assets, labels),
// the room (connection, avatars, chat, tours), the controls (desktop, touch, VR, AR) and the frame loop.
import { fetchManifest, fetchPhrases, fetchScene, socketUrl } from "./api.js";
import { Avatars } from "./avatars.js";
import { ChatPanel, QuickChat } from "./chat.js";
import { Locomotion } from "./controls.js";
import { find, messageOf } from "./dom.js";
import { startFrameLoop } from "./frame-loop.js";
import { pickText, Words } from "./i18n.js";
import { arState, setUpImmersive } from "./immersive.js";
import { LiveScene } from "./live-scene.js";
import { loadLowest, pinnedLevelOf } from "./loading.js";
import { showLobby } from "./lobby.js";
import { Connection } from "./net.js";
import { createPageState, statusLine } from "./page-state.js";
import { followVisualViewport } from "./phone.js";
import { PoseSender } from "./poses.js";
import { ProvenanceLabels } from "./provenance.js";
import { RoomPresence } from "./room.js";
import { Stage } from "./stage.js";
import { TourGuide } from "./tours.js";
import { isVoiceError, setUpVoice } from "./voice.js";
import { fetchWalkMap, followWalkMap, walkerState } from "./walk.js";
import { XRMenu } from "./xr-menu.js";

/** @typedef {import("./lobby.js").Choice} Choice */
/**
 * @typedef {object} Page what every part of the page shares
 * @property {import("./page-state.js").PageState} state
 * @property {Words} words
 * @property {URLSearchParams} params the query the page was opened with
 * @property {(status: string, message?: string) => void} setStatus
 */
/** @typedef {Awaited<ReturnType<typeof showScene>>} Shown */
/** @typedef {Awaited<ReturnType<typeof joinRoom>>} Joined */

/**
 * Load the chosen scene, join a room of it, and start the frame loop.
 * @param {Choice} choice
 * @param {Page} page
 */
async function enter(choice, page) {
  page.words.setLanguage(choice.language);
  page.state.language = choice.language;
  page.setStatus("loading", page.words.t("loading"));
  const phrasesReady = fetchPhrases();
  const walkReady = fetchWalkMap(choice.scene).catch(() => /** @type {null} */ (null)); // none: walk anywhere in the bounds
  const shown = await showScene(choice, page);
  const joined = await joinRoom(choice, page, shown, phrasesReady);
  shown.stage.rig.userData.walk = await walkReady; // what is solid, for walking and teleports (walk.js)
  startControls(page, shown, joined);
}

/**
 * The scene, drawn once every asset is there at its lowest level, with its "generated" labels.
 * @param {Choice} choice
 * @param {Page} page
 */
async function showScene(choice, { state, words, params }) {
  const { language } = choice;
  const { scene: document } = await fetchScene(choice.scene);
  state.scene = document.id;
  const manifestAskedAt = performance.now();
  const manifest = await fetchManifest(choice.scene);
  const stage = new Stage(find("#view", HTMLCanvasElement), document, manifest.spawn);
  const progress = find("#progress");
  const streamer = await loadLowest({
    document,
    manifest,
    progress,
    bar: find("#progress-bar"),
    pinnedLevel: pinnedLevelOf(params),
    onBytes: (loaded, total) => (state.loadBytes = { loaded, total }),
  });
  stage.scene.add(streamer.root);
  stage.render();
  state.loadTimings = { lowestVisibleMs: performance.now() - manifestAskedAt };
  state.assets = () => streamer.levels();
  state.nodes = () =>
    Object.fromEntries([...streamer.nodes].map(([id, holder]) => [id, { position: holder.position.toArray(), asset: holder.userData.node.asset }]));
  state.assetEvents = () => streamer.events.map((e) => ({ ...e, at: e.at - manifestAskedAt }));
  progress.hidden = true;
  const live = new LiveScene({ document, language, title: find("#title"), words });
  /** @param {import("./types.js").NodeSpec} spec */
  const nameOf = (spec) => pickText(spec.name, language) || spec.id;
  /** @param {import("./types.js").NodeSpec} spec */
  const machineName = (spec) => live.isMachine(`nodes.${spec.id}.name`, spec.name);
  const labels = new ProvenanceLabels({ streamer, panel: find("#asset-info"), badge: find("#generated-badge", HTMLButtonElement), nameOf, machineName, words });
  labels.attach();
  stage.onResize((width, height) => labels.setSize(width, height));
  state.labels = () => labels.visibleLabels();
  state.labelPlaces = () => labels.places();
  return { document, stage, streamer, labels, live };
}

/**
 * Join a room of the scene: the others' avatars, the chat, the tours, and the room's news from then on.
 * @param {Choice} choice
 * @param {Page} page
 * @param {Shown} shown
 * @param {Promise<{phrases: import("./chat.js").PhraseTables}>} phrasesReady the quick-chat phrases, asked for first
 */
async function joinRoom(choice, { state, words, setStatus }, { document, stage, streamer, labels, live }, phrasesReady) {
  const { language } = choice;
  setStatus("joining", words.t("joining"));
  const connection = new Connection(socketUrl(location));
  const welcome = await connection.join(choice);
  state.visitorId = welcome.id;
  state.room = welcome.room;
  state.tickHz = welcome.tick_hz;
  stage.rig.position.fromArray(welcome.spawn.position);
  const avatars = new Avatars(stage.scene, welcome.id);
  for (const visitor of welcome.visitors) avatars.add(visitor);
  state.avatars = () => avatars.list();
  // Voices near the visitor at once; their own microphone only when they turn their voice on.
  const voice = setUpVoice({ stage, avatars, connection, words, state });
  voice.start(welcome);

  const { phrases } = await phrasesReady;
  const chat = new ChatPanel({
    log: find("#chat-log", HTMLUListElement),
    form: find("#chat-form", HTMLFormElement),
    input: find("#chat-input", HTMLInputElement),
    onSend: (text) => connection.sendChat(text),
    reader: language,
    words,
    phrases,
    nameOf: (id) => live.nodeName(id),
    onReport: (id) => connection.send({ type: "report", message: id, reason: "reported from the chat panel" }),
  });
  const quick = new QuickChat({
    phraseSelect: find("#quick-phrase", HTMLSelectElement),
    thingSelect: find("#quick-thing", HTMLSelectElement),
    button: find("#quick-send", HTMLButtonElement),
    phrases,
    reader: language,
    words,
    /** @type {[string, string][]} */
    things: document.nodes.filter((n) => n.name).map((n) => [n.id, pickText(n.name, language)]),
    onSend: (phrase, thing) => connection.send({ type: "quick", phrase, ...(thing ? { thing } : {}) }),
  });
  state.chat = () => chat.shownLines();
  const guide = new TourGuide({
    document,
    streamer,
    language,
    words,
    panel: find("#tour"),
    onSend: (message) => connection.send(message),
    nameOf: (id) => avatars.byId.get(id)?.visitor.name || String(id),
    room: () => state.room,
    onMove: async (room, tour) => {
      // The tour is led in another room of the scene: go there as a new arrival, then join it.
      try {
        const arrived = await connection.switchRoom(room);
        presence.arrive(arrived);
        voice.start(arrived);
        connection.send({ type: "tour", action: "join", tour });
      } catch (error) {
        chat.system(messageOf(error));
      }
    },
  });
  stage.scene.add(guide.root);
  state.tour = () => guide.state();
  state.roomVisible = () => streamer.root.visible;
  const presence = new RoomPresence({ state, avatars, chat, guide, words, roomLabel: find("#room"), count: find("#count"), setStatus });
  presence.show(welcome);
  find("#hud").hidden = false;

  presence.listen(connection);
  /**
   * @param {string} type
   * @param {(detail: any) => void} listener
   */
  const on = (type, listener) => connection.addEventListener(type, (e) => listener(/** @type {CustomEvent} */ (e).detail));
  on("tour_state", (message) => guide.onState(message, state.visitorId));
  on("tour_available", (message) => guide.onAvailable(message));
  on("chat", (message) => chat.add(message, state.visitorId));
  on("chat_translation", (update) => chat.translation(update));
  on("error", (message) => message.code !== "not_walkable" && !isVoiceError(message) && chat.system(message.message)); // walk.js and voice.js handle those
  on("closed", (message) => chat.system(message.message));
  on("snapshot", (snapshot) => avatars.onSnapshot(snapshot, performance.now()));
  live.follow({
    connection,
    streamer,
    guide,
    labels,
    onApplied: (revision) => (state.revision = revision),
    onFailed: (message) => chat.system(words.t("update_failed", { error: message })),
  });
  // Gone for good: a final close code, or no way back after a drop.
  on("close", ({ code, reason }) => setStatus("closed", words.t("disconnected", { reason: `${code}${reason ? `: ${reason}` : ""}` })));
  // A dropped connection comes back by itself; the rig stays where it is either way.
  on("reconnecting", () => setStatus("reconnecting", words.t("reconnecting")));
  return { connection, welcome, avatars, guide, chat, quick, voice };
}

/**
 * Walking (desktop, touch), headsets and AR, the pose to the room, and the frame loop.
 * @param {Page} page
 * @param {Shown} shown
 * @param {Joined} joined
 */
function startControls({ state, params, words, setStatus }, { document, stage, streamer, labels }, { connection, welcome, avatars, guide, chat, quick, voice }) {
  const locomotion = new Locomotion({
    rig: stage.rig,
    camera: stage.camera,
    dom: stage.renderer.domElement,
    joystick: find("#joystick"),
    bounds: welcome.bounds,
    walkable: [streamer.root],
    onPick: (hit) => labels.pick(hit),
  });
  locomotion.setHeading(welcome.spawn.yaw_deg || 0);
  const { xr, ar } = setUpImmersive({
    stage,
    document,
    bounds: welcome.bounds,
    streamer,
    labels,
    guide,
    locomotion,
    anchorId: params.get("anchor"),
    buttons: find("#xr"),
    onTeleport: () => poses.markTeleport(),
    onMessage: (message) => setStatus("ready", message),
  });
  const poses = new PoseSender({ camera: stage.camera, xr, connection, tickHz: welcome.tick_hz });
  followWalkMap({ connection, rig: stage.rig, camera: stage.camera, inAR: () => ar.active, sceneId: document.id });
  state.xrPresenting = () => xr.presenting;
  state.xrSigns = () => labels.xrSigns();
  state.ar = () => arState(ar, stage);
  Object.assign(state, walkerState(stage));
  // The headset's own menu: chat, phrases, keyboard, tour, language (not where dom-overlay shows the page).
  const menu = new XRMenu({ renderer: stage.renderer, rig: stage.rig, xr, chat, quick, guide, voice, words, onSay: (text) => connection.sendChat(text), selfId: () => state.visitorId });
  Object.assign(state, { xrMenu: () => menu.state() });
  setStatus("ready", "");
  startFrameLoop({ stage, locomotion, xr, ar, avatars, guide, streamer, labels, poses, onFrame: () => state.framesRendered++ });
}

function start() {
  const state = createPageState();
  Object.assign(window, { thirdspace: state });
  followVisualViewport();
  /** @type {Page} */
  const page = { state, words: new Words(), params: new URLSearchParams(location.search), setStatus: statusLine(state, find("#status")) };
  showLobby({
    params: page.params,
    words: page.words,
    setStatus: page.setStatus,
    onEnter: (choice) => enter(choice, page),
    onEnterFailed: (error) => {
      state.error = messageOf(error);
      page.setStatus("error", page.words.t("could_not_enter", { error: state.error }));
    },
  }).catch((error) => {
    state.error = messageOf(error);
    page.setStatus("error", page.words.t("unreachable", { error: state.error }));
  });
}

start();
