// @ts-check
// The menu inside a headset (immersive-vr, and immersive-ar on headsets without dom-overlay): the recent chat,
// quick phrases, a keyboard, the tour controls, language, text size and leaving. It opens with X, Y, A or B on a
// controller, or the "Menu" button on the left wrist (hand tracking: pinch it), and floats in front of the
// visitor. Controller rays and pinching hands point with @pmndrs/pointer-events; @pmndrs/uikit lays the panel
// out; troika-three-text draws every word, over the uikit boxes, so that Arabic and Devanagari are shaped.
// (Troika text is laid over the boxes rather than put inside uikit's Content, which scales its children to
// fit: the text keeps one size in metres, wraps at the box's width, and its direction is its language's.)
// Where the page's own panels show over the camera (dom-overlay, on phones), there is no menu in the world.
import { createRayPointer } from "@pmndrs/pointer-events";
import { Component, Container } from "@pmndrs/uikit";
import * as THREE from "three";
import { LANGUAGES, Words, isRtl, primary } from "./i18n.js";
import { layoutsFor } from "./xr-keyboard.js";
import { FontTable } from "./xr-text.js";
import "./xr-words.js";

const PIXEL_M = 0.001; // metres per layout pixel
const WIDTH = 620;
const TEXT = 20; // pixels (millimetres) of text
const AHEAD_M = 0.6;
const BELOW_EYES_M = 0.12;
const WRIST_ABOVE_M = 0.05;
const NOWHERE_M = 1000; // pointer-events' "void" intersection lies further
const CHAT_LINES = 5;
const BUTTONS = [4, 5]; // xr-standard: X/A and Y/B
/** @typedef {"chat" | "phrases" | "type" | "tour" | "voice" | "more"} Tab */
/** @type {Tab[]} */
const TABS = ["chat", "phrases", "type", "tour", "voice", "more"];
const COLOURS = { panel: "#15171c", button: "#2b3038", hover: "#3d6f8f", active: "#4a90d9", text: "#f7f3ea", muted: "#a9b0ba", machine: "#ffcf5a" };

/**
 * @typedef {object} Label a troika text laid over a uikit box
 * @property {import("./xr-text.js").Text} mesh
 * @property {Component} box
 * @property {"left" | "center" | "right"} align
 */

export class XRMenu {
  /**
   * @param {object} options
   * @param {THREE.WebGLRenderer} options.renderer
   * @param {THREE.Object3D} options.rig holds the controllers; the menu is placed in its space
   * @param {import("./xr.js").XRSupport} options.xr its controllers; its trigger goes to the menu while pointing at it
   * @param {import("./chat.js").ChatPanel} options.chat
   * @param {import("./chat.js").QuickChat} options.quick
   * @param {import("./tours.js").TourGuide} options.guide
   * @param {import("./voice.js").VoiceChat} [options.voice] the visitor's voice and the voices they hear
   * @param {(text: string) => void} options.onSay free text to the room
   * @param {Words} options.words
   * @param {() => number} options.selfId
   * @param {Promise<FontTable>} [options.fonts]
   */
  constructor({ renderer, rig, xr, chat, quick, guide, voice, onSay, words, selfId, fonts = FontTable.load() }) {
    this.renderer = renderer;
    this.rig = rig;
    this.xr = xr;
    this.chat = chat;
    this.quick = quick;
    this.guide = guide;
    this.voice = voice || null;
    this.onSay = onSay;
    this.words = words;
    this.english = new Words(); // for scripts no served font draws (Chinese, Japanese)
    this.selfId = selfId;
    /** @type {FontTable | null} */
    this.fonts = null;
    this.fontsReady = fonts.then((table) => (this.fonts = table));
    this.active = false; // a session the menu serves (not one with dom-overlay)
    this.isOpen = false;
    /** @type {Tab} */
    this.tab = "chat";
    this.typed = "";
    this.layout = 0;
    /** @type {string | null} a phrase waiting for its thing */
    this.pendingPhrase = null;
    this.scale = 1;
    this.dirty = true;
    this.layer = new THREE.Group();
    this.layer.name = "xr-menu";
    this.panel = new THREE.Group();
    this.wrist = new THREE.Group();
    /** @type {Map<string, Component>} interactive boxes by id, for the tests and debugging */
    this.elements = new Map();
    /** @type {Label[]} */
    this.labels = [];
    /** @type {Label[]} */
    this.wristLabels = [];
    /** @type {Container | null} */
    this.root = null;
    /** @type {Container | null} */
    this.wristRoot = null;
    this.grips = xr.controllers.map((_, i) => {
      const grip = renderer.xr.getControllerGrip(i);
      rig.add(grip);
      return grip;
    });
    // A tracked hand's joints (its wrist, for the wrist button): three.js follows them once they are asked for.
    this.hands = xr.controllers.map((_, i) => renderer.xr.getHand(i));
    this.pointers = xr.controllers.map((controller) =>
      createRayPointer(() => renderer.xr.getCamera(), { current: controller }, {}, { clickThresholdMs: 3000 }),
    );
    /** @type {WeakMap<XRInputSource, boolean[]>} buttons held at the last frame */
    this.held = new WeakMap();
    /** @type {WeakSet<XRInputSource>} sources whose trigger (or pinch) went down on the menu and is still down */
    this.pressedOnMenu = new WeakSet();
    this.lastFrame = performance.now();
    chat.onChange(() => (this.dirty = this.dirty || this.tab === "chat"));
    guide.onChange(() => (this.dirty = this.dirty || this.tab === "tour"));
    voice?.onChange(() => (this.dirty = this.dirty || this.tab === "voice"));
    renderer.xr.addEventListener("sessionstart", () => this.start(renderer.xr.getSession()));
    renderer.xr.addEventListener("sessionend", () => this.end());
    xr.setMenu(this);
  }

  /** @param {XRSession} session */
  start(session) {
    // On a phone in AR the page's own panels show over the camera: they are the menu there.
    this.active = !session.domOverlayState;
    if (!this.active) return;
    this.rig.add(this.layer);
    this.layer.add(this.wrist);
    // A select that began on the menu is the menu's (see takes()), however the ray moved before the release.
    session.addEventListener("selectstart", (event) => {
      if (this.pointingBy(event.inputSource)) this.pressedOnMenu.add(event.inputSource);
    });
    session.addEventListener("selectend", (event) => this.pressedOnMenu.delete(event.inputSource));
    this.fontsReady.then(() => {
      this.buildWrist();
      this.dirty = true;
    });
    /** @type {XRFrameRequestCallback} */
    const loop = () => {
      if (!this.active) return;
      this.frame(session);
      session.requestAnimationFrame(loop);
    };
    session.requestAnimationFrame(loop);
  }

  end() {
    this.active = false;
    this.close();
    this.layer.removeFromParent();
  }

  // -- opening and pointing ---------------------------------------------------------------------

  toggle() {
    if (this.isOpen) this.close();
    else this.open();
  }

  // Open in front of the visitor, at chest height, facing them.
  open() {
    const head = new THREE.Matrix4().copy(this.rig.matrixWorld).invert().multiply(this.renderer.xr.getCamera().matrixWorld);
    const eye = new THREE.Vector3();
    const facing = new THREE.Quaternion();
    head.decompose(eye, facing, new THREE.Vector3());
    const forward = new THREE.Vector3(0, 0, -1).applyQuaternion(facing);
    const yaw = Math.atan2(-forward.x, -forward.z);
    this.panel.position.set(eye.x - Math.sin(yaw) * AHEAD_M, eye.y - BELOW_EYES_M, eye.z - Math.cos(yaw) * AHEAD_M);
    this.panel.rotation.set(-0.12, yaw, 0, "YXZ");
    this.panel.scale.setScalar(this.scale);
    this.layer.add(this.panel);
    this.isOpen = true;
    this.dirty = true;
  }

  close() {
    this.isOpen = false;
    this.layer.remove(this.panel);
  }

  /**
   * The pointer of a controller, if it is one of XRSupport's.
   * @param {THREE.Object3D} controller
   */
  pointerOf(controller) {
    return this.pointers[this.xr.controllers.indexOf(/** @type {THREE.XRTargetRaySpace} */ (controller))] || null;
  }

  /**
   * Whether the controller's ray (or the hand's) meets the menu.
   * @param {THREE.Object3D} controller
   */
  pointing(controller) {
    if (!this.active) return false;
    const hit = this.pointerOf(controller)?.getIntersection();
    return Boolean(hit && hit.distance < NOWHERE_M);
  }

  /**
   * Whether the input source's ray (or hand) meets the menu.
   * @param {XRInputSource} source
   */
  pointingBy(source) {
    const controller = this.xr.controllers.find((c) => c.userData.inputSource === source);
    return Boolean(controller && this.pointing(controller));
  }

  /**
   * Whether a session "select" is the menu's, so that AR does not place the scene with it: the trigger went down
   * on the menu, or is on it now (browsers fire "select" at the release, IWER at the press).
   * @param {XRInputSource} source
   */
  takes(source) {
    return this.active && (this.pressedOnMenu.has(source) || this.pointingBy(source));
  }

  /**
   * The trigger (or a pinch) went down: the menu's if the ray is on it.
   * @param {THREE.Object3D} controller
   * @returns {boolean} taken by the menu
   */
  press(controller) {
    if (!this.pointing(controller)) return false;
    this.pointerOf(controller).down({ button: 0, timeStamp: performance.now() });
    return true;
  }

  /** @param {THREE.Object3D} controller */
  release(controller) {
    this.pointerOf(controller)?.up({ button: 0, timeStamp: performance.now() });
  }

  /**
   * Each frame of the session: buttons, the wrist button, the pointers, the layout, the text over it.
   * @param {XRSession} session
   */
  frame(session) {
    const now = performance.now();
    const delta = now - this.lastFrame;
    this.lastFrame = now;
    for (const source of session.inputSources) {
      const buttons = source.gamepad?.buttons;
      if (!buttons) continue;
      const held = BUTTONS.map((i) => Boolean(buttons[i]?.pressed));
      const before = this.held.get(source) || [];
      if (held.some((down, i) => down && !before[i])) this.toggle();
      this.held.set(source, held);
    }
    this.placeWrist();
    if (this.dirty && this.isOpen && this.fonts) this.render();
    this.root?.update(delta);
    this.wristRoot?.update(delta);
    this.layer.updateMatrixWorld(true);
    this.place(this.panel, this.labels);
    this.place(this.wrist, this.wristLabels);
    this.xr.controllers.forEach((controller, i) => {
      const pointer = this.pointers[i];
      if (!controller.visible) return;
      pointer.move(this.layer, { timeStamp: now });
      const ray = controller.children.find((child) => child instanceof THREE.Line);
      const hit = pointer.getIntersection();
      if (ray) ray.scale.z = hit && hit.distance < NOWHERE_M ? hit.distance : 3;
    });
  }

  // The wrist button floats just above the left wrist (a tracked hand's wrist joint, or the controller held
  // there), turned to the visitor's eyes: in reach of the other hand's ray or pinch, whichever way the wrist turns.
  placeWrist() {
    const left = this.xr.controllers.findIndex((c) => c.userData.handedness === "left");
    const hand = this.hands[left];
    const joint = hand?.visible ? hand.joints.wrist : undefined;
    const grip = this.grips[left];
    const holder = joint?.visible ? joint : grip?.visible ? grip : null;
    this.wrist.visible = Boolean(holder);
    if (!holder) return;
    this.wrist.position.setFromMatrixPosition(holder.matrix);
    this.wrist.position.y += WRIST_ABOVE_M;
    this.wrist.lookAt(new THREE.Vector3().setFromMatrixPosition(this.renderer.xr.getCamera().matrixWorld));
  }

  /**
   * Lay each label over its box (the boxes' world matrices hold their laid-out centre and size).
   * @param {THREE.Object3D} holder
   * @param {Label[]} labels
   */
  place(holder, labels) {
    const inverse = new THREE.Matrix4().copy(holder.matrixWorld).invert();
    const local = new THREE.Matrix4();
    const centre = new THREE.Vector3();
    const size = new THREE.Vector3();
    for (const { mesh, box, align } of labels) {
      if (!box.size.peek()) {
        mesh.visible = false;
        continue;
      }
      box.updateWorldMatrix(false, false);
      local.multiplyMatrices(inverse, box.matrixWorld);
      local.decompose(centre, new THREE.Quaternion(), size);
      const pad = 0.008;
      const x = align === "left" ? centre.x - size.x / 2 + pad : align === "right" ? centre.x + size.x / 2 - pad : centre.x;
      mesh.position.set(x, centre.y, centre.z + 0.002);
      const width = Math.max(0.01, size.x - 2 * pad);
      if (Math.abs(mesh.maxWidth - width) > 0.0005) {
        mesh.maxWidth = width;
        mesh.sync();
      }
      mesh.visible = true;
    }
  }

  // -- building the panel -----------------------------------------------------------------------

  /** The words the menu shows: the page's, or English where no served font draws its script. */
  get menuWords() {
    return this.fonts && this.fonts.covers(this.words.t("xr_menu")) ? this.words : this.english;
  }

  get rtl() {
    return this.menuWords === this.words && isRtl(this.words.language);
  }

  /**
   * A box with a label: a button when `onClick` is given.
   * @param {Component} parent
   * @param {Label[]} labels
   * @param {string} text
   * @param {object} [options]
   * @param {string} [options.id] for the tests: where it is
   * @param {() => void} [options.onClick]
   * @param {number | "auto"} [options.width]
   * @param {number} [options.height]
   * @param {number} [options.grow]
   * @param {number} [options.size] text size in pixels
   * @param {string} [options.color]
   * @param {boolean} [options.selected]
   * @param {boolean} [options.disabled]
   * @param {"left" | "center" | "right"} [options.align]
   * @param {"ltr" | "rtl" | "auto"} [options.direction]
   */
  box(parent, labels, text, { id, onClick, width, height = 44, grow, size = TEXT, color = COLOURS.text, selected = false, disabled = false, align = "center", direction } = {}) {
    const interactive = Boolean(onClick) && !disabled;
    const box = new Container({
      height,
      ...(width !== undefined ? { width } : {}),
      ...(grow !== undefined ? { flexGrow: grow, flexBasis: 0 } : {}),
      flexShrink: 0,
      borderRadius: onClick ? 8 : 0,
      ...(onClick ? { backgroundColor: selected ? COLOURS.active : COLOURS.button, opacity: disabled ? 0.45 : 1 } : {}),
      ...(interactive ? { hover: { backgroundColor: COLOURS.hover }, onClick, cursor: "pointer" } : {}),
    });
    parent.add(box);
    if (id) this.elements.set(id, box);
    const dir = direction || (this.rtl ? "rtl" : "auto");
    const mesh = this.fonts.text(text, { size: size * PIXEL_M, color, direction: dir, align: align === "center" ? "center" : align });
    mesh.userData.id = id || null;
    mesh.userData.direction = dir;
    mesh.visible = false;
    (parent === this.wristRoot ? this.wrist : this.panel).add(mesh);
    labels.push({ mesh, box, align });
    return box;
  }

  /**
   * A row of boxes.
   * @param {Component} parent
   * @param {object} [options]
   * @param {boolean} [options.wrap]
   */
  row(parent, { wrap = false } = {}) {
    const row = new Container({ flexDirection: this.rtl ? "row-reverse" : "row", gap: 6, flexWrap: wrap ? "wrap" : "no-wrap", justifyContent: "flex-start" });
    parent.add(row);
    return row;
  }

  buildWrist() {
    const w = this.menuWords;
    this.wristRoot = new Container({ pixelSize: PIXEL_M, width: 110, height: 44, padding: 0, depthTest: false, renderOrder: 20 });
    this.wrist.add(this.wristRoot);
    this.box(this.wristRoot, this.wristLabels, w.t("xr_menu"), { id: "wrist", onClick: () => this.toggle(), width: 110, size: 18 });
  }

  // (Re)build the panel for the tab shown.
  render() {
    this.dirty = false;
    this.dispose(this.root, this.labels);
    this.labels = [];
    for (const id of [...this.elements.keys()]) if (id !== "wrist") this.elements.delete(id);
    const w = this.menuWords;
    const root = new Container({
      pixelSize: PIXEL_M,
      width: WIDTH,
      flexDirection: "column",
      padding: 14,
      gap: 8,
      backgroundColor: COLOURS.panel,
      opacity: 0.96,
      borderRadius: 14,
      depthTest: false,
      renderOrder: 20,
    });
    this.root = root;
    this.panel.add(root);
    const tabs = this.row(root);
    for (const tab of TABS) this.box(tabs, this.labels, w.t(`xr_${tab}`), { id: `tab:${tab}`, onClick: () => this.show(tab), grow: 1, selected: tab === this.tab, size: 17 });
    this.box(tabs, this.labels, "×", { id: "close", onClick: () => this.close(), width: 44 });
    const body = new Container({ flexDirection: "column", gap: 6 });
    root.add(body);
    ({ chat: () => this.chatTab(body), phrases: () => this.phrasesTab(body), type: () => this.typeTab(body), tour: () => this.tourTab(body), voice: () => this.voiceTab(body), more: () => this.moreTab(body) })[this.tab]();
  }

  /**
   * @param {Component | null} root
   * @param {Label[]} labels
   */
  dispose(root, labels) {
    for (const { mesh } of labels) {
      mesh.removeFromParent();
      mesh.dispose();
    }
    if (!root) return;
    root.removeFromParent();
    /** @type {Component<any>[]} */
    const components = [];
    root.traverse((object) => object instanceof Component && components.push(object)); // dispose() leaves its parent
    for (const component of components.reverse()) component.dispose();
  }

  /** @param {Tab} tab */
  show(tab) {
    this.tab = tab;
    this.pendingPhrase = null;
    this.dirty = true;
  }

  /** @param {Component} body */
  chatTab(body) {
    const w = this.menuWords;
    const lines = this.chat.recent(CHAT_LINES, this.selfId());
    if (!lines.length) this.box(body, this.labels, w.t("xr_no_lines"), { height: 40, color: COLOURS.muted });
    for (const line of lines) {
      const row = this.row(body);
      const text = line.id === null ? line.text : `${line.name}: ${line.text}`;
      this.box(row, this.labels, text, { id: line.id === null ? undefined : `chat:${line.id}`, grow: 1, height: 52, size: 17, align: this.rtl ? "right" : "left", direction: "auto", color: line.id === null ? COLOURS.muted : COLOURS.text });
      if (line.translated) {
        const label = line.original ? w.t("show_translation") : `${w.t("machine")} · ${w.t("show_original")}`;
        this.box(row, this.labels, label, { id: `chat:original:${line.id}`, onClick: () => this.chat.toggleOriginal(line.id), width: 150, height: 52, size: 13, color: COLOURS.machine });
      }
      if (line.id !== null && !line.self) this.box(row, this.labels, w.t("mute"), { id: `chat:mute:${line.id}`, onClick: () => this.chat.mute(line.from, line.name), width: 80, height: 52, size: 14 });
    }
  }

  /** @param {Component} body */
  phrasesTab(body) {
    const w = this.menuWords;
    if (this.pendingPhrase) {
      this.box(body, this.labels, w.t("xr_which"), { height: 34, color: COLOURS.muted });
      const row = this.row(body, { wrap: true });
      for (const [id, name] of this.quick.things) {
        this.box(row, this.labels, name, {
          id: `thing:${id}`,
          width: 188,
          size: 16,
          onClick: () => {
            this.quick.send(this.pendingPhrase, id);
            this.pendingPhrase = null;
            this.show("chat");
          },
        });
      }
      return;
    }
    const row = this.row(body, { wrap: true });
    for (const choice of this.quick.choices()) {
      const label = this.fonts.covers(choice.label) ? choice.label : this.quick.phrases[choice.id].en.replace("{thing}", "…");
      this.box(row, this.labels, label, {
        id: `phrase:${choice.id}`,
        width: 291,
        size: 17,
        onClick: () => {
          if (choice.needsThing) {
            this.pendingPhrase = choice.id;
            this.dirty = true;
          } else {
            this.quick.send(choice.id);
            this.show("chat");
          }
        },
      });
    }
  }

  /** @param {Component} body */
  typeTab(body) {
    const w = this.menuWords;
    const layouts = layoutsFor(this.words.language);
    const layout = layouts[this.layout % layouts.length];
    const field = new Container({ height: 48, backgroundColor: "#0b0c10", borderRadius: 8 });
    body.add(field);
    this.elements.set("typed", field);
    this.box(field, this.labels, this.typed || w.t("xr_typing"), { id: "typed-text", grow: 1, height: 48, color: this.typed ? COLOURS.text : COLOURS.muted, align: layout.id === "arabic" ? "right" : "left", direction: "auto" });
    for (const keys of layout.rows) {
      // Keys keep their order on the keyboard whatever the page's direction: the row is a physical layout.
      const row = new Container({ flexDirection: "row", gap: 5, justifyContent: "center" });
      body.add(row);
      for (const key of keys) this.box(row, this.labels, key, { id: `key:${key}`, onClick: () => this.type(key), width: 48, height: 42, size: 20, direction: "auto" });
    }
    const actions = new Container({ flexDirection: "row", gap: 5, justifyContent: "center" });
    body.add(actions);
    if (layouts.length > 1) {
      const next = layouts[(this.layout + 1) % layouts.length];
      this.box(actions, this.labels, next.label, { id: "key:layout", onClick: () => ((this.layout = (this.layout + 1) % layouts.length), (this.dirty = true)), width: 90, size: 17 });
    }
    this.box(actions, this.labels, w.t("xr_space"), { id: "key:space", onClick: () => this.type(" "), width: 200, size: 16 });
    this.box(actions, this.labels, "⌫", { id: "key:back", onClick: () => this.back(), width: 70 });
    this.box(actions, this.labels, w.t("send"), { id: "send", onClick: () => this.sendTyped(), width: 130, selected: true });
  }

  /** @param {string} key */
  type(key) {
    this.typed = (this.typed + key).slice(0, 500);
    this.dirty = true;
  }

  back() {
    this.typed = [...this.typed].slice(0, -1).join("");
    this.dirty = true;
  }

  sendTyped() {
    const text = this.typed.trim();
    if (!text) return;
    this.onSay(text);
    this.typed = "";
    this.show("chat");
  }

  /** @param {Component} body */
  tourTab(body) {
    const w = this.menuWords;
    const guide = this.guide;
    const tours = guide.tours();
    if (!tours.length) {
      this.box(body, this.labels, w.t("xr_no_tour"), { height: 40, color: COLOURS.muted });
      return;
    }
    if (!guide.tour) {
      for (const tour of tours) {
        const title = guide.text(tour.title)?.text || tour.id;
        this.box(body, this.labels, `${w.t("start_tour")}: ${title}`, { id: `tour:start:${tour.id}`, onClick: () => guide.startSelfGuided(tour.id), height: 48 });
        const row = this.row(body);
        this.box(row, this.labels, w.t("lead_tour"), { id: `tour:lead:${tour.id}`, onClick: () => guide.lead(tour.id), grow: 1, size: 17 });
        const offer = guide.available.get(tour.id);
        if (offer) this.box(row, this.labels, w.t("join_tour", { name: offer.name }), { id: `tour:join:${tour.id}`, onClick: () => guide.join(tour.id), grow: 1, size: 17 });
      }
      return;
    }
    const tour = tours.find((x) => x.id === guide.tour.id);
    const stop = guide.currentStop();
    const place = guide.tour.guided ? ` · ${guide.tour.leading ? w.t("you_lead") : w.t("guided")}` : "";
    const at = `tours.${tour.id}.stops.${stop.id}`;
    const title = guide.text(stop.title, `${at}.title`);
    this.box(body, this.labels, title?.text || stop.id, { id: "tour:title", height: 40, size: 22, align: this.rtl ? "right" : "left", direction: "auto" });
    this.box(body, this.labels, `${w.t("xr_stop", { index: guide.tour.index + 1, count: tour.stops.length })}${place}`, { id: "tour:progress", height: 28, size: 16, color: COLOURS.muted, align: this.rtl ? "right" : "left" });
    const narration = guide.text(stop.narration, `${at}.narration`);
    if (narration) {
      const short = narration.text.length > 220 ? `${narration.text.slice(0, 217)}…` : narration.text;
      this.box(body, this.labels, short, { height: 96, size: 16, align: this.rtl ? "right" : "left", direction: "auto" });
    }
    if (title?.machine || narration?.machine) this.box(body, this.labels, w.t("machine"), { id: "tour:machine", height: 26, size: 14, color: COLOURS.machine, align: this.rtl ? "right" : "left" });
    const canMove = !guide.tour.guided || guide.tour.leading;
    const row = this.row(body);
    this.box(row, this.labels, w.t("previous"), { id: "tour:prev", onClick: () => guide.step(-1), grow: 1, disabled: !canMove || guide.tour.index === 0 });
    this.box(row, this.labels, w.t("next"), { id: "tour:next", onClick: () => guide.step(1), grow: 1, disabled: !canMove || guide.tour.index === tour.stops.length - 1 });
    this.box(body, this.labels, w.t("leave_tour"), { id: "tour:leave", onClick: () => guide.leave(), size: 17 });
  }

  /** @param {Component} body */
  voiceTab(body) {
    const w = this.menuWords;
    const voice = this.voice;
    const state = voice?.menuState();
    if (!voice || !state?.available) {
      this.box(body, this.labels, state?.problem || w.t("voice_failed", { error: "—" }), { height: 40, color: COLOURS.muted });
      return;
    }
    const start = this.rtl ? "right" : "left";
    const you = `${state.speaking ? "● " : ""}${w.t("voice_you")}${state.speaking ? ` · ${w.t("voice_speaking")}` : ""}`;
    this.box(body, this.labels, you, { id: "voice:self", height: 34, color: state.speaking ? "#7fe0ff" : COLOURS.muted, align: start });
    if (state.roomMuted) this.box(body, this.labels, w.t("voice_room_muted"), { id: "voice:room-muted", height: 34, color: COLOURS.machine, align: start });
    else if (state.problem) this.box(body, this.labels, state.problem, { height: 34, color: COLOURS.machine, align: start });
    const row = this.row(body);
    this.box(row, this.labels, state.on ? w.t("voice_off") : w.t("voice_on"), { id: "voice:toggle", onClick: () => voice.toggle(), grow: 1, size: 17, selected: state.on, disabled: !state.on && state.roomMuted });
    if (state.on && !state.roomMuted) {
      this.box(row, this.labels, state.selfMuted ? w.t("voice_unmute_me") : w.t("voice_mute_me"), { id: "voice:mute-me", onClick: () => voice.muteSelf(), grow: 1, size: 17, selected: state.selfMuted });
      const modes = this.row(body);
      for (const mode of /** @type {const} */ (["open", "ptt"])) {
        this.box(modes, this.labels, w.t(mode === "open" ? "voice_open" : "voice_ptt"), { id: `voice:mode:${mode}`, onClick: () => voice.setMode(mode), grow: 1, size: 17, selected: state.mode === mode });
      }
      if (state.mode === "ptt") this.box(body, this.labels, w.t("voice_hold_grip"), { height: 30, size: 15, color: COLOURS.muted, align: start });
    }
    if (!state.peers.length) this.box(body, this.labels, w.t("voice_none"), { height: 34, size: 16, color: COLOURS.muted, align: start });
    for (const peer of state.peers.slice(0, 6)) {
      const line = this.row(body);
      this.box(line, this.labels, `${peer.speaking ? "● " : ""}${peer.name}`, { id: `voice:peer:${peer.id}`, grow: 1, height: 40, size: 17, align: start, direction: "auto", color: peer.speaking ? "#7fe0ff" : COLOURS.text });
      const label = peer.muted ? w.t("voice_unmute_one") : w.t("voice_mute_one");
      this.box(line, this.labels, label, { id: `voice:mute:${peer.id}`, onClick: () => voice.toggleMuteHere(peer.id), width: 150, height: 40, size: 15, selected: peer.muted });
    }
  }

  /** @param {Component} body */
  moreTab(body) {
    const w = this.menuWords;
    const sizes = this.row(body);
    this.box(sizes, this.labels, w.t("xr_text_size"), { grow: 1, align: this.rtl ? "right" : "left" });
    this.box(sizes, this.labels, "A−", { id: "size:smaller", onClick: () => this.resize(-1), width: 70 });
    this.box(sizes, this.labels, "A+", { id: "size:larger", onClick: () => this.resize(1), width: 70 });
    this.box(body, this.labels, w.t("language"), { height: 30, size: 16, color: COLOURS.muted, align: this.rtl ? "right" : "left" });
    const names = this.row(body, { wrap: true });
    for (const tag of LANGUAGES) {
      const name = new Intl.DisplayNames([tag], { type: "language" }).of(tag) || tag;
      const label = this.fonts.covers(name) ? name : tag.toUpperCase();
      this.box(names, this.labels, label, { id: `language:${tag}`, onClick: () => this.setLanguage(tag), width: 114, size: 16, selected: primary(this.words.language) === tag, direction: "auto" });
    }
    this.box(body, this.labels, w.t("xr_words_note"), { height: 30, size: 13, color: COLOURS.muted });
    this.box(body, this.labels, w.t("xr_exit"), { id: "exit", onClick: () => this.renderer.xr.getSession()?.end(), height: 48 });
  }

  /** @param {number} direction */
  resize(direction) {
    this.scale = Math.max(0.8, Math.min(1.6, Math.round((this.scale + direction * 0.2) * 10) / 10));
    this.panel.scale.setScalar(this.scale);
  }

  /**
   * The page's words (and this menu's) in another language.
   * @param {string} tag
   */
  setLanguage(tag) {
    this.words.setLanguage(tag);
    this.layout = 0;
    this.dispose(this.wristRoot, this.wristLabels);
    this.wristLabels = [];
    this.buildWrist();
    this.dirty = true;
  }

  // -- what the tests read -----------------------------------------------------------------------

  /**
   * The menu as laid out: each interactive box's centre in the rig's space (the XR session's reference space)
   * and in the scene's, each label's text and direction, and where each controller's ray (or hand's) starts in
   * the rig's space.
   */
  state() {
    const rigInverse = new THREE.Matrix4().copy(this.rig.matrixWorld).invert();
    /** @type {Record<string, {xr: number[], world: number[], size: number[]}>} */
    const elements = {};
    for (const [id, box] of this.elements) {
      if (!box.size.peek() || !box.parent) continue;
      const world = new THREE.Vector3().setFromMatrixPosition(box.matrixWorld);
      const size = new THREE.Vector3().setFromMatrixScale(box.matrixWorld);
      elements[id] = { world: world.toArray(), xr: world.clone().applyMatrix4(rigInverse).toArray(), size: [size.x, size.y] };
    }
    const labels = [...this.labels, ...this.wristLabels].map(({ mesh }) => ({
      id: mesh.userData.id,
      text: mesh.userData.source,
      drawn: mesh.text,
      font: mesh.font,
      direction: mesh.userData.direction,
      visible: mesh.visible,
    }));
    return {
      active: this.active,
      open: this.isOpen,
      tab: this.tab,
      typed: this.typed,
      scale: this.scale,
      language: this.menuWords.language,
      pointing: Object.fromEntries(this.xr.controllers.map((c) => [c.userData.handedness || "none", this.pointing(c)])),
      rays: Object.fromEntries(this.xr.controllers.map((c) => [c.userData.handedness || "none", new THREE.Vector3().setFromMatrixPosition(c.matrix).toArray()])),
      elements,
      labels,
    };
  }
}
