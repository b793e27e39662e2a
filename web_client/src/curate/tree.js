// @ts-check
// The scene tree: every node under its parent, the selected ones marked (Shift or Ctrl adds to the selection),
// those whose asset awaits review flagged.
import { el, findAll } from "../dom.js";
import { t } from "./words.js";

/** @typedef {import("../types.js").NodeSpec} NodeSpec */

export class SceneTree {
  /**
   * @param {object} options
   * @param {HTMLElement} options.list the tree's root list (#tree)
   * @param {(nodeId: string | null, adding: boolean) => void} options.onSelect null: the scene itself; `adding`:
   *   with Shift or Ctrl held
   */
  constructor({ list, onSelect }) {
    this.list = list;
    this.onSelect = onSelect;
  }

  /**
   * @param {import("./draft.js").Draft} draft its document, manifest and names
   * @param {string[]} selection
   */
  render(draft, selection) {
    /** @type {Map<string, NodeSpec[]>} parent id ("" for the root) -> children */
    const children = new Map();
    for (const spec of draft.document.nodes) {
      const key = spec.parent || "";
      if (!children.has(key)) children.set(key, []);
      children.get(key).push(spec);
    }
    const pending = new Set(draft.manifest.assets.filter((a) => a.status !== "approved").map((a) => a.id));
    /**
     * @param {string} parent
     * @returns {HTMLLIElement[]}
     */
    const branch = (parent) =>
      (children.get(parent) || []).map((spec) =>
        el(
          "li",
          { role: "treeitem" },
          el(
            "button",
            {
              type: "button",
              "data-node": spec.id,
              "aria-selected": String(selection.includes(spec.id)),
              onclick: (/** @type {MouseEvent} */ e) => this.onSelect(spec.id, e.shiftKey || e.ctrlKey || e.metaKey),
            },
            draft.nameOf(spec),
            pending.has(spec.asset) ? el("span", { class: "pending" }, t("awaiting_review")) : null,
          ),
          children.has(spec.id) ? el("ul", { role: "group" }, ...branch(spec.id)) : null,
        ),
      );
    const scene = el(
      "button",
      { type: "button", "data-node": "", "aria-selected": String(!selection.length), onclick: () => this.onSelect(null, false) },
      t("scene_itself"),
    );
    this.list.replaceChildren(el("li", { role: "treeitem", class: "scene-item" }, scene), ...branch(""));
  }

  /** @param {string[]} selection */
  mark(selection) {
    for (const button of findAll("button", HTMLButtonElement, this.list)) {
      const id = button.dataset.node;
      button.setAttribute("aria-selected", String(id ? selection.includes(id) : !selection.length));
    }
  }
}
