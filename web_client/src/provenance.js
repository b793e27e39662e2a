// @ts-check
// "generated" labels on machine-made objects, and their provenance details on selection.
import * as THREE from "three";
import { CSS2DObject, CSS2DRenderer } from "three/addons/renderers/CSS2DRenderer.js";
import { find } from "./dom.js";
import { machineMark } from "./i18n.js";
import { canvasSprite } from "./sprites.js";

/** @typedef {import("./i18n.js").Words} Words */
/** @typedef {import("./world.js").SceneStreamer} SceneStreamer */
/** @typedef {{label: CSS2DObject, holder: THREE.Object3D, button: HTMLButtonElement, sprite: THREE.Sprite}} Label */

const LABEL_MAX_SIZE_M = 8; // larger set pieces (floors, walls) are listed in the HUD badge instead
const LABEL_RANGE_M = 15;

/** @type {Record<string, string>} IPTC digital source type -> the key of its description */
const SOURCE_TYPES = {
  algorithmicMedia: "algorithmic",
  trainedAlgorithmicMedia: "trained",
  compositeWithTrainedAlgorithmicMedia: "trained",
  compositeSynthetic: "algorithmic",
  digitalCapture: "capture",
  digitalCreation: "creation",
};

/**
 * @param {Words} words
 * @param {import("./types.js").Provenance} provenance
 * @returns {string}
 */
function describeSource(words, provenance) {
  const code = (provenance.digital_source_type || "").split("/").pop();
  return SOURCE_TYPES[code] ? words.t(SOURCE_TYPES[code]) : code || "?";
}

export class ProvenanceLabels {
  /**
   * @param {object} options
   * @param {SceneStreamer} options.streamer
   * @param {HTMLElement} options.panel the details panel (#asset-info)
   * @param {HTMLButtonElement} options.badge the HUD's count of generated objects
   * @param {(spec: import("./types.js").NodeSpec) => string} options.nameOf a node's name for the reader
   * @param {(spec: import("./types.js").NodeSpec) => boolean} [options.machineName] whether that name is a machine translation
   * @param {Words} options.words
   */
  constructor({ streamer, panel, badge, nameOf, machineName = () => false, words }) {
    this.streamer = streamer;
    this.panel = panel;
    this.badge = badge;
    this.nameOf = nameOf;
    this.machineName = machineName;
    this.words = words;
    this.xr = false;
    /** @type {THREE.Camera | null} the camera of the last frame drawn */
    this.camera = null;
    this.renderer = new CSS2DRenderer();
    this.renderer.domElement.className = "labels";
    document.body.insertBefore(this.renderer.domElement, document.querySelector("#hud"));
    /** @type {Label[]} */
    this.labels = [];
    /** @type {THREE.Object3D[]} generated set pieces, listed behind the badge instead of labelled */
    this.setPieces = [];
    find(".close", HTMLButtonElement, this.panel).addEventListener("click", () => (this.panel.hidden = true));
    this.badge.addEventListener("click", () => this.showList());
  }

  /**
   * In a headset page elements do not show: the same labels as small signs in the scene.
   * @returns {THREE.Sprite}
   */
  sign() {
    const text = this.words.t("generated");
    const sprite = canvasSprite(
      256,
      64,
      (g) => {
        g.fillStyle = "rgba(21, 23, 28, 0.85)";
        g.beginPath();
        g.roundRect(2, 2, 252, 60, 28);
        g.fill();
        g.strokeStyle = "rgba(255, 231, 166, 0.8)";
        g.lineWidth = 3;
        g.stroke();
        g.fillStyle = "#ffe7a6";
        g.font = "bold 30px system-ui, sans-serif";
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.fillText(text, 128, 33);
      },
      0.36,
      { overlay: true },
    );
    sprite.visible = false;
    return sprite;
  }

  /** @param {boolean} presenting */
  setXR(presenting) {
    this.xr = presenting;
    for (const { sprite } of this.labels) sprite.visible = presenting;
    this.renderer.domElement.hidden = presenting;
  }

  /** @returns {string[]} the nodes whose sign shows in the headset */
  xrSigns() {
    return this.labels.filter((l) => l.sprite.visible).map((l) => l.holder.name);
  }

  // Remove every label and list, then label the scene as it is now (after a live update).
  refresh() {
    for (const { label, sprite } of this.labels) {
      label.element.remove();
      label.removeFromParent();
      sprite.removeFromParent();
    }
    this.labels = [];
    this.setPieces = [];
    this.attach();
  }

  // Call once the lowest levels are placed: sizes are known then. Small objects get a floating label; set pieces
  // and objects that carry generated objects (a plinth under a vase) are listed behind the HUD badge instead.
  attach() {
    const box = new THREE.Box3();
    const size = new THREE.Vector3();
    this.streamer.root.updateMatrixWorld(true); // after a live update, before the next frame has done it
    /** @type {THREE.Object3D[]} */
    const generated = [...this.streamer.nodes.values()].filter((holder) => {
      const assetId = holder.userData.node.asset;
      return holder.userData.model && assetId && this.streamer.assets.get(assetId)?.entry.provenance.generated;
    });
    const carriers = new Set(generated.map((holder) => holder.parent).filter((parent) => generated.includes(parent)));
    for (const holder of generated) {
      const model = holder.userData.model;
      const entry = this.streamer.assets.get(holder.userData.node.asset).entry;
      box.setFromObject(model);
      box.getSize(size);
      if (size.length() > LABEL_MAX_SIZE_M || carriers.has(holder)) {
        this.setPieces.push(holder);
        continue;
      }
      const button = document.createElement("button");
      button.className = "generated-label";
      button.type = "button";
      button.textContent = this.words.t("generated");
      button.title = describeSource(this.words, entry.provenance);
      button.addEventListener("click", () => this.show(holder));
      button.addEventListener("pointerdown", (e) => e.stopPropagation());
      const label = new CSS2DObject(button);
      const top = new THREE.Vector3((box.min.x + box.max.x) / 2, box.max.y + 0.15, (box.min.z + box.max.z) / 2);
      label.position.copy(holder.worldToLocal(top));
      holder.add(label);
      const sprite = this.sign();
      sprite.position.copy(label.position);
      sprite.visible = Boolean(this.xr);
      holder.add(sprite);
      this.labels.push({ label, holder, button, sprite });
    }
    this.badge.textContent = `${this.words.t("generated")}: ${this.labels.length + this.setPieces.length}`;
    this.badge.hidden = this.labels.length + this.setPieces.length === 0;
  }

  /**
   * The node a raycast hit belongs to, if its asset is generated: selection shows its details.
   * @param {THREE.Intersection} hit
   * @returns {boolean} whether it showed something
   */
  pick(hit) {
    for (let object = hit?.object; object; object = object.parent) {
      const spec = object.userData.node;
      if (spec) {
        const entry = spec.asset && this.streamer.assets.get(spec.asset)?.entry;
        if (entry) {
          this.show(object);
          return true;
        }
      }
    }
    return false;
  }

  /** @param {THREE.Object3D} holder a node's holder group */
  show(holder) {
    const t = this.words.t.bind(this.words);
    const spec = holder.userData.node;
    const asset = this.streamer.assets.get(spec.asset);
    const p = asset.entry.provenance;
    /** @type {[string, string | number | undefined][]} */
    const rows = [
      [t("origin"), describeSource(this.words, p)],
      [t("source_type"), p.digital_source_type],
      [t("generator"), `${p.generator} ${p.generator_version}`.trim()],
      [t("recipe"), p.recipe],
      [t("parameters"), p.params && Object.entries(p.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")],
      [t("seed"), p.seed],
      [t("prompt"), p.prompt],
      [t("service"), p.service],
      [t("made_by"), p.made_by],
      [t("made"), p.made_at],
      [t("shown_at"), t("level", { level: asset.level, levels: asset.entry.levels.length, triangles: asset.entry.levels[asset.level].triangles })],
    ];
    const heading = find("h2", HTMLElement, this.panel);
    heading.textContent = this.nameOf(spec);
    if (this.machineName(spec)) heading.append(" ", machineMark(this.words));
    const list = find("dl", HTMLElement, this.panel);
    list.replaceChildren();
    for (const [term, value] of rows) {
      if (value === undefined || value === null || value === "") continue;
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = String(value);
      list.append(dt, dd);
    }
    const link = find("a", HTMLAnchorElement, this.panel);
    link.href = asset.entry.metadata_url;
    this.panel.hidden = false;
    this.panel.dataset.node = spec.id;
  }

  // The list behind the badge: everything generated in the scene, set pieces included.
  showList() {
    find("h2", HTMLElement, this.panel).textContent = this.words.t("in_scene");
    const list = find("dl", HTMLElement, this.panel);
    list.replaceChildren();
    for (const holder of [...this.setPieces, ...this.labels.map((l) => l.holder)]) {
      const dt = document.createElement("dt");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = this.nameOf(holder.userData.node);
      button.addEventListener("click", () => this.show(holder));
      dt.append(button);
      const dd = document.createElement("dd");
      dd.textContent = describeSource(this.words, this.streamer.assets.get(holder.userData.node.asset).entry.provenance);
      list.append(dt, dd);
    }
    find("a", HTMLAnchorElement, this.panel).removeAttribute("href");
    this.panel.hidden = false;
    delete this.panel.dataset.node;
  }

  /**
   * Draw the labels in range of the camera.
   * @param {THREE.Scene} scene
   * @param {THREE.Camera} camera
   */
  render(scene, camera) {
    this.camera = camera;
    const eye = camera.getWorldPosition(new THREE.Vector3());
    const at = new THREE.Vector3();
    for (const { label, holder } of this.labels) label.visible = holder.getWorldPosition(at).distanceTo(eye) < LABEL_RANGE_M;
    this.renderer.render(scene, camera);
  }

  /**
   * @param {number} width
   * @param {number} height
   */
  setSize(width, height) {
    this.renderer.setSize(width, height);
  }

  /** @returns {Label[]} the labels showing in the page */
  shown() {
    return this.labels.filter((l) => l.label.visible && l.button.isConnected && l.button.style.display !== "none");
  }

  /** @returns {string[]} the nodes whose label shows in the page */
  visibleLabels() {
    return this.shown().map((l) => l.holder.name);
  }

  /**
   * Where each label showing is drawn, and where its anchor (just above its object) projects with the camera of the
   * last frame, in normalised device coordinates (x and y from -1 to 1, y up): the tests compare the two.
   * @returns {{node: string, anchor: number[], box: {left: number, top: number, width: number, height: number}}[]}
   */
  places() {
    if (!this.camera) return [];
    return this.shown().map(({ label, holder, button }) => {
      const { left, top, width, height } = button.getBoundingClientRect();
      return { node: holder.name, anchor: label.getWorldPosition(new THREE.Vector3()).project(this.camera).toArray(), box: { left, top, width, height } };
    });
  }
}
