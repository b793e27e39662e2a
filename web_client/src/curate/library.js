// @ts-check
// The library tab: the asset library (add an asset to the scene), and recipes with their parameters, a preview,
// and adding the generated object to the scene (where it waits for review).
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { el, find, findAll, messageOf } from "../dom.js";
import { ApiError } from "./api.js";

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
/** @typedef {{id: string, status: string, origin: string}} LibraryAsset */
/** @typedef {{name: string, params: Record<string, unknown>, seed: number}} RecipeRequest */

export class Library {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {import("./draft.js").Draft} options.draft
   * @param {(message: string) => void} options.say
   * @param {() => number[]} options.placeInFront where a new node goes
   * @param {(message: string) => Promise<void>} options.reload take the draft again, then say `message`
   * @param {(nodeId: string) => void} options.select
   * @param {(recipe: string) => void} options.onPreviewed
   */
  constructor({ api, draft, say, placeInFront, reload, select, onPreviewed }) {
    this.api = api;
    this.draft = draft;
    this.say = say;
    this.placeInFront = placeInFront;
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
  }

  async load() {
    this.library = (await this.api.call("GET", "/api/curate/assets")).body;
    find("#assets").replaceChildren(
      ...this.library.assets.map((asset) =>
        el(
          "li",
          {},
          el("div", { class: "row" }, el("strong", {}, asset.id), el("span", { class: `badge ${asset.status}` }, asset.status), el("span", { class: "muted" }, asset.origin)),
          el("div", { class: "row" }, el("button", { type: "button", class: "quiet", onclick: () => this.addAsset(asset.id) }, "Add to scene")),
        ),
      ),
    );
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
    find("#recipe-form").replaceChildren(...inputs, el("label", {}, "seed", el("input", { type: "number", id: "recipe-seed", value: 0, min: 0, step: 1 })));
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
      this.showPreview(await response.arrayBuffer());
    } catch (error) {
      const field = error instanceof ApiError && error.body.field;
      this.say(`Cannot preview: ${field ? `${field}: ` : ""}${messageOf(error)}`);
    }
  }

  /** @param {ArrayBuffer} buffer a GLB */
  showPreview(buffer) {
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
    new GLTFLoader().parse(buffer, "", (gltf) => {
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
    });
  }

  /** @param {string} assetId */
  async addAsset(assetId) {
    const node = { id: this.draft.freeNodeId(assetId), asset: assetId, position: this.placeInFront() };
    if (await this.draft.write("POST", "/nodes", { node }, `a new ${assetId}`)) {
      await this.reload(`Added ${node.id}.`);
      this.select(node.id);
    }
  }

  async addRecipe() {
    const spec = this.recipeRequest();
    const node = { id: this.draft.freeNodeId(spec.name.replace(/_/g, "-")), position: this.placeInFront() };
    if (await this.draft.write("POST", "/nodes", { node, recipe: spec }, `a new ${spec.name}`)) {
      await Promise.all([this.reload(`Added ${node.id}; it waits for review before visitors see it.`), this.load()]);
      this.select(node.id);
    }
  }
}
