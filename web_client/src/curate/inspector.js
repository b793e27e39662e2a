// @ts-check
// The selected node: its name, its transform as typed numbers (metres, degrees, factors), and its asset with the
// asset's real size and the size it is shown at. With no node selected the panel is the scene's (texts.js, rules.js).
import * as THREE from "three";
import { el, find, findAll } from "../dom.js";
import { RAD } from "./units.js";
import { t } from "./words.js";

/** @typedef {import("../types.js").NodeSpec} NodeSpec */

export class NodeInspector {
  /**
   * @param {object} options
   * @param {import("./draft.js").Draft} options.draft
   * @param {(nodeId: string, position: number[], rotation: number[], scale: number[]) => void} options.onTransform
   *   typed values to save
   * @param {(assetId: string) => Promise<import("./placing.js").Box>} options.boxOf an asset's own box
   */
  constructor({ draft, onTransform, boxOf }) {
    this.draft = draft;
    this.onTransform = onTransform;
    this.boxOf = boxOf;
    /** @type {string | null} the node shown */
    this.nodeId = null;
  }

  /**
   * Show a node, or (null) the scene's title.
   * @param {NodeSpec | undefined} spec
   * @param {string | null} selected the node chosen, found in the draft or not
   */
  render(spec, selected) {
    this.nodeId = selected;
    find("#node-title").textContent = spec ? this.draft.nameOf(spec) : t("scene_texts");
    find("#node-transform").hidden = !spec;
    if (!spec) return;
    const rotation = new THREE.Euler().setFromQuaternion(new THREE.Quaternion().fromArray(spec.rotation || [0, 0, 0, 1]));
    /** @type {[string, string, number[], number][]} */
    const rows = [
      ["#position-fields", t("position"), spec.position || [0, 0, 0], 0.01],
      ["#rotation-fields", t("rotation"), [rotation.x / RAD, rotation.y / RAD, rotation.z / RAD], 1],
      ["#scale-fields", t("scale"), spec.scale || [1, 1, 1], 0.01],
    ];
    for (const [selector, label, values, step] of rows) {
      find(selector).replaceChildren(
        el("span", {}, label),
        ...values.map((v, i) =>
          el("input", { type: "number", step, value: Number(v.toFixed(3)), "aria-label": `${label} ${"xyz"[i]}`, onchange: () => this.saveTyped() }),
        ),
      );
    }
    find("#node-asset").textContent = spec.asset || t("no_asset");
    const size = find("#node-size");
    size.textContent = "";
    if (spec.asset) this.showSize(spec, size);
  }

  /**
   * "real size W × H × D m, shown at w × h × d m" (width, height, depth; the node's own scale, not its parents').
   * @param {NodeSpec} spec
   * @param {HTMLElement} target
   */
  async showSize(spec, target) {
    try {
      const box = await this.boxOf(spec.asset);
      if (this.nodeId !== spec.id) return;
      const real = [0, 1, 2].map((i) => box.max[i] - box.min[i]);
      const scale = spec.scale || [1, 1, 1];
      /** @param {number[]} v */
      const metres = (v) => t("metres", { value: v.map((x) => x.toFixed(2)).join(" × ") });
      target.textContent = t("real_size", { real: metres(real), shown: metres(real.map((v, i) => v * Math.abs(scale[i]))) });
    } catch {
      target.textContent = "";
    }
  }

  // The transform as typed in the fields, to save.
  saveTyped() {
    /** @param {string} selector */
    const read = (selector) => findAll(`${selector} input`, HTMLInputElement).map((i) => Number(i.value));
    const [rx, ry, rz] = read("#rotation-fields");
    const quaternion = new THREE.Quaternion().setFromEuler(new THREE.Euler(rx * RAD, ry * RAD, rz * RAD));
    this.onTransform(this.nodeId, read("#position-fields"), quaternion.toArray(), read("#scale-fields"));
  }
}
