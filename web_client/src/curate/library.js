// @ts-check
// The library tab: the asset library with thumbnails, search and filter (add an asset to the scene, or drag it
// onto the view), and recipes with
// their parameters, a preview, and adding the generated object to the scene (where it waits for review). A new
// object stands on the surface it is put on, scaled down to a sensible footprint and clear of the spawn points
// (placing.js); its real size is what its model measures.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { el, find, findAll, messageOf } from "../dom.js";
import { ApiError } from "./api.js";
import { fitScale, placement } from "./placing.js";
import { Thumbnails } from "./thumbnails.js";
import { round } from "./units.js";
import { t } from "./words.js";

/**
 * @typedef {object} ParameterSchema one recipe parameter, as JSON Schema
 * @property {string} type
 * @property {string} [description]
 * @property {string} [pattern]
 * @property {number} [minimum]
 * @property {number} [maximum]
 * @property {unknown} [default]
 */
/** @typedef {{name: string, title: string, description: string, schema: {properties: Record<string, ParameterSchema>}}} Recipe */
/** @typedef {{id: string, status: string, origin: string, generated?: boolean}} LibraryAsset */
/** @typedef {{name: string, params: Record<string, unknown>, seed: number}} RecipeRequest */
/** @typedef {{point: number[], away: number[]}} Surface where a new object goes, and the way from the camera to it */
/** @typedef {import("./placing.js").Box} Box */

/**
 * A model's own box (its scene at the origin, unscaled).
 * @param {THREE.Object3D} scene
 * @returns {Box}
 */
function boxOfScene(scene) {
  scene.updateMatrixWorld(true);
  const box = new THREE.Box3().setFromObject(scene);
  if (box.isEmpty()) return { min: [0, 0, 0], max: [0, 0, 0] };
  return { min: box.min.toArray(), max: box.max.toArray() };
}

export class Library {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {import("./draft.js").Draft} options.draft
   * @param {(message: string) => void} options.say
   * @param {() => Surface} options.surface where a new node goes: the surface in the middle of the view
   * @param {(message: string) => Promise<void>} options.reload take the draft again, then say `message`
   * @param {(nodeId: string) => void} options.select
   * @param {(recipe: string) => void} options.onPreviewed
   */
  constructor({ api, draft, say, surface, reload, select, onPreviewed }) {
    this.api = api;
    this.draft = draft;
    this.say = say;
    this.surface = surface;
    this.loader = new GLTFLoader();
    this.thumbnails = new Thumbnails(api);
    /** @type {Map<string, Promise<Box>>} asset id -> its box */
    this.boxes = new Map();
    /** @type {{key: string, box: Box} | null} the last previewed recipe's box */
    this.previewBox = null;
    this.reload = reload;
    this.select = select;
    this.onPreviewed = onPreviewed;
    /** @type {{assets: LibraryAsset[], recipes: Recipe[]}} */
    this.library = { assets: [], recipes: [] };
    /** @type {{renderer: THREE.WebGLRenderer, scene: THREE.Scene, camera: THREE.PerspectiveCamera, model: THREE.Object3D | null} | null} */
    this.preview = null;
    this.recipeSelect = find("#recipe", HTMLSelectElement);
    find("#recipe-preview", HTMLButtonElement).addEventListener("click", () => this.previewRecipe());
    find("#recipe-add", HTMLButtonElement).addEventListener("click", () => this.addRecipe());
    this.search = find("#asset-search", HTMLInputElement);
    this.filter = find("#asset-filter", HTMLSelectElement);
    this.search.addEventListener("input", () => this.showMatches());
    this.filter.addEventListener("change", () => this.showMatches());
  }

  /**
   * Whether an asset passes the search (words in its id or origin) and the filter (generated or not, waiting).
   * @param {LibraryAsset} asset
   */
  matches(asset) {
    const words = this.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = `${asset.id} ${asset.origin}`.toLowerCase();
    if (!words.every((word) => haystack.includes(word))) return false;
    const filter = this.filter.value;
    if (filter === "generated") return Boolean(asset.generated);
    if (filter === "made") return !asset.generated;
    if (filter === "waiting") return asset.status === "pending";
    return true;
  }

  // Hide the assets the search and filter leave out, and say how many are shown.
  showMatches() {
    let shown = 0;
    for (const item of findAll("#assets > li")) {
      const asset = this.library.assets.find((a) => a.id === item.dataset.asset);
      item.hidden = !asset || !this.matches(asset);
      if (!item.hidden) shown += 1;
    }
    find("#asset-count").textContent = t("shown_count", { shown, total: this.library.assets.length });
  }

  async load() {
    this.library = (await this.api.call("GET", "/api/curate/assets")).body;
    find("#assets").replaceChildren(
      ...this.library.assets.map((asset) =>
        el(
          "li",
          {
            draggable: "true",
            "data-asset": asset.id,
            ondragstart: (/** @type {DragEvent} */ e) => {
              e.dataTransfer.setData("application/x-thirdspace-asset", asset.id);
              e.dataTransfer.effectAllowed = "copy";
            },
          },
          el(
            "div",
            { class: "asset-card" },
            el("img", { class: "thumb", alt: "", width: 128, height: 96, "data-asset": asset.id, draggable: "false" }),
            el(
              "div",
              {},
              el("div", { class: "row" }, el("strong", {}, asset.id), el("span", { class: `badge ${asset.status}` }, t(`status_${asset.status}`)), el("span", { class: "muted" }, asset.origin)),
              el("div", { class: "row" }, el("button", { type: "button", class: "quiet", onclick: () => this.addAsset(asset.id) }, t("add_to_scene"))),
            ),
          ),
        ),
      ),
    );
    this.showMatches();
    for (const img of findAll("#assets img.thumb", HTMLImageElement)) this.thumbnails.watch(img);
    const select = this.recipeSelect;
    if (!select.options.length) {
      select.replaceChildren(...this.library.recipes.map((r) => el("option", { value: r.name }, r.title)));
      select.addEventListener("change", () => this.renderRecipeForm());
      this.renderRecipeForm();
    }
  }

  // A field per parameter of the chosen recipe, with its default, and the seed.
  renderRecipeForm() {
    const recipe = this.library.recipes.find((r) => r.name === this.recipeSelect.value);
    find("#recipe-description").textContent = recipe.description;
    const inputs = Object.entries(recipe.schema.properties).map(([key, spec]) => {
      /** @type {HTMLInputElement | HTMLTextAreaElement} */
      let input;
      if (spec.type === "string" && spec.pattern?.includes("#")) input = el("input", { type: "color", value: /** @type {string} */ (spec.default) });
      else if (spec.type === "array") input = el("textarea", { rows: 2 });
      else input = el("input", { type: "number", min: spec.minimum, max: spec.maximum, step: spec.type === "integer" ? 1 : "any", value: /** @type {number} */ (spec.default) });
      if (spec.type === "array") input.value = JSON.stringify(spec.default);
      input.dataset.key = key;
      input.dataset.type = spec.type;
      return el("label", { title: spec.description }, `${key} · ${spec.description}`, input);
    });
    find("#recipe-form").replaceChildren(...inputs, el("label", {}, t("seed"), el("input", { type: "number", id: "recipe-seed", value: 0, min: 0, step: 1 })));
  }

  /** @returns {RecipeRequest} the recipe and parameters as typed */
  recipeRequest() {
    /** @type {Record<string, unknown>} */
    const params = {};
    for (const input of findAll("#recipe-form [data-key]")) {
      const field = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (input);
      const type = field.dataset.type;
      params[field.dataset.key] = type === "array" ? JSON.parse(field.value) : type === "string" ? field.value : Number(field.value);
    }
    return { name: this.recipeSelect.value, params, seed: Number(find("#recipe-seed", HTMLInputElement).value) || 0 };
  }

  async previewRecipe() {
    const spec = this.recipeRequest();
    try {
      const response = await this.api.raw("POST", `/api/curate/recipes/${spec.name}/preview`, { body: { params: spec.params, seed: spec.seed } });
      const box = await this.showPreview(await response.arrayBuffer());
      this.previewBox = { key: JSON.stringify(spec), box };
    } catch (error) {
      const field = error instanceof ApiError && error.body.field;
      this.say(t("cannot_preview", { error: `${field ? `${field}: ` : ""}${messageOf(error)}` }));
    }
  }

  /**
   * @param {ArrayBuffer} buffer a GLB
   * @returns {Promise<Box>} the model's box
   */
  async showPreview(buffer) {
    if (!this.preview) {
      const scene = new THREE.Scene();
      scene.background = new THREE.Color("#15171c");
      scene.add(new THREE.HemisphereLight("#ffffff", "#444444", 2), new THREE.DirectionalLight("#ffffff", 2));
      this.preview = {
        renderer: new THREE.WebGLRenderer({ canvas: find("#preview", HTMLCanvasElement), antialias: true }),
        scene,
        camera: new THREE.PerspectiveCamera(40, 320 / 200, 0.01, 500),
        model: null,
      };
    }
    const preview = this.preview;
    const gltf = await this.loader.parseAsync(buffer, "");
    {
      if (preview.model) preview.scene.remove(preview.model);
      preview.model = gltf.scene;
      preview.scene.add(preview.model);
      const box = new THREE.Box3().setFromObject(preview.model);
      const centre = box.getCenter(new THREE.Vector3());
      const size = box.getSize(new THREE.Vector3()).length() || 1;
      preview.camera.position.copy(centre).add(new THREE.Vector3(size * 0.8, size * 0.5, size * 0.8));
      preview.camera.lookAt(centre);
      preview.renderer.render(preview.scene, preview.camera);
      this.onPreviewed(this.recipeSelect.value);
    }
    return boxOfScene(gltf.scene);
  }

  /**
   * An asset's own box, measured on its lightest level (once per asset).
   * @param {string} assetId
   * @returns {Promise<Box>}
   */
  boxOf(assetId) {
    let box = this.boxes.get(assetId);
    if (!box) {
      box = this.thumbnails.model(assetId).then(({ scene }) => boxOfScene(scene));
      box.catch(() => this.boxes.delete(assetId));
      this.boxes.set(assetId, box);
    }
    return box;
  }

  /**
   * The node for a new object: on the surface, fitted to the footprint, clear of the spawn points, inside the bounds.
   * @param {string} id
   * @param {Box} box
   * @param {Surface} surface
   */
  placed(id, box, surface) {
    const document = this.draft.document;
    const scale = fitScale(box);
    const position = placement(surface.point, box, scale, { spawns: document.spawn_points.map((p) => p.position), bounds: document.bounds, away: surface.away });
    /** @type {import("../types.js").NodeSpec} */
    const node = { id, position: /** @type {[number, number, number]} */ (round(position, 3)) };
    if (scale < 1) {
      const s = Number(scale.toFixed(4));
      node.scale = [s, s, s];
    }
    const size = [0, 1, 2].map((i) => (box.max[i] - box.min[i]).toFixed(2)).join(" × ");
    return { node, note: scale < 1 ? t("size_shown_at", { size, scale: scale.toFixed(2) }) : t("metres", { value: size }) };
  }

  /**
   * @param {string} assetId
   * @param {Surface} [surface] where it goes (the middle of the view unless dropped somewhere)
   */
  async addAsset(assetId, surface = this.surface()) {
    let box;
    try {
      box = await this.boxOf(assetId);
    } catch (error) {
      this.say(t("cannot_add", { asset: assetId, error: messageOf(error) }));
      return;
    }
    const { node, note } = this.placed(this.draft.freeNodeId(assetId), box, surface);
    if (await this.draft.write("POST", "/nodes", { node: { ...node, asset: assetId } }, t("what_new", { asset: assetId }))) {
      await this.reload(t("added", { node: node.id, note }));
      this.select(node.id);
    }
  }

  async addRecipe() {
    const spec = this.recipeRequest();
    const key = JSON.stringify(spec);
    if (this.previewBox?.key !== key) await this.previewRecipe(); // its size is the preview's
    if (this.previewBox?.key !== key) return; // the preview was refused, and said why
    const { node, note } = this.placed(this.draft.freeNodeId(spec.name.replace(/_/g, "-")), this.previewBox.box, this.surface());
    if (await this.draft.write("POST", "/nodes", { node, recipe: spec }, t("what_new", { asset: spec.name }))) {
      await Promise.all([this.reload(t("added_waits", { node: node.id, note })), this.load()]);
      this.select(node.id);
    }
  }
}
