// @ts-check
// Headsets and AR: the "Enter VR" and "Start AR" buttons, and what changes while a session runs (labels as
// signs in the scene, no mouse look; in AR, only the overlays over the real gallery).
import * as THREE from "three";
import { ARSupport } from "./ar.js";
import { XRSupport } from "./xr.js";

/**
 * @param {object} options
 * @param {import("./stage.js").Stage} options.stage
 * @param {import("./types.js").SceneDocument} options.document
 * @param {import("./types.js").Bounds} options.bounds
 * @param {import("./world.js").SceneStreamer} options.streamer
 * @param {import("./provenance.js").ProvenanceLabels} options.labels
 * @param {import("./tours.js").TourGuide} options.guide
 * @param {import("./controls.js").Locomotion} options.locomotion
 * @param {string | null} options.anchorId the marker named by the page's link (?anchor=)
 * @param {HTMLElement} options.buttons where the buttons go (#xr)
 * @param {() => void} options.onTeleport
 * @param {(message: string) => void} options.onMessage
 * @returns {{xr: XRSupport, ar: ARSupport}}
 */
export function setUpImmersive({ stage, document, bounds, streamer, labels, guide, locomotion, anchorId, buttons, onTeleport, onMessage }) {
  const { renderer, scene, rig, camera } = stage;
  const walkable = [streamer.root];
  const xr = new XRSupport({ renderer, rig, walkable, bounds, onTeleport });
  scene.add(xr.marker);
  const { words } = labels; // the page's words, in the visitor's language
  buttons.append(xr.button(words, onMessage));
  const background = scene.background;
  const ar = new ARSupport({
    renderer,
    rig,
    camera,
    document,
    anchorId,
    onStart: () => {
      // In AR the real gallery is the room: only overlays, reconstructions and the tour group show.
      streamer.root.visible = false;
      scene.background = null;
      renderer.setClearAlpha(0);
    },
    onEnd: () => {
      streamer.root.visible = true;
      scene.background = background;
      renderer.setClearAlpha(1);
    },
    onMessage,
    menuTakes: (source) => Boolean(xr.menu?.takes(source)),
  });
  scene.add(ar.reticle);
  buttons.append(ar.picker(words), ar.button(words));
  renderer.xr.addEventListener("sessionstart", () => {
    labels.setXR(true);
    guide.setXR(true);
    if (ar.requested) ar.start(renderer.xr.getSession());
    locomotion.enabled = false;
    rig.rotation.set(0, locomotion.yaw, 0);
    camera.rotation.set(0, 0, 0);
  });
  renderer.xr.addEventListener("sessionend", () => {
    labels.setXR(false);
    guide.setXR(false);
    if (ar.active) ar.end();
    locomotion.enabled = true;
  });
  return { xr, ar };
}

/**
 * What the tests read of an AR session: its state, the rig, and the viewer's head and facing.
 * @param {ARSupport} ar
 * @param {import("./stage.js").Stage} stage
 */
export function arState(ar, { renderer, rig }) {
  const viewer = renderer.xr.getCamera();
  return {
    ...ar.state,
    rig: rig.position.toArray(),
    // The XR camera is not in the scene graph: its matrixWorld (rig included) is set each frame; read it as is.
    head: new THREE.Vector3().setFromMatrixPosition(viewer.matrixWorld).toArray(),
    facing: new THREE.Vector3(0, 0, -1).transformDirection(viewer.matrixWorld).toArray(),
  };
}
