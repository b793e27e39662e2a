// @ts-check
// The editor once signed in: the scene picker and the open scene, with its 3D view, tree, node panel, library,
// review queue and history, each told of the others' changes through the draft.
import { el, find, messageOf } from "../dom.js";
import { ApiError } from "./api.js";
import { History } from "./history.js";
import { NodeInspector } from "./inspector.js";
import { Library } from "./library.js";
import { Reviews } from "./reviews.js";
import { SceneRules } from "./rules.js";
import { TextsPanel } from "./texts.js";
import { SceneTree } from "./tree.js";
import { round } from "./units.js";
import { View } from "./view.js";

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
    /** @type {string | null} */
    this.selected = null;
    /** @param {string} [message] */
    const reload = (message) => this.reload(message);
    this.view = new View(find("#view3d", HTMLCanvasElement), {
      onPick: (nodeId) => this.select(nodeId),
      onMoved: (nodeId, position, rotation, scale) => this.saveTransform(nodeId, position, rotation, scale),
    });
    this.tree = new SceneTree({ list: find("#tree"), onSelect: (nodeId) => this.select(nodeId) });
    this.inspector = new NodeInspector({
      draft,
      onTransform: (nodeId, position, rotation, scale) => this.saveTransform(nodeId, position, rotation, scale),
      onRemoved: reload,
    });
    this.texts = new TextsPanel({
      container: find("#texts"),
      draft,
      onSaved: () => {
        this.renderTree();
        this.renderNode();
      },
    });
    this.history = new History({ api, draft, reload });
    this.rules = new SceneRules({
      draft,
      say,
      onSaved: () => this.renderNode(),
      onLayerSaved: () => this.history.loadLanguages().catch(() => {}),
    });
    this.library = new Library({
      api,
      draft,
      say,
      placeInFront: () => this.view.placeInFront(),
      reload,
      select: (nodeId) => this.select(nodeId),
      onPreviewed: (recipe) => (state.previewed = recipe),
    });
    this.reviews = new Reviews({ api, say, onDecided: () => Promise.all([this.library.load(), this.reload()]) });
    find("#publish", HTMLButtonElement).addEventListener("click", () => this.publish());
  }

  /**
   * The scenes to choose from (?scene= picks one), the library, and the first scene.
   * @param {URLSearchParams} params
   */
  async open(params) {
    /** @type {{scenes: {id: string, title: Record<string, string>}[]}} */
    const { scenes } = (await this.api.call("GET", "/api/curate/scenes")).body;
    const select = find("#scene-select", HTMLSelectElement);
    select.replaceChildren(...scenes.map((s) => el("option", { value: s.id }, `${s.title.en || Object.values(s.title)[0]} (${s.id})`)));
    const wanted = params.get("scene");
    if (wanted && scenes.some((s) => s.id === wanted)) select.value = wanted;
    select.addEventListener("change", () => this.openScene(select.value));
    await this.library.load();
    await this.openScene(select.value);
  }

  /**
   * @param {string} sceneId
   * @param {boolean} [keepSelection] the same node stays selected, if it is still there
   */
  async openScene(sceneId, keepSelection = false) {
    const draft = this.draft;
    const changed = await draft.open(sceneId);
    const selected = keepSelection ? this.selected : null;
    await this.view.show(draft.document, draft.manifest, changed);
    this.renderTree();
    this.select(selected && draft.node(selected) ? selected : null);
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

  /** @param {string | null} nodeId */
  select(nodeId) {
    this.selected = nodeId;
    this.tree.mark(nodeId);
    this.view.attach(nodeId);
    this.renderNode();
  }

  renderTree() {
    this.tree.render(this.draft, this.selected);
  }

  // The node panel: the selected node's transform and texts, or the scene's texts and rules.
  renderNode() {
    const spec = this.draft.node(this.selected);
    this.inspector.render(spec, this.selected);
    this.texts.render(spec);
    this.rules.render(spec);
  }

  /**
   * @param {string} nodeId
   * @param {number[]} position
   * @param {number[]} rotation a quaternion, normalised here
   * @param {number[]} scale
   */
  async saveTransform(nodeId, position, rotation, scale) {
    const unit = Math.hypot(...rotation) || 1;
    const body = { position: round(position, 3), rotation: round(rotation.map((v) => v / unit), 6), scale: round(scale, 3) };
    const reply = await this.draft.write("PATCH", `/nodes/${encodeURIComponent(nodeId)}`, body, `${nodeId}'s transform`);
    if (!reply) return;
    this.view.arrange(this.draft.document);
    this.renderNode();
  }

  async publish() {
    try {
      await this.draft.publish();
      this.say(`Published r${this.draft.published}: visitors see it now.`);
      this.state.status = "published";
      await this.history.load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) await this.reload("The draft changed before publishing; it is reloaded. Check it and publish again.");
      else this.say(`Not published: ${messageOf(error)}`);
    }
  }
}
