// @ts-check
// Overlays (labels, panels, narration, paths) over the scene, and tours: self-guided or led by a guide.
// Every overlay text falls back to the scene's default language with a visible note. The current stop's
// overlays are also listed in the page, for screen readers.
import * as THREE from "three";
import { CSS2DObject } from "three/addons/renderers/CSS2DRenderer.js";
import { find } from "./dom.js";
import { isMachineTranslated, machineMark } from "./i18n.js";
import { canvasSprite } from "./sprites.js";

/** @typedef {import("./types.js").SceneDocument} SceneDocument */
/** @typedef {import("./types.js").Overlay} OverlaySpec */
/** @typedef {{text: string, language: string, fallback: boolean, machine?: boolean}} Picked a text, its language, whether it is a fallback, and whether a machine translated it */
/** @typedef {{spec: OverlaySpec, object: THREE.Object3D, element: HTMLElement | null, position: THREE.Vector3}} ShownOverlay */
/**
 * @typedef {object} TourPlace where this page is in a tour
 * @property {string} id
 * @property {number} index the stop
 * @property {boolean} guided
 * @property {boolean} [leading] this page's visitor leads
 * @property {number} [guide]
 * @property {number[]} [members]
 * @property {{position: import("./types.js").Vec3, yaw_deg?: number}} [stand]
 */
/** @typedef {{type: "tour", action: string, tour: string, to?: number}} TourMessage */

/**
 * A text in `language`, else its primary language, else the scene's `fallback` language, else any.
 * @param {import("./types.js").LocalText | undefined} texts
 * @param {string} language
 * @param {string} fallback
 * @returns {Picked | null}
 */
function pick(texts, language, fallback) {
  if (!texts) return null;
  const primary = language.split("-")[0];
  if (texts[language]) return { text: texts[language], language, fallback: false };
  if (texts[primary]) return { text: texts[primary], language: primary, fallback: false };
  if (texts[fallback]) return { text: texts[fallback], language: fallback, fallback: true };
  const [first] = Object.entries(texts);
  return first ? { text: first[1], language: first[0], fallback: true } : null;
}

const MARK_FONT = "italic 24px system-ui, sans-serif"; // the machine-translation mark on a headset board

export class TourGuide {
  /**
   * @param {object} options
   * @param {SceneDocument} options.document
   * @param {import("./world.js").SceneStreamer} options.streamer
   * @param {string} options.language the reader's
   * @param {import("./i18n.js").Words} options.words
   * @param {HTMLElement} options.panel the tour panel (#tour)
   * @param {(message: TourMessage) => void} options.onSend
   * @param {(visitorId: number) => string} [options.nameOf]
   * @param {() => string} [options.room]
   * @param {((room: string, tourId: string) => void) | null} [options.onMove]
   */
  constructor({ document, streamer, language, words, panel, onSend, nameOf = (id) => String(id), room = () => "", onMove = null }) {
    this.words = words;
    this.nameOf = nameOf; // visitor id -> name, for handing the lead on
    this.room = room; // () => the room this page is in
    this.onMove = onMove; // (room, tour id) => void: go to the room where a tour on offer is led, and join it
    this.document = document;
    this.streamer = streamer;
    this.language = language;
    this.panel = panel;
    this.onSend = onSend; // (message) => void, to the server
    /** @type {Map<string, ShownOverlay>} overlay id -> what shows it */
    this.overlays = new Map();
    this.root = new THREE.Group();
    this.root.name = "overlays";
    // The way to the current stop: a line on the floor from the visitor to where to stand, and a ring there.
    this.way = new THREE.Line(new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(), new THREE.Vector3()]),
      new THREE.LineDashedMaterial({ color: "#7fe0ff", dashSize: 0.25, gapSize: 0.15 }));
    this.spot = new THREE.Mesh(new THREE.RingGeometry(0.25, 0.32, 32).rotateX(-Math.PI / 2), new THREE.MeshBasicMaterial({ color: "#7fe0ff" }));
    this.way.visible = this.spot.visible = false;
    /** @type {TourPlace | null} */
    this.tour = null;
    /** @type {Map<string, import("./types.js").TourOffer>} tour id -> a guided tour on offer */
    this.available = new Map();
    this.xr = false;
    /** @type {string[]} the overlays shown at the last update */
    this.shown = [];
    /** @type {Set<() => void>} told when the tour panel changes (the headset menu shows the same controls) */
    this.listeners = new Set();
    this.build();
    this.renderPanel();
  }

  /**
   * @param {import("./types.js").LocalText | undefined} texts
   * @param {string} [path] the text's path in the document, to know whether a machine translated it
   * @returns {Picked | null}
   */
  text(texts, path = "") {
    const picked = pick(texts, this.language, this.document.default_language);
    if (picked && path) picked.machine = isMachineTranslated(this.document, path, picked.language);
    return picked;
  }

  /**
   * @param {import("./types.js").Placement} at
   * @returns {THREE.Vector3} in scene coordinates
   */
  anchorPosition(at) {
    const offset = new THREE.Vector3().fromArray(at.offset || [0, 0, 0]);
    if (at.node) {
      const holder = this.streamer.nodes.get(at.node);
      return holder ? holder.getWorldPosition(new THREE.Vector3()).add(offset) : offset;
    }
    const anchor = (this.document.anchors || []).find((a) => a.id === at.anchor);
    return new THREE.Vector3().fromArray(anchor?.position || [0, 0, 0]).add(offset);
  }

  // (Re)make every overlay of the document.
  build() {
    this.root.clear();
    this.root.add(this.way, this.spot);
    this.overlays.clear();
    this.streamer.root.updateMatrixWorld(true);
    for (const spec of this.document.overlays || []) {
      const position = this.anchorPosition(spec.at);
      let object = null;
      let element = null;
      if (spec.kind === "path") {
        const points = spec.points.map((p) => position.clone().add(new THREE.Vector3().fromArray(p)));
        object = new THREE.Group();
        object.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(points), new THREE.LineBasicMaterial({ color: "#ffcf5a" })));
        const head = new THREE.Mesh(new THREE.ConeGeometry(0.08, 0.25, 12), new THREE.MeshBasicMaterial({ color: "#ffcf5a" }));
        const [a, b] = points.slice(-2);
        head.position.copy(b);
        head.quaternion.setFromUnitVectors(new THREE.Vector3(0, 1, 0), b.clone().sub(a).normalize());
        object.add(head);
      } else if (spec.kind === "reconstruction") {
        // A reconstruction is an asset of the scene's manifest, placed at the overlay, with its animation playing.
        const asset = this.streamer.assets.get(spec.asset);
        if (asset?.scene) {
          object = asset.scene.clone(true);
          object.position.copy(position);
          if (asset.animations.length) {
            const mixer = new THREE.AnimationMixer(object);
            for (const clip of asset.animations) mixer.clipAction(clip).play();
            object.userData.mixer = mixer;
          }
        }
      } else {
        element = document.createElement("div");
        element.className = `overlay overlay-${spec.kind}`;
        element.dataset.overlay = spec.id;
        const title = this.text(spec.title, `overlays.${spec.id}.title`);
        if (title) element.append(Object.assign(document.createElement("strong"), { textContent: title.text, lang: title.language }));
        const body = this.text(spec.text, `overlays.${spec.id}.text`);
        if (body) {
          const paragraph = Object.assign(document.createElement("p"), { textContent: body.text, lang: body.language, dir: "auto" });
          element.append(paragraph);
          if (body.fallback) element.append(Object.assign(document.createElement("small"), { className: "fallback", textContent: this.words.t("fallback") }));
        }
        if (title?.machine || body?.machine) element.append(machineMark(this.words));
        const image = this.text(spec.image);
        if (image) element.append(Object.assign(document.createElement("img"), { src: image.text, alt: title?.text || "", loading: "lazy" }));
        if (spec.kind === "narration") element.append(this.narration(spec));
        object = new CSS2DObject(element);
        object.position.copy(position);
        object.userData.board = this.board(title, body);
        object.userData.board.position.copy(position);
        this.root.add(object.userData.board);
      }
      if (object) {
        this.root.add(object);
        this.overlays.set(spec.id, { spec, object, element, position });
      }
    }
  }

  /**
   * In a headset (VR, or AR on a passthrough device) page elements do not show: the same text on a board.
   * @param {Picked | null} title
   * @param {Picked | null} body
   * @returns {THREE.Sprite}
   */
  board(title, body) {
    const width = 512;
    const measure = document.createElement("canvas").getContext("2d");
    /** @type {[string, string][]} text and font */
    const lines = [];
    /**
     * @param {string} text
     * @param {string} font
     */
    const wrap = (text, font) => {
      measure.font = font;
      let line = "";
      for (const word of text.split(/\s+/)) {
        const next = line ? `${line} ${word}` : word;
        if (measure.measureText(next).width > width - 40 && line) {
          lines.push([line, font]);
          line = word;
        } else line = next;
      }
      if (line) lines.push([line, font]);
    };
    if (title) wrap(title.text, "bold 34px system-ui, sans-serif");
    if (body) wrap(body.text, "28px system-ui, sans-serif");
    const rtl = /[\u0590-\u08ff]/.test(lines.map(([text]) => text).join(""));
    if (title?.machine || body?.machine) lines.push([this.words.t("machine"), MARK_FONT]);
    const sprite = canvasSprite(
      width,
      Math.max(64, 24 + lines.length * 40),
      (g, w, h) => {
        g.fillStyle = "rgba(21, 23, 28, 0.9)";
        g.fillRect(0, 0, w, h);
        g.direction = rtl ? "rtl" : "ltr";
        g.textAlign = rtl ? "right" : "left";
        g.fillStyle = "#f7f3ea";
        g.textBaseline = "top";
        lines.forEach(([text, font], i) => {
          g.font = font;
          g.fillStyle = font === MARK_FONT ? "#ffcf5a" : "#f7f3ea";
          g.fillText(text, rtl ? w - 20 : 20, 14 + i * 40);
        });
      },
      0.7,
      { overlay: true },
    );
    sprite.visible = false;
    return sprite;
  }

  /** @param {boolean} presenting */
  setXR(presenting) {
    this.xr = presenting;
  }

  /**
   * A narration plays the curator's recording in the reader's language, with captions; the text is always shown.
   * @param {OverlaySpec} spec
   * @returns {HTMLElement}
   */
  narration(spec) {
    const box = document.createElement("div");
    const audio = this.text(spec.audio);
    if (!audio) return box;
    const player = Object.assign(document.createElement("audio"), { controls: true, src: audio.text, preload: "none" });
    const captions = this.text(spec.captions);
    if (captions) {
      const track = Object.assign(document.createElement("track"), { kind: "captions", src: captions.text, srclang: captions.language, default: true });
      player.append(track);
    }
    box.append(player);
    return box;
  }

  /**
   * Which overlays show now: always ones, ones whose trigger distance the viewer is within, and the stop's.
   * @param {THREE.Vector3} viewer
   * @param {number} [dt] seconds since the last update
   * @returns {string[]} the overlays shown
   */
  update(viewer, dt = 0) {
    const stop = this.currentStop();
    const stand = stop?.stand?.position;
    this.way.visible = this.spot.visible = Boolean(stand) && new THREE.Vector3().fromArray(stand).distanceTo(viewer.clone().setY(stand?.[1] ?? 0)) > 0.6;
    if (this.way.visible) {
      const to = new THREE.Vector3(stand[0], stand[1] + 0.02, stand[2]);
      this.way.geometry.setFromPoints([new THREE.Vector3(viewer.x, to.y, viewer.z), to]);
      this.way.computeLineDistances();
      this.spot.position.copy(to);
    }
    const shown = [];
    for (const { spec, object, position } of this.overlays.values()) {
      const trigger = spec.trigger || {};
      let visible = !trigger.within_m && !trigger.stop;
      if (trigger.within_m) visible = position.distanceTo(viewer) <= trigger.within_m;
      if (stop && (stop.overlays || []).includes(spec.id)) visible = true;
      else if (trigger.stop) visible = stop?.id === trigger.stop;
      object.visible = visible;
      if (object.userData.board) object.userData.board.visible = visible && Boolean(this.xr);
      if (visible) shown.push(spec.id);
      if (visible && object.userData.mixer) object.userData.mixer.update(dt);
    }
    this.shown = shown;
    return shown;
  }

  /** @returns {import("./types.js").Tour[]} */
  tours() {
    return this.document.tours || [];
  }

  /** @returns {import("./types.js").TourStop | null} */
  currentStop() {
    if (!this.tour) return null;
    const tour = this.tours().find((x) => x.id === this.tour.id);
    return tour?.stops[this.tour.index] || null;
  }

  // -- self-guided -------------------------------------------------------------------------------

  /** @param {string} tourId */
  storageKey(tourId) {
    return `thirdspace.tour.${this.document.id}.${tourId}`;
  }

  /** @param {string} tourId */
  startSelfGuided(tourId) {
    const saved = Number(localStorage.getItem(this.storageKey(tourId)) || 0);
    this.tour = { id: tourId, index: Math.min(saved, this.tours().find((x) => x.id === tourId).stops.length - 1), guided: false };
    this.renderPanel();
  }

  /** @param {number} delta stops forward (negative: back) */
  step(delta) {
    if (!this.tour) return;
    if (this.tour.guided) {
      if (this.tour.leading) this.onSend({ type: "tour", action: delta > 0 ? "next" : "prev", tour: this.tour.id });
      return;
    }
    const count = this.tours().find((x) => x.id === this.tour.id).stops.length;
    this.tour.index = Math.max(0, Math.min(count - 1, this.tour.index + delta));
    localStorage.setItem(this.storageKey(this.tour.id), String(this.tour.index));
    this.renderPanel();
  }

  // -- guide-led ---------------------------------------------------------------------------------

  /**
   * @param {import("./types.js").TourStateMessage} state
   * @param {number} selfId
   */
  onState(state, selfId) {
    this.tour = {
      id: state.tour,
      index: state.index,
      guided: true,
      leading: state.guide === selfId,
      guide: state.guide,
      members: state.members,
      stand: state.stand,
    };
    this.renderPanel();
  }

  /** @param {import("./types.js").TourOffer} message */
  onAvailable(message) {
    this.available.set(message.tour, message);
    this.renderPanel();
  }

  // A new place in a room (after the resume window, or a change of rooms): the old room's offers and group are gone.
  arrived() {
    if (this.tour?.guided) this.tour = null;
    this.available.clear();
    this.renderPanel();
  }

  /**
   * A newly published document: its overlays and tours from now on.
   * @param {SceneDocument} document
   */
  setDocument(document) {
    this.document = document;
    this.build();
    this.renderPanel();
  }

  leave() {
    if (this.tour?.guided) this.onSend({ type: "tour", action: "leave", tour: this.tour.id });
    this.tour = null;
    this.renderPanel();
  }

  // -- the panel (a DOM list a screen reader can follow) ------------------------------------------

  renderPanel() {
    const panel = this.panel;
    panel.hidden = this.tours().length === 0;
    /** @type {HTMLElement[]} */
    const body = [];
    if (!this.tour) {
      for (const tour of this.tours()) {
        const title = this.text(tour.title);
        const start = Object.assign(document.createElement("button"), { type: "button", textContent: `${this.words.t("start_tour")}: ${title.text}` });
        start.addEventListener("click", () => this.startSelfGuided(tour.id));
        body.push(start);
        const lead = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: this.words.t("lead_tour") });
        lead.addEventListener("click", () => this.lead(tour.id));
        body.push(lead);
        const offer = this.available.get(tour.id);
        if (offer) {
          const join = Object.assign(document.createElement("button"), { type: "button", textContent: this.words.t("join_tour", { name: offer.name }) });
          join.addEventListener("click", () => this.join(tour.id));
          body.push(join);
        }
      }
    } else {
      const tour = this.tours().find((x) => x.id === this.tour.id);
      const stop = tour.stops[this.tour.index];
      const at = `tours.${tour.id}.stops.${stop.id}`;
      const title = this.text(stop.title, `${at}.title`);
      const heading = Object.assign(document.createElement("h2"), { textContent: title.text });
      const progress = Object.assign(document.createElement("p"), {
        className: "progress",
        textContent: `${this.tour.index + 1} / ${tour.stops.length}${this.tour.guided ? ` · ${this.tour.leading ? this.words.t("you_lead") : this.words.t("guided")}` : ""}`,
      });
      body.push(heading, progress);
      const narration = this.text(stop.narration, `${at}.narration`);
      if (narration) body.push(Object.assign(document.createElement("p"), { textContent: narration.text, lang: narration.language, dir: "auto" }));
      if (narration?.fallback) body.push(Object.assign(document.createElement("small"), { className: "fallback", textContent: this.words.t("fallback") }));
      if (title.machine || narration?.machine) body.push(machineMark(this.words));
      const list = document.createElement("ul");
      list.className = "stop-overlays";
      list.setAttribute("aria-label", this.words.t("at_this_stop"));
      for (const id of stop.overlays || []) {
        const spec = this.overlays.get(id)?.spec;
        const text = spec && (this.text(spec.text, `overlays.${id}.text`) || this.text(spec.title, `overlays.${id}.title`));
        if (!text) continue;
        const item = Object.assign(document.createElement("li"), { textContent: text.text, lang: text.language });
        if (text.machine) item.append(" ", machineMark(this.words));
        list.append(item);
      }
      body.push(list);
      const row = document.createElement("div");
      row.className = "row";
      const canMove = !this.tour.guided || this.tour.leading;
      /** @type {[string, number][]} */
      const steps = [[this.words.t("previous"), -1], [this.words.t("next"), 1]];
      for (const [label, delta] of steps) {
        const button = Object.assign(document.createElement("button"), { type: "button", textContent: label, disabled: !canMove });
        button.addEventListener("click", () => this.step(delta));
        row.append(button);
      }
      if (this.tour.guided && this.tour.leading && this.tour.members?.length) {
        const who = document.createElement("select");
        who.setAttribute("aria-label", this.words.t("hand_lead"));
        who.append(...this.tour.members.map((id) => new Option(this.nameOf(id), String(id))));
        const hand = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: this.words.t("hand_lead") });
        hand.addEventListener("click", () => this.onSend({ type: "tour", action: "lead", tour: this.tour.id, to: Number(who.value) }));
        row.append(who, hand);
      }
      const leave = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: this.words.t("leave_tour") });
      leave.addEventListener("click", () => this.leave());
      row.append(leave);
      body.push(row);
    }
    const sizes = document.createElement("div");
    sizes.className = "row accessibility";
    /** @type {[string, () => void][]} */
    const controls = [["A−", () => this.scale(-1)], ["A+", () => this.scale(1)], [this.words.t("contrast"), () => document.body.classList.toggle("high-contrast")]];
    for (const [label, action] of controls) {
      const button = Object.assign(document.createElement("button"), { type: "button", className: "quiet", textContent: label });
      button.addEventListener("click", action);
      sizes.append(button);
    }
    body.push(sizes);
    find(".tour-body", HTMLElement, panel).replaceChildren(...body);
    for (const listener of this.listeners) listener();
  }

  /** @param {() => void} listener told when the tour, its stop or the offers change */
  onChange(listener) {
    this.listeners.add(listener);
  }

  /**
   * Lead `tourId` as its guide.
   * @param {string} tourId
   */
  lead(tourId) {
    this.onSend({ type: "tour", action: "start", tour: tourId });
  }

  /**
   * Join the guided tour on offer, in the room it is led in.
   * @param {string} tourId
   */
  join(tourId) {
    const offer = this.available.get(tourId);
    if (offer?.room && offer.room !== this.room() && this.onMove) this.onMove(offer.room, tourId);
    else this.onSend({ type: "tour", action: "join", tour: tourId });
  }

  /**
   * Overlay text larger or smaller.
   * @param {number} direction
   */
  scale(direction) {
    const current = Number(getComputedStyle(document.documentElement).getPropertyValue("--overlay-scale") || 1);
    const next = Math.max(0.8, Math.min(2, current + direction * 0.2));
    document.documentElement.style.setProperty("--overlay-scale", String(next));
  }

  state() {
    const boards = [...this.overlays.values()].filter((o) => o.object.userData.board?.visible).map((o) => o.spec.id);
    // The overlays whose element says a machine translated them, with that mark's words (in the page or not).
    const marked = Object.fromEntries([...this.overlays.values()].flatMap((o) => {
      const mark = o.element?.querySelector(".machine-mark");
      return mark ? [[o.spec.id, mark.textContent]] : [];
    }));
    return { tour: this.tour, shown: this.shown || [], boards, way: this.way.visible, marked };
  }
}
