// @ts-check
// One frame: move, follow the headset or the AR alignment, place the avatars, show the overlays, refine assets
// near the viewer, draw, and send the pose when its tick comes.
import * as THREE from "three";

const REFINE_EVERY_MS = 250;

/**
 * Start the page's animation loop (three.js runs it at the display's or the headset's rate).
 * @param {object} parts
 * @param {import("./stage.js").Stage} parts.stage
 * @param {import("./controls.js").Locomotion} parts.locomotion
 * @param {import("./xr.js").XRSupport} parts.xr
 * @param {import("./ar.js").ARSupport} parts.ar
 * @param {import("./avatars.js").Avatars} parts.avatars
 * @param {import("./tours.js").TourGuide} parts.guide
 * @param {import("./world.js").SceneStreamer} parts.streamer
 * @param {import("./provenance.js").ProvenanceLabels} parts.labels
 * @param {import("./poses.js").PoseSender} parts.poses
 * @param {() => void} parts.onFrame after each frame is drawn
 */
export function startFrameLoop({ stage, locomotion, xr, ar, avatars, guide, streamer, labels, poses, onFrame }) {
  const { renderer, scene, camera } = stage;
  const eye = new THREE.Vector3();
  let lastRefine = 0;
  let lastFrame = performance.now();
  renderer.setAnimationLoop((_time, frame) => {
    const now = performance.now();
    const dt = Math.min(0.1, (now - lastFrame) / 1000);
    lastFrame = now;
    if (!ar.active) locomotion.update(dt); // in AR the alignment owns the rig
    if (xr.presenting && !ar.active) xr.update();
    if (ar.active) ar.frame(frame);
    avatars.update(now);
    if (ar.active && guide.tour?.guided) {
      // Over the real gallery, only the tour's group shows.
      const group = new Set([guide.tour.guide, ...(guide.tour.members || [])]);
      for (const [id, avatar] of avatars.byId) avatar.group.visible = avatar.group.visible && group.has(id);
    }
    streamer.animate(dt);
    guide.update(camera.getWorldPosition(eye), dt);
    if (now - lastRefine > REFINE_EVERY_MS) {
      streamer.refine(camera.getWorldPosition(eye));
      lastRefine = now;
    }
    renderer.render(scene, camera);
    if (!xr.presenting) labels.render(scene, camera);
    onFrame();
    poses.update(now);
  });
}
