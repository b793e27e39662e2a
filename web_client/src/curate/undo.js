// @ts-check
// Undo and redo for every edit of a draft. Each saved edit is kept as the parts of the document it changed
// (a node by id, or one of the scene's own fields) with their values before and after. Undoing writes the
// draft as it is now with those parts put back, so another curator's edits to other parts stay; a part that was
// changed again since is a conflict, and nothing is written. The steps are kept per scene in localStorage, so
// they survive a reload of the page.
import { t } from "./words.js";

/** @typedef {import("../types.js").SceneDocument} SceneDocument */
/** @typedef {import("../types.js").NodeSpec} NodeSpec */

/**
 * @typedef {object} Part one changed part of a document
 * @property {string} [node] a node's id
 * @property {string} [key] or a field of the scene itself
 * @property {unknown} before its value before the edit (undefined: it did not exist)
 * @property {unknown} after its value after the edit
 * @property {number} [index] a node's place in the list of nodes, to put a removed node back where it was
 * @property {number} [indexAfter]
 */
/** @typedef {{what: string, parts: Part[]}} Step */

const LIMIT = 100; // steps kept each way
const STORAGE_BYTES = 2_000_000; // the oldest steps go first past this

/**
 * A value's JSON with keys in order: two documents' parts compare equal whatever order the keys came in.
 * @param {unknown} value
 * @returns {string}
 */
export function canonical(value) {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const record = /** @type {Record<string, unknown>} */ (value);
    return `{${Object.keys(record)
      .sort()
      .filter((k) => record[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The parts an edit changed.
 * @param {SceneDocument} before
 * @param {SceneDocument} after
 * @returns {Part[]}
 */
export function partsChanged(before, after) {
  /** @type {Part[]} */
  const parts = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete("nodes");
  const b = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (before));
  const a = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (after));
  for (const key of [...keys].sort()) {
    if (canonical(b[key]) !== canonical(a[key])) parts.push({ key, before: b[key], after: a[key] });
  }
  const was = new Map(before.nodes.map((n, i) => [n.id, { spec: n, index: i }]));
  const now = new Map(after.nodes.map((n, i) => [n.id, { spec: n, index: i }]));
  for (const id of new Set([...was.keys(), ...now.keys()])) {
    const old = was.get(id);
    const next = now.get(id);
    if (canonical(old?.spec) !== canonical(next?.spec)) {
      parts.push({ node: id, before: old?.spec, after: next?.spec, index: old?.index, indexAfter: next?.index });
    }
  }
  return parts;
}

export class UndoConflict extends Error {}

/**
 * The document with a step's parts put back as they were (undo) or as the step left them (redo).
 * @param {SceneDocument} document the draft as it is now
 * @param {Part[]} parts
 * @param {"undo" | "redo"} direction
 * @returns {SceneDocument}
 * @throws {UndoConflict} a part is no longer as the step left it (someone changed it since)
 */
export function applyParts(document, parts, direction) {
  const out = /** @type {Record<string, any>} */ (structuredClone(document));
  /** @type {NodeSpec[]} */
  const nodes = out.nodes;
  const undoing = direction === "undo";
  for (const part of parts) {
    const expected = undoing ? part.after : part.before;
    const wanted = undoing ? part.before : part.after;
    const index = part.node === undefined ? -1 : nodes.findIndex((n) => n.id === part.node);
    const current = part.node === undefined ? out[part.key] : index >= 0 ? nodes[index] : undefined;
    if (canonical(current) !== canonical(expected)) {
      throw new UndoConflict(part.node === undefined ? t("scene_part_changed_since", { part: part.key }) : t("changed_since", { what: part.node }));
    }
    if (part.node === undefined) {
      if (wanted === undefined) delete out[part.key];
      else out[part.key] = structuredClone(wanted);
    } else if (wanted === undefined) {
      nodes.splice(index, 1);
    } else if (index >= 0) {
      nodes[index] = /** @type {NodeSpec} */ (structuredClone(wanted));
    } else {
      const at = undoing ? part.index : part.indexAfter;
      nodes.splice(Math.min(at ?? nodes.length, nodes.length), 0, /** @type {NodeSpec} */ (structuredClone(wanted)));
    }
  }
  return /** @type {SceneDocument} */ (/** @type {unknown} */ (out));
}

// The undo and redo steps of one scene's draft, kept in localStorage.
export class UndoStack {
  /** @param {Storage | null} storage */
  constructor(storage) {
    this.storage = storage;
    /** @type {string | null} */
    this.sceneId = null;
    /** @type {Step[]} */
    this.undo = [];
    /** @type {Step[]} */
    this.redo = [];
    /** @type {() => void} told when the steps change */
    this.onChange = () => {};
  }

  /** @param {string} sceneId */
  open(sceneId) {
    if (sceneId === this.sceneId) return;
    this.sceneId = sceneId;
    /** @type {{undo: Step[], redo: Step[]}} */
    let kept = { undo: [], redo: [] };
    try {
      kept = JSON.parse(this.storage?.getItem(this.storageKey()) || "") || kept;
    } catch {
      // nothing kept, or not readable: start empty
    }
    this.undo = Array.isArray(kept.undo) ? kept.undo : [];
    this.redo = Array.isArray(kept.redo) ? kept.redo : [];
  }

  storageKey() {
    return `thirdspace.curate.undo.${this.sceneId}`;
  }

  save() {
    this.onChange();
    if (!this.storage) return;
    for (;;) {
      const text = JSON.stringify({ undo: this.undo, redo: this.redo });
      if (text.length <= STORAGE_BYTES || !(this.undo.length + this.redo.length)) {
        try {
          this.storage.setItem(this.storageKey(), text);
          return;
        } catch {
          if (!(this.undo.length + this.redo.length)) return;
        }
      }
      if (this.undo.length) this.undo.shift();
      else this.redo.shift();
    }
  }

  /**
   * A new edit: it can be undone, and what was undone before can no longer be redone.
   * @param {string} what
   * @param {SceneDocument} before
   * @param {SceneDocument} after
   */
  record(what, before, after) {
    const parts = partsChanged(before, after);
    if (!parts.length) return;
    this.undo.push({ what, parts });
    if (this.undo.length > LIMIT) this.undo.shift();
    this.redo = [];
    this.save();
  }

  /**
   * Move the newest step from one list to the other (after it was written).
   * @param {"undo" | "redo"} direction
   */
  moved(direction) {
    const [from, to] = direction === "undo" ? [this.undo, this.redo] : [this.redo, this.undo];
    const step = from.pop();
    if (step) to.push(step);
    if (to.length > LIMIT) to.shift();
    this.save();
  }

  /**
   * @param {"undo" | "redo"} direction
   * @returns {Step | undefined} the step that would be undone or redone next
   */
  next(direction) {
    const list = direction === "undo" ? this.undo : this.redo;
    return list[list.length - 1];
  }
}
