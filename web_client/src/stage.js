// @ts-check
// The renderer, the three.js scene, and the visitor's rig (feet on the floor) holding the camera at eye height.
import * as THREE from "three";
import { applyEnvironment } from "./world.js";

export const EYE_HEIGHT_M = 1.6;

export class Stage {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {import("./types.js").SceneDocument} document its environment and first spawn point's heading
   * @param {import("./types.js").Vec3} spawn where the rig stands until the welcome says
   */
  constructor(canvas, document, spawn) {
    this.renderer = new THREE.WebGLRenderer({ antialias: true, canvas });
    this.renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
    this.renderer.setSize(innerWidth, innerHeight);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(70, innerWidth / innerHeight, 0.05, 200);
    this.camera.position.set(0, EYE_HEIGHT_M, 0);
    this.rig = new THREE.Group();
    this.rig.add(this.camera);
    this.rig.position.fromArray(spawn);
    this.rig.rotation.y = THREE.MathUtils.degToRad(document.spawn_points[0].yaw_deg || 0);
    this.scene.add(this.rig);
    applyEnvironment(this.scene, document.environment);
    /** @type {((width: number, height: number) => void)[]} */
    this.resizeListeners = [];
    addEventListener("resize", () => this.resize());
  }

  /**
   * Also tell `listener` the window's new size (page overlays drawn over the canvas).
   * @param {(width: number, height: number) => void} listener
   */
  onResize(listener) {
    this.resizeListeners.push(listener);
    listener(innerWidth, innerHeight);
  }

  resize() {
    this.camera.aspect = innerWidth / innerHeight;
    this.camera.updateProjectionMatrix();
    this.renderer.setSize(innerWidth, innerHeight);
    for (const listener of this.resizeListeners) listener(innerWidth, innerHeight);
  }

  render() {
    this.renderer.render(this.scene, this.camera);
  }
}
