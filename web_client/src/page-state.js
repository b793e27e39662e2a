// @ts-check
// What the visitor page shows of itself, read-only, for debugging and the browser tests (window.thirdspace),
// and the status line under the lobby.

/**
 * @typedef {object} PageState
 * @property {string} status lobby, loading, joining, ready, reconnecting, closed or error
 * @property {number | null} visitorId
 * @property {string | null} room
 * @property {number} reconnects connections re-established after a drop, resumed or not
 * @property {number} resumes of those, the ones that got the same place back
 * @property {string | null} scene
 * @property {string | null} language
 * @property {string | null} error
 * @property {number} framesRendered
 * @property {{loaded: number, total: number} | null} loadBytes the progress bar's bytes of the lowest levels
 * @property {{lowestVisibleMs: number} | null} loadTimings from asking for the manifest to the whole scene drawn
 *   at its lowest level
 * @property {number | null} tickHz
 * @property {number | null} revision the published revision last applied live
 * @property {() => {id: string, level: number | null, levels: number, generated: boolean}[]} assets
 * @property {() => Record<string, {position: number[], asset: string | undefined}>} nodes
 * @property {() => {asset: string, level: number, at: number}[]} assetEvents
 * @property {() => string[]} labels
 * @property {() => ReturnType<import("./provenance.js").ProvenanceLabels["places"]>} labelPlaces where the labels showing are
 *   drawn, and where their objects project
 * @property {() => ReturnType<import("./avatars.js").Avatars["list"]>} avatars the others: style, hands, name tag, focus
 * @property {() => {id: number, text: string, lang: string, meta: string, hidden: boolean}[]} chat
 * @property {() => ReturnType<import("./tours.js").TourGuide["state"]> | null} tour
 * @property {() => boolean} roomVisible
 * @property {() => boolean} xrPresenting
 * @property {() => string[]} xrSigns
 * @property {() => {rig: number[], yaw: number, head: number[]} | null} walker the rig's feet and heading, and the
 *   viewer's head (the headset's in VR)
 * @property {(point: number[]) => number[] | null} screenPoint where a point of the scene shows on the page (CSS
 *   pixels), or null when it is behind the viewer
 * @property {() => (import("./ar.js").ARState & {rig: number[], head: number[], facing: number[]}) | null} ar
 */

/** @returns {PageState} */
export function createPageState() {
  return {
    status: "lobby",
    visitorId: null,
    room: null,
    reconnects: 0,
    resumes: 0,
    scene: null,
    language: null,
    error: null,
    framesRendered: 0,
    loadBytes: null,
    loadTimings: null,
    tickHz: null,
    revision: null,
    assets: () => [],
    nodes: () => ({}),
    assetEvents: () => [],
    labels: () => [],
    labelPlaces: () => [],
    avatars: () => [],
    chat: () => [],
    tour: () => null,
    roomVisible: () => false,
    xrPresenting: () => false,
    xrSigns: () => [],
    ar: () => null,
    walker: () => null,
    screenPoint: () => null,
  };
}

/**
 * The status line: what the page is doing, in words, and in `state.status` for the tests.
 * @param {PageState} state
 * @param {HTMLElement} line
 * @returns {(status: string, message?: string) => void}
 */
export function statusLine(state, line) {
  return (status, message = "") => {
    state.status = status;
    line.textContent = message;
  };
}
