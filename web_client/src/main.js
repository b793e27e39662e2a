// Third Space web client: lobby, scene loading, avatars, chat, desktop/mobile/VR.
import * as THREE from "three";
import { Avatars } from "./avatars.js";
import { ChatPanel, QuickChat } from "./chat.js";
import { setLanguage, t } from "./i18n.js";
import { Locomotion } from "./controls.js";
import { Connection } from "./net.js";
import { FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT, MAX_NAME_CHARS } from "./protocol.js";
import { ProvenanceLabels } from "./provenance.js";
import { TourGuide } from "./tours.js";
import { applyEnvironment, SceneStreamer } from "./world.js";
import { ARSupport } from "./ar.js";
import { XRSupport } from "./xr.js";

const $ = (selector) => document.querySelector(selector);
const params = new URLSearchParams(location.search);
const EYE_HEIGHT = 1.6;

// Read-only state for debugging and the browser tests.
const state = {
  status: "lobby",
  visitorId: null,
  room: null,
  reconnects: 0, // connections re-established after a drop, resumed or not
  resumes: 0, // of those, the ones that got the same place back
  scene: null,
  error: null,
  framesRendered: 0,
  loadBytes: null, // {loaded, total}: the progress bar's bytes of the lowest levels
  loadTimings: null, // {lowestVisibleMs}: from asking for the manifest to the whole scene drawn at its lowest level
  assets: () => [],
  assetEvents: () => [],
  labels: () => [],
  avatars: () => [],
  xrPresenting: () => false,
};
window.thirdspace = state;

function pickText(text, language) {
  if (!text) return "";
  return text[language] || text[language.split("-")[0]] || Object.values(text)[0];
}

function setStatus(status, message = "") {
  state.status = status;
  $("#status").textContent = message;
}

async function fetchJSON(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${url}: ${response.status}`);
  return body;
}

async function showLobby() {
  const form = $("#lobby");
  const language = params.get("lang") || navigator.language.split("-")[0] || "en";
  const languageSelect = $("#language");
  if ([...languageSelect.options].some((o) => o.value === language)) languageSelect.value = language;
  setLanguage(languageSelect.value);
  languageSelect.addEventListener("change", () => setLanguage(languageSelect.value));
  $("#name").value = params.get("name") || localStorage.getItem("thirdspace.name") || "";
  $("#name").maxLength = MAX_NAME_CHARS;
  $("#colour").value = localStorage.getItem("thirdspace.colour") || `#${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, "0")}`;
  const { scenes } = await fetchJSON("/api/scenes");
  const select = $("#scene");
  for (const scene of scenes) {
    const option = document.createElement("option");
    option.value = scene.id;
    option.textContent = `${pickText(scene.title, languageSelect.value)} (${scene.languages.join(", ")})`;
    select.append(option);
  }
  const wanted = params.get("scene");
  if (wanted && scenes.some((s) => s.id === wanted)) select.value = wanted;
  else if (wanted) setStatus("lobby", t("no_scene", { scene: wanted }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const choice = {
      scene: select.value,
      name: $("#name").value.trim() || "Visitor",
      language: languageSelect.value,
      colour: $("#colour").value,
    };
    localStorage.setItem("thirdspace.name", choice.name);
    localStorage.setItem("thirdspace.colour", choice.colour);
    history.replaceState(null, "", `?scene=${encodeURIComponent(choice.scene)}`);
    enter(choice).catch((error) => {
      state.error = String(error.message || error);
      setStatus("error", t("could_not_enter", { error: state.error }));
      form.hidden = false;
    });
    form.hidden = true;
  });
  form.hidden = false;
}

async function enter(choice) {
  setLanguage(choice.language);
  state.language = choice.language;
  setStatus("loading", t("loading"));
  const phrasesReady = fetchJSON("/api/chat/phrases");
  const { scene: documentJSON } = await fetchJSON(`/api/scenes/${encodeURIComponent(choice.scene)}`);
  state.scene = documentJSON.id;
  const manifestAskedAt = performance.now();
  const manifest = await fetchJSON(`/api/scenes/${encodeURIComponent(choice.scene)}/manifest`);

  const renderer = new THREE.WebGLRenderer({ antialias: true, canvas: $("#view") });
  renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
  renderer.setSize(innerWidth, innerHeight);
  const scene = new THREE.Scene();
  const camera = new THREE.PerspectiveCamera(70, innerWidth / innerHeight, 0.05, 200);
  camera.position.set(0, EYE_HEIGHT, 0);
  const rig = new THREE.Group();
  rig.add(camera);
  rig.position.fromArray(manifest.spawn);
  rig.rotation.y = THREE.MathUtils.degToRad(documentJSON.spawn_points[0].yaw_deg || 0);
  scene.add(rig);
  applyEnvironment(scene, documentJSON.environment);

  // The lowest level of every asset first, so the whole scene shows early; finer levels stream in later.
  const streamer = new SceneStreamer(documentJSON, manifest);
  if (params.has("lod")) streamer.pinnedLevel = Math.max(0, Number.parseInt(params.get("lod"), 10) || 0); // preview one level
  const progress = $("#progress");
  progress.hidden = false;
  await streamer.loadLowest((loaded, total) => {
    state.loadBytes = { loaded, total };
    const percent = total ? (100 * loaded) / total : 100;
    $("#progress-bar").style.width = `${percent}%`;
    progress.setAttribute("aria-valuenow", String(Math.round(percent)));
  });
  const root = streamer.root;
  scene.add(root);
  renderer.render(scene, camera);
  state.loadTimings = { lowestVisibleMs: performance.now() - manifestAskedAt };
  state.assets = () => streamer.levels();
  state.nodes = () =>
    Object.fromEntries([...streamer.nodes].map(([id, holder]) => [id, { position: holder.position.toArray(), asset: holder.userData.node.asset }]));
  state.assetEvents = () => streamer.events.map((e) => ({ ...e, at: e.at - manifestAskedAt }));
  progress.hidden = true;
  $("#title").textContent = pickText(documentJSON.title, choice.language);

  const nameOf = (spec) => pickText(spec.name, choice.language) || spec.id;
  const labels = new ProvenanceLabels({ streamer, panel: $("#asset-info"), badge: $("#generated-badge"), nameOf });
  labels.attach();
  labels.setSize(innerWidth, innerHeight);
  state.labels = () => labels.visibleLabels();
  addEventListener("resize", () => {
    camera.aspect = innerWidth / innerHeight;
    camera.updateProjectionMatrix();
    renderer.setSize(innerWidth, innerHeight);
    labels.setSize(innerWidth, innerHeight);
  });

  setStatus("joining", t("joining"));
  const protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const connection = new Connection(`${protocol}//${location.host}/ws`);
  const welcome = await connection.join(choice);
  state.visitorId = welcome.id;
  state.room = welcome.room;
  state.tickHz = welcome.tick_hz;

  rig.position.fromArray(welcome.spawn.position);
  const locomotion = new Locomotion({
    rig,
    camera,
    dom: renderer.domElement,
    joystick: $("#joystick"),
    bounds: welcome.bounds,
    walkable: [root],
    onPick: (hit) => labels.pick(hit),
  });
  locomotion.setHeading(welcome.spawn.yaw_deg || 0);
  let teleported = false;
  const xr = new XRSupport({ renderer, rig, walkable: [root], bounds: welcome.bounds, onTeleport: () => (teleported = true) });
  scene.add(xr.marker);
  state.xrPresenting = () => xr.presenting;
  $("#xr").append(xr.button());
  const background = scene.background;
  const ar = new ARSupport({
    renderer,
    rig,
    camera,
    document: documentJSON,
    anchorId: params.get("anchor"),
    onStart: () => {
      // In AR the real gallery is the room: only overlays, reconstructions and the tour group show.
      streamer.root.visible = false;
      scene.background = null;
      renderer.setClearAlpha(0);
    },
    onEnd: () => {
      streamer.root.visible = true;
      scene.background = background;
      renderer.setClearAlpha(1);
    },
    onMessage: (message) => setStatus("ready", message),
  });
  scene.add(ar.reticle);
  $("#xr").append(ar.picker(), ar.button());
  for (const button of document.querySelectorAll("#xr button")) Object.assign(button.style, { position: "static", left: "auto", bottom: "auto" });
  state.ar = () => {
    const viewer = renderer.xr.getCamera();
    return {
      ...ar.state,
      rig: rig.position.toArray(),
      // The XR camera is not in the scene graph: its matrixWorld (rig included) is set each frame; read it as is.
      head: new THREE.Vector3().setFromMatrixPosition(viewer.matrixWorld).toArray(),
      facing: new THREE.Vector3(0, 0, -1).transformDirection(viewer.matrixWorld).toArray(),
    };
  };
  renderer.xr.addEventListener("sessionstart", () => {
    labels.setXR(true);
    guide.setXR(true);
    if (ar.requested) ar.start(renderer.xr.getSession());
    locomotion.enabled = false;
    rig.rotation.set(0, locomotion.yaw, 0);
    camera.rotation.set(0, 0, 0);
  });
  renderer.xr.addEventListener("sessionend", () => {
    labels.setXR(false);
    guide.setXR(false);
    if (ar.active) ar.end();
    locomotion.enabled = true;
  });
  state.xrSigns = () => labels.xrSigns();

  const avatars = new Avatars(scene, welcome.id);
  for (const visitor of welcome.visitors) avatars.add(visitor);
  state.avatars = () =>
    [...avatars.byId.values()].map((a) => ({
      id: a.visitor.id,
      name: a.visitor.name,
      visible: a.group.visible,
      position: a.position.toArray(),
    }));

  const { phrases } = await phrasesReady;
  let currentDocument = documentJSON;
  const nodeName = (id) => {
    const spec = currentDocument.nodes.find((n) => n.id === id);
    return (spec && pickText(spec.name, choice.language)) || id;
  };
  const chat = new ChatPanel({
    log: $("#chat-log"),
    form: $("#chat-form"),
    input: $("#chat-input"),
    onSend: (text) => connection.sendChat(text),
    reader: choice.language,
    phrases,
    nameOf: nodeName,
    onReport: (id) => connection.send({ type: "report", message: id, reason: "reported from the chat panel" }),
  });
  new QuickChat({
    phraseSelect: $("#quick-phrase"),
    thingSelect: $("#quick-thing"),
    button: $("#quick-send"),
    phrases,
    reader: choice.language,
    things: documentJSON.nodes.filter((n) => n.name).map((n) => [n.id, pickText(n.name, choice.language)]),
    onSend: (phrase, thing) => connection.send({ type: "quick", phrase, ...(thing ? { thing } : {}) }),
  });
  state.chat = () =>
    [...document.querySelectorAll("#chat-log li[data-chat]")].map((li) => ({
      id: Number(li.dataset.chat),
      text: li.querySelector(".text").textContent,
      lang: li.querySelector(".text").lang,
      meta: li.querySelector(".meta").textContent,
      hidden: li.hidden,
    }));
  for (const message of welcome.chat) chat.add(message, welcome.id);
  $("#hud").hidden = false;
  $("#room").textContent = welcome.room;
  const updateCount = () => ($("#count").textContent = String(avatars.byId.size + 1));
  updateCount();

  connection.addEventListener("join", (e) => {
    avatars.add(e.detail.visitor);
    chat.system(t("joined", { name: e.detail.visitor.name }));
    updateCount();
  });
  connection.addEventListener("leave", (e) => {
    const name = avatars.byId.get(e.detail.id)?.visitor.name;
    avatars.remove(e.detail.id);
    if (name) chat.system(t("left", { name }));
    updateCount();
  });
  const guide = new TourGuide({
    document: documentJSON,
    streamer,
    language: choice.language,
    panel: $("#tour"),
    onSend: (message) => connection.send(message),
    nameOf: (id) => avatars.byId.get(id)?.visitor.name || String(id),
    room: () => state.room,
    onMove: async (room, tour) => {
      // The tour is led in another room of the scene: go there as a new arrival, then join it.
      try {
        arrive(await connection.switchRoom(room));
        connection.send({ type: "tour", action: "join", tour });
      } catch (error) {
        chat.system(error.message);
      }
    },
  });
  scene.add(guide.root);
  state.tour = () => guide.state();
  state.roomVisible = () => streamer.root.visible;
  connection.addEventListener("tour_state", (e) => guide.onState(e.detail, state.visitorId));
  connection.addEventListener("tour_available", (e) => guide.onAvailable(e.detail));
  connection.addEventListener("chat", (e) => chat.add(e.detail, state.visitorId));
  connection.addEventListener("chat_translation", (e) => chat.translation(e.detail));
  connection.addEventListener("error", (e) => chat.system(e.detail.message));
  connection.addEventListener("scene", async (e) => {
    // A curator published: move, add and remove what changed, without a reload.
    const live = e.detail;
    try {
      const fresh = await fetchJSON(`/api/scenes/${encodeURIComponent(live.scene)}/manifest`);
      await streamer.update(live.document, fresh);
      currentDocument = live.document;
      guide.document = live.document;
      guide.build();
      guide.renderPanel();
      labels.refresh();
      state.revision = live.revision;
      $("#title").textContent = pickText(live.document.title, choice.language);
    } catch (error) {
      chat.system(t("update_failed", { error: error.message }));
    }
  });
  connection.addEventListener("closed", (e) => chat.system(e.detail.message));
  connection.addEventListener("snapshot", (e) => avatars.onSnapshot(e.detail, performance.now()));
  // Gone for good: a final close code, or no way back after a drop.
  connection.addEventListener("close", (e) => {
    setStatus("closed", t("disconnected", { reason: `${e.detail.code}${e.detail.reason ? `: ${e.detail.reason}` : ""}` }));
  });
  // A dropped connection comes back by itself; the rig stays where it is either way.
  connection.addEventListener("reconnecting", () => setStatus("reconnecting", t("reconnecting")));
  const place = (again) => {
    state.visitorId = again.id;
    state.room = again.room;
    $("#room").textContent = again.room;
    const present = new Set(again.visitors.map((v) => v.id));
    for (const id of [...avatars.byId.keys()]) if (!present.has(id)) avatars.remove(id);
    for (const visitor of again.visitors) avatars.add(visitor); // not ourselves, not twice
    updateCount();
    setStatus("ready", "");
  };
  const back = (again) => {
    state.reconnects++;
    place(again);
  };
  // A new visitor in a room (after the resume window, or after changing rooms): start the room's view afresh.
  const arrive = (welcome) => {
    for (const id of [...avatars.byId.keys()]) avatars.remove(id);
    avatars.selfId = welcome.id;
    place(welcome);
    chat.log.replaceChildren();
    chat.lines.clear();
    for (const message of welcome.chat) chat.add(message, welcome.id);
    if (guide.tour?.guided) guide.tour = null; // that tour's group was left with the old place
    guide.available.clear();
    guide.renderPanel();
  };
  connection.addEventListener("resumed", (e) => {
    // The same place: only what we missed. A tour_state follows if we are in a guided tour.
    state.resumes++;
    back(e.detail);
    for (const message of e.detail.chat) if (!chat.lines.has(message.id)) chat.add(message, e.detail.id);
  });
  connection.addEventListener("rejoined", (e) => {
    // The resume window had passed: a new visitor, perhaps in another room, as if just arrived.
    state.reconnects++;
    arrive(e.detail);
    chat.system(t("rejoined"));
  });

  const head = new THREE.Vector3();
  const headRotation = new THREE.Quaternion();
  const hand = new THREE.Vector3();
  const handRotation = new THREE.Quaternion();
  const parts = [new Array(7).fill(0), [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1]];
  const sendEvery = 1000 / welcome.tick_hz;
  const eye = new THREE.Vector3();
  let lastRefine = 0;
  let lastSent = -Infinity;
  let lastFrame = performance.now();

  function sendPose(now) {
    // In VR, three.js has copied the headset's pose into the camera during render().
    camera.getWorldPosition(head);
    camera.getWorldQuaternion(headRotation);
    parts[0] = [...head.toArray(), ...headRotation.toArray()];
    let flags = 0;
    if (xr.presenting) {
      for (const [index, name, flag] of [[1, "left", FLAG_LEFT], [2, "right", FLAG_RIGHT]]) {
        const controller = xr.controller(name);
        if (!controller) continue;
        controller.getWorldPosition(hand);
        controller.getWorldQuaternion(handRotation);
        parts[index] = [...hand.toArray(), ...handRotation.toArray()];
        flags |= flag;
      }
    }
    if (teleported) flags |= FLAG_TELEPORT;
    if (connection.sendPose(parts, flags)) teleported = false; // keep the flag until the jump is sent
    lastSent = now;
  }

  setStatus("ready", "");
  renderer.setAnimationLoop((time, frame) => {
    const now = performance.now();
    const dt = Math.min(0.1, (now - lastFrame) / 1000);
    lastFrame = now;
    if (!ar.active) locomotion.update(dt); // in AR the alignment owns the rig
    if (xr.presenting && !ar.active) xr.update();
    if (ar.active) ar.frame(frame);
    avatars.update(now);
    if (ar.active && guide.tour?.guided) {
      const group = new Set([guide.tour.guide, ...(guide.tour.members || [])]);
      for (const [id, avatar] of avatars.byId) avatar.group.visible = avatar.group.visible && group.has(id);
    }
    streamer.animate(dt);
    guide.update(camera.getWorldPosition(eye), dt);
    if (now - lastRefine > 250) {
      streamer.refine(camera.getWorldPosition(eye));
      lastRefine = now;
    }
    renderer.render(scene, camera);
    if (!xr.presenting) labels.render(scene, camera);
    state.framesRendered++;
    if (now - lastSent >= sendEvery) sendPose(now);
  });
}

showLobby().catch((error) => {
  state.error = String(error.message || error);
  setStatus("error", t("unreachable", { error: state.error }));
});
