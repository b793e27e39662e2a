// @ts-check
// The tours tab: the scene's overlays, physical anchors and tours as forms. An overlay is added to the node
// selected in the view or the tree (or to an anchor); a tour's stops are ordered by dragging (or with the arrow
// buttons), and where to stand is set by clicking the floor. Each field is saved when it changes, as one edit of
// the draft (so it can be undone); a refusal is shown at the field it names.
import { el, find } from "../dom.js";
import { RTL } from "./texts.js";
import { RAD, round } from "./units.js";
import { t } from "./words.js";

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
const MEDIA_CHECK = { audio: "audio/", image: "image/", captions: "text/vtt" };

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
      el("h2", {}, t("overlays")),
      this.overlayAdder(),
      el("div", { class: "cards" }, ...(doc.overlays || []).map((overlay, i) => this.overlayCard(overlay, i))),
      el("h2", {}, t("anchors")),
      el("p", { class: "muted small" }, t("anchors_hint")),
      el("div", { class: "cards" }, ...(doc.anchors || []).map((anchor, i) => this.anchorCard(anchor, i))),
      el("button", { type: "button", class: "quiet", id: "add-anchor", onclick: () => this.addAnchor() }, t("add_anchor")),
      el("h2", {}, t("tours")),
      el("div", { class: "cards" }, ...(doc.tours || []).map((tour, ti) => this.tourCard(tour, ti))),
      el("button", { type: "button", class: "quiet", id: "add-tour", onclick: () => this.addTour() }, t("new_tour")),
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
        this.field(`${t(`field_${name}`)} · ${language}`, [...path, language], texts?.[language], { multiline, dir: RTL.includes(language.split("-")[0]) ? "rtl" : "auto" }),
        texts?.[language] ? null : el("span", { class: "missing" }, t("missing_text", { field: t(`field_${name}`), language })),
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
    const check = (/** @type {string} */ url) => (MEDIA_URL.test(url) ? null : t("link_rule"));
    const rows = this.draft.languages().map((language) => {
      const row = el("div", { class: "text-row" }, this.field(t("link_field", { field: t(`field_${name}`), language }), [...path, language], urls?.[language], { check }));
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
    try {
      const response = await fetch(url);
      if (!response.ok) return this.note(input, t("media_missing", { url, status: response.status, field: t(`field_${name}`) }), "field-warning");
      const type = response.headers.get("Content-Type") || "";
      const head = name === "captions" ? (await response.text()).slice(0, 6) : "";
      if (name === "captions" ? head !== "WEBVTT" : !type.startsWith(MEDIA_CHECK[name])) {
        this.note(input, t(`media_not_${name}`, { url, type: type || t("no_type") }), "field-warning");
      }
    } catch {
      this.note(input, t("media_unreachable", { url }), "field-warning");
    }
  }

  // -- overlays ------------------------------------------------------------------------------------------------

  overlayAdder() {
    const node = this.selected && this.draft.node(this.selected);
    const buttons = KINDS.map((kind) =>
      el("button", { type: "button", class: "quiet", "data-add-overlay": kind, disabled: !node, onclick: () => this.addOverlay(kind, { node: this.selected }) }, t(`kind_${kind}`)),
    );
    const hint = node ? t("add_to_node", { node: this.draft.nameOf(node) }) : t("select_to_add");
    return el("div", { class: "overlay-adder" }, el("p", { class: "small" }, hint), el("div", { class: "row" }, ...buttons));
  }

  /**
   * @param {Overlay} overlay
   * @param {number} i
   */
  overlayCard(overlay, i) {
    const doc = this.draft.document;
    const p = ["overlays", i];
    const on = overlay.at.node ? t("on_node", { node: overlay.at.node }) : t("at_anchor", { anchor: overlay.at.anchor });
    const place = el(
      "select",
      { "data-path": jsonPath([...p, "at"]), "aria-label": t("placed_on") },
      ...doc.nodes.map((n) => el("option", { value: `node:${n.id}`, selected: overlay.at.node === n.id }, t("object_option", { name: this.draft.nameOf(n) }))),
      ...(doc.anchors || []).map((a) => el("option", { value: `anchor:${a.id}`, selected: overlay.at.anchor === a.id }, t("anchor_option", { id: a.id }))),
    );
    place.addEventListener("change", () => {
      const [kind, id] = /** @type {HTMLSelectElement} */ (place).value.split(/:(.*)/s);
      this.save(t("what_placed_on", { overlay: overlay.id, id }), (d) => (d.overlays[i].at = { [kind]: id, ...(overlay.at.offset ? { offset: overlay.at.offset } : {}) }));
    });
    const { texts, media } = FIELDS[overlay.kind];
    /** @type {HTMLElement[]} */
    const body = [
      el("label", {}, t("placed_on"), place),
      this.vector(t("offset"), [...p, "at", "offset"], overlay.at.offset),
      this.trigger(overlay, i),
      ...texts.flatMap((name) => this.texts(name, [...p, name], /** @type {any} */ (overlay)[name], name === "text" && overlay.kind !== "label")),
      ...media.flatMap((name) => this.media(/** @type {"audio" | "captions" | "image"} */ (name), [...p, name], /** @type {any} */ (overlay)[name])),
    ];
    if (overlay.kind === "reconstruction") {
      const select = el(
        "select",
        { "data-path": jsonPath([...p, "asset"]), "aria-label": t("asset") },
        ...this.assets().map((a) => el("option", { value: a.id, selected: a.id === overlay.asset }, `${a.id}${a.status === "approved" ? "" : ` (${t(`status_${a.status}`)})`}`)),
      );
      select.addEventListener("change", () => this.save(t("what_overlay_asset", { overlay: overlay.id }), (d) => (d.overlays[i].asset = /** @type {HTMLSelectElement} */ (select).value)));
      body.push(el("label", {}, t("reconstruction_asset"), select));
    }
    if (overlay.kind === "path") body.push(...this.points(overlay, i));
    body.push(el("button", { type: "button", class: "quiet", "data-remove-overlay": overlay.id, onclick: () => this.removeOverlay(overlay.id) }, t("remove_id", { id: overlay.id })));
    return this.card(`overlay:${overlay.id}`, `${t(`kind_${overlay.kind}`)} · ${overlay.id} · ${on}`, ...body);
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
      { "data-path": jsonPath(["overlays", i, "trigger"]), "aria-label": t("shown") },
      el("option", { value: "always", selected: mode === "always" }, t("always")),
      el("option", { value: "near", selected: mode === "near" }, t("when_near")),
      ...stops.map((id) => el("option", { value: `stop:${id}`, selected: trigger.stop === id }, t("at_stop", { stop: id }))),
    );
    select.addEventListener("change", () => {
      const value = /** @type {HTMLSelectElement} */ (select).value;
      const next = value === "always" ? undefined : value === "near" ? { within_m: 4 } : { stop: value.slice(5) };
      this.save(t("what_shows", { overlay: overlay.id }), (d) => setAt(d, ["overlays", i, "trigger"], next));
    });
    const rows = [el("label", {}, t("shown"), select)];
    if (mode === "near") rows.push(this.field(t("within"), ["overlays", i, "trigger", "within_m"], trigger.within_m, { number: true, step: 0.5 }));
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
        this.vector(t("point_n", { n: k + 1 }), ["overlays", i, "points", k], point),
        points.length > 2
          ? el("button", { type: "button", class: "quiet", onclick: () => this.save(t("what_point_removed", { overlay: overlay.id }), (d) => d.overlays[i].points.splice(k, 1)) }, t("remove"))
          : null,
      ),
    );
    const last = points[points.length - 1] || [0, 0, 0];
    const add = el(
      "button",
      { type: "button", class: "quiet", onclick: () => this.save(t("what_point_added", { overlay: overlay.id }), (d) => d.overlays[i].points.push([last[0] + 1, last[1], last[2]])) },
      t("add_point"),
    );
    return [el("p", { class: "small" }, t("path_hint")), ...rows, add];
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
    return this.save(t("what_overlay_added", { kind: t(`kind_${kind}`), id }), (d) => (d.overlays = [...(d.overlays || []), overlay]));
  }

  /** @param {string} id */
  removeOverlay(id) {
    return this.save(t("what_overlay_removed", { id }), (d) => {
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
      t("anchor_card", { id: anchor.id }),
      ...this.texts("name", [...p, "name"], anchor.name),
      this.vector(t("position"), [...p, "position"], anchor.position),
      this.field(t("facing_reader"), [...p, "yaw_deg"], anchor.yaw_deg, { number: true, step: 5 }),
      this.field(t("marker_size"), [...p, "marker_size_m"], anchor.marker_size_m, { number: true, step: 0.01 }),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", onclick: () => this.addOverlay("panel", { anchor: anchor.id }) }, t("add_panel_here")),
        el("button", { type: "button", class: "quiet", onclick: () => this.removeAnchor(anchor.id) }, t("remove_id", { id: anchor.id })),
      ),
    );
  }

  // The next click in the view places a new anchor on the wall (or whatever) it hits, facing out of it.
  addAnchor() {
    this.say(t("click_marker"));
    this.view.armPoint({
      floor: false,
      then: ({ point, normal }) => {
        const doc = this.draft.document;
        const id = freeId("anchor", (doc.anchors || []).map((a) => a.id));
        const anchor = { id, position: /** @type {[number, number, number]} */ (point), yaw_deg: Math.round(Math.atan2(normal[0], normal[2]) / RAD), marker_size_m: 0.15 };
        this.open.add(`anchor:${id}`);
        this.save(t("what_anchor_added", { id }), (d) => (d.anchors = [...(d.anchors || []), anchor]));
      },
    });
  }

  /** @param {string} id */
  removeAnchor(id) {
    const placed = (this.draft.document.overlays || []).filter((o) => o.at.anchor === id).map((o) => o.id);
    if (placed.length) return this.say(t("anchor_holds", { id, overlays: placed.join(", ") }));
    return this.save(t("what_anchor_removed", { id }), (d) => {
      d.anchors = d.anchors.filter((/** @type {{id: string}} */ x) => x.id !== id);
      if (!d.anchors.length) delete d.anchors;
    });
  }

  // -- tours ---------------------------------------------------------------------------------------------------

  /**
   * @param {import("../types.js").Tour} tour
   * @param {number} ti
   */
  tourCard(tour, ti) {
    const stops = el("ol", { class: "stops", "data-tour": tour.id }, ...tour.stops.map((stop, s) => this.stopItem(tour, ti, stop, s)));
    return this.card(
      `tour:${tour.id}`,
      t("tour_card", { id: tour.id, count: tour.stops.length }),
      ...this.texts("title", ["tours", ti, "title"], tour.title),
      el("p", { class: "small" }, t("stops_hint")),
      stops,
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", "data-add-stop": tour.id, onclick: () => this.addStop(ti) }, t("add_stop")),
        el("button", { type: "button", class: "quiet", onclick: () => this.removeTour(ti) }, t("remove_tour", { id: tour.id })),
      ),
    );
  }

  /**
   * @param {import("../types.js").Tour} tour
   * @param {number} ti
   * @param {import("../types.js").TourStop} stop
   * @param {number} s
   */
  stopItem(tour, ti, stop, s) {
    const p = ["tours", ti, "stops", s];
    const doc = this.draft.document;
    const title = stop.title?.[doc.default_language] || Object.values(stop.title || {})[0] || stop.id;
    // Dragged with a pointer (mouse, pen or touch): let go over another stop to put this one in its place.
    const handle = el("span", { class: "handle", title: t("drag_stop"), "aria-hidden": "true" }, "⠿");
    handle.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      handle.setPointerCapture(e.pointerId);
      handle.closest("li").classList.add("dragging");
    });
    handle.addEventListener("pointerup", (e) => {
      handle.closest("li").classList.remove("dragging");
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest("li.stop");
      const index = over ? [...over.parentElement.children].indexOf(over) : -1;
      if (over && over.parentElement === handle.closest("ol") && index >= 0) this.moveStop(ti, s, index);
    });
    handle.addEventListener("pointercancel", () => handle.closest("li").classList.remove("dragging"));
    const overlays = (doc.overlays || []).map((o) => {
      const box = el("input", { type: "checkbox", checked: (stop.overlays || []).includes(o.id), "data-stop-overlay": o.id });
      box.addEventListener("change", () =>
        this.save(t("what_stop_overlays", { stop: stop.id }), (d) => {
          const chosen = new Set(d.tours[ti].stops[s].overlays || []);
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
      el("summary", {}, t("stop_details")),
      ...this.texts("title", [...p, "title"], stop.title),
      ...this.texts("narration", [...p, "narration"], stop.narration, true),
      el("p", { class: "small" }, t("shown_at_stop")),
      el("div", { class: "row" }, ...(overlays.length ? overlays : [el("span", { class: "muted" }, t("no_overlays"))])),
      el("p", { class: "small" }, t("where_to_stand")),
      this.vector(t("position"), [...p, "stand", "position"], stop.stand?.position),
      this.field(t("facing"), [...p, "stand", "yaw_deg"], stop.stand?.yaw_deg, { number: true, step: 5 }),
      el(
        "div",
        { class: "row" },
        el("button", { type: "button", class: "quiet", "data-stand": stop.id, onclick: () => this.pickStand(ti, s) }, t("set_stand")),
        el("button", { type: "button", class: "quiet", disabled: tour.stops.length < 2, onclick: () => this.removeStop(ti, s) }, t("remove_id", { id: stop.id })),
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
        el("button", { type: "button", class: "quiet", "aria-label": t("move_up", { id: stop.id }), disabled: s === 0, onclick: () => this.moveStop(ti, s, s - 1) }, "↑"),
        el("button", { type: "button", class: "quiet", "aria-label": t("move_down", { id: stop.id }), disabled: s === tour.stops.length - 1, onclick: () => this.moveStop(ti, s, s + 1) }, "↓"),
      ),
      body,
    );
    return item;
  }

  addTour() {
    const doc = this.draft.document;
    const id = freeId("tour", (doc.tours || []).map((x) => x.id));
    const stop = { id: "stop-1", title: { [doc.default_language]: t("stop_title", { n: 1 }) } };
    const tour = { id, title: { [doc.default_language]: t("new_tour_title") }, stops: [stop] };
    this.open.add(`tour:${id}`);
    this.open.add(`stop:${id}:stop-1`);
    return this.save(t("what_tour_added", { id }), (d) => (d.tours = [...(d.tours || []), tour]));
  }

  /** @param {number} ti */
  addStop(ti) {
    const doc = this.draft.document;
    const taken = doc.tours.flatMap((x) => x.stops.map((stop) => stop.id));
    const n = doc.tours[ti].stops.length + 1;
    const id = freeId(`stop-${n}`, taken);
    this.open.add(`stop:${doc.tours[ti].id}:${id}`);
    return this.save(t("what_stop_added", { id }), (d) => d.tours[ti].stops.push({ id, title: { [doc.default_language]: t("stop_title", { n }) } }));
  }

  /**
   * @param {number} ti
   * @param {number} from
   * @param {number} to
   */
  moveStop(ti, from, to) {
    if (from === to) return null;
    const id = this.draft.document.tours[ti].stops[from].id;
    return this.save(t("what_stop_moved", { id, place: to + 1 }), (d) => {
      const [stop] = d.tours[ti].stops.splice(from, 1);
      d.tours[ti].stops.splice(to, 0, stop);
    });
  }

  /**
   * @param {number} ti
   * @param {number} s
   */
  removeStop(ti, s) {
    const stop = this.draft.document.tours[ti].stops[s];
    return this.save(t("what_stop_removed", { id: stop.id }), (d) => {
      d.tours[ti].stops.splice(s, 1);
      for (const overlay of d.overlays || []) if (overlay.trigger?.stop === stop.id) delete overlay.trigger;
    });
  }

  /** @param {number} ti */
  removeTour(ti) {
    const tour = this.draft.document.tours[ti];
    const stops = new Set(tour.stops.map((stop) => stop.id));
    return this.save(t("what_tour_removed", { id: tour.id }), (d) => {
      d.tours.splice(ti, 1);
      if (!d.tours.length) delete d.tours;
      for (const overlay of d.overlays || []) if (stops.has(overlay.trigger?.stop)) delete overlay.trigger;
    });
  }

  /**
   * The next click on the floor is where a stop's visitors stand, facing its first overlay.
   * @param {number} ti
   * @param {number} s
   */
  pickStand(ti, s) {
    const stop = this.draft.document.tours[ti].stops[s];
    this.say(t("click_floor", { stop: stop.id }));
    this.view.armPoint({
      floor: true,
      then: ({ point }) => {
        const target = this.overlayPlace((stop.overlays || [])[0]);
        const stand = { position: /** @type {[number, number, number]} */ (round(point, 2)), yaw_deg: target ? yawTowards(point, target) : stop.stand?.yaw_deg || 0 };
        this.save(t("what_stand", { stop: stop.id }), (d) => (d.tours[ti].stops[s].stand = stand));
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
