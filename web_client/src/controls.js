// @ts-check
// Desktop (WASD, drag to look, click to walk) and touch (joystick, drag to look, tap to walk) movement.
// With the scene's walk map (walk.js) the visitor slides along walls and stops at the fountain's rim and at
// plinths, and the feet follow the floor.
import * as THREE from "three";
import { find } from "./dom.js";
import { walkMapOf, walkRig } from "./walk.js";

const WALK_MPS = 1.6;
const RUN_MPS = 3.2;
const LOOK_PER_PIXEL = 0.004;
const CLICK_PIXELS = 6;

export class Locomotion {
  /**
   * @param {object} options
   * @param {THREE.Object3D} options.rig the visitor's feet: moved and turned
   * @param {THREE.Camera} options.camera in the rig: pitched
   * @param {HTMLElement} options.dom the canvas
   * @param {HTMLElement | null} [options.joystick]
   * @param {import("./types.js").Bounds} options.bounds
   * @param {THREE.Object3D[]} options.walkable objects a click can land on
   * @param {(hit: THREE.Intersection) => boolean} [options.onPick] a click on anything but a floor: true if it
   *   selected something
   */
  constructor({ rig, camera, dom, joystick, bounds, walkable, onPick = () => false }) {
    this.rig = rig;
    this.camera = camera;
    this.dom = dom;
    this.bounds = bounds;
    this.walkable = walkable;
    this.onPick = onPick;
    this.enabled = true;
    this.yaw = 0;
    this.pitch = 0;
    /** @type {Set<string>} key codes held down */
    this.keys = new Set();
    this.stick = new THREE.Vector2();
    /** @type {THREE.Vector3 | null} where a click sent the visitor */
    this.target = null;
    this.raycaster = new THREE.Raycaster();
    /** @type {{id: number, x: number, y: number, startX: number, startY: number} | null} */
    this.drag = null;

    addEventListener("keydown", (e) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
      this.keys.add(e.code);
      this.target = null;
    });
    addEventListener("keyup", (e) => this.keys.delete(e.code));
    addEventListener("blur", () => this.keys.clear());
    dom.addEventListener("pointerdown", (e) => this.pointerDown(e));
    dom.addEventListener("pointermove", (e) => this.pointerMove(e));
    dom.addEventListener("pointerup", (e) => this.pointerUp(e));
    dom.addEventListener("pointercancel", () => (this.drag = null));
    if (joystick) this.bindJoystick(joystick);
  }

  /** @param {number} yawDegrees */
  setHeading(yawDegrees) {
    this.yaw = THREE.MathUtils.degToRad(yawDegrees);
    this.pitch = 0;
  }

  /** @param {PointerEvent} e */
  pointerDown(e) {
    this.drag = { id: e.pointerId, x: e.clientX, y: e.clientY, startX: e.clientX, startY: e.clientY };
    this.dom.setPointerCapture?.(e.pointerId);
  }

  /** @param {PointerEvent} e */
  pointerMove(e) {
    const drag = this.drag;
    if (!drag || drag.id !== e.pointerId || !this.enabled) return;
    this.yaw -= (e.clientX - drag.x) * LOOK_PER_PIXEL;
    this.pitch = THREE.MathUtils.clamp(this.pitch - (e.clientY - drag.y) * LOOK_PER_PIXEL, -1.4, 1.4);
    drag.x = e.clientX;
    drag.y = e.clientY;
  }

  /** @param {PointerEvent} e */
  pointerUp(e) {
    const drag = this.drag;
    this.drag = null;
    if (!drag || !this.enabled) return;
    if (Math.hypot(e.clientX - drag.startX, e.clientY - drag.startY) > CLICK_PIXELS) return;
    const rect = this.dom.getBoundingClientRect();
    const ndc = new THREE.Vector2(((e.clientX - rect.left) / rect.width) * 2 - 1, -((e.clientY - rect.top) / rect.height) * 2 + 1);
    this.raycaster.setFromCamera(ndc, this.camera);
    const hits = this.raycaster.intersectObjects(this.walkable, true).filter((h) => h.face);
    if (hits.length && hits[0].face.normal.y <= 0.7 && this.onPick(hits[0])) return;
    const hit = hits.find((h) => h.face.normal.y > 0.7);
    if (!hit) return;
    const walk = walkMapOf(this.rig);
    // A tap on a plinth's top or into the fountain is not a place to walk to.
    if (walk && walk.floorAt(hit.point.x, hit.point.z) === null) return;
    this.target = this.clamp(hit.point.clone().setY(0));
  }

  /** @param {HTMLElement} element */
  bindJoystick(element) {
    const knob = find(".knob", HTMLElement, element);
    const radius = 50;
    /** @type {number | null} the pointer holding the stick */
    let active = null;
    /** @param {PointerEvent} e */
    const move = (e) => {
      const rect = element.getBoundingClientRect();
      const x = e.clientX - (rect.left + rect.width / 2);
      const y = e.clientY - (rect.top + rect.height / 2);
      const length = Math.min(radius, Math.hypot(x, y)) / (Math.hypot(x, y) || 1);
      this.stick.set((x * length) / radius, (y * length) / radius);
      knob.style.transform = `translate(${x * length}px, ${y * length}px)`;
    };
    element.addEventListener("pointerdown", (e) => {
      active = e.pointerId;
      element.setPointerCapture(e.pointerId);
      this.target = null;
      move(e);
      e.stopPropagation();
    });
    element.addEventListener("pointermove", (e) => e.pointerId === active && move(e));
    /** @param {PointerEvent} e */
    const end = (e) => {
      if (e.pointerId !== active) return;
      active = null;
      this.stick.set(0, 0);
      knob.style.transform = "";
    };
    element.addEventListener("pointerup", end);
    element.addEventListener("pointercancel", end);
  }

  /**
   * Keep a point inside the bounds, a little in from the walls.
   * @param {THREE.Vector3} point changed in place
   * @returns {THREE.Vector3}
   */
  clamp(point) {
    const margin = 0.3;
    point.x = THREE.MathUtils.clamp(point.x, this.bounds.min[0] + margin, this.bounds.max[0] - margin);
    point.z = THREE.MathUtils.clamp(point.z, this.bounds.min[2] + margin, this.bounds.max[2] - margin);
    return point;
  }

  /** @param {number} dt seconds since the last frame */
  update(dt) {
    // In a headset the rig turns with the right thumbstick (xr.js): the heading follows it.
    if (!this.enabled) {
      this.yaw = this.rig.rotation.y;
      return;
    }
    this.rig.rotation.set(0, this.yaw, 0);
    this.camera.rotation.set(this.pitch, 0, 0);
    const k = this.keys;
    const forward = (k.has("KeyW") || k.has("ArrowUp") ? 1 : 0) - (k.has("KeyS") || k.has("ArrowDown") ? 1 : 0) - this.stick.y;
    const strafe = (k.has("KeyD") || k.has("ArrowRight") ? 1 : 0) - (k.has("KeyA") || k.has("ArrowLeft") ? 1 : 0) + this.stick.x;
    const speed = k.has("ShiftLeft") || k.has("ShiftRight") ? RUN_MPS : WALK_MPS;
    const step = new THREE.Vector3();
    if (forward || strafe) {
      step.set(strafe, 0, -forward);
      if (step.length() > 1) step.normalize();
      step.multiplyScalar(speed * dt).applyAxisAngle(new THREE.Vector3(0, 1, 0), this.yaw);
    } else if (this.target) {
      step.subVectors(this.target, this.rig.position).setY(0);
      const distance = step.length();
      if (distance < 0.05) this.target = null;
      else step.multiplyScalar(Math.min(1, (WALK_MPS * dt) / distance));
    }
    if (!walkMapOf(this.rig)) {
      this.rig.position.add(step);
      this.clamp(this.rig.position);
      return;
    }
    const feet = this.rig.position;
    const { travelled, blocked } = walkRig(this.rig, { x: feet.x, z: feet.z }, step.x, step.z, dt);
    // A walk to a clicked point that runs into something stops there, rather than pushing at it.
    if (this.target && !forward && !strafe && blocked && travelled < 0.5 * step.length()) this.target = null;
  }
}
