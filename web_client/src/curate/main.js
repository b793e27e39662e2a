// Third Space curator page: sign in, compose a scene with a transform gizmo, texts, recipes, review, publish.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { TransformControls } from "three/addons/controls/TransformControls.js";
import { applyEnvironment, SceneStreamer } from "../world.js";

const $ = (selector) => document.querySelector(selector);
const GUIDE_NOTE = "You are signed in as a guide: open a scene from the visitors' page and choose “Lead as guide”.";
const RAD = Math.PI / 180;

// Read-only state for the browser tests and debugging.
const state = { status: "signed-out", scene: null, etag: null, revision: null, selected: null, saves: 0 };
window.curate = state;

let session = null; // {user, csrf}
let draft = null; // the draft document
let view = null; // the 3D view of the open scene

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function say(message) {
  $("#save-status").textContent = message;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, { body, ifMatch, raw } = {}) {
  const headers = {};
  if (session?.csrf && method !== "GET") headers["X-CSRF-Token"] = session.csrf;
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (raw && response.ok) return response;
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : {};
  if (!response.ok) throw new ApiError(response.status, parsed);
  return { body: parsed, etag: response.headers.get("ETag") };
}

// -- signing in ---------------------------------------------------------------------------------

async function start() {
  try {
    session = (await api("GET", "/api/session")).body;
  } catch {
    session = null;
  }
  if (session?.user?.role === "guide") return showSignIn(GUIDE_NOTE);
  if (!session?.user || !["curator", "admin"].includes(session.user.role)) return showSignIn();
  await openEditor();
}

function showSignIn(message = "") {
  state.status = "signed-out";
  $("#editor").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
}

$("#signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    session = (await api("POST", "/api/session", { body: { token: $("#token").value.trim() } })).body;
    $("#token").value = "";
    if (session.user.role === "guide") return showSignIn(GUIDE_NOTE);
    if (!["curator", "admin"].includes(session.user.role)) return showSignIn("This token is not a curator's.");
    await openEditor();
  } catch (error) {
    showSignIn(error.message);
  }
});

$("#signout").addEventListener("click", async () => {
  await api("DELETE", "/api/session").catch(() => {});
  location.reload();
});

async function openEditor() {
  $("#signin").hidden = true;
  $("#editor").hidden = false;
  $("#who").textContent = `${session.user.name} (${session.user.role})`;
  view = new View($("#view3d"));
  const { scenes } = (await api("GET", "/api/curate/scenes")).body;
  const select = $("#scene-select");
  select.replaceChildren(...scenes.map((s) => el("option", { value: s.id }, `${s.title.en || Object.values(s.title)[0]} (${s.id})`)));
  const wanted = new URLSearchParams(location.search).get("scene");
  if (wanted && scenes.some((s) => s.id === wanted)) select.value = wanted;
  select.addEventListener("change", () => openScene(select.value));
  await loadLibrary();
  await openScene(select.value);
}

// -- the open scene -----------------------------------------------------------------------------

async function openScene(sceneId, keepSelection = false) {
  const reply = await api("GET", `/api/curate/scenes/${encodeURIComponent(sceneId)}`);
  const manifest = (await api("GET", `/api/curate/scenes/${encodeURIComponent(sceneId)}/manifest`)).body;
  const changed = state.scene !== sceneId;
  draft = reply.body.document;
  state.scene = sceneId;
  state.etag = reply.etag;
  state.revision = reply.body.revision;
  state.published = reply.body.scene.published_revision;
  showRevision();
  const selected = keepSelection ? state.selected : null;
  await view.show(draft, manifest, changed);
  renderTree();
  select(selected && draft.nodes.some((n) => n.id === selected) ? selected : null);
  watch(sceneId);
  await Promise.all([loadReviews(), loadHistory()]);
  state.status = "ready";
}

function showRevision() {
  const published = state.published ? `published: r${state.published}` : "not published";
  $("#revision").textContent = `draft r${state.revision} · ${published}`;
}

// Another curator's change (or a stale write): take the draft as it is now.
async function reload(message) {
  await openScene(state.scene, true);
  if (message) say(message);
}

let writing = 0; // writes in flight: a watcher's news of our own write must not reload the page
let newest = 0; // the newest draft revision a watcher has told us about

async function write(method, path, body, what) {
  writing += 1;
  try {
    const reply = await api(method, path, { body, ifMatch: state.etag });
    draft = reply.body.document;
    state.etag = reply.etag;
    state.revision = reply.body.revision;
    state.published = reply.body.scene.published_revision;
    state.saves += 1;
    showRevision();
    say(`Saved ${what} (r${state.revision})`);
    return reply;
  } catch (error) {
    if (error.status === 412) {
      await reload(`Someone else changed the draft first; it is reloaded (r${error.body.current_revision}). Please redo: ${what}.`);
    } else {
      say(`Not saved: ${error.body?.field ? `${error.body.field}: ` : ""}${error.message}`);
    }
    return null;
  } finally {
    writing -= 1;
    if (!writing && newest > state.revision) reload("Another curator changed the draft; it is reloaded.");
  }
}

let watcher = null;
function watch(sceneId) {
  if (watcher?.sceneId === sceneId && watcher.ws.readyState <= 1) return;
  watcher?.ws.close();
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  watcher = { ws, sceneId };
  ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "watch", scene: sceneId })));
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type !== "draft" || message.scene !== state.scene) return;
    newest = Math.max(newest, message.revision);
    if (!writing && message.revision > state.revision) reload(`${message.author} changed the draft (r${message.revision}).`);
  });
}

$("#publish").addEventListener("click", async () => {
  try {
    const reply = await api("POST", `/api/curate/scenes/${encodeURIComponent(state.scene)}/publish`, { ifMatch: state.etag });
    state.published = reply.body.scene.published_revision;
    state.etag = reply.etag;
    showRevision();
    say(`Published r${state.published}: visitors see it now.`);
    state.status = "published";
    await loadHistory();
  } catch (error) {
    if (error.status === 412) await reload("The draft changed before publishing; it is reloaded. Check it and publish again.");
    else say(`Not published: ${error.message}`);
  }
});

// -- the tree -----------------------------------------------------------------------------------

function nameOf(spec) {
  const name = spec.name && (spec.name[draft.default_language] || Object.values(spec.name)[0]);
  return name ? `${name} (${spec.id})` : spec.id;
}

function renderTree() {
  const children = new Map();
  for (const spec of draft.nodes) {
    const key = spec.parent || "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(spec);
  }
  const pending = new Set(view.manifest.assets.filter((a) => a.status !== "approved").map((a) => a.id));
  const branch = (parent) =>
    (children.get(parent) || []).map((spec) =>
      el(
        "li",
        { role: "treeitem" },
        el(
          "button",
          { type: "button", "data-node": spec.id, "aria-selected": String(state.selected === spec.id), onclick: () => select(spec.id) },
          nameOf(spec),
          pending.has(spec.asset) ? el("span", { class: "pending" }, "awaiting review") : null,
        ),
        children.has(spec.id) ? el("ul", { role: "group" }, ...branch(spec.id)) : null,
      ),
    );
  $("#tree").replaceChildren(...branch(""));
}

function select(nodeId) {
  state.selected = nodeId;
  for (const button of document.querySelectorAll("#tree button")) button.setAttribute("aria-selected", String(button.dataset.node === nodeId));
  view.attach(nodeId);
  renderNodePanel();
}

// -- the node panel: transform fields and texts per language ------------------------------------

function languages() {
  const found = new Set([draft.default_language, ...Object.keys(draft.title)]);
  return [...found];
}

function renderNodePanel() {
  const spec = draft.nodes.find((n) => n.id === state.selected);
  $("#node-title").textContent = spec ? nameOf(spec) : "Scene texts";
  $("#node-transform").hidden = !spec;
  if (spec) {
    const rotation = new THREE.Euler().setFromQuaternion(new THREE.Quaternion().fromArray(spec.rotation || [0, 0, 0, 1]));
    const rows = [
      ["#position-fields", "Position", spec.position || [0, 0, 0], 0.01],
      ["#rotation-fields", "Rotation", [rotation.x / RAD, rotation.y / RAD, rotation.z / RAD], 1],
      ["#scale-fields", "Scale", spec.scale || [1, 1, 1], 0.01],
    ];
    for (const [selector, label, values, step] of rows) {
      $(selector).replaceChildren(
        el("span", {}, label),
        ...values.map((v, i) =>
          el("input", { type: "number", step, value: Number(v.toFixed(3)), "aria-label": `${label} ${"xyz"[i]}`, onchange: saveTypedTransform }),
        ),
      );
    }
    $("#node-asset").textContent = spec.asset || "none (a group)";
  }
  const fields = spec ? ["name", "description"] : ["title", "description"];
  const holder = spec || draft;
  const rows = [];
  for (const field of fields) {
    for (const language of languages()) {
      const value = holder[field]?.[language];
      const path = spec ? `nodes.${spec.id}.${field}` : field;
      const input = el(field === "description" ? "textarea" : "input", {
        type: "text",
        rows: 2,
        "data-path": path,
        "data-language": language,
        "aria-label": `${field} (${language})`,
        dir: ["ar", "he", "fa", "ur"].includes(language.split("-")[0]) ? "rtl" : "auto",
      });
      input.value = value || "";
      const machine = el("input", { type: "checkbox", "aria-label": `${field} (${language}) is machine-translated` });
      input.addEventListener("change", () =>
        write("PUT", `/api/curate/scenes/${encodeURIComponent(state.scene)}/texts`, {
          path,
          language,
          text: input.value.trim() || null,
          machine_translated: machine.checked,
        }, `${field} [${language}]`).then((reply) => reply && (renderTree(), renderNodePanel())),
      );
      rows.push(
        el(
          "div",
          { class: "text-row" },
          el("label", {}, `${field} · ${language}`, input),
          value ? null : el("span", { class: "missing" }, `No ${field} in ${language} yet.`),
          el("label", { class: "mt" }, machine, "machine-translated (needs review)"),
        ),
      );
    }
  }
  $("#texts").replaceChildren(...rows);
  $("#chat-rules").hidden = Boolean(spec);
  if (!spec) {
    $("#blocklist").value = (draft.chat?.blocklist || []).join("\n");
    $("#glossary").value = JSON.stringify(draft.chat?.glossary || [], null, 1);
    const layer = { anchors: draft.anchors || [], overlays: draft.overlays || [], tours: draft.tours || [] };
    $("#tour-layer").value = JSON.stringify(layer, null, 1);
  }
}

$("#save-tour-layer").addEventListener("click", async () => {
  let layer;
  try {
    layer = JSON.parse($("#tour-layer").value);
  } catch (error) {
    return say(`Not saved: not valid JSON (${error.message})`);
  }
  const document = { ...draft };
  for (const key of ["anchors", "overlays", "tours"]) {
    if (Array.isArray(layer[key]) && layer[key].length) document[key] = layer[key];
    else delete document[key];
  }
  if (await write("PUT", `/api/curate/scenes/${encodeURIComponent(state.scene)}`, { document, message: "overlays and tours" }, "the overlays and tours")) {
    renderNodePanel();
    loadLanguages().catch(() => {});
  }
});

$("#save-chat-rules").addEventListener("click", async () => {
  let glossary;
  try {
    glossary = JSON.parse($("#glossary").value || "[]");
  } catch (error) {
    return say(`Not saved: the glossary is not valid JSON (${error.message})`);
  }
  const blocklist = $("#blocklist").value.split("\n").map((line) => line.trim()).filter(Boolean);
  const chat = { ...(draft.chat || {}), blocklist, glossary };
  if (await write("PUT", `/api/curate/scenes/${encodeURIComponent(state.scene)}`, { document: { ...draft, chat }, message: "chat rules" }, "the chat rules")) {
    renderNodePanel();
  }
});

function saveTypedTransform() {
  const read = (selector) => [...document.querySelectorAll(`${selector} input`)].map((i) => Number(i.value));
  const [rx, ry, rz] = read("#rotation-fields");
  const quaternion = new THREE.Quaternion().setFromEuler(new THREE.Euler(rx * RAD, ry * RAD, rz * RAD));
  saveTransform(state.selected, read("#position-fields"), quaternion.toArray(), read("#scale-fields"));
}

const round = (values, places) => values.map((v) => Number(v.toFixed(places)));

async function saveTransform(nodeId, position, rotation, scale) {
  const unit = Math.hypot(...rotation) || 1;
  const body = { position: round(position, 3), rotation: round(rotation.map((v) => v / unit), 6), scale: round(scale, 3) };
  const reply = await write("PATCH", `/api/curate/scenes/${encodeURIComponent(state.scene)}/nodes/${encodeURIComponent(nodeId)}`, body, `${nodeId}'s transform`);
  if (!reply) return;
  view.arrange(draft);
  renderNodePanel();
}

$("#remove-node").addEventListener("click", async () => {
  const nodeId = state.selected;
  if (!nodeId || !confirm(`Remove ${nodeId} and everything on it?`)) return;
  if (await write("DELETE", `/api/curate/scenes/${encodeURIComponent(state.scene)}/nodes/${encodeURIComponent(nodeId)}`, undefined, `removal of ${nodeId}`)) {
    await reload(`Removed ${nodeId}.`);
  }
});

// -- tabs ---------------------------------------------------------------------------------------

for (const tab of document.querySelectorAll("#tabs button")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("#tabs button")) {
      other.setAttribute("aria-selected", String(other === tab));
      $(`#tab-${other.dataset.tab}`).hidden = other !== tab;
    }
  });
}

// -- library: assets and recipes ----------------------------------------------------------------

let library = { assets: [], recipes: [] };
const preview = { renderer: null, scene: null, camera: null, model: null };

async function loadLibrary() {
  library = (await api("GET", "/api/curate/assets")).body;
  $("#assets").replaceChildren(
    ...library.assets.map((asset) =>
      el(
        "li",
        {},
        el("div", { class: "row" }, el("strong", {}, asset.id), el("span", { class: `badge ${asset.status}` }, asset.status), el("span", { class: "muted" }, asset.origin)),
        el("div", { class: "row" }, el("button", { type: "button", class: "quiet", onclick: () => addAsset(asset.id) }, "Add to scene")),
      ),
    ),
  );
  const select = $("#recipe");
  if (!select.options.length) {
    select.replaceChildren(...library.recipes.map((r) => el("option", { value: r.name }, r.title)));
    select.addEventListener("change", renderRecipeForm);
    renderRecipeForm();
  }
}

function renderRecipeForm() {
  const recipe = library.recipes.find((r) => r.name === $("#recipe").value);
  $("#recipe-description").textContent = recipe.description;
  const inputs = Object.entries(recipe.schema.properties).map(([key, spec]) => {
    let input;
    if (spec.type === "string" && spec.pattern?.includes("#")) input = el("input", { type: "color", value: spec.default });
    else if (spec.type === "array") input = el("textarea", { rows: 2 });
    else input = el("input", { type: "number", min: spec.minimum, max: spec.maximum, step: spec.type === "integer" ? 1 : "any", value: spec.default });
    if (spec.type === "array") input.value = JSON.stringify(spec.default);
    input.dataset.key = key;
    input.dataset.type = spec.type;
    return el("label", { title: spec.description }, `${key} · ${spec.description}`, input);
  });
  $("#recipe-form").replaceChildren(...inputs, el("label", {}, "seed", el("input", { type: "number", id: "recipe-seed", value: 0, min: 0, step: 1 })));
}

function recipeRequest() {
  const params = {};
  for (const input of document.querySelectorAll("#recipe-form [data-key]")) {
    const type = input.dataset.type;
    params[input.dataset.key] = type === "array" ? JSON.parse(input.value) : type === "string" ? input.value : Number(input.value);
  }
  return { name: $("#recipe").value, params, seed: Number($("#recipe-seed").value) || 0 };
}

$("#recipe-preview").addEventListener("click", async () => {
  const spec = recipeRequest();
  try {
    const response = await api("POST", `/api/curate/recipes/${spec.name}/preview`, { body: { params: spec.params, seed: spec.seed }, raw: true });
    showPreview(await response.arrayBuffer());
  } catch (error) {
    say(`Cannot preview: ${error.body?.field ? `${error.body.field}: ` : ""}${error.message}`);
  }
});

function showPreview(buffer) {
  if (!preview.renderer) {
    preview.renderer = new THREE.WebGLRenderer({ canvas: $("#preview"), antialias: true });
    preview.scene = new THREE.Scene();
    preview.scene.background = new THREE.Color("#15171c");
    preview.scene.add(new THREE.HemisphereLight("#ffffff", "#444444", 2), new THREE.DirectionalLight("#ffffff", 2));
    preview.camera = new THREE.PerspectiveCamera(40, 320 / 200, 0.01, 500);
  }
  new GLTFLoader().parse(buffer, "", (gltf) => {
    if (preview.model) preview.scene.remove(preview.model);
    preview.model = gltf.scene;
    preview.scene.add(preview.model);
    const box = new THREE.Box3().setFromObject(preview.model);
    const centre = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3()).length() || 1;
    preview.camera.position.copy(centre).add(new THREE.Vector3(size * 0.8, size * 0.5, size * 0.8));
    preview.camera.lookAt(centre);
    preview.renderer.render(preview.scene, preview.camera);
    state.previewed = $("#recipe").value;
  });
}

function freeNodeId(base) {
  let id = base;
  for (let n = 2; draft.nodes.some((node) => node.id === id); n++) id = `${base}-${n}`;
  return id;
}

function placeInFront() {
  const target = view.controls.target;
  return round([target.x, 0, target.z], 2);
}

async function addAsset(assetId) {
  const node = { id: freeNodeId(assetId), asset: assetId, position: placeInFront() };
  if (await write("POST", `/api/curate/scenes/${encodeURIComponent(state.scene)}/nodes`, { node }, `a new ${assetId}`)) {
    await reload(`Added ${node.id}.`);
    select(node.id);
  }
}

$("#recipe-add").addEventListener("click", async () => {
  const spec = recipeRequest();
  const node = { id: freeNodeId(spec.name.replace(/_/g, "-")), position: placeInFront() };
  if (await write("POST", `/api/curate/scenes/${encodeURIComponent(state.scene)}/nodes`, { node, recipe: spec }, `a new ${spec.name}`)) {
    await Promise.all([reload(`Added ${node.id}; it waits for review before visitors see it.`), loadLibrary()]);
    select(node.id);
  }
});

// -- review queue and history -------------------------------------------------------------------

async function loadReviews() {
  const { reviews } = (await api("GET", "/api/curate/reviews?status=pending")).body;
  $("#pending-count").textContent = reviews.length ? `(${reviews.length})` : "";
  $("#reviews").replaceChildren(
    ...(reviews.length
      ? reviews.map((review) => {
          const note = el("input", { type: "text", placeholder: "A note for the record", "aria-label": `Note on review ${review.id}` });
          const decide = (decision) => async () => {
            await api("POST", `/api/curate/reviews/${review.id}`, { body: { decision, note: note.value } });
            say(`${decision === "approve" ? "Approved" : "Rejected"} ${review.subject}.`);
            await Promise.all([loadReviews(), loadLibrary(), reload()]);
          };
          const what = review.kind === "asset"
            ? `${review.subject}: ${review.detail.provenance?.recipe || review.detail.provenance?.prompt || "generated"} by ${review.created_by}`
            : `${review.detail.path} [${review.detail.language}]: “${review.detail.text}”`;
          return el(
            "li",
            { "data-review": review.id },
            el("div", { class: "row" }, el("span", { class: "badge pending" }, review.kind), el("span", {}, what)),
            note,
            el("div", { class: "row" }, el("button", { type: "button", onclick: decide("approve") }, "Approve"), el("button", { type: "button", class: "quiet", onclick: decide("reject") }, "Reject")),
          );
        })
      : [el("li", { class: "muted" }, "Nothing is waiting.")]),
  );
}

async function loadLanguages() {
  const report = (await api("GET", `/api/curate/scenes/${encodeURIComponent(state.scene)}/languages`)).body;
  $("#languages").replaceChildren(
    ...Object.entries(report.languages).map(([language, gaps]) => {
      const lines = [];
      if (gaps.overlays_without_text.length) lines.push(`overlays without text: ${gaps.overlays_without_text.join(", ")}`);
      if (gaps.narration_without_audio.length) lines.push(`narration without audio: ${gaps.narration_without_audio.join(", ")}`);
      if (gaps.narration_without_captions.length) lines.push(`narration without captions: ${gaps.narration_without_captions.join(", ")}`);
      for (const stop of gaps.stops_missing) lines.push(`stop ${stop.tour}/${stop.stop} lacks ${stop.missing.join(" and ")}`);
      return el(
        "li",
        { "data-language": language },
        el("div", { class: "row" }, el("strong", {}, language), el("span", { class: `badge ${gaps.complete ? "published" : "pending"}` }, gaps.complete ? "complete" : "gaps")),
        ...lines.map((line) => el("span", { class: "muted" }, line)),
      );
    }),
  );
}

async function loadHistory() {
  loadLanguages().catch(() => {});
  const { revisions } = (await api("GET", `/api/curate/scenes/${encodeURIComponent(state.scene)}/revisions`)).body;
  $("#revisions").replaceChildren(
    ...revisions.map((revision) =>
      el(
        "li",
        { "data-revision": revision.revision },
        el(
          "div",
          { class: "row" },
          el("strong", {}, `r${revision.revision}`),
          revision.revision === state.published ? el("span", { class: "badge published" }, "published") : null,
          el("span", { class: "muted" }, `${revision.author} · ${new Date(revision.created_at).toLocaleString()}`),
        ),
        el("span", {}, revision.message),
        revision.revision === state.revision
          ? null
          : el(
              "div",
              { class: "row" },
              el("button", { type: "button", class: "quiet", onclick: () => rollBack(revision.revision) }, `Roll back to r${revision.revision}`),
            ),
      ),
    ),
  );
}

async function rollBack(number) {
  if (await write("POST", `/api/curate/scenes/${encodeURIComponent(state.scene)}/rollback`, { revision: number }, `a roll-back to r${number}`)) {
    await reload(`The draft is back to r${number} (as r${state.revision}); publish to show it to visitors.`);
  }
}

// -- the 3D view --------------------------------------------------------------------------------

class View {
  constructor(canvas) {
    this.canvas = canvas;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    this.renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
    this.camera = new THREE.PerspectiveCamera(55, 1, 0.05, 500);
    this.camera.position.set(0, 8, 14);
    this.controls = new OrbitControls(this.camera, canvas);
    this.gizmo = new TransformControls(this.camera, canvas);
    this.gizmo.addEventListener("dragging-changed", (e) => {
      this.controls.enabled = !e.value;
      if (!e.value && this.gizmo.object) {
        const holder = this.gizmo.object;
        saveTransform(holder.name, holder.position.toArray(), holder.quaternion.toArray(), holder.scale.toArray());
      }
    });
    for (const button of document.querySelectorAll("#tools button")) button.addEventListener("click", () => this.mode(button.dataset.mode));
    addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      const mode = { KeyW: "translate", KeyE: "rotate", KeyR: "scale" }[e.code];
      if (mode) this.mode(mode);
    });
    canvas.addEventListener("pointerup", (e) => this.pick(e));
    canvas.addEventListener("pointerdown", (e) => (this.down = [e.clientX, e.clientY]));
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.renderer.setAnimationLoop(() => this.render());
  }

  async show(document, manifest, fresh) {
    this.manifest = manifest;
    if (fresh || !this.streamer) {
      this.scene = new THREE.Scene();
      applyEnvironment(this.scene, document.environment);
      this.streamer = new SceneStreamer(document, manifest);
      this.streamer.pinnedLevel = 0;
      this.scene.add(this.streamer.root, this.gizmo.getHelper());
      await this.streamer.loadLowest(() => {});
      // An elevated view over the whole scene, from the side of the first spawn point.
      const box = new THREE.Box3().setFromObject(this.streamer.root);
      const centre = box.getCenter(new THREE.Vector3());
      const size = Math.min(box.getSize(new THREE.Vector3()).length(), 60);
      const spawn = document.spawn_points[0].position;
      const side = Math.sign(spawn[2] - centre.z) || 1;
      this.controls.target.set(centre.x, 0.8, centre.z);
      this.camera.position.set(centre.x, size * 0.6, centre.z + side * size * 0.45);
      this.controls.update();
    } else {
      await this.streamer.update(document, manifest);
    }
  }

  arrange(document) {
    this.streamer.arrange(document, this.manifest);
  }

  attach(nodeId) {
    const holder = nodeId && this.streamer?.nodes.get(nodeId);
    if (holder) this.gizmo.attach(holder);
    else this.gizmo.detach();
  }

  mode(mode) {
    this.gizmo.setMode(mode);
    for (const button of document.querySelectorAll("#tools button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  }

  pick(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4 || this.gizmo.dragging) return;
    const rect = this.canvas.getBoundingClientRect();
    const pointer = new THREE.Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(pointer, this.camera);
    const hit = raycaster.intersectObject(this.streamer.root, true)[0];
    for (let object = hit?.object; object; object = object.parent) {
      // The innermost node that is not a whole room or floor: the thing the curator clicked on.
      if (object.userData.node && object.parent !== this.streamer.root) return select(object.name);
      if (object.userData.node && object.parent === this.streamer.root && object.children.length < 3) return select(object.name);
    }
  }

  resize() {
    const { clientWidth: width, clientHeight: height } = this.canvas;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
  }

  render() {
    if (!this.scene) return;
    this.renderer.render(this.scene, this.camera);
  }

  // Screen coordinates of a point a share `along` the way up the gizmo's arrow for an axis (for tests).
  axisPoint(axis, along = 0.45) {
    const holder = this.gizmo.object;
    const origin = holder.getWorldPosition(new THREE.Vector3());
    const factor = origin.distanceTo(this.camera.position) * Math.min((1.9 * Math.tan((Math.PI * this.camera.fov) / 360)) / this.camera.zoom, 7);
    const direction = new THREE.Vector3(axis === "X" ? 1 : 0, axis === "Y" ? 1 : 0, axis === "Z" ? 1 : 0);
    const point = origin.addScaledVector(direction, along * factor * (this.gizmo.size / 4)).project(this.camera);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((point.x + 1) / 2) * rect.width, y: rect.top + ((1 - point.y) / 2) * rect.height };
  }
}

state.axisPoint = (axis, along) => view.axisPoint(axis, along);
state.nodePosition = (id) => draft.nodes.find((n) => n.id === id)?.position;

start().catch((error) => {
  state.status = "error";
  state.error = String(error.message || error);
  say(`Error: ${state.error}`);
});
