// @ts-check
// Loading a scene: the lowest level of every asset first, with a progress bar, so the whole scene shows early;
// finer levels stream in later (world.js).
import { SceneStreamer } from "./world.js";

/**
 * @param {object} options
 * @param {import("./types.js").SceneDocument} options.document
 * @param {import("./types.js").Manifest} options.manifest
 * @param {HTMLElement} options.progress the progress bar's box (a role=progressbar)
 * @param {HTMLElement} options.bar its filling
 * @param {number | null} options.pinnedLevel keep every asset at this level (previewing levels of detail)
 * @param {(loaded: number, total: number) => void} options.onBytes
 * @returns {Promise<SceneStreamer>} with every asset at its lowest level
 */
export async function loadLowest({ document, manifest, progress, bar, pinnedLevel, onBytes }) {
  const streamer = new SceneStreamer(document, manifest);
  if (pinnedLevel !== null) streamer.pinnedLevel = pinnedLevel;
  progress.hidden = false;
  await streamer.loadLowest((loaded, total) => {
    onBytes(loaded, total);
    const percent = total ? (100 * loaded) / total : 100;
    bar.style.width = `${percent}%`;
    progress.setAttribute("aria-valuenow", String(Math.round(percent)));
  });
  return streamer;
}

/**
 * The `?lod=N` query: a level every asset keeps, or null to refine by distance.
 * @param {URLSearchParams} params
 * @returns {number | null}
 */
export function pinnedLevelOf(params) {
  return params.has("lod") ? Math.max(0, Number.parseInt(params.get("lod"), 10) || 0) : null;
}
