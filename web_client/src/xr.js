// @ts-check
// WebXR immersive-vr: the standard VR button, tracked controllers, teleport locomotion.
import * as THREE from "three";
import { VRButton } from "three/addons/webxr/VRButton.js";

export const TELEPORT_RANGE_M = 10;

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
    this.raycaster = new THREE.Raycaster();
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
      });
      controller.addEventListener("disconnected", () => {
        controller.userData.handedness = null;
      });
      controller.addEventListener("selectstart", () => {
        controller.userData.aiming = true;
      });
      controller.addEventListener("selectend", () => this.teleport(controller));
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

  button() {
    return VRButton.createButton(this.renderer);
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
    return inside ? p : null;
  }

  update() {
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

  /** @param {THREE.XRTargetRaySpace} controller */
  teleport(controller) {
    controller.userData.aiming = false;
    const point = this.aim(controller);
    if (!point) return;
    const head = this.renderer.xr.getCamera().getWorldPosition(new THREE.Vector3());
    this.rig.position.x += point.x - head.x;
    this.rig.position.z += point.z - head.z;
    this.onTeleport();
  }
}
