// @ts-check
// WebXR immersive-vr: the VR button, tracked controllers, teleport locomotion, walking with the left thumbstick
// (through the walk map, as on a desktop) and snap turns with the right one.
import * as THREE from "three";
import { walkMapOf, walkRig } from "./walk.js";
import { sessionButton } from "./xr-buttons.js";

export const TELEPORT_RANGE_M = 10;
export const THUMBSTICK_WALK_MPS = 1.5; // well under the server's speed limit
const SNAP_TURN_RAD = Math.PI / 6;
const DEAD_ZONE = 0.15;
const UP = new THREE.Vector3(0, 1, 0);

/**
 * @typedef {object} XRMenuHandle what of the in-world menu a controller's trigger needs
 * @property {(controller: THREE.Object3D) => boolean} press the trigger went down; true: on the menu
 * @property {(controller: THREE.Object3D) => void} release
 * @property {(controller: THREE.Object3D) => boolean} pointing
 * @property {(source: XRInputSource) => boolean} takes whether a session "select" of the source is the menu's
 */

export class XRSupport {
  /**
   * @param {object} options
   * @param {THREE.WebGLRenderer} options.renderer
   * @param {THREE.Object3D} options.rig moved by a teleport; holds the controllers
   * @param {THREE.Object3D[]} options.walkable where a teleport can land
   * @param {import("./types.js").Bounds} options.bounds
   * @param {() => void} options.onTeleport after each jump
   */
  constructor({ renderer, rig, walkable, bounds, onTeleport }) {
    this.renderer = renderer;
    this.rig = rig;
    this.walkable = walkable;
    this.bounds = bounds;
    this.onTeleport = onTeleport;
    /** @type {THREE.XRTargetRaySpace[]} */
    this.controllers = [];
    /** @type {XRMenuHandle | null} the in-world menu, which takes the trigger while a ray points at it */
    this.menu = null;
    this.raycaster = new THREE.Raycaster();
    /** @type {number | null} when the thumbsticks were last read (performance.now) */
    this.lastUpdate = null;
    this.turned = false; // the right stick has made its snap turn and waits to come back to the middle
    this.marker = new THREE.Mesh(
      new THREE.RingGeometry(0.18, 0.25, 32).rotateX(-Math.PI / 2),
      new THREE.MeshBasicMaterial({ color: "#7fe0ff" }),
    );
    this.marker.visible = false;
    renderer.xr.enabled = true;
    renderer.xr.setReferenceSpaceType("local-floor");
    for (let i = 0; i < 2; i++) {
      const controller = renderer.xr.getController(i);
      controller.userData.handedness = null;
      controller.addEventListener("connected", (e) => {
        controller.userData.handedness = e.data.handedness;
        controller.userData.inputSource = e.data;
      });
      controller.addEventListener("disconnected", () => {
        controller.userData.handedness = null;
        controller.userData.inputSource = null;
      });
      // A trigger pulled (or a pinch) while the ray is on the headset menu is the menu's, never a teleport.
      controller.addEventListener("selectstart", () => {
        controller.userData.onMenu = Boolean(this.menu?.press(controller));
        controller.userData.aiming = !controller.userData.onMenu;
      });
      controller.addEventListener("selectend", () => {
        if (controller.userData.onMenu) this.menu.release(controller);
        if (controller.userData.onMenu || this.menu?.pointing(controller)) {
          controller.userData.onMenu = controller.userData.aiming = false;
          return;
        }
        this.teleport(controller);
      });
      const ray = new THREE.Line(
        new THREE.BufferGeometry().setFromPoints([new THREE.Vector3(0, 0, 0), new THREE.Vector3(0, 0, -1)]),
        new THREE.LineBasicMaterial({ color: "#7fe0ff" }),
      );
      ray.scale.z = 3;
      controller.add(ray);
      rig.add(controller);
      this.controllers.push(controller);
    }
  }

  /**
   * "Enter VR", shown only where a headset can start immersive-vr.
   * @param {import("./i18n.js").Words} words
   * @param {(message: string) => void} [onFailed]
   * @returns {HTMLButtonElement}
   */
  button(words, onFailed) {
    return sessionButton({
      renderer: this.renderer,
      mode: "immersive-vr",
      sessionInit: { optionalFeatures: ["local-floor", "bounded-floor", "layers", "hand-tracking"] },
      referenceSpace: "local-floor",
      words,
      start: "enter_vr",
      stop: "exit_vr",
      id: "VRButton",
      onFailed,
    });
  }

  /** @param {XRMenuHandle} menu */
  setMenu(menu) {
    this.menu = menu;
  }

  get presenting() {
    return this.renderer.xr.isPresenting;
  }

  /**
   * The controller held in `hand`, if tracked.
   * @param {"left" | "right"} hand
   * @returns {THREE.XRTargetRaySpace | null}
   */
  controller(hand) {
    return this.controllers.find((c) => c.userData.handedness === hand && c.visible) || null;
  }

  /**
   * Where the controller's ray meets a floor within range and bounds, or null.
   * @param {THREE.XRTargetRaySpace} controller
   * @returns {THREE.Vector3 | null}
   */
  aim(controller) {
    this.raycaster.setFromXRController(controller);
    const hit = this.raycaster.intersectObjects(this.walkable, true).find((h) => h.face && h.face.normal.y > 0.7);
    if (!hit || hit.distance > TELEPORT_RANGE_M) return null;
    const p = hit.point;
    const inside =
      p.x > this.bounds.min[0] && p.x < this.bounds.max[0] && p.z > this.bounds.min[2] && p.z < this.bounds.max[2];
    if (!inside) return null;
    // Only onto floor a visitor may stand on (the walk map: not a plinth's top, a wall's, or the fountain's water).
    const walk = walkMapOf(this.rig);
    if (!walk) return p;
    if (!walk.canStand(p.x, p.z)) return null;
    p.y = walk.floorAt(p.x, p.z) ?? p.y;
    return p;
  }

  update() {
    const now = performance.now();
    this.thumbsticks(Math.min(0.1, (now - (this.lastUpdate ?? now)) / 1000));
    this.lastUpdate = now;
    this.marker.visible = false;
    for (const controller of this.controllers) {
      if (!controller.userData.aiming) continue;
      const point = this.aim(controller);
      if (point) {
        this.marker.position.copy(point);
        this.marker.visible = true;
      }
    }
  }

  /**
   * Where the wearer's head is in the scene. The XR camera is not in the scene graph: its matrixWorld (rig
   * included) is set each frame; read it as is (getWorldPosition would make it relative to the rig).
   * @returns {THREE.Vector3}
   */
  head() {
    return new THREE.Vector3().setFromMatrixPosition(this.renderer.xr.getCamera().matrixWorld);
  }

  /**
   * The thumbstick (xr-standard axes 2 and 3) of the controller in `hand`: [x, y], y negative when pushed forward.
   * @param {"left" | "right"} hand
   * @returns {[number, number]}
   */
  stick(hand) {
    const axes = this.controller(hand)?.userData.inputSource?.gamepad?.axes;
    return axes && axes.length >= 4 ? [axes[2], axes[3]] : [0, 0];
  }

  /**
   * Left stick: walk where the head faces, through the walk map. Right stick, pushed sideways: turn the rig
   * around the head by a fixed angle, once per push.
   * @param {number} dt seconds since the last frame
   */
  thumbsticks(dt) {
    const viewer = this.renderer.xr.getCamera();
    const head = this.head();
    const [x, y] = this.stick("left");
    if (Math.hypot(x, y) > DEAD_ZONE) {
      const forward = new THREE.Vector3(0, 0, -1).transformDirection(viewer.matrixWorld).setY(0);
      if (forward.lengthSq() < 1e-6) forward.set(0, 0, -1).applyAxisAngle(UP, this.rig.rotation.y);
      forward.normalize();
      const right = new THREE.Vector3().crossVectors(forward, UP);
      const push = Math.min(1, Math.hypot(x, y));
      const step = right.multiplyScalar(x).addScaledVector(forward, -y).setLength(push * THUMBSTICK_WALK_MPS * dt);
      walkRig(this.rig, { x: head.x, z: head.z }, step.x, step.z, dt);
    }
    const [turn] = this.stick("right");
    if (Math.abs(turn) < 0.3) this.turned = false;
    else if (Math.abs(turn) > 0.7 && !this.turned) {
      this.turned = true;
      const angle = -Math.sign(turn) * SNAP_TURN_RAD;
      const offset = head.clone().sub(this.rig.position).applyAxisAngle(UP, angle);
      this.rig.rotation.y += angle;
      this.rig.position.x = head.x - offset.x;
      this.rig.position.z = head.z - offset.z;
    }
  }

  /** @param {THREE.XRTargetRaySpace} controller */
  teleport(controller) {
    controller.userData.aiming = false;
    const point = this.aim(controller);
    if (!point) return;
    const head = this.head();
    this.rig.position.x += point.x - head.x;
    this.rig.position.z += point.z - head.z;
    this.rig.position.y = point.y; // the floor there: a step, a carpet, a hillside
    this.onTeleport();
  }
}
