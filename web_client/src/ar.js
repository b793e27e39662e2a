// @ts-check
// WebXR immersive-ar: the scene's overlays laid over the real gallery, aligned at a printed anchor.
// Optional features degrade in order: hit-test (tap the marked spot) -> tap to place in front of you;
// anchors (the alignment follows the device's tracking) -> the alignment as placed; dom-overlay (the page's
// panels over the camera view) -> none. The alignment is kept for the browser tab's session, so a reload
// puts the tour back where it was.
import * as THREE from "three";
import { sessionButton } from "./xr-buttons.js";

const IN_FRONT_M = 1.5;
const EYE_TO_FLOOR_M = 1.4;

/**
 * @typedef {object} ARState what the page's tests and debugging read
 * @property {boolean} active
 * @property {boolean} calibrated
 * @property {boolean} restored the alignment came back from this tab's session
 * @property {boolean} hitTest
 * @property {boolean} anchors
 * @property {string | null} anchor
 * @property {"hit-test" | "in-front"} [placedBy]
 */

/**
 * The heading of a rotation about +Y.
 * @param {THREE.Quaternion} quaternion
 * @returns {number} radians
 */
function yawOf(quaternion) {
  const forward = new THREE.Vector3(0, 0, -1).applyQuaternion(quaternion);
  return Math.atan2(-forward.x, -forward.z);
}

export class ARSupport {
  /**
   * @param {object} options
   * @param {THREE.WebGLRenderer} options.renderer
   * @param {THREE.Object3D} options.rig aligned so that the scene's anchor lands on the real marker
   * @param {THREE.Camera} options.camera
   * @param {import("./types.js").SceneDocument} options.document
   * @param {string | null} options.anchorId the marker the visitor scanned, if any
   * @param {() => void} options.onStart
   * @param {() => void} options.onEnd
   * @param {(message: string) => void} options.onMessage what to tell the visitor
   * @param {(source: XRInputSource) => boolean} [options.menuTakes] whether a select is the headset menu's
   */
  constructor({ renderer, rig, camera, document: sceneDocument, anchorId, onStart, onEnd, onMessage, menuTakes = () => false }) {
    this.renderer = renderer;
    this.rig = rig;
    this.camera = camera;
    this.document = sceneDocument;
    this.anchors = sceneDocument.anchors || [];
    this.anchor = this.anchors.find((a) => a.id === anchorId) || this.anchors[0] || null;
    this.onStart = onStart;
    this.onEnd = onEnd;
    this.onMessage = onMessage;
    this.menuTakes = menuTakes;
    this.requested = false;
    this.active = false;
    /** @type {XRHitTestSource | null} */
    this.hitSource = null;
    /** @type {XRAnchor | null} */
    this.xrAnchor = null;
    /** @type {{hit: XRHitTestResult, position: THREE.Vector3} | null} */
    this.lastHit = null;
    /** @type {{position: THREE.Vector3, quaternion: THREE.Quaternion} | null} the rig before the session */
    this.saved = null;
    this.placedYaw = 0;
    /** @type {ARState} */
    this.state = { active: false, calibrated: false, restored: false, hitTest: false, anchors: false, anchor: this.anchor?.id || null };
    this.key = `thirdspace.ar.${sceneDocument.id}`;
    this.reticle = new THREE.Mesh(new THREE.RingGeometry(0.08, 0.1, 32).rotateX(-Math.PI / 2), new THREE.MeshBasicMaterial({ color: "#ffcf5a" }));
    this.reticle.visible = false;
    this.reticle.matrixAutoUpdate = false;
  }

  /**
   * The anchors to choose from, for visitors who did not scan a code (or stand at another marker).
   * @param {import("./i18n.js").Words} words
   * @returns {HTMLSelectElement}
   */
  picker(words) {
    const select = document.createElement("select");
    select.id = "anchor";
    select.dataset.i18nLabel = "marker";
    select.setAttribute("aria-label", words.t("marker"));
    for (const anchor of this.anchors) {
      const name = anchor.name ? anchor.name[this.document.default_language] || Object.values(anchor.name)[0] : anchor.id;
      select.append(new Option(name, anchor.id, false, anchor.id === this.anchor?.id));
    }
    select.addEventListener("change", () => {
      this.anchor = this.anchors.find((a) => a.id === select.value);
      this.state.anchor = this.anchor.id;
    });
    select.hidden = true; // shown only where AR can start, and there is a choice to make
    navigator.xr
      ?.isSessionSupported("immersive-ar")
      .then((supported) => (select.hidden = !supported || this.anchors.length < 2))
      .catch(() => {});
    return select;
  }

  /**
   * "Start AR", shown only where the device can start immersive-ar; the page's HUD is its DOM overlay.
   * @param {import("./i18n.js").Words} words
   * @returns {HTMLButtonElement}
   */
  button(words) {
    const button = sessionButton({
      renderer: this.renderer,
      mode: "immersive-ar",
      sessionInit: { optionalFeatures: ["hit-test", "anchors", "dom-overlay", "local-floor"], domOverlay: { root: document.querySelector("#hud") } },
      referenceSpace: "local",
      words,
      start: "start_ar",
      stop: "stop_ar",
      id: "ARButton",
      onSession: () => (this.requested = true),
      onFailed: this.onMessage,
    });
    button.classList.add("ar-button");
    return button;
  }

  /** @param {XRSession} session */
  async start(session) {
    this.active = true;
    this.requested = false;
    this.saved = { position: this.rig.position.clone(), quaternion: this.rig.quaternion.clone() };
    this.onStart();
    this.state.active = true;
    const features = session.enabledFeatures || [];
    this.state.anchors = typeof XRFrame !== "undefined" && "createAnchor" in XRFrame.prototype && (features.length === 0 || features.includes("anchors"));
    try {
      const viewer = await session.requestReferenceSpace("viewer");
      this.hitSource = await session.requestHitTestSource({ space: viewer });
      this.state.hitTest = true;
    } catch {
      this.hitSource = null;
      this.onMessage("This device cannot find surfaces here: tap to place the tour in front of you.");
    }
    // A select on the headset menu is the menu's: it does not place the scene.
    session.addEventListener("select", (event) => {
      if (!this.menuTakes(event.inputSource)) this.place();
    });
    const stored = sessionStorage.getItem(this.key);
    if (stored) {
      const { anchor, position, quaternion } = JSON.parse(stored);
      this.rig.position.fromArray(position);
      this.rig.quaternion.fromArray(quaternion);
      this.state.calibrated = true;
      this.state.restored = true;
      this.state.anchor = anchor;
      this.onMessage("The tour is where you placed it. Tap the marker again to realign.");
    } else if (this.anchor) {
      const name = this.anchor.name ? Object.values(this.anchor.name)[0] : this.anchor.id;
      this.onMessage(`Stand facing the marker “${name}” and tap where it is.`);
    }
  }

  end() {
    this.active = false;
    this.state.active = false;
    this.hitSource?.cancel?.();
    this.hitSource = null;
    this.xrAnchor = null;
    this.reticle.visible = false;
    if (this.saved) {
      this.rig.position.copy(this.saved.position);
      this.rig.quaternion.copy(this.saved.quaternion);
    }
    this.onEnd();
  }

  /**
   * Each XR frame: where the viewer's ray meets a surface; and, once anchored, follow the anchor's tracking.
   * @param {XRFrame | undefined} frame
   */
  frame(frame) {
    if (!this.active || !frame) return;
    const space = this.renderer.xr.getReferenceSpace();
    this.lastHit = null;
    if (this.hitSource) {
      const [hit] = frame.getHitTestResults(this.hitSource);
      if (hit) {
        const pose = hit.getPose(space);
        if (pose) {
          this.lastHit = { hit, position: new THREE.Vector3().copy(pose.transform.position) };
          this.reticle.matrix.fromArray(pose.transform.matrix).premultiply(this.rig.matrixWorld);
          this.reticle.visible = true;
        }
      }
    }
    if (this.xrAnchor && frame.trackedAnchors?.has(this.xrAnchor)) {
      const pose = frame.getPose(this.xrAnchor.anchorSpace, space);
      if (pose) this.align(new THREE.Vector3().copy(pose.transform.position), this.placedYaw, false);
    }
  }

  // Put the anchor where the viewer tapped (or in front of them), turned the way the viewer faces.
  place() {
    if (!this.active || !this.anchor) return;
    const xrCamera = this.renderer.xr.getCamera();
    const head = new THREE.Matrix4().copy(this.rig.matrixWorld).invert().multiply(xrCamera.matrixWorld);
    const headPosition = new THREE.Vector3().setFromMatrixPosition(head);
    const headYaw = yawOf(new THREE.Quaternion().setFromRotationMatrix(head));
    let point;
    this.state.placedBy = this.lastHit ? "hit-test" : "in-front";
    if (this.lastHit) {
      point = this.lastHit.position.clone();
      this.lastHit.hit.createAnchor?.()?.then((anchor) => (this.xrAnchor = anchor)).catch(() => {});
    } else {
      point = headPosition.clone().add(new THREE.Vector3(-Math.sin(headYaw), 0, -Math.cos(headYaw)).multiplyScalar(IN_FRONT_M));
      point.y = Math.max(headPosition.y - EYE_TO_FLOOR_M, 0) + this.anchor.position[1];
    }
    this.placedYaw = headYaw;
    this.align(point, headYaw, true);
    this.onMessage("Aligned. Walk around: the labels stay on the exhibits.");
  }

  /**
   * Turn and move the rig so that the anchor is at `point` (in the session's space), facing the viewer.
   * @param {THREE.Vector3} point
   * @param {number} viewerYaw radians
   * @param {boolean} save keep the alignment for this tab's session
   */
  align(point, viewerYaw, save) {
    const facing = THREE.MathUtils.degToRad(this.anchor.yaw_deg || 0); // the way a visitor faces to read the marker
    const turn = facing - viewerYaw;
    this.rig.quaternion.setFromAxisAngle(new THREE.Vector3(0, 1, 0), turn);
    const rotated = point.clone().applyQuaternion(this.rig.quaternion);
    this.rig.position.fromArray(this.anchor.position).sub(rotated);
    this.rig.updateMatrixWorld(true);
    this.state.calibrated = true;
    if (save) {
      const record = { anchor: this.anchor.id, position: this.rig.position.toArray(), quaternion: this.rig.quaternion.toArray() };
      sessionStorage.setItem(this.key, JSON.stringify(record));
    }
  }
}
