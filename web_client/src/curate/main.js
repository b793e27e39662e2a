// @ts-check
// Third Space curator page: the composition root. The page's language first, then sign in, then compose a scene
// with a transform gizmo, texts, recipes, review and publish (editor.js). window.curate is what the browser tests and debugging read.
import { find, messageOf } from "../dom.js";
import { Api } from "./api.js";
import { Draft } from "./draft.js";
import { Editor } from "./editor.js";
import { SignIn } from "./signin.js";
import { bindTabs } from "./tabs.js";
import { chooseLanguage, t } from "./words.js";

/**
 * @typedef {object} CurateState
 * @property {string} status signed-out, ready, published or error
 * @property {string | null} scene the open scene
 * @property {string | null} etag its draft's
 * @property {number | null} revision the draft revision open
 * @property {number | null} published the published revision
 * @property {string | null} selected the node selected (the last of the selection)
 * @property {string[]} selection every node selected
 * @property {{undo: string[], redo: string[]}} steps what undo and redo would do, oldest first
 * @property {number} saves writes saved since the page opened
 * @property {string | null} previewed the recipe last previewed
 * @property {string} [error]
 * @property {(axis: "X" | "Y" | "Z", along?: number) => {x: number, y: number}} axisPoint where on the page the
 *   gizmo's arrow for `axis` is
 * @property {(nodeId: string) => number[] | undefined} nodePosition in the draft
 * @property {(nodeId: string) => {min: number[], max: number[]} | null} worldBox a node's box in the view, in metres
 * @property {() => {position: number[], forward: number[]}} cameraPose the view's camera
 * @property {(x: number, y: number) => {point: number[], away: number[]}} surfaceAt where a new object put at a
 *   point of the page would stand
 * @property {() => {presenting: boolean, head: number[] | null, gizmo: boolean}} vr the VR preview
 */

function start() {
  chooseLanguage([find("#signin-language", HTMLSelectElement), find("#page-language", HTMLSelectElement)], new URLSearchParams(location.search));
  const api = new Api();
  const statusLine = find("#save-status");
  /** @param {string} message */
  const say = (message) => {
    statusLine.textContent = message;
    statusLine.title = message; // the whole of it, where the bar cuts it short
  };
  /** @type {Editor | null} */
  let editor = null;
  const draft = new Draft({ api, say, revisionLabel: find("#revision"), onStale: (message) => editor.reload(message) });
  /** @type {CurateState} */
  const state = {
    status: "signed-out",
    get scene() {
      return draft.sceneId;
    },
    get etag() {
      return draft.etag;
    },
    get revision() {
      return draft.revision;
    },
    get published() {
      return draft.published;
    },
    get selected() {
      return editor ? editor.selected : null;
    },
    get saves() {
      return draft.saves;
    },
    get selection() {
      return editor ? [...editor.selection] : [];
    },
    get steps() {
      return { undo: draft.history.undo.map((s) => s.what), redo: draft.history.redo.map((s) => s.what) };
    },
    previewed: null,
    axisPoint: (axis, along) => editor.view.axisPoint(axis, along),
    nodePosition: (id) => draft.node(id)?.position,
    worldBox: (id) => editor.view.worldBox(id),
    cameraPose: () => editor.view.cameraPose(),
    surfaceAt: (x, y) => editor.view.surfaceAt(x, y),
    vr: () => editor.view.vrState(),
  };
  Object.assign(window, { curate: state });

  bindTabs(find("#tabs"));
  const signIn = new SignIn({
    api,
    state,
    onSignedIn: async () => {
      signIn.hide();
      const { user } = api.session;
      const who = find("#who");
      who.textContent = `${user.name} (${user.role})`;
      who.title = who.textContent;
      editor = new Editor({ api, draft, state, say });
      await editor.open(new URLSearchParams(location.search));
    },
  });
  signIn.start().catch((error) => {
    state.status = "error";
    state.error = messageOf(error);
    say(t("error", { error: state.error }));
  });
}

start();
