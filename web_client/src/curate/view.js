// @ts-check
// The curator's 3D view of the open scene: orbit around it, pick nodes (Shift or Ctrl adds to the selection),
// move, turn and scale them with the transform gizmo (W, E, R), with grid and surface snapping; the scene's
// bounds and spawn points as guides; a visitor's eye-height view; the draft in a VR headset, standing at the first
// spawn point (teleport and thumbsticks as on the visitor page); and where on a surface a new object goes.
// The page is told of picks, of each finished drag and of library items dropped on the view; it saves them.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { TransformControls } from "three/addons/controls/TransformControls.js";
import { find, findAll } from "../dom.js";
import { EYE_HEIGHT_M } from "../stage.js";
import { applyEnvironment, SceneStreamer } from "../world.js";
import { XRSupport } from "../xr.js";
import { sessionButton } from "../xr-buttons.js";
import { RAD, round } from "./units.js";
import { t, words } from "./words.js";

/** @typedef {"translate" | "rotate" | "scale"} GizmoMode */
/** @typedef {{id: string, position: number[], rotation: number[], scale: number[]}} Move a node's new transform */

/** Snapping steps: the grid, turns, and scale factors. */
export const SNAP = { metres: 0.25, degrees: 15, factor: 0.1 };
const UP = new THREE.Vector3(0, 1, 0);
const SELECTED = new THREE.Color("#ffd166");

export class View {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {object} options
   * @param {(nodeId: string | null, adding: boolean) => void} options.onPick a click on a node (null: on nothing),
   *   with Shift or Ctrl held or not
   * @param {(moves: Move[]) => void} options.onMoved the end of a drag of the gizmo: the selected nodes' transforms
   * @param {(assetId: string, surface: {point: number[], away: number[]}) => void} options.onDrop a library asset dropped
   *   on the view
   * @param {(message: string) => void} options.say
   */
  constructor(canvas, { onPick, onMoved, onDrop, say }) {
    this.canvas = canvas;
    this.onPick = onPick;
    /** @type {string[]} the selected nodes; the gizmo is on the last */
    this.selection = [];
    /** @type {THREE.BoxHelper[]} */
    this.outlines = [];
    this.snapping = false;
    this.guides = new THREE.Group();
    this.guides.name = "guides";
    /** @type {{position: THREE.Vector3, target: THREE.Vector3} | null} the orbit view to go back to from eye height */
    this.overview = null;
    /** @type {Map<THREE.Object3D, THREE.Vector3>} where the other selected nodes were when a drag began (world) */
    this.followers = new Map();
    /** @type {THREE.Vector3 | null} */
    this.dragStart = null;
    /** @type {{floor: boolean, then: (hit: {point: number[], normal: number[]}) => void} | null} a click that picks a point */
    this.pointPick = null;
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
    // In VR the headset's camera rides on a rig that stands where a visitor arrives (moved by teleports and sticks).
    this.rig = new THREE.Group();
    this.rig.name = "vr-rig";
    this.vrCamera = new THREE.PerspectiveCamera(70, 1, 0.05, 500);
    this.rig.add(this.vrCamera);
    /** @type {XRSupport | null} controllers, teleport and walking, made with the first scene (they need its floor) */
    this.xr = null;
    this.say = say;
    this.controls = new OrbitControls(this.camera, canvas);
    this.gizmo = new TransformControls(this.camera, canvas);
    this.gizmo.addEventListener("dragging-changed", (e) => {
      this.controls.enabled = !e.value;
      if (e.value) this.beginDrag();
      else if (this.gizmo.object) onMoved(this.endDrag());
    });
    this.gizmo.addEventListener("objectChange", () => this.follow());
    for (const button of findAll("#tools button[data-mode]", HTMLButtonElement)) {
      button.addEventListener("click", () => this.mode(/** @type {GizmoMode} */ (button.dataset.mode)));
    }
    find("#snap", HTMLButtonElement).addEventListener("click", () => this.snap(!this.snapping));
    find("#guides", HTMLButtonElement).addEventListener("click", () => this.showGuides(!this.guides.visible));
    find("#eye-view", HTMLButtonElement).addEventListener("click", () => this.eyeView(!this.overview));
    canvas.addEventListener("dragover", (e) => {
      if (e.dataTransfer?.types.includes("application/x-thirdspace-asset")) e.preventDefault();
    });
    canvas.addEventListener("drop", (e) => {
      const assetId = e.dataTransfer?.getData("application/x-thirdspace-asset");
      if (!assetId) return;
      e.preventDefault();
      onDrop(assetId, this.surfaceAt(e.clientX, e.clientY));
    });
    addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement) return;
      /** @type {Record<string, GizmoMode>} */
      const modes = { KeyW: "translate", KeyE: "rotate", KeyR: "scale" };
      const mode = modes[e.code];
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (mode) this.mode(mode);
      else if (e.code === "KeyG") this.snap(!this.snapping);
      else if (e.code === "Escape" && this.pointPick) this.armPoint(null);
      else if (e.code === "Escape" && this.renderer.xr.isPresenting) this.renderer.xr.getSession()?.end().catch(() => {});
    });
    canvas.addEventListener("pointerup", (e) => this.pick(e));
    canvas.addEventListener("pointerdown", (e) => {
      // A press on one of the gizmo's handles is a drag, never a pick.
      this.down = this.gizmo.axis === null ? [e.clientX, e.clientY] : null;
    });
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
      this.scene.add(this.streamer.root, this.gizmo.getHelper(), this.guides, this.rig);
      this.prepareVR(document);
      this.drawGuides(document);
      this.overview = null;
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
      this.drawGuides(document);
    }
  }

  /**
   * The scene's bounds as a box, and each spawn point as a ring (a visitor's room) with an arrow the way they face.
   * @param {import("../types.js").SceneDocument} document
   */
  drawGuides(document) {
    this.guides.clear();
    const { min, max } = document.bounds;
    const bounds = new THREE.Box3Helper(new THREE.Box3(new THREE.Vector3(...min), new THREE.Vector3(...max)), "#4cc9f0");
    bounds.name = "bounds";
    this.guides.add(bounds);
    for (const [i, spawn] of document.spawn_points.entries()) {
      const marker = new THREE.Group();
      marker.name = `spawn-${i}`;
      marker.position.fromArray(spawn.position);
      marker.rotation.y = (spawn.yaw_deg || 0) * RAD;
      const ring = new THREE.Mesh(new THREE.RingGeometry(0.3, 0.36, 32), new THREE.MeshBasicMaterial({ color: "#06d6a0", side: THREE.DoubleSide }));
      ring.rotation.x = -Math.PI / 2;
      ring.position.y = 0.02;
      const arrow = new THREE.ArrowHelper(new THREE.Vector3(0, 0, -1), new THREE.Vector3(0, 0.03, 0), 0.7, "#06d6a0", 0.2, 0.14);
      marker.add(ring, arrow);
      this.guides.add(marker);
    }
    // Guides are not part of the scene: a click or a new object's raycast goes through them, and walls do not hide them.
    this.guides.traverse((object) => {
      object.raycast = () => {};
      object.renderOrder = 10;
      const material = /** @type {THREE.Mesh} */ (object).material;
      for (const m of Array.isArray(material) ? material : material ? [material] : []) m.depthTest = false;
    });
  }

  /** @param {boolean} on */
  showGuides(on) {
    this.guides.visible = on;
    find("#guides").setAttribute("aria-pressed", String(on));
  }

  /**
   * Grid snapping for the gizmo (SNAP's steps), and a moved object dropped onto the surface under it.
   * @param {boolean} on
   */
  snap(on) {
    this.snapping = on;
    this.gizmo.setTranslationSnap(on ? SNAP.metres : null);
    this.gizmo.setRotationSnap(on ? SNAP.degrees * RAD : null);
    this.gizmo.setScaleSnap(on ? SNAP.factor : null);
    find("#snap").setAttribute("aria-pressed", String(on));
  }

  /**
   * See the scene from the first spawn point at a visitor's eye height, facing the way they do; or back to the
   * orbit view.
   * @param {boolean} on
   */
  eyeView(on) {
    if (on && !this.overview) {
      this.overview = { position: this.camera.position.clone(), target: this.controls.target.clone() };
      const spawn = this.streamer.document.spawn_points[0];
      const yaw = (spawn.yaw_deg || 0) * RAD;
      const eye = new THREE.Vector3(...spawn.position).add(new THREE.Vector3(0, EYE_HEIGHT_M, 0));
      this.camera.position.copy(eye);
      this.controls.target.copy(eye).add(new THREE.Vector3(-Math.sin(yaw) * 0.01, 0, -Math.cos(yaw) * 0.01));
    } else if (!on && this.overview) {
      this.camera.position.copy(this.overview.position);
      this.controls.target.copy(this.overview.target);
      this.overview = null;
    }
    this.controls.update();
    find("#eye-view").setAttribute("aria-pressed", String(Boolean(this.overview)));
  }

  /**
   * Place the nodes as a saved document has them.
   * @param {import("../types.js").SceneDocument} document
   */
  arrange(document) {
    this.streamer.arrange(document, this.manifest);
  }

  /**
   * Outline the selected nodes and put the gizmo on the last one (or take it off).
   * @param {string[]} selection
   */
  attach(selection) {
    this.selection = selection;
    for (const outline of this.outlines) {
      outline.removeFromParent();
      outline.dispose();
    }
    this.outlines = [];
    const holders = selection.map((id) => this.streamer?.nodes.get(id)).filter(Boolean);
    for (const holder of holders) {
      const outline = new THREE.BoxHelper(holder, SELECTED);
      outline.raycast = () => {};
      this.outlines.push(outline);
      this.scene.add(outline);
    }
    const primary = holders[holders.length - 1];
    if (primary) this.gizmo.attach(primary);
    else this.gizmo.detach();
  }

  // The other selected nodes follow the gizmo's node while it moves (not those under another selected node).
  beginDrag() {
    const primary = this.gizmo.object;
    this.dragStart = primary.getWorldPosition(new THREE.Vector3());
    this.followers.clear();
    const holders = this.selection.map((id) => this.streamer.nodes.get(id)).filter((h) => h && h !== primary);
    for (const holder of holders) {
      let inside = false;
      holder.traverseAncestors((a) => (inside ||= a === primary || holders.includes(/** @type {THREE.Group} */ (a))));
      if (!inside) this.followers.set(holder, holder.getWorldPosition(new THREE.Vector3()));
    }
  }

  follow() {
    if (this.gizmo.mode === "translate" && this.dragStart) {
      const delta = this.gizmo.object.getWorldPosition(new THREE.Vector3()).sub(this.dragStart);
      for (const [holder, start] of this.followers) holder.position.copy(holder.parent.worldToLocal(start.clone().add(delta)));
    }
    for (const outline of this.outlines) outline.update();
  }

  /** @returns {Move[]} the transforms a drag left, surface-snapped when snapping */
  endDrag() {
    const primary = this.gizmo.object;
    const moved = [primary, ...this.followers.keys()];
    if (this.snapping && this.gizmo.mode === "translate") {
      for (const holder of moved) this.dropOnSurface(holder);
    }
    this.dragStart = null;
    this.followers.clear();
    for (const outline of this.outlines) outline.update();
    return moved.map((h) => ({ id: h.name, position: h.position.toArray(), rotation: h.quaternion.toArray(), scale: h.scale.toArray() }));
  }

  /**
   * Let a node down (or up) onto the surface below its middle: its lowest point on the first upward-facing surface.
   * @param {THREE.Object3D} holder
   */
  dropOnSurface(holder) {
    holder.updateWorldMatrix(true, true);
    const box = new THREE.Box3().setFromObject(holder);
    if (box.isEmpty()) return;
    const centre = box.getCenter(new THREE.Vector3());
    const raycaster = new THREE.Raycaster(new THREE.Vector3(centre.x, box.max.y + 0.05, centre.z), new THREE.Vector3(0, -1, 0));
    const hit = this.surfaceHits(raycaster, holder)[0];
    if (!hit) return;
    const world = holder.getWorldPosition(new THREE.Vector3());
    world.y += hit.point.y - box.min.y;
    holder.position.copy(holder.parent.worldToLocal(world));
  }

  /**
   * The ray's hits on upward-facing surfaces of the scene, nearest first, leaving out `skip` and what is under it.
   * @param {THREE.Raycaster} raycaster
   * @param {THREE.Object3D} [skip]
   * @returns {THREE.Intersection[]}
   */
  surfaceHits(raycaster, skip) {
    const normal = new THREE.Vector3();
    return raycaster.intersectObject(this.streamer.root, true).filter((hit) => {
      if (!hit.face) return false;
      let inside = false;
      if (skip) hit.object.traverseAncestors((a) => (inside ||= a === skip));
      if (inside || hit.object === skip) return false;
      normal.copy(hit.face.normal).transformDirection(hit.object.matrixWorld);
      return Math.abs(normal.dot(UP)) > 0.6; // a floor or a table top (either winding)
    });
  }

  /**
   * Where a new object goes: the first upward-facing surface under a point of the view (its middle by default),
   * or the floor plane, and the way from the camera to it.
   * @param {number} [clientX]
   * @param {number} [clientY]
   * @returns {{point: number[], away: number[]}}
   */
  surfaceAt(clientX, clientY) {
    const rect = this.canvas.getBoundingClientRect();
    const x = clientX === undefined ? 0 : ((clientX - rect.left) / rect.width) * 2 - 1;
    const y = clientY === undefined ? 0 : -((clientY - rect.top) / rect.height) * 2 + 1;
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(new THREE.Vector2(x, y), this.camera);
    this.streamer.root.updateWorldMatrix(true, true);
    const hit = this.surfaceHits(raycaster)[0];
    let point = hit?.point;
    if (!point) {
      const floor = new THREE.Plane(UP, 0);
      point = raycaster.ray.intersectPlane(floor, new THREE.Vector3()) || new THREE.Vector3(this.controls.target.x, 0, this.controls.target.z);
    }
    const away = new THREE.Vector3().subVectors(point, this.camera.position);
    return { point: round(point.toArray(), 3), away: [away.x, away.z] };
  }

  /** @param {GizmoMode} mode */
  mode(mode) {
    this.gizmo.setMode(mode);
    for (const button of findAll("#tools button")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  }

  /** @param {PointerEvent} e */
  pick(e) {
    if (!this.down || Math.hypot(e.clientX - this.down[0], e.clientY - this.down[1]) > 4 || this.gizmo.dragging) return;
    if (this.pointPick) return this.pickPoint(e.clientX, e.clientY);
    const adding = e.shiftKey || e.ctrlKey || e.metaKey;
    const rect = this.canvas.getBoundingClientRect();
    const pointer = new THREE.Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(pointer, this.camera);
    const hit = raycaster.intersectObject(this.streamer.root, true)[0];
    for (let object = hit?.object; object; object = object.parent) {
      // The innermost node that is not a whole room or floor: the thing the curator clicked on.
      if (object.userData.node && object.parent !== this.streamer.root) return this.onPick(object.name, adding);
      if (object.userData.node && object.parent === this.streamer.root && object.children.length < 3) return this.onPick(object.name, adding);
    }
    if (!adding) this.onPick(null, false);
  }

  /**
   * Make the next click in the view pick a point (on a floor-like surface, or on anything) instead of a node.
   * @param {{floor: boolean, then: (hit: {point: number[], normal: number[]}) => void} | null} request null: cancel
   */
  armPoint(request) {
    this.pointPick = request;
    this.canvas.classList.toggle("picking", Boolean(request));
  }

  /**
   * The point a click picks, handed to the armed request.
   * @param {number} clientX
   * @param {number} clientY
   */
  pickPoint(clientX, clientY) {
    const request = this.pointPick;
    this.armPoint(null);
    if (request.floor) return request.then({ point: this.surfaceAt(clientX, clientY).point, normal: [0, 1, 0] });
    const rect = this.canvas.getBoundingClientRect();
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(new THREE.Vector2(((clientX - rect.left) / rect.width) * 2 - 1, -((clientY - rect.top) / rect.height) * 2 + 1), this.camera);
    const hit = raycaster.intersectObject(this.streamer.root, true).find((h) => h.face);
    if (!hit) return request.then({ point: this.surfaceAt(clientX, clientY).point, normal: [0, 1, 0] });
    const normal = hit.face.normal.clone().transformDirection(hit.object.matrixWorld);
    if (normal.dot(raycaster.ray.direction) > 0) normal.negate(); // the side facing the camera
    request.then({ point: round(hit.point.toArray(), 3), normal: round(normal.toArray(), 4) });
  }

  /**
   * A node's place in the scene (for facing a visitor towards it).
   * @param {string} nodeId
   * @returns {number[] | null}
   */
  nodeWorldPosition(nodeId) {
    const holder = this.streamer?.nodes.get(nodeId);
    return holder ? holder.getWorldPosition(new THREE.Vector3()).toArray() : null;
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
    const presenting = this.renderer.xr.isPresenting;
    if (presenting) {
      this.xr.update();
      this.gizmo.getHelper().visible = false; // selecting a node in the page shows it again: not in the headset
    }
    this.renderer.render(this.scene, presenting ? this.vrCamera : this.camera);
  }

  /**
   * The VR preview for a newly shown scene: teleports land on its floors inside its bounds; the button (in the
   * tools, shown only where a headset can start immersive-vr) is made once.
   * @param {import("../types.js").SceneDocument} document
   */
  prepareVR(document) {
    if (!this.xr) {
      this.xr = new XRSupport({ renderer: this.renderer, rig: this.rig, walkable: [], bounds: document.bounds, onTeleport: () => {} });
      const button = sessionButton({
        renderer: this.renderer,
        mode: "immersive-vr",
        sessionInit: { optionalFeatures: ["local-floor", "bounded-floor", "hand-tracking"] },
        referenceSpace: "local-floor",
        words,
        start: "preview_vr",
        stop: "preview_vr_exit",
        id: "vr-preview",
        onFailed: (message) => this.say(message),
      });
      button.className = "";
      button.dataset.i18nTitle = "preview_vr_title";
      button.title = t("preview_vr_title");
      find("#tools").append(button);
      this.renderer.xr.addEventListener("sessionstart", () => this.enterVR());
      this.renderer.xr.addEventListener("sessionend", () => (this.gizmo.getHelper().visible = Boolean(this.gizmo.object)));
    }
    this.xr.walkable = [this.streamer.root];
    this.xr.bounds = document.bounds;
    this.scene.add(this.xr.marker);
  }

  /** Whether the VR preview runs, and where the wearer's head is (for tests). */
  vrState() {
    const presenting = this.renderer.xr.isPresenting;
    return { presenting, head: presenting ? this.xr.head().toArray() : null, gizmo: this.gizmo.getHelper().visible };
  }

  // In the headset: stand at the first spawn point, facing the way visitors do, with the gizmo out of the way.
  enterVR() {
    const spawn = this.streamer.document.spawn_points[0];
    this.rig.position.fromArray(spawn.position);
    this.rig.rotation.set(0, (spawn.yaw_deg || 0) * RAD, 0);
    this.say(t("preview_vr_started"));
  }

  /**
   * A node's box in the view, everything under it included (for tests).
   * @param {string} nodeId
   * @returns {{min: number[], max: number[]} | null}
   */
  worldBox(nodeId) {
    const holder = this.streamer?.nodes.get(nodeId);
    if (!holder) return null;
    holder.updateWorldMatrix(true, true);
    const box = new THREE.Box3().setFromObject(holder);
    return box.isEmpty() ? null : { min: box.min.toArray(), max: box.max.toArray() };
  }

  /** @returns {{position: number[], forward: number[]}} where the camera is and the way it looks (for tests) */
  cameraPose() {
    return { position: this.camera.position.toArray(), forward: this.camera.getWorldDirection(new THREE.Vector3()).toArray() };
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
