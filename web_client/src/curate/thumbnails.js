// @ts-check
// The library's assets as models and pictures: each asset's lightest level is loaded once (for its size and its
// thumbnail); a thumbnail is drawn here, one at a time and only when it scrolls into sight, and kept in
// localStorage under the level's sha256, so an asset is drawn once per browser and a changed asset again.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

const SIZE = [128, 96];
const KEY = "thirdspace.curate.thumbnail.";

export class Thumbnails {
  /** @param {import("./api.js").Api} api */
  constructor(api) {
    this.api = api;
    this.loader = new GLTFLoader();
    /** @type {Map<string, Promise<{sha256: string, scene: THREE.Object3D}>>} asset id -> its lightest level */
    this.models = new Map();
    /** @type {{renderer: THREE.WebGLRenderer, scene: THREE.Scene, camera: THREE.PerspectiveCamera} | null} */
    this.stage = null;
    this.queue = Promise.resolve();
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        this.observer.unobserve(entry.target);
        const img = /** @type {HTMLImageElement} */ (entry.target);
        this.queue = this.queue.then(() => this.fill(img)).catch(() => {});
      }
    });
  }

  /**
   * An asset's lightest level, loaded once.
   * @param {string} assetId
   */
  model(assetId) {
    let model = this.models.get(assetId);
    if (!model) {
      model = (async () => {
        /** @type {{levels: {url: string, sha256: string}[]}} */
        const entry = (await this.api.call("GET", `/api/curate/assets/${encodeURIComponent(assetId)}`)).body;
        const level = entry.levels[entry.levels.length - 1];
        const response = await fetch(level.url);
        if (!response.ok) throw new Error(`${assetId}: HTTP ${response.status}`);
        const gltf = await this.loader.parseAsync(await response.arrayBuffer(), "");
        return { sha256: level.sha256, scene: gltf.scene };
      })();
      model.catch(() => this.models.delete(assetId));
      this.models.set(assetId, model);
    }
    return model;
  }

  /**
   * Give an image its asset's thumbnail once it is in sight.
   * @param {HTMLImageElement} img with data-asset
   */
  watch(img) {
    this.observer.observe(img);
  }

  /** @param {HTMLImageElement} img */
  async fill(img) {
    const { sha256, scene } = await this.model(img.dataset.asset);
    let picture = null;
    try {
      picture = localStorage.getItem(KEY + sha256);
    } catch {
      // no storage: draw it every time
    }
    if (!picture) {
      picture = this.draw(scene);
      try {
        localStorage.setItem(KEY + sha256, picture);
      } catch {
        // full: it is drawn again next time
      }
    }
    img.src = picture;
    img.dataset.drawn = sha256;
  }

  /**
   * A picture of a model, seen from the front and a little above, filling the frame.
   * @param {THREE.Object3D} model
   * @returns {string} a JPEG data URL
   */
  draw(model) {
    if (!this.stage) {
      const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
      renderer.setSize(SIZE[0], SIZE[1], false);
      const scene = new THREE.Scene();
      scene.background = new THREE.Color("#2b2f38");
      const sun = new THREE.DirectionalLight("#ffffff", 2.2);
      sun.position.set(2, 3, 4);
      scene.add(new THREE.HemisphereLight("#ffffff", "#555555", 1.6), sun);
      this.stage = { renderer, scene, camera: new THREE.PerspectiveCamera(35, SIZE[0] / SIZE[1], 0.01, 1000) };
    }
    const { renderer, scene, camera } = this.stage;
    const copy = model.clone(true);
    scene.add(copy);
    copy.updateMatrixWorld(true);
    const box = new THREE.Box3().setFromObject(copy);
    const centre = box.getCenter(new THREE.Vector3());
    const radius = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 0.01);
    const distance = radius / Math.sin((camera.fov * Math.PI) / 360);
    camera.position.copy(centre).add(new THREE.Vector3(0.55, 0.45, 1).normalize().multiplyScalar(distance));
    camera.near = distance / 100;
    camera.far = distance * 4;
    camera.updateProjectionMatrix();
    camera.lookAt(centre);
    renderer.render(scene, camera);
    scene.remove(copy);
    return renderer.domElement.toDataURL("image/jpeg", 0.82);
  }
}
