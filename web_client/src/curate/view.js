// @ts-check
// The curator's 3D view of the open scene: orbit around it, pick a node, move, turn and scale it with the
// transform gizmo (W, E, R). The page is told of picks and of each finished drag; it saves them.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { TransformControls } from "three/addons/controls/TransformControls.js";
import { findAll } from "../dom.js";
import { applyEnvironment, SceneStreamer } from "../world.js";
import { round } from "./units.js";

/** @typedef {"translate" | "rotate" | "scale"} GizmoMode */

export class View {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {object} options
   * @param {(nodeId: string) => void} options.onPick a click on a node
   * @param {(nodeId: string, position: number[], rotation: number[], scale: number[]) => void} options.onMoved the
   *   end of a drag of the gizmo
   */
  constructor(canvas, { onPick, onMoved }) {
    this.canvas = canvas;
    this.onPick = onPick;
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
    this.renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
    this.camera = new THREE.PerspectiveCamera(55, 1, 0.05, 500);
    this.camera.position.set(0, 8, 14);
    /** @type {THREE.Scene | null} */
    this.scene = null;
    /** @type {SceneStreamer | null} */
    this.streamer = null;
    /** @type {import("../types.js").Manifest | null} */
    this.manifest = null;
    /** @type {[number, number] | null} where the pointer went down */
    this.down = null;
    this.controls = new OrbitControls(this.camera, canvas);
    this.gizmo = new TransformControls(this.camera, canvas);
    this.gizmo.addEventListener("dragging-changed", (e) => {
      this.controls.enabled = !e.value;
      if (!e.value && this.gizmo.object) {
        const holder = this.gizmo.object;
        onMoved(holder.name, holder.position.toArray(), holder.quaternion.toArray(), holder.scale.toArray());
      }
    });
    for (const button of findAll("#tools button", HTMLButtonElement)) {
      button.addEventListener("click", () => this.mode(/** @type {GizmoMode} */ (button.dataset.mode)));
    }
    addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      /** @type {Record<string, GizmoMode>} */
      const modes = { KeyW: "translate", KeyE: "rotate", KeyR: "scale" };
      const mode = modes[e.code];
      if (mode) this.mode(mode);
    });
    canvas.addEventListener("pointerup", (e) => this.pick(e));
    canvas.addEventListener("pointerdown", (e) => (this.down = [e.clientX, e.clientY]));
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.renderer.setAnimationLoop(() => this.render());
  }

  /**
   * Show a draft: a new scene from scratch (framed from above), the same one by applying the changes.
   * @param {import("../types.js").SceneDocument} document
   * @param {import("../types.js").Manifest} manifest
   * @param {boolean} fresh another scene than the one shown
   */
  async show(document, manifest, fresh) {
    this.manifest = manifest;
    if (fresh || !this.streamer) {
      this.scene = new THREE.Scene();
      applyEnvironment(this.scene, document.environment);
      this.streamer = new SceneStreamer(document, manifest);
      this.streamer.pinnedLevel = 0;
      this.scene.add(this.streamer.root, this.gizmo.getHelper());
      await this.streamer.loadLowest(() => {});
      // An elevated view over the whole scene, from the side of the first spawn point.
      const box = new THREE.Box3().setFromObject(this.streamer.root);
      const centre = box.getCenter(new THREE.Vector3());
      const size = Math.min(box.getSize(new THREE.Vector3()).length(), 60);
      const spawn = document.spawn_points[0].position;
      const side = Math.sign(spawn[2] - centre.z) || 1;
      this.controls.target.set(centre.x, 0.8, centre.z);
      this.camera.position.set(centre.x, size * 0.6, centre.z + side * size * 0.45);
      this.controls.update();
    } else {
      await this.streamer.update(document, manifest);
    }
  }

  /**
   * Place the nodes as a saved document has them.
   * @param {import("../types.js").SceneDocument} document
   */
  arrange(document) {
    this.streamer.arrange(document, this.manifest);
  }

  /**
   * Put the gizmo on a node, or take it off.
   * @param {string | null} nodeId
   */
  attach(nodeId) {
    const holder = nodeId && this.streamer?.nodes.get(nodeId);
    if (holder) this.gizmo.attach(holder);
    else this.gizmo.detach();
  }

  /** @param {GizmoMode} mode */
  mode(mode) {
    this.gizmo.setMode(mode);
    for (const button of findAll("#tools button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  }

  /** @returns {number[]} the floor point the view looks at: where a new node goes */
  placeInFront() {
    const target = this.controls.target;
    return round([target.x, 0, target.z], 2);
  }

  /** @param {PointerEvent} e */
  pick(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4 || this.gizmo.dragging) return;
    const rect = this.canvas.getBoundingClientRect();
    const pointer = new THREE.Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(pointer, this.camera);
    const hit = raycaster.intersectObject(this.streamer.root, true)[0];
    for (let object = hit?.object; object; object = object.parent) {
      // The innermost node that is not a whole room or floor: the thing the curator clicked on.
      if (object.userData.node && object.parent !== this.streamer.root) return this.onPick(object.name);
      if (object.userData.node && object.parent === this.streamer.root && object.children.length < 3) return this.onPick(object.name);
    }
  }

  resize() {
    const { clientWidth: width, clientHeight: height } = this.canvas;
    if (!width || !height) return;
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
  }

  render() {
    if (!this.scene) return;
    this.renderer.render(this.scene, this.camera);
  }

  /**
   * Screen coordinates of a point a share `along` the way up the gizmo's arrow for an axis (for tests).
   * @param {"X" | "Y" | "Z"} axis
   * @param {number} [along]
   * @returns {{x: number, y: number}}
   */
  axisPoint(axis, along = 0.45) {
    const holder = this.gizmo.object;
    const origin = holder.getWorldPosition(new THREE.Vector3());
    const factor = origin.distanceTo(this.camera.position) * Math.min((1.9 * Math.tan((Math.PI * this.camera.fov) / 360)) / this.camera.zoom, 7);
    const direction = new THREE.Vector3(axis === "X" ? 1 : 0, axis === "Y" ? 1 : 0, axis === "Z" ? 1 : 0);
    const point = origin.addScaledVector(direction, along * factor * (this.gizmo.size / 4)).project(this.camera);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((point.x + 1) / 2) * rect.width, y: rect.top + ((1 - point.y) / 2) * rect.height };
  }
}
