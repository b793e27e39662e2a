// @ts-check
// Builds a three.js scene from a scene document and streams its assets level by level.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

const REFINE_NEAR_M = 12; // within this distance an asset is shown at full detail
const REFINE_MID_M = 30; // within this, at the middle level

/** @typedef {import("./types.js").SceneDocument} SceneDocument */
/** @typedef {import("./types.js").Manifest} Manifest */
/**
 * @typedef {object} StreamedAsset one asset of the manifest, and what of it is loaded and placed
 * @property {import("./types.js").ManifestAsset} entry
 * @property {number | null} level the level loaded, or null
 * @property {boolean} loading
 * @property {THREE.Object3D[]} holders the node holders that show it
 * @property {THREE.AnimationMixer[]} mixers one per holder, when it is animated
 * @property {THREE.Object3D | null} scene the loaded glTF scene, cloned into each holder
 * @property {THREE.AnimationClip[]} animations
 */
/** @typedef {{asset: string, level: number, at: number}} LoadEvent */

/**
 * @param {string | undefined} hex
 * @param {string} [fallback]
 * @returns {THREE.Color}
 */
function colour(hex, fallback) {
  return new THREE.Color(hex || fallback);
}

/**
 * The sky, fog and lights of a scene document's environment.
 * @param {THREE.Scene} scene
 * @param {import("./types.js").Environment} [environment]
 */
export function applyEnvironment(scene, environment = {}) {
  scene.background = colour(environment.sky_colour, "#87b5d9");
  if (environment.fog) {
    scene.fog = new THREE.Fog(colour(environment.fog.colour), environment.fog.near, environment.fog.far);
  }
  const lights = environment.lights || [{ type: "hemisphere", intensity: 1.5 }];
  for (const spec of lights) {
    const intensity = spec.intensity ?? 1;
    /** @type {THREE.Light} */
    let light;
    if (spec.type === "ambient") light = new THREE.AmbientLight(colour(spec.colour, "#ffffff"), intensity);
    else if (spec.type === "hemisphere")
      light = new THREE.HemisphereLight(colour(spec.colour, "#ffffff"), colour(spec.ground_colour, "#444444"), intensity);
    else if (spec.type === "directional") light = new THREE.DirectionalLight(colour(spec.colour, "#ffffff"), intensity);
    else if (spec.type === "point") light = new THREE.PointLight(colour(spec.colour, "#ffffff"), intensity, spec.distance ?? 0, 1);
    else continue;
    if (spec.position) light.position.fromArray(spec.position);
    scene.add(light);
  }
}

/**
 * Fetch a URL, reporting each chunk's size as it arrives.
 * @param {string} url
 * @param {(bytes: number) => void} onBytes
 * @returns {Promise<ArrayBuffer>}
 */
async function fetchBytes(url, onBytes) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const reader = response.body.getReader();
  const chunks = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
    onBytes(value.length);
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes.buffer;
}

// Streams a scene's assets: the lowest level of everything first (nearest first), then finer levels
// of the assets near the visitor. Each scene node is a holder group; its asset's current clone is a child.
export class SceneStreamer {
  /**
   * @param {SceneDocument} document
   * @param {Manifest} manifest
   */
  constructor(document, manifest) {
    this.document = document;
    this.manifest = manifest;
    this.loader = new GLTFLoader();
    this.root = new THREE.Group();
    this.root.name = document.id;
    /** @type {Map<string, THREE.Group>} node id -> holder group */
    this.nodes = new Map();
    /** @type {Map<string, StreamedAsset>} asset id -> its state */
    this.assets = new Map();
    /** @type {LoadEvent[]} in load order, for the page's tests and benchmark */
    this.events = [];
    this.bytesLoaded = 0;
    this.refining = false;
    /** @type {number | null} a level every asset keeps (previewing levels of detail), or null to refine by distance */
    this.pinnedLevel = null;
    /** @type {THREE.Vector3 | null} where the viewer was at the last refine */
    this.viewer = null;
    this.arrange(document, manifest);
  }

  /**
   * Make the scene graph match a document: new, moved, reparented, re-assetted and removed nodes.
   * @param {SceneDocument} document
   * @param {Manifest} manifest
   * @returns {StreamedAsset[]} the assets that have placements but nothing loaded yet
   */
  arrange(document, manifest) {
    this.document = document;
    this.manifest = manifest;
    for (const entry of manifest.assets) {
      const known = this.assets.get(entry.id);
      if (known) known.entry = entry;
      else this.assets.set(entry.id, { entry, level: null, loading: false, holders: [], mixers: [], scene: null, animations: [] });
    }
    const seen = new Set();
    for (const spec of document.nodes) {
      seen.add(spec.id);
      let holder = this.nodes.get(spec.id);
      if (!holder) {
        holder = new THREE.Group();
        holder.name = spec.id;
        this.nodes.set(spec.id, holder);
      }
      holder.position.fromArray(spec.position || [0, 0, 0]);
      holder.quaternion.fromArray(spec.rotation || [0, 0, 0, 1]);
      holder.scale.fromArray(spec.scale || [1, 1, 1]);
      const before = holder.userData.node?.asset;
      holder.userData.node = spec;
      holder.userData.box = null;
      if (before !== spec.asset || !holder.userData.model) this.reassign(holder, before, spec.asset);
    }
    for (const [id, holder] of this.nodes) {
      if (seen.has(id)) continue;
      this.reassign(holder, holder.userData.node.asset, undefined);
      holder.removeFromParent();
      this.nodes.delete(id);
    }
    for (const spec of document.nodes) (spec.parent ? this.nodes.get(spec.parent) : this.root).add(this.nodes.get(spec.id));
    return [...this.assets.values()].filter((a) => a.holders.length && a.level === null && !a.loading);
  }

  /**
   * Move a holder from one asset's placements to another's.
   * @param {THREE.Object3D} holder
   * @param {string | undefined} from
   * @param {string | undefined} to
   */
  reassign(holder, from, to) {
    const old = from && this.assets.get(from);
    if (old) old.holders = old.holders.filter((h) => h !== holder);
    if (holder.userData.model) {
      holder.remove(holder.userData.model);
      holder.userData.model = null;
    }
    const next = to && this.assets.get(to);
    if (!next) return;
    next.holders.push(holder);
    if (next.scene) this.place(next);
  }

  /**
   * Apply a newly published document: the changes show at once, new assets stream in lowest level first.
   * @param {SceneDocument} document
   * @param {Manifest} manifest
   */
  async update(document, manifest) {
    const unloaded = this.arrange(document, manifest);
    await Promise.all(unloaded.map((asset) => this.load(asset.entry.id, asset.entry.levels.length - 1)));
  }

  /**
   * Load the lowest level of every asset.
   * @param {(loadedBytes: number, totalBytes: number) => void} onProgress
   */
  async loadLowest(onProgress) {
    const entries = this.manifest.assets;
    const total = entries.reduce((sum, e) => sum + e.levels[e.levels.length - 1].size, 0);
    let loaded = 0;
    await Promise.all(
      entries.map((entry) =>
        this.load(entry.id, entry.levels.length - 1, (n) => {
          loaded += n;
          onProgress(Math.min(loaded, total), total);
        }),
      ),
    );
  }

  /**
   * @param {string} assetId
   * @param {number} level
   * @param {(bytes: number) => void} [onBytes]
   */
  async load(assetId, level, onBytes = () => {}) {
    const asset = this.assets.get(assetId);
    asset.loading = true;
    try {
      const spec = asset.entry.levels[level];
      const buffer = await fetchBytes(spec.url, (n) => {
        this.bytesLoaded += n;
        onBytes(n);
      });
      const gltf = await this.loader.parseAsync(buffer, "");
      if (asset.level !== null && asset.level <= level && this.pinnedLevel === null) return; // a finer level came first
      asset.level = level;
      asset.scene = gltf.scene;
      asset.animations = gltf.animations;
      this.place(asset);
      this.events.push({ asset: assetId, level, at: performance.now() });
    } finally {
      asset.loading = false;
    }
  }

  /**
   * Put a clone of the asset's loaded scene in each of its holders.
   * @param {StreamedAsset} asset
   */
  place(asset) {
    asset.mixers = [];
    for (const holder of asset.holders) {
      holder.userData.box = null;
      const previous = holder.userData.model;
      if (previous) holder.remove(previous);
      const model = asset.scene.clone(true);
      model.userData.assetId = asset.entry.id;
      holder.userData.model = model;
      holder.add(model);
      if (asset.animations.length) {
        const mixer = new THREE.AnimationMixer(model);
        for (const clip of asset.animations) mixer.clipAction(clip).play();
        asset.mixers.push(mixer);
      }
    }
  }

  /**
   * The level an asset should have for a viewer at `position`: finer when one of its placements is near.
   * @param {StreamedAsset} asset
   * @param {THREE.Vector3} position
   * @returns {number}
   */
  wantedLevel(asset, position) {
    const lowest = asset.entry.levels.length - 1;
    if (this.pinnedLevel !== null) return Math.min(this.pinnedLevel, lowest);
    let nearest = Infinity;
    for (const holder of asset.holders) {
      // The distance to the placed model's box, so that a floor under the visitor counts as near.
      holder.userData.box ??= new THREE.Box3().setFromObject(holder.userData.model);
      nearest = Math.min(nearest, holder.userData.box.distanceToPoint(position));
    }
    if (nearest < REFINE_NEAR_M) return 0;
    if (nearest < REFINE_MID_M) return Math.min(1, lowest);
    return lowest;
  }

  /**
   * Start loading the most needed finer level, one at a time.
   * @param {THREE.Vector3} position the viewer's
   */
  refine(position) {
    this.viewer = position.clone();
    if (this.refining) return;
    /** @type {{asset: StreamedAsset, wanted: number} | null} */
    let best = null;
    for (const asset of this.assets.values()) {
      if (asset.loading || asset.level === null) continue;
      const wanted = this.wantedLevel(asset, position);
      if (wanted === asset.level || (wanted > asset.level && this.pinnedLevel === null)) continue;
      if (!best || asset.entry.distance_m < best.asset.entry.distance_m) best = { asset, wanted };
    }
    if (!best) return;
    this.refining = true;
    this.load(best.asset.entry.id, best.wanted)
      .catch((error) => console.warn(`could not refine ${best.asset.entry.id}: ${error.message}`))
      .finally(() => {
        this.refining = false;
        this.refine(this.viewer);
      });
  }

  /** @param {number} dt seconds */
  animate(dt) {
    for (const asset of this.assets.values()) for (const mixer of asset.mixers) mixer.update(dt);
  }

  levels() {
    return [...this.assets.values()].map((a) => ({
      id: a.entry.id,
      level: a.level,
      levels: a.entry.levels.length,
      generated: a.entry.provenance.generated,
    }));
  }
}
