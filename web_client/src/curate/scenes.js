// @ts-check
// A new scene from the page: an empty one (bounds, one spawn point, no nodes) in a language of its own, or a copy of
// a scene's draft under a new id and title. It is a draft until it is published; the server's refusal (the id
// taken, a bad title) is shown at the field it names.
import { el, find, messageOf } from "../dom.js";
import { ApiError } from "./api.js";
import { LANGUAGE_TAG } from "./texts.js";
import { t } from "./words.js";

const SCENE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/; // as scene.schema.json's "id"

/**
 * An empty scene: a 20 m square, 6 m high, with one spawn point looking into it, and nothing in it yet.
 * @param {string} id
 * @param {string} title
 * @param {string} language
 * @returns {import("../types.js").SceneDocument}
 */
export function emptyScene(id, title, language) {
  return /** @type {any} */ ({
    format: 1,
    id,
    default_language: language,
    title: { [language]: title },
    bounds: { min: [-10, -1, -10], max: [10, 6, 10] },
    spawn_points: [{ position: [0, 0, 6], yaw_deg: 0 }],
    nodes: [],
  });
}

export class NewScene {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {() => {id: string, title: string}[]} options.scenes the scenes there are, to copy
   * @param {string} options.language the page's: the new empty scene's language unless told
   * @param {(sceneId: string) => Promise<void>} options.onCreated open it
   */
  constructor({ api, scenes, language, onCreated }) {
    this.api = api;
    this.scenes = scenes;
    this.onCreated = onCreated;
    this.dialog = find("#new-scene-dialog", HTMLDialogElement);
    this.form = find("#new-scene-form", HTMLFormElement);
    this.id = find("#new-scene-id", HTMLInputElement);
    this.title = find("#new-scene-name", HTMLInputElement);
    this.language = find("#new-scene-language", HTMLInputElement);
    this.start = find("#new-scene-start", HTMLSelectElement);
    this.defaultLanguage = language;
    this.language.value = language;
    find("#new-scene", HTMLButtonElement).addEventListener("click", () => this.open());
    find("#new-scene-cancel", HTMLButtonElement).addEventListener("click", () => this.dialog.close());
    this.start.addEventListener("change", () => (this.language.disabled = this.start.value !== ""));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.create();
    });
  }

  open() {
    this.start.replaceChildren(
      el("option", { value: "" }, t("start_empty")),
      ...this.scenes().map((s) => el("option", { value: s.id }, t("start_copy", { scene: s.title }))),
    );
    this.language.disabled = false;
    for (const note of this.form.querySelectorAll(".field-error")) note.remove();
    this.dialog.showModal();
    this.id.focus();
  }

  /**
   * @param {HTMLElement} input
   * @param {string} message
   */
  refuse(input, message) {
    const label = input.closest("label");
    label.querySelector(".field-error")?.remove();
    label.append(el("span", { class: "field-error", role: "alert" }, message));
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  async create() {
    for (const note of this.form.querySelectorAll(".field-error")) note.remove();
    const id = this.id.value.trim();
    const title = this.title.value.trim();
    const language = this.language.value.trim();
    const source = this.start.value;
    if (!SCENE_ID.test(id)) return this.refuse(this.id, t("scene_id_rule"));
    if (!title) return this.refuse(this.title, t("scene_title_needed"));
    if (!source && !LANGUAGE_TAG.test(language)) return this.refuse(this.language, t("language_tag_rule"));
    try {
      let document;
      if (source) {
        const copied = (await this.api.call("GET", `/api/curate/scenes/${encodeURIComponent(source)}`)).body.document;
        document = { ...copied, id, title: { ...copied.title, [copied.default_language]: title } };
      } else {
        document = emptyScene(id, title, language);
      }
      const message = source ? t("what_copied", { scene: source }) : t("what_created");
      await this.api.call("POST", "/api/curate/scenes", { body: { document, message } });
    } catch (error) {
      const field = error instanceof ApiError ? String(error.body?.field || "") : "";
      const input = field === "$.id" ? this.id : field.startsWith("$.title") ? this.title : field === "$.default_language" ? this.language : this.id;
      return this.refuse(input, messageOf(error));
    }
    this.dialog.close();
    this.form.reset();
    this.language.value = this.defaultLanguage;
    await this.onCreated(id);
  }
}
