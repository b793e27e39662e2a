// @ts-check
// The visitor page's HTTP calls and the WebSocket address.

/**
 * GET a JSON document; a reply that is not OK throws with the server's `error`.
 * @param {string} url
 * @returns {Promise<any>}
 */
export async function fetchJSON(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${url}: ${response.status}`);
  return body;
}

/**
 * @param {string} sceneId
 * @returns {Promise<{scene: import("./types.js").SceneDocument}>}
 */
export function fetchScene(sceneId) {
  return fetchJSON(`/api/scenes/${encodeURIComponent(sceneId)}`);
}

/**
 * @param {string} sceneId
 * @returns {Promise<import("./types.js").Manifest>}
 */
export function fetchManifest(sceneId) {
  return fetchJSON(`/api/scenes/${encodeURIComponent(sceneId)}/manifest`);
}

/** @returns {Promise<{scenes: {id: string, title: import("./types.js").LocalText, languages: string[], made?: import("./types.js").MachineShare}[]}>} */
export function fetchScenes() {
  return fetchJSON("/api/scenes");
}

/** @returns {Promise<{phrases: import("./chat.js").PhraseTables}>} */
export function fetchPhrases() {
  return fetchJSON("/api/chat/phrases");
}

/**
 * The WebSocket endpoint of the server that served this page.
 * @param {Location} place
 * @returns {string}
 */
export function socketUrl(place) {
  const protocol = place.protocol === "https:" ? "wss:" : "ws:";
  return `${protocol}//${place.host}/ws`;
}
