// @ts-check
// The open scene's draft: its document, revision and ETag; writes on top of the revision we have (If-Match),
// publishing, undo and redo of every saved edit (undo.js), and news of other curators' saves over a watching
// WebSocket. A stale draft is taken again as it is now (onStale), never merged.
import { messageOf } from "../dom.js";
import { ApiError } from "./api.js";
import { applyParts, UndoConflict, UndoStack } from "./undo.js";
import { t } from "./words.js";

/** @typedef {import("../types.js").SceneDocument} SceneDocument */
/** @typedef {import("../types.js").Manifest} Manifest */
/** @typedef {import("../types.js").NodeSpec} NodeSpec */

export class Draft {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {(message: string) => void} options.say
   * @param {HTMLElement} options.revisionLabel
   * @param {(message?: string) => Promise<void>} options.onStale take the draft again, then say `message`
   */
  constructor({ api, say, revisionLabel, onStale }) {
    this.api = api;
    this.say = say;
    this.revisionLabel = revisionLabel;
    this.onStale = onStale;
    /** @type {string | null} */
    this.sceneId = null;
    /** @type {SceneDocument | null} */
    this.document = null;
    /** @type {Manifest | null} the draft's assets, review status included */
    this.manifest = null;
    /** @type {string | null} */
    this.etag = null;
    /** @type {number | null} */
    this.revision = null;
    /** @type {number | null} */
    this.published = null;
    this.saves = 0;
    this.writing = 0; // writes in flight: a watcher's news of our own write must not reload the page
    this.newest = 0; // the newest draft revision a watcher has told us about
    /** @type {{ws: WebSocket, sceneId: string} | null} */
    this.watcher = null;
    /** @type {(field: string, message: string) => void} a refusal that names a field of the document */
    this.onRefused = () => {};
    /** @type {UndoStack} every edit saved from this browser, per scene */
    this.history = new UndoStack(globalThis.localStorage || null);
  }

  /**
   * The API path of the open scene, and of `suffix` under it.
   * @param {string} [suffix]
   */
  path(suffix = "") {
    return `/api/curate/scenes/${encodeURIComponent(this.sceneId)}${suffix}`;
  }

  /**
   * Take a scene's draft and manifest as they are now.
   * @param {string} sceneId
   * @returns {Promise<boolean>} whether this is another scene than the one open before
   */
  async open(sceneId) {
    const path = `/api/curate/scenes/${encodeURIComponent(sceneId)}`;
    const reply = await this.api.call("GET", path);
    const manifest = (await this.api.call("GET", `${path}/manifest`)).body;
    const changed = this.sceneId !== sceneId;
    this.document = reply.body.document;
    this.manifest = manifest;
    this.sceneId = sceneId;
    this.etag = reply.etag;
    this.revision = reply.body.revision;
    this.published = reply.body.scene.published_revision;
    this.history.open(sceneId);
    this.showRevision();
    return changed;
  }

  showRevision() {
    const published = this.published ? t("published_revision", { revision: this.published }) : t("not_published");
    this.revisionLabel.textContent = t("draft_revision", { revision: this.revision, published });
  }

  /**
   * Save a change on top of the revision we have; a conflict takes the draft again.
   * @param {string} method
   * @param {string} suffix the path under the scene's
   * @param {unknown} body
   * @param {string} what the change, for the status line and the undo list
   * @param {boolean} [undoable] kept as a step to undo (undo and redo themselves are not)
   * @returns {Promise<{body: any, etag: string | null} | null>} the reply, or null when not saved
   */
  async write(method, suffix, body, what, undoable = true) {
    this.writing += 1;
    const before = this.document;
    try {
      const reply = await this.api.call(method, this.path(suffix), { body, ifMatch: this.etag });
      this.document = reply.body.document;
      if (undoable) this.history.record(what, before, this.document);
      this.etag = reply.etag;
      this.revision = reply.body.revision;
      this.published = reply.body.scene.published_revision;
      this.saves += 1;
      this.showRevision();
      this.say(t("saved", { what, revision: this.revision }));
      return reply;
    } catch (error) {
      const refused = error instanceof ApiError ? error : null;
      if (refused?.status === 412) {
        await this.onStale(t("stale", { revision: refused.body.current_revision, what }));
      } else {
        this.say(t("not_saved", { error: `${refused?.body.field ? `${refused.body.field}: ` : ""}${messageOf(error)}` }));
        if (refused?.body.field) this.onRefused(refused.body.field, messageOf(error));
      }
      return null;
    } finally {
      this.writing -= 1;
      if (!this.writing && this.newest > this.revision) this.onStale(t("other_curator"));
    }
  }

  /**
   * Save an edit made to a copy of the document (several nodes at once): one revision, one step to undo.
   * @param {string} what
   * @param {(document: SceneDocument) => void} edit changes the copy it is given
   */
  change(what, edit) {
    const document = structuredClone(this.document);
    edit(document);
    return this.write("PUT", "", { document, message: what.slice(0, 500) }, what);
  }

  /**
   * Undo the newest edit, or redo the newest undone one, on top of the draft as it is now.
   * @param {"undo" | "redo"} direction
   * @returns {Promise<boolean>} whether anything was written
   */
  async step(direction) {
    const step = this.history.next(direction);
    if (!step) {
      this.say(t(`nothing_to_${direction}`));
      return false;
    }
    let document;
    try {
      document = applyParts(this.document, step.parts, direction);
    } catch (error) {
      if (!(error instanceof UndoConflict)) throw error;
      // Someone changed the same thing since: this step cannot be applied any more, the older ones may.
      (direction === "undo" ? this.history.undo : this.history.redo).pop();
      this.history.save();
      this.say(t(`cannot_${direction}`, { what: step.what, reason: error.message }));
      return false;
    }
    const label = t(`${direction}_of`, { what: step.what });
    const reply = await this.write("PUT", "", { document, message: label.slice(0, 500) }, label, false);
    if (reply) this.history.moved(direction);
    return Boolean(reply);
  }

  // Publish the draft as we have it: visitors see it at once. Throws an ApiError (412: the draft changed first).
  async publish() {
    const reply = await this.api.call("POST", this.path("/publish"), { ifMatch: this.etag });
    this.published = reply.body.scene.published_revision;
    this.etag = reply.etag;
    this.showRevision();
  }

  // Be told of every save to the open scene's draft (one watching connection, kept while the scene is open).
  watch() {
    const sceneId = this.sceneId;
    if (this.watcher?.sceneId === sceneId && this.watcher.ws.readyState <= 1) return;
    this.watcher?.ws.close();
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    this.watcher = { ws, sceneId };
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "watch", scene: sceneId })));
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "draft" || message.scene !== this.sceneId) return;
      this.newest = Math.max(this.newest, message.revision);
      if (!this.writing && message.revision > this.revision) this.onStale(t("author_changed", { author: message.author, revision: message.revision }));
    });
  }

  /**
   * A node's name in the scene's language, with its id.
   * @param {NodeSpec} spec
   * @returns {string}
   */
  nameOf(spec) {
    const name = spec.name && (spec.name[this.document.default_language] || Object.values(spec.name)[0]);
    return name ? `${name} (${spec.id})` : spec.id;
  }

  /**
   * The scene's languages: its default one first, then every language it declares or any of its texts is
   * written in (title, description, node names and descriptions, overlays, tours and stops), as the server counts them.
   * @returns {string[]}
   */
  languages() {
    const doc = this.document;
    const found = new Set([...Object.keys(doc.title), ...(doc.languages || [])]);
    /** @type {any[]} */
    const holders = [doc, ...doc.nodes, ...(doc.overlays || []), ...(doc.tours || [])];
    for (const tour of doc.tours || []) holders.push(...tour.stops);
    for (const holder of holders) {
      for (const key of ["name", "description", "title", "text", "narration"]) {
        for (const language of Object.keys(holder[key] || {})) found.add(language);
      }
    }
    found.delete(doc.default_language);
    return [doc.default_language, ...[...found].sort()];
  }

  /**
   * Declare a language: every text gets an empty field in it, marked missing.
   * @param {string} language
   */
  addLanguage(language) {
    const document = { ...this.document, languages: [...(this.document.languages || []), language] };
    const what = t("what_language", { language });
    return this.write("PUT", "", { document, message: what }, what);
  }

  /** @param {string} nodeId */
  node(nodeId) {
    return this.document.nodes.find((n) => n.id === nodeId);
  }

  /**
   * `base`, or `base-2`, `base-3`... : the first id no node has.
   * @param {string} base
   * @returns {string}
   */
  freeNodeId(base) {
    let id = base;
    for (let n = 2; this.document.nodes.some((node) => node.id === id); n++) id = `${base}-${n}`;
    return id;
  }
}
