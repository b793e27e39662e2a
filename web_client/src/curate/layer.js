// @ts-check
// The tours tab: the scene's overlays, physical anchors and tours as forms. An overlay is added to the node
// selected in the view or the tree (or to an anchor); a tour's stops are ordered by dragging (or with the arrow
// buttons), and where to stand is set by clicking the floor. Each field is saved when it changes, as one edit of
// the draft (so it can be undone); a refusal is shown at the field it names.
import { el, find } from "../dom.js";
import { RTL } from "./texts.js";
import { RAD, round } from "./units.js";

/** @typedef {import("../types.js").SceneDocument} SceneDocument */
/** @typedef {import("../types.js").Overlay} Overlay */
/** @typedef {(string | number)[]} Path where a value is in the document */

const KINDS = /** @type {const} */ (["label", "panel", "narration", "reconstruction", "path"]);
/** @type {Record<string, {texts: string[], media: string[]}>} the texts and media each kind of overlay shows (docs/ar-tours.md) */
const FIELDS = {
  label: { texts: ["text"], media: [] },
  panel: { texts: ["title", "text"], media: ["image"] },
  narration: { texts: ["text"], media: ["audio", "captions"] },
  reconstruction: { texts: [], media: [] },
  path: { texts: [], media: [] },
};
const MEDIA_URL = /^(https?:\/\/|\/)/; // as scene.schema.json's media
/** What a media file must be, checked when it is on this server. */
const MEDIA_CHECK = {
  audio: { type: "audio/", what: "an audio file" },
  image: { type: "image/", what: "an image" },
  captions: { type: "text/vtt", what: "WebVTT captions" },
};

/**
 * "$.overlays[2].text.en": a path as the server names a field.
 * @param {Path} path
 */
export function jsonPath(path) {
  return `$${path.map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`)).join("")}`;
}

/**
 * Set (or, with undefined, remove) the value at `path`, making the objects on the way; an object left empty by a
 * removal goes too.
 * @param {Record<string, any>} document changed in place
 * @param {Path} path
 * @param {unknown} value
 */
export function setAt(document, path, value) {
  const holders = [document];
  for (const key of path.slice(0, -1)) {
    const holder = holders[holders.length - 1];
    if (holder[key] === undefined) holder[key] = {};
    holders.push(holder[key]);
  }
  const last = path[path.length - 1];
  if (value !== undefined) {
    holders[holders.length - 1][last] = value;
    return;
  }
  delete holders[holders.length - 1][last];
  for (let i = holders.length - 1; i > 1; i--) {
    const holder = holders[i];
    if (Array.isArray(holder) || Object.keys(holder).length) break;
    delete holders[i - 1][path[i - 1]];
  }
}

/**
 * The value at `path`, or undefined.
 * @param {unknown} document
 * @param {Path} path
 * @returns {unknown}
 */
export function getAt(document, path) {
  /** @type {any} */
  let value = document;
  for (const key of path) value = value?.[key];
  return value;
}

/**
 * A new id from `base` that `taken` does not have.
 * @param {string} base
 * @param {Iterable<string>} taken
 */
function freeId(base, taken) {
  const used = new Set(taken);
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  return id;
}

/**
 * The heading a visitor standing at `from` faces to look at `to` (degrees, as yaw_deg).
 * @param {number[]} from
 * @param {number[]} to
 */
export function yawTowards(from, to) {
  const [dx, dz] = [to[0] - from[0], to[2] - from[2]];
  return Math.hypot(dx, dz) < 1e-6 ? 0 : Math.round(Math.atan2(-dx, -dz) / RAD);
}

export class TourLayer {
  /**
   * @param {object} options
   * @param {import("./draft.js").Draft} options.draft
   * @param {import("./view.js").View} options.view
   * @param {(message: string) => void} options.say
   * @param {() => {id: string, status: string}[]} options.assets the library's assets
   * @param {() => void} options.onSaved the layer changed: its language report too
   */
  constructor({ draft, view, say, assets, onSaved }) {
    this.draft = draft;
    this.view = view;
    this.say = say;
    this.assets = assets;
    this.onSaved = onSaved;
    this.container = find("#layer");
    /** @type {string | null} the node selected, that new overlays go on */
    this.selected = null;
    /** @type {Set<string>} the cards the curator has open, kept open across saves */
    this.open = new Set();
  }

  /** @param {string | null} nodeId */
  select(nodeId) {
    this.selected = nodeId;
    const adder = this.container.querySelector(".overlay-adder");
    if (adder) adder.replaceWith(this.overlayAdder());
  }

  // -- saving --------------------------------------------------------------------------------------------------

  /**
   * Save an edit of the layer, then show the forms again (the focused field keeps the focus).
   * @param {string} what
   * @param {(document: SceneDocument & Record<string, any>) => void} edit
   */
  async save(what, edit) {
    const reply = await this.draft.change(what, /** @type {(d: SceneDocument) => void} */ (edit));
    if (reply) {
      this.render();
      this.onSaved();
    }
    return reply;
  }

  /**
   * Show a refusal at the field it names (or the nearest field above it).
   * @param {string} field the server's JSON path
   * @param {string} message
   */
  markError(field, message) {
    const inputs = [...this.container.querySelectorAll("[data-path]")].map((input) => /** @type {HTMLElement} */ (input));
    const target =
      inputs.find((i) => i.dataset.path === field) ||
      inputs.filter((i) => field.startsWith(i.dataset.path) || i.dataset.path.startsWith(field)).sort((a, b) => a.dataset.path.length - b.dataset.path.length)[0];
    if (!target) return;
    this.note(target, message, "field-error");
  }

  /**
   * @param {HTMLElement} input
   * @param {string} message
   * @param {"field-error" | "field-warning"} kind
   */
  note(input, message, kind) {
    const label = input.closest("label") || input;
    label.parentElement.querySelector(`[data-note-for="${CSS.escape(input.dataset.path)}"]`)?.remove();
    label.after(el("span", { class: kind, role: "alert", "data-note-for": input.dataset.path }, message));
    input.setAttribute("aria-invalid", "true");
  }

  // -- rendering -----------------------------------------------------------------------------------------------

  render() {
    const focused = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.path;
    const doc = this.draft.document;
    this.container.replaceChildren(
      el("h2", {}, "Overlays"),
      this.overlayAdder(),
      el("div", { class: "cards" }, ...(doc.overlays || []).map((overlay, i) => this.overlayCard(overlay, i))),
      el("h2", {}, "Physical anchors"),
      el("p", { class: "muted small" }, "Printed markers in the real gallery: an AR visitor who scans one sees the scene's overlays over the room."),
      el("div", { class: "cards" }, ...(doc.anchors || []).map((anchor, i) => this.anchorCard(anchor, i))),
      el("button", { type: "button", class: "quiet", id: "add-anchor", onclick: () => this.addAnchor() }, "Add an anchor: click where it hangs"),
      el("h2", {}, "Tours"),
      el("div", { class: "cards" }, ...(doc.tours || []).map((tour, t) => this.tourCard(tour, t))),
      el("button", { type: "button", class: "quiet", id: "add-tour", onclick: () => this.addTour() }, "New tour"),
    );
    if (focused) /** @type {HTMLElement | null} */ (this.container.querySelector(`[data-path="${CSS.escape(focused)}"]`))?.focus();
  }

  /**
   * A card that stays open across saves while the curator has it open.
   * @param {string} key
   * @param {string} summary
   * @param {...(HTMLElement | null)} children
   */
  card(key, summary, ...children) {
    const details = el("details", { class: "card", "data-card": key, open: this.open.has(key) }, el("summary", {}, summary), ...children);
    details.addEventListener("toggle", () => (details.open ? this.open.add(key) : this.open.delete(key)));
    return details;
  }

  /**
   * A text or number field bound to `path`: saved on change, an empty one removed.
   * @param {string} label
   * @param {Path} path
   * @param {unknown} value
   * @param {{number?: boolean, multiline?: boolean, dir?: string, step?: number, check?: (value: string) => string | null}} [options]
   *   `check`: a reason to refuse the value before it is saved
   */
  field(label, path, value, options = {}) {
    const input = el(options.multiline ? "textarea" : "input", {
      type: options.number ? "number" : "text",
      step: options.step,
      rows: 2,
      "data-path": jsonPath(path),
      dir: options.dir || "auto",
    });
    input.value = value === undefined || value === null ? "" : String(value);
    input.addEventListener("change", () => {
      const text = input.value.trim();
      const refused = text && options.check?.(text);
      if (refused) return this.note(input, refused, "field-error");
      const parsed = text === "" ? undefined : options.number ? Number(text) : text;
      if (getAt(this.draft.document, path) === parsed) return; // unchanged: no new revision
      this.save(`${jsonPath(path).slice(2)}`, (doc) => setAt(doc, path, parsed));
    });
    return el("label", {}, label, input);
  }

  /**
   * Three number fields for a point (metres), saved together.
   * @param {string} label
   * @param {Path} path
   * @param {number[] | undefined} value
   */
  vector(label, path, value) {
    const inputs = [0, 1, 2].map((i) =>
      el("input", { type: "number", step: 0.05, value: value ? value[i] : 0, "aria-label": `${label} ${"xyz"[i]}`, "data-path": `${jsonPath(path)}[${i}]` }),
    );
    for (const input of inputs) {
      input.addEventListener("change", () => {
        const point = inputs.map((i) => Number(i.value) || 0);
        const now = /** @type {number[] | undefined} */ (getAt(this.draft.document, path));
        if (now && now.every((v, i) => v === point[i])) return; // unchanged: no new revision
        this.save(jsonPath(path).slice(2), (doc) => setAt(doc, path, point));
      });
    }
    return el("div", { class: "xyz" }, el("span", {}, label), ...inputs);
  }

  /**
   * One field per language of the scene for a text.
   * @param {string} name
   * @param {Path} path
   * @param {Record<string, string> | undefined} texts
   * @param {boolean} [multiline]
   */
  texts(name, path, texts, multiline = false) {
    return this.draft.languages().map((language) =>
      el(
        "div",
        { class: "text-row" },
        this.field(`${name} · ${language}`, [...path, language], texts?.[language], { multiline, dir: RTL.includes(language.split("-")[0]) ? "rtl" : "auto" }),
        texts?.[language] ? null : el("span", { class: "missing" }, `No ${name} in ${language} yet.`),
      ),
    );
  }

  /**
   * One URL per language for a recording, captions or an image, checked before and after it is saved.
   * @param {"audio" | "captions" | "image"} name
   * @param {Path} path
   * @param {Record<string, string> | undefined} urls
   */
  media(name, path, urls) {
    const check = (/** @type {string} */ url) => (MEDIA_URL.test(url) ? null : "A link starts with https://, http:// or / (a file on this server).");
    const rows = this.draft.languages().map((language) => {
      const row = el("div", { class: "text-row" }, this.field(`${name} · ${language} (link)`, [...path, language], urls?.[language], { check }));
      const url = urls?.[language];
      if (url?.startsWith("/")) this.checkMedia(name, url, /** @type {HTMLElement} */ (row.querySelector("input")));
      return row;
    });
    return rows;
  }

  /**
   * Say at the field when a file on this server is missing or is not what the field wants.
   * @param {"audio" | "captions" | "image"} name
   * @param {string} url
   * @param {HTMLElement} input
   */
  async checkMedia(name, url, input) {
    const wanted = MEDIA_CHECK[name];
    try {
      const response = await fetch(url);
      if (!response.ok) return this.note(input, `Nothing at ${url} (HTTP ${response.status}): visitors would get no ${name}.`, "field-warning");
      const type = response.headers.get("Content-Type") || "";
      const head = name === "captions" ? (await response.text()).slice(0, 6) : "";
      if (name === "captions" ? head !== "WEBVTT" : !type.startsWith(wanted.type)) {
        this.note(input, `${url} is not ${wanted.what}${name === "captions" ? " (a WebVTT file begins with WEBVTT)" : ` (it is ${type || "of no stated type"})`}.`, "field-warning");
      }
    } catch {
      this.note(input, `Cannot load ${url} to check it.`, "field-warning");
    }
  }

  // -- overlays ------------------------------------------------------------------------------------------------

  overlayAdder() {
    const node = this.selected && this.draft.node(this.selected);
    const buttons = KINDS.map((kind) =>
      el("button", { type: "button", class: "quiet", "data-add-overlay": kind, disabled: !node, onclick: () => this.addOverlay(kind, { node: this.selected }) }, kind),
    );
    const hint = node ? `Add to ${this.draft.nameOf(node)}:` : "Select an object in the view or the tree to add an overlay to it:";
    return el("div", { class: "overlay-adder" }, el("p", { class: "small" }, hint), el("div", { class: "row" }, ...buttons));
  }

  /**
   * @param {Overlay} overlay
   * @param {number} i
   */
  overlayCard(overlay, i) {
    const doc = this.draft.document;
    const p = ["overlays", i];
    const on = overlay.at.node ? `on ${overlay.at.node}` : `at anchor ${overlay.at.anchor}`;
    const place = el(
      "select",
      { "data-path": jsonPath([...p, "at"]), "aria-label": "placed on" },
      ...doc.nodes.map((n) => el("option", { value: `node:${n.id}`, selected: overlay.at.node === n.id }, `object: ${this.draft.nameOf(n)}`)),
      ...(doc.anchors || []).map((a) => el("option", { value: `anchor:${a.id}`, selected: overlay.at.anchor === a.id }, `anchor: ${a.id}`)),
    );
    place.addEventListener("change", () => {
      const [kind, id] = /** @type {HTMLSelectElement} */ (place).value.split(/:(.*)/s);
      this.save(`${overlay.id} placed on ${id}`, (d) => (d.overlays[i].at = { [kind]: id, ...(overlay.at.offset ? { offset: overlay.at.offset } : {}) }));
    });
    const { texts, media } = FIELDS[overlay.kind];
    /** @type {HTMLElement[]} */
    const body = [
      el("label", {}, "Placed on", place),
      this.vector("Offset", [...p, "at", "offset"], overlay.at.offset),
      this.trigger(overlay, i),
      ...texts.flatMap((name) => this.texts(name, [...p, name], /** @type {any} */ (overlay)[name], name === "text" && overlay.kind !== "label")),
      ...media.flatMap((name) => this.media(/** @type {"audio" | "captions" | "image"} */ (name), [...p, name], /** @type {any} */ (overlay)[name])),
    ];
    if (overlay.kind === "reconstruction") {
      const select = el(
        "select",
        { "data-path": jsonPath([...p, "asset"]), "aria-label": "asset" },
        ...this.assets().map((a) => el("option", { value: a.id, selected: a.id === overlay.asset }, `${a.id}${a.status === "approved" ? "" : ` (${a.status})`}`)),
      );
      select.addEventListener("change", () => this.save(`${overlay.id}'s asset`, (d) => (d.overlays[i].asset = /** @type {HTMLSelectElement} */ (select).value)));
      body.push(el("label", {}, "The reconstruction to show", select));
    }
    if (overlay.kind === "path") body.push(...this.points(overlay, i));
    body.push(el("button", { type: "button", class: "quiet", "data-remove-overlay": overlay.id, onclick: () => this.removeOverlay(overlay.id) }, `Remove ${overlay.id}`));
    return this.card(`overlay:${overlay.id}`, `${overlay.kind} · ${overlay.id} · ${on}`, ...body);
  }

  /**
   * When an overlay shows: always, near it, or at one tour stop.
   * @param {Overlay} overlay
   * @param {number} i
   */
  trigger(overlay, i) {
    const stops = (this.draft.document.tours || []).flatMap((tour) => tour.stops.map((stop) => stop.id));
    const trigger = overlay.trigger || {};
    const mode = trigger.stop ? "stop" : trigger.within_m ? "near" : "always";
    const select = el(
      "select",
      { "data-path": jsonPath(["overlays", i, "trigger"]), "aria-label": "shown" },
      el("option", { value: "always", selected: mode === "always" }, "always"),
      el("option", { value: "near", selected: mode === "near" }, "when a visitor is near"),
      ...stops.map((id) => el("option", { value: `stop:${id}`, selected: trigger.stop === id }, `at tour stop ${id}`)),
    );
    select.addEventListener("change", () => {
      const value = /** @type {HTMLSelectElement} */ (select).value;
      const next = value === "always" ? undefined : value === "near" ? { within_m: 4 } : { stop: value.slice(5) };
      this.save(`when ${overlay.id} shows`, (d) => setAt(d, ["overlays", i, "trigger"], next));
    });
    const rows = [el("label", {}, "Shown", select)];
    if (mode === "near") rows.push(this.field("Within (metres)", ["overlays", i, "trigger", "within_m"], trigger.within_m, { number: true, step: 0.5 }));
    return el("div", {}, ...rows);
  }

  /**
   * A path's points, relative to where it is placed.
   * @param {Overlay} overlay
   * @param {number} i
   */
  points(overlay, i) {
    const points = overlay.points || [];
    const rows = points.map((point, k) =>
      el(
        "div",
        { class: "row" },
        this.vector(`Point ${k + 1}`, ["overlays", i, "points", k], point),
        points.length > 2
          ? el("button", { type: "button", class: "quiet", onclick: () => this.save(`${overlay.id}: a point removed`, (d) => d.overlays[i].points.splice(k, 1)) }, "Remove")
          : null,
      ),
    );
    const last = points[points.length - 1] || [0, 0, 0];
    const add = el(
      "button",
      { type: "button", class: "quiet", onclick: () => this.save(`${overlay.id}: a point added`, (d) => d.overlays[i].points.push([last[0] + 1, last[1], last[2]])) },
      "Add a point",
    );
    return [el("p", { class: "small" }, "The way to walk, in metres from where the path is placed:"), ...rows, add];
  }

  /**
   * A new overlay of a kind on a node or an anchor, above it, with a first text to write over.
   * @param {Overlay["kind"]} kind
   * @param {{node?: string, anchor?: string}} at
   */
  addOverlay(kind, at) {
    const doc = this.draft.document;
    const base = at.node || at.anchor;
    const id = freeId(`${base}-${kind}`, (doc.overlays || []).map((o) => o.id));
    const box = at.node ? this.view.worldBox(at.node) : null;
    const origin = at.node ? this.view.nodeWorldPosition(at.node) : null;
    const above = box && origin ? Number((box.max[1] - origin[1] + 0.25).toFixed(2)) : 0.3;
    const spec = at.node ? this.draft.node(at.node) : null;
    const name = (spec && spec.name?.[doc.default_language]) || base;
    /** @type {Overlay} */
    const overlay = { id, kind, at: { ...at, offset: kind === "path" ? [0, 0.02, 0.8] : [0, kind === "reconstruction" ? above + 0.6 : above, 0] } };
    if (kind === "label" || kind === "panel" || kind === "narration") overlay.text = { [doc.default_language]: name };
    if (kind === "panel") overlay.title = { [doc.default_language]: name };
    if (kind === "reconstruction") overlay.asset = spec?.asset || this.assets()[0]?.id;
    if (kind === "path") overlay.points = [[0, 0, 0], [1.5, 0, 0]];
    this.open.add(`overlay:${id}`);
    return this.save(`${kind} ${id} added`, (d) => (d.overlays = [...(d.overlays || []), overlay]));
  }

  /** @param {string} id */
  removeOverlay(id) {
    return this.save(`overlay ${id} removed`, (d) => {
      d.overlays = d.overlays.filter((/** @type {Overlay} */ o) => o.id !== id);
      if (!d.overlays.length) delete d.overlays;
      for (const tour of d.tours || []) {
        for (const stop of tour.stops) if (stop.overlays) stop.overlays = stop.overlays.filter((/** @type {string} */ o) => o !== id);
      }
    });
  }

  // -- anchors -------------------------------------------------------------------------------------------------

  /**
   * @param {import("../types.js").Anchor} anchor
   * @param {number} a
   */
  anchorCard(anchor, a) {
    const p = ["anchors", a];
    return this.card(
      `anchor:${anchor.id}`,
      `anchor · ${anchor.id}`,
      ...this.texts("name", [...p, "name"], anchor.name),
      this.vector("Position", [...p, "position"], anchor.position),
      this.field("Facing (degrees: the way a visitor reading it faces)", [...p, "yaw_deg"], anchor.yaw_deg, { number: true, step: 5 }),
      this.field("Printed marker size (metres)", [...p, "marker_size_m"], anchor.marker_size_m, { number: true, step: 0.01 }),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", onclick: () => this.addOverlay("panel", { anchor: anchor.id }) }, "Add a panel here"),
        el("button", { type: "button", class: "quiet", onclick: () => this.removeAnchor(anchor.id) }, `Remove ${anchor.id}`),
      ),
    );
  }

  // The next click in the view places a new anchor on the wall (or whatever) it hits, facing out of it.
  addAnchor() {
    this.say("Click in the view where the printed marker hangs (Escape to cancel).");
    this.view.armPoint({
      floor: false,
      then: ({ point, normal }) => {
        const doc = this.draft.document;
        const id = freeId("anchor", (doc.anchors || []).map((a) => a.id));
        const anchor = { id, position: /** @type {[number, number, number]} */ (point), yaw_deg: Math.round(Math.atan2(normal[0], normal[2]) / RAD), marker_size_m: 0.15 };
        this.open.add(`anchor:${id}`);
        this.save(`anchor ${id} added`, (d) => (d.anchors = [...(d.anchors || []), anchor]));
      },
    });
  }

  /** @param {string} id */
  removeAnchor(id) {
    const placed = (this.draft.document.overlays || []).filter((o) => o.at.anchor === id).map((o) => o.id);
    if (placed.length) return this.say(`${id} holds ${placed.join(", ")}: place them elsewhere or remove them first.`);
    return this.save(`anchor ${id} removed`, (d) => {
      d.anchors = d.anchors.filter((/** @type {{id: string}} */ x) => x.id !== id);
      if (!d.anchors.length) delete d.anchors;
    });
  }

  // -- tours ---------------------------------------------------------------------------------------------------

  /**
   * @param {import("../types.js").Tour} tour
   * @param {number} t
   */
  tourCard(tour, t) {
    const stops = el("ol", { class: "stops", "data-tour": tour.id }, ...tour.stops.map((stop, s) => this.stopItem(tour, t, stop, s)));
    return this.card(
      `tour:${tour.id}`,
      `tour · ${tour.id} · ${tour.stops.length} stops`,
      ...this.texts("title", ["tours", t, "title"], tour.title),
      el("p", { class: "small" }, "Stops, in order: drag one by its handle (or use the arrows) to move it."),
      stops,
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", "data-add-stop": tour.id, onclick: () => this.addStop(t) }, "Add a stop"),
        el("button", { type: "button", class: "quiet", onclick: () => this.removeTour(t) }, `Remove the tour ${tour.id}`),
      ),
    );
  }

  /**
   * @param {import("../types.js").Tour} tour
   * @param {number} t
   * @param {import("../types.js").TourStop} stop
   * @param {number} s
   */
  stopItem(tour, t, stop, s) {
    const p = ["tours", t, "stops", s];
    const doc = this.draft.document;
    const title = stop.title?.[doc.default_language] || Object.values(stop.title || {})[0] || stop.id;
    // Dragged with a pointer (mouse, pen or touch): let go over another stop to put this one in its place.
    const handle = el("span", { class: "handle", title: "Drag to move this stop", "aria-hidden": "true" }, "⠿");
    handle.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      handle.setPointerCapture(e.pointerId);
      handle.closest("li").classList.add("dragging");
    });
    handle.addEventListener("pointerup", (e) => {
      handle.closest("li").classList.remove("dragging");
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest("li.stop");
      const index = over ? [...over.parentElement.children].indexOf(over) : -1;
      if (over && over.parentElement === handle.closest("ol") && index >= 0) this.moveStop(t, s, index);
    });
    handle.addEventListener("pointercancel", () => handle.closest("li").classList.remove("dragging"));
    const overlays = (doc.overlays || []).map((o) => {
      const box = el("input", { type: "checkbox", checked: (stop.overlays || []).includes(o.id), "data-stop-overlay": o.id });
      box.addEventListener("change", () =>
        this.save(`${stop.id}'s overlays`, (d) => {
          const chosen = new Set(d.tours[t].stops[s].overlays || []);
          if (/** @type {HTMLInputElement} */ (box).checked) chosen.add(o.id);
          else chosen.delete(o.id);
          const ordered = (d.overlays || []).map((x) => x.id).filter((id) => chosen.has(id));
          setAt(d, [...p, "overlays"], ordered.length ? ordered : undefined);
        }),
      );
      return el("label", { class: "mt" }, box, `${o.id} (${o.kind})`);
    });
    const key = `stop:${tour.id}:${stop.id}`;
    const body = el(
      "details",
      { class: "stop-body", open: this.open.has(key) },
      el("summary", {}, "Texts, overlays, where to stand"),
      ...this.texts("title", [...p, "title"], stop.title),
      ...this.texts("narration", [...p, "narration"], stop.narration, true),
      el("p", { class: "small" }, "Shown at this stop:"),
      el("div", { class: "row" }, ...(overlays.length ? overlays : [el("span", { class: "muted" }, "no overlays yet")])),
      el("p", { class: "small" }, "Where to stand:"),
      this.vector("Position", [...p, "stand", "position"], stop.stand?.position),
      this.field("Facing (degrees)", [...p, "stand", "yaw_deg"], stop.stand?.yaw_deg, { number: true, step: 5 }),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", "data-stand": stop.id, onclick: () => this.pickStand(t, s) }, "Set where to stand: click the floor"),
        el("button", { type: "button", class: "quiet", disabled: tour.stops.length < 2, onclick: () => this.removeStop(t, s) }, `Remove ${stop.id}`),
      ),
    );
    body.addEventListener("toggle", () => (body.open ? this.open.add(key) : this.open.delete(key)));
    const item = el(
      "li",
      { class: "stop", "data-stop": stop.id },
      el(
        "div",
        { class: "row stop-head" },
        handle,
        el("strong", {}, `${s + 1}. ${title}`),
        el("span", { class: "muted" }, stop.id),
        el("span", { class: "spacer" }),
        el("button", { type: "button", class: "quiet", "aria-label": `move ${stop.id} up`, disabled: s === 0, onclick: () => this.moveStop(t, s, s - 1) }, "↑"),
        el("button", { type: "button", class: "quiet", "aria-label": `move ${stop.id} down`, disabled: s === tour.stops.length - 1, onclick: () => this.moveStop(t, s, s + 1) }, "↓"),
      ),
      body,
    );
    return item;
  }

  addTour() {
    const doc = this.draft.document;
    const id = freeId("tour", (doc.tours || []).map((x) => x.id));
    const stop = { id: "stop-1", title: { [doc.default_language]: "Stop 1" } };
    const tour = { id, title: { [doc.default_language]: "New tour" }, stops: [stop] };
    this.open.add(`tour:${id}`);
    this.open.add(`stop:${id}:stop-1`);
    return this.save(`tour ${id} added`, (d) => (d.tours = [...(d.tours || []), tour]));
  }

  /** @param {number} t */
  addStop(t) {
    const doc = this.draft.document;
    const taken = doc.tours.flatMap((x) => x.stops.map((stop) => stop.id));
    const n = doc.tours[t].stops.length + 1;
    const id = freeId(`stop-${n}`, taken);
    this.open.add(`stop:${doc.tours[t].id}:${id}`);
    return this.save(`stop ${id} added`, (d) => d.tours[t].stops.push({ id, title: { [doc.default_language]: `Stop ${n}` } }));
  }

  /**
   * @param {number} t
   * @param {number} from
   * @param {number} to
   */
  moveStop(t, from, to) {
    if (from === to) return null;
    const id = this.draft.document.tours[t].stops[from].id;
    return this.save(`stop ${id} moved to place ${to + 1}`, (d) => {
      const [stop] = d.tours[t].stops.splice(from, 1);
      d.tours[t].stops.splice(to, 0, stop);
    });
  }

  /**
   * @param {number} t
   * @param {number} s
   */
  removeStop(t, s) {
    const stop = this.draft.document.tours[t].stops[s];
    return this.save(`stop ${stop.id} removed`, (d) => {
      d.tours[t].stops.splice(s, 1);
      for (const overlay of d.overlays || []) if (overlay.trigger?.stop === stop.id) delete overlay.trigger;
    });
  }

  /** @param {number} t */
  removeTour(t) {
    const tour = this.draft.document.tours[t];
    const stops = new Set(tour.stops.map((stop) => stop.id));
    return this.save(`tour ${tour.id} removed`, (d) => {
      d.tours.splice(t, 1);
      if (!d.tours.length) delete d.tours;
      for (const overlay of d.overlays || []) if (stops.has(overlay.trigger?.stop)) delete overlay.trigger;
    });
  }

  /**
   * The next click on the floor is where a stop's visitors stand, facing its first overlay.
   * @param {number} t
   * @param {number} s
   */
  pickStand(t, s) {
    const stop = this.draft.document.tours[t].stops[s];
    this.say(`Click the floor where visitors stand for ${stop.id} (Escape to cancel).`);
    this.view.armPoint({
      floor: true,
      then: ({ point }) => {
        const target = this.overlayPlace((stop.overlays || [])[0]);
        const stand = { position: /** @type {[number, number, number]} */ (round(point, 2)), yaw_deg: target ? yawTowards(point, target) : stop.stand?.yaw_deg || 0 };
        this.save(`where to stand for ${stop.id}`, (d) => (d.tours[t].stops[s].stand = stand));
      },
    });
  }

  /**
   * Where an overlay is in the scene (its node's or anchor's place and its offset).
   * @param {string | undefined} id
   * @returns {number[] | null}
   */
  overlayPlace(id) {
    const doc = this.draft.document;
    const overlay = id && (doc.overlays || []).find((o) => o.id === id);
    if (!overlay) return null;
    const base = overlay.at.node ? this.view.nodeWorldPosition(overlay.at.node) : (doc.anchors || []).find((a) => a.id === overlay.at.anchor)?.position;
    if (!base) return null;
    const offset = overlay.at.offset || [0, 0, 0];
    return base.map((v, i) => v + offset[i]);
  }
}
