// @ts-check
// The selected node: its name, its transform as typed numbers (metres, degrees, factors), its asset, and removing
// it. With no node selected the panel is the scene's (texts.js, rules.js).
import * as THREE from "three";
import { el, find, findAll } from "../dom.js";
import { RAD } from "./units.js";

/** @typedef {import("../types.js").NodeSpec} NodeSpec */

export class NodeInspector {
  /**
   * @param {object} options
   * @param {import("./draft.js").Draft} options.draft
   * @param {(nodeId: string, position: number[], rotation: number[], scale: number[]) => void} options.onTransform
   *   typed values to save
   * @param {(message: string) => Promise<void>} options.onRemoved take the draft again, then say `message`
   */
  constructor({ draft, onTransform, onRemoved }) {
    this.draft = draft;
    this.onTransform = onTransform;
    /** @type {string | null} the node shown */
    this.nodeId = null;
    find("#remove-node", HTMLButtonElement).addEventListener("click", async () => {
      const nodeId = this.nodeId;
      if (!nodeId || !confirm(`Remove ${nodeId} and everything on it?`)) return;
      if (await draft.write("DELETE", `/nodes/${encodeURIComponent(nodeId)}`, undefined, `removal of ${nodeId}`)) {
        await onRemoved(`Removed ${nodeId}.`);
      }
    });
  }

  /**
   * Show a node, or (null) the scene's title.
   * @param {NodeSpec | undefined} spec
   * @param {string | null} selected the node chosen, found in the draft or not
   */
  render(spec, selected) {
    this.nodeId = selected;
    find("#node-title").textContent = spec ? this.draft.nameOf(spec) : "Scene texts";
    find("#node-transform").hidden = !spec;
    if (!spec) return;
    const rotation = new THREE.Euler().setFromQuaternion(new THREE.Quaternion().fromArray(spec.rotation || [0, 0, 0, 1]));
    /** @type {[string, string, number[], number][]} */
    const rows = [
      ["#position-fields", "Position", spec.position || [0, 0, 0], 0.01],
      ["#rotation-fields", "Rotation", [rotation.x / RAD, rotation.y / RAD, rotation.z / RAD], 1],
      ["#scale-fields", "Scale", spec.scale || [1, 1, 1], 0.01],
    ];
    for (const [selector, label, values, step] of rows) {
      find(selector).replaceChildren(
        el("span", {}, label),
        ...values.map((v, i) =>
          el("input", { type: "number", step, value: Number(v.toFixed(3)), "aria-label": `${label} ${"xyz"[i]}`, onchange: () => this.saveTyped() }),
        ),
      );
    }
    find("#node-asset").textContent = spec.asset || "none (a group)";
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
