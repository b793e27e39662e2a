// Builds a three.js scene from a scene document and its assets.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

function colour(hex, fallback) {
  return new THREE.Color(hex || fallback);
}

export function applyEnvironment(scene, environment = {}) {
  scene.background = colour(environment.sky_colour, "#87b5d9");
  if (environment.fog) {
    scene.fog = new THREE.Fog(colour(environment.fog.colour), environment.fog.near, environment.fog.far);
  }
  const lights = environment.lights || [{ type: "hemisphere", intensity: 1.5 }];
  for (const spec of lights) {
    const intensity = spec.intensity ?? 1;
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

// Loads every asset once (reporting bytes), then places a clone per node.
// onProgress(loadedBytes, totalBytes). Resolves to {root, nodes: Map(id -> Object3D)}.
export async function loadNodes(document, assets, onProgress) {
  const loader = new GLTFLoader();
  const ids = Object.keys(assets);
  const total = ids.reduce((sum, id) => sum + assets[id].size, 0);
  const loaded = new Map();
  const report = () => onProgress([...loaded.values()].reduce((a, b) => a + b, 0), total);
  const templates = new Map();
  await Promise.all(
    ids.map(
      (id) =>
        new Promise((resolve, reject) => {
          loader.load(
            assets[id].url,
            (gltf) => {
              loaded.set(id, assets[id].size);
              report();
              templates.set(id, gltf.scene);
              resolve();
            },
            (event) => {
              loaded.set(id, event.loaded);
              report();
            },
            (error) => reject(new Error(`could not load asset ${id}: ${error.message || error}`)),
          );
        }),
    ),
  );

  const root = new THREE.Group();
  root.name = document.id;
  const nodes = new Map();
  for (const spec of document.nodes) {
    const object = spec.asset ? templates.get(spec.asset).clone(true) : new THREE.Group();
    object.name = spec.id;
    if (spec.position) object.position.fromArray(spec.position);
    if (spec.rotation) object.quaternion.fromArray(spec.rotation);
    if (spec.scale) object.scale.fromArray(spec.scale);
    object.userData.node = spec;
    nodes.set(spec.id, object);
  }
  for (const spec of document.nodes) {
    const parent = spec.parent ? nodes.get(spec.parent) : root;
    parent.add(nodes.get(spec.id));
  }
  return { root, nodes };
}
