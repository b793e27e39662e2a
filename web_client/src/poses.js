// @ts-check
// This visitor's pose to the room at its tick rate: the head (the camera, or the headset in VR), the tracked
// controllers, and whether it follows a teleport.
import * as THREE from "three";
import { FLAG_LEFT, FLAG_RIGHT, FLAG_TELEPORT } from "./protocol.js";

/** @type {[number, "left" | "right", number][]} pose part, hand, flag */
const HANDS = [
  [1, "left", FLAG_LEFT],
  [2, "right", FLAG_RIGHT],
];

export class PoseSender {
  /**
   * @param {object} options
   * @param {THREE.Camera} options.camera
   * @param {import("./xr.js").XRSupport} options.xr
   * @param {import("./net.js").Connection} options.connection
   * @param {number} options.tickHz the room's
   */
  constructor({ camera, xr, connection, tickHz }) {
    this.camera = camera;
    this.xr = xr;
    this.connection = connection;
    this.sendEveryMs = 1000 / tickHz;
    this.lastSent = -Infinity;
    this.teleported = false; // kept until the jump is sent
    this.parts = [new Array(7).fill(0), [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1]];
    this.position = new THREE.Vector3();
    this.rotation = new THREE.Quaternion();
  }

  // The next pose sent says it follows a teleport: the others see a jump, not a glide.
  markTeleport() {
    this.teleported = true;
  }

  /** @param {number} now page time, ms */
  update(now) {
    if (now - this.lastSent >= this.sendEveryMs) this.send(now);
  }

  /** @param {number} now page time, ms */
  send(now) {
    const { camera, xr, parts, position, rotation } = this;
    // In VR, three.js has copied the headset's pose into the camera during render().
    camera.getWorldPosition(position);
    camera.getWorldQuaternion(rotation);
    parts[0] = [...position.toArray(), ...rotation.toArray()];
    let flags = 0;
    if (xr.presenting) {
      for (const [index, name, flag] of HANDS) {
        const controller = xr.controller(name);
        if (!controller) continue;
        controller.getWorldPosition(position);
        controller.getWorldQuaternion(rotation);
        parts[index] = [...position.toArray(), ...rotation.toArray()];
        flags |= flag;
      }
    }
    if (this.teleported) flags |= FLAG_TELEPORT;
    if (this.connection.sendPose(parts, flags)) this.teleported = false;
    this.lastSent = now;
  }
}
