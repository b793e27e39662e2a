// @ts-check
// The editor once signed in: the scene picker and the open scene, with its 3D view, tree, node panel, library,
// review queue and history, each told of the others' changes through the draft; the selection (one node or
// several), and the edits on it: move, duplicate, delete, undo and redo, by button or keyboard.
import { el, find, messageOf } from "../dom.js";
import { pickText } from "../i18n.js";
import { ApiError } from "./api.js";
import { History } from "./history.js";
import { NodeInspector } from "./inspector.js";
import { TourLayer } from "./layer.js";
import { Library } from "./library.js";
import { duplicateNodes, removeNodes } from "./placing.js";
import { Reviews } from "./reviews.js";
import { NewScene } from "./scenes.js";
import { SceneRules } from "./rules.js";
import { TextsPanel } from "./texts.js";
import { SceneTree } from "./tree.js";
import { round } from "./units.js";
import { SNAP, View } from "./view.js";
import { t, words } from "./words.js";

/**
 * @typedef {object} EditorState what the page's tests read (window.curate)
 * @property {string} status
 * @property {string | null} previewed the recipe last previewed
 */

export class Editor {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {import("./draft.js").Draft} options.draft
   * @param {EditorState} options.state
   * @param {(message: string) => void} options.say
   */
  constructor({ api, draft, state, say }) {
    this.api = api;
    this.draft = draft;
    this.state = state;
    this.say = say;
    /** @type {string[]} the selected nodes, the one the gizmo and the node panel show last */
    this.selection = [];
    /** @param {string} [message] */
    const reload = (message) => this.reload(message);
    this.view = new View(find("#view3d", HTMLCanvasElement), {
      onPick: (nodeId, adding) => this.select(nodeId, adding),
      onMoved: (moves) => this.saveMoves(moves),
      onDrop: (assetId, surface) => this.library.addAsset(assetId, surface),
      say,
    });
    this.tree = new SceneTree({ list: find("#tree"), onSelect: (nodeId, adding) => this.select(nodeId, adding) });
    this.inspector = new NodeInspector({
      draft,
      onTransform: (nodeId, position, rotation, scale) => this.saveMoves([{ id: nodeId, position, rotation, scale }]),
      boxOf: (assetId) => this.library.boxOf(assetId),
    });
    this.texts = new TextsPanel({
      container: find("#texts"),
      draft,
      onSaved: () => {
        this.renderTree();
        this.renderNode();
      },
      onDrafted: (message) => {
        say(message);
        this.reviews.load().catch(() => {});
        this.history.loadLanguages().catch(() => {});
      },
    });
    this.history = new History({ api, draft, reload });
    this.rules = new SceneRules({ draft, say, onSaved: () => this.renderNode() });
    this.library = new Library({
      api,
      draft,
      say,
      surface: () => this.view.surfaceAt(),
      reload,
      select: (nodeId) => this.select(nodeId),
      onPreviewed: (recipe) => (state.previewed = recipe),
    });
    this.layer = new TourLayer({
      draft,
      view: this.view,
      say,
      assets: () => this.library.library.assets,
      onSaved: () => this.history.loadLanguages().catch(() => {}),
    });
    draft.onRefused = (field, message) => this.layer.markError(field, message);
    this.reviews = new Reviews({ api, say, onDecided: () => Promise.all([this.library.load(), this.reload()]) });
    find("#publish", HTMLButtonElement).addEventListener("click", () => this.publish());
    find("#undo", HTMLButtonElement).addEventListener("click", () => this.step("undo"));
    find("#redo", HTMLButtonElement).addEventListener("click", () => this.step("redo"));
    find("#duplicate", HTMLButtonElement).addEventListener("click", () => this.duplicate());
    find("#delete", HTMLButtonElement).addEventListener("click", () => this.remove());
    draft.history.onChange = () => this.showSteps();
    addEventListener("keydown", (e) => this.shortcut(e));
  }

  /** The selected node the node panel shows, or null for the scene itself. */
  get selected() {
    return this.selection[this.selection.length - 1] ?? null;
  }

  /**
   * Ctrl+Z (Cmd+Z) undoes, Ctrl+Shift+Z or Ctrl+Y redoes, Ctrl+D duplicates, Delete removes the selection. In a
   * text field the keys are the field's own.
   * @param {KeyboardEvent} e
   */
  shortcut(e) {
    const target = e.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
    const command = e.ctrlKey || e.metaKey;
    /** @type {(() => unknown) | null} */
    let action = null;
    if (command && e.code === "KeyZ") action = () => this.step(e.shiftKey ? "redo" : "undo");
    else if (command && e.code === "KeyY") action = () => this.step("redo");
    else if (command && e.code === "KeyD") action = () => this.duplicate();
    else if (!command && (e.code === "Delete" || e.code === "Backspace") && this.selection.length) action = () => this.remove();
    if (!action) return;
    e.preventDefault();
    action();
  }

  // The undo and redo buttons: enabled when there is a step, named after it.
  showSteps() {
    for (const direction of /** @type {const} */ (["undo", "redo"])) {
      const button = find(`#${direction}`, HTMLButtonElement);
      const step = this.draft.history.next(direction);
      button.disabled = !step;
      const key = direction === "undo" ? "Ctrl+Z" : "Ctrl+Shift+Z";
      button.title = step ? t(`${direction}_step`, { what: step.what, key }) : t(`nothing_${direction}_key`, { key });
    }
  }

  /** @param {"undo" | "redo"} direction */
  async step(direction) {
    const what = this.draft.history.next(direction)?.what;
    if (await this.draft.step(direction)) await this.reload(t(direction === "undo" ? "undone" : "redone", { what, revision: this.draft.revision }));
    this.showSteps();
  }

  /**
   * The scenes to choose from (?scene= picks one), the library, and the first scene.
   * @param {URLSearchParams} params
   */
  async open(params) {
    const select = find("#scene-select", HTMLSelectElement);
    await this.listScenes(params.get("scene"));
    select.addEventListener("change", () => this.openScene(select.value));
    new NewScene({
      api: this.api,
      scenes: () => this.scenes.map((s) => ({ id: s.id, title: `${pickText(s.title, words.language)} (${s.id})` })),
      language: words.language,
      onCreated: async (sceneId) => {
        await this.listScenes(sceneId);
        history.replaceState(null, "", `?scene=${encodeURIComponent(sceneId)}`);
        await this.openScene(sceneId);
        this.say(t("created", { scene: sceneId }));
      },
    });
    await this.library.load();
    await this.openScene(select.value);
  }

  /**
   * The scenes to choose from, `wanted` chosen if it is one of them.
   * @param {string | null} wanted
   */
  async listScenes(wanted) {
    /** @type {{id: string, title: Record<string, string>}[]} */
    this.scenes = (await this.api.call("GET", "/api/curate/scenes")).body.scenes;
    const select = find("#scene-select", HTMLSelectElement);
    select.replaceChildren(...this.scenes.map((s) => el("option", { value: s.id }, `${pickText(s.title, words.language)} (${s.id})`)));
    if (wanted && this.scenes.some((s) => s.id === wanted)) select.value = wanted;
  }

  /**
   * @param {string} sceneId
   * @param {boolean} [keepSelection] the same node stays selected, if it is still there
   */
  async openScene(sceneId, keepSelection = false) {
    const draft = this.draft;
    const changed = await draft.open(sceneId);
    const kept = keepSelection ? this.selection.filter((id) => draft.node(id)) : [];
    await this.view.show(draft.document, draft.manifest, changed);
    this.selection = kept;
    this.renderTree();
    this.layer.render();
    this.showSelection();
    this.showSteps();
    draft.watch();
    await Promise.all([this.reviews.load(), this.history.load()]);
    this.state.status = "ready";
  }

  /**
   * Another curator's change (or a stale write): take the draft as it is now.
   * @param {string} [message]
   */
  async reload(message) {
    await this.openScene(this.draft.sceneId, true);
    if (message) this.say(message);
  }

  /**
   * Select a node (null: the scene itself), or with `adding` add it to the selection or take it out.
   * @param {string | null} nodeId
   * @param {boolean} [adding]
   */
  select(nodeId, adding = false) {
    if (!adding) this.selection = nodeId ? [nodeId] : [];
    else if (nodeId && this.selection.includes(nodeId)) this.selection = this.selection.filter((id) => id !== nodeId);
    else if (nodeId) this.selection = [...this.selection, nodeId];
    this.showSelection();
  }

  /** @param {string[]} ids */
  selectAll(ids) {
    this.selection = ids.filter((id) => this.draft.node(id));
    this.showSelection();
  }

  showSelection() {
    this.tree.mark(this.selection);
    this.view.attach(this.selection);
    find("#duplicate", HTMLButtonElement).disabled = !this.selection.length;
    find("#delete", HTMLButtonElement).disabled = !this.selection.length;
    this.layer.select(this.selected);
    this.renderNode();
  }

  renderTree() {
    this.tree.render(this.draft, this.selection);
  }

  // The node panel: the selected node's transform and texts, or the scene's texts and rules.
  renderNode() {
    const spec = this.draft.node(this.selected);
    this.inspector.render(spec, this.selected);
    this.texts.render(spec);
    this.rules.render(spec);
  }

  /**
   * Save nodes' new transforms: one node as a change to it, several as one edit of the draft.
   * @param {import("./view.js").Move[]} moves rotations are quaternions, normalised here
   */
  async saveMoves(moves) {
    const stored = moves.map(({ id, position, rotation, scale }) => {
      const unit = Math.hypot(...rotation) || 1;
      return { id, position: round(position, 3), rotation: round(rotation.map((v) => v / unit), 6), scale: round(scale, 3) };
    });
    if (stored.length === 1) {
      const { id, ...body } = stored[0];
      await this.draft.write("PATCH", `/nodes/${encodeURIComponent(id)}`, body, t("what_transform", { node: id }));
    } else {
      await this.draft.change(t("what_moved", { nodes: stored.map((m) => m.id).join(", ") }), (document) => {
        for (const { id, ...transform } of stored) Object.assign(document.nodes.find((n) => n.id === id), transform);
      });
    }
    // Saved or not, the view shows the draft as it is (a refused move springs back).
    this.view.arrange(this.draft.document);
    this.view.attach(this.selection);
    this.renderNode();
  }

  // Copy the selection with everything on it, beside it; the copies are selected.
  async duplicate() {
    const ids = this.selection;
    if (!ids.length) return;
    /** @type {string[]} */
    let copies = [];
    const saved = await this.draft.change(t("what_duplicated", { nodes: ids.join(", ") }), (document) => {
      copies = duplicateNodes(document, ids, [SNAP.metres * 4, 0, 0]);
    });
    if (!saved) return;
    await this.reload(t("duplicated", { nodes: ids.join(", "), copies: copies.join(", ") }));
    this.selectAll(copies);
  }

  // Remove the selection, everything on it and the overlays placed on it (undo brings them back).
  async remove() {
    const ids = this.selection;
    if (!ids.length) return;
    const what = ids.join(", ");
    const saved =
      ids.length === 1
        ? await this.draft.write("DELETE", `/nodes/${encodeURIComponent(ids[0])}`, undefined, t("what_removal", { nodes: what }))
        : await this.draft.change(t("what_removed", { nodes: what }), (document) => removeNodes(document, ids));
    if (!saved) return;
    this.selection = [];
    await this.reload(t("removed", { nodes: what }));
  }

  async publish() {
    try {
      await this.draft.publish();
      this.say(t("published_now", { revision: this.draft.published }));
      this.state.status = "published";
      await this.history.load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) await this.reload(t("publish_stale"));
      else this.say(t("not_published_error", { error: messageOf(error) }));
    }
  }
}
