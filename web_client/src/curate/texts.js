// @ts-check
// The texts of the selected node (name, description) or of the scene (title, description), one field per
// language of the scene (declared or used by any text), each saved on change, a missing one marked; a machine
// translation is marked so that it waits for review. The scene's texts end with a field that declares a language.
import { el } from "../dom.js";
import { t } from "./words.js";

export const RTL = ["ar", "he", "fa", "ur"];
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/; // as scene.schema.json's "language"

export class TextsPanel {
  /**
   * @param {object} options
   * @param {HTMLElement} options.container (#texts)
   * @param {import("./draft.js").Draft} options.draft
   * @param {() => void} options.onSaved after each saved text: show the names again
   * @param {(message: string) => void} options.onDrafted after a drafted translation: what it did
   */
  constructor({ container, draft, onSaved, onDrafted }) {
    this.container = container;
    this.draft = draft;
    this.onSaved = onSaved;
    this.onDrafted = onDrafted;
  }

  /** @param {import("../types.js").NodeSpec | undefined} spec the node, or undefined for the scene */
  render(spec) {
    const draft = this.draft;
    const fields = spec ? ["name", "description"] : ["title", "description"];
    /** @type {Record<string, Record<string, string> | undefined>} */
    const holder = /** @type {any} */ (spec || draft.document);
    const rows = [];
    for (const field of fields) {
      for (const language of draft.languages()) {
        const value = holder[field]?.[language];
        const path = spec ? `nodes.${spec.id}.${field}` : field;
        const input = el(field === "description" ? "textarea" : "input", {
          type: "text",
          rows: 2,
          "data-path": path,
          "data-language": language,
          "aria-label": `${t(`field_${field}`)} (${language})`,
          dir: RTL.includes(language.split("-")[0]) ? "rtl" : "auto",
        });
        input.value = value || "";
        const machine = el("input", { type: "checkbox", "aria-label": t("is_machine_translated", { field: t(`field_${field}`), language }) });
        input.addEventListener("change", () =>
          draft
            .write("PUT", "/texts", { path, language, text: input.value.trim() || null, machine_translated: machine.checked }, t("what_text", { field: t(`field_${field}`), language }))
            .then((reply) => reply && this.onSaved()),
        );
        rows.push(
          el(
            "div",
            { class: "text-row" },
            el("label", {}, `${t(`field_${field}`)} · ${language}`, input),
            value ? null : el("span", { class: "missing" }, t("missing_text", { field: t(`field_${field}`), language })),
            el("label", { class: "mt" }, machine, t("machine_translated")),
          ),
        );
      }
    }
    rows.push(this.drafter(spec ? `nodes.${spec.id}` : ""));
    if (!spec) rows.push(this.languageAdder());
    this.container.replaceChildren(...rows);
  }

  /**
   * Machine-translate every text under `scope` (the whole scene when empty) that a language lacks: the drafts
   * land in one revision, each waiting in the review queue (docs/assistance.md).
   * @param {string} scope
   */
  drafter(scope) {
    const input = el("input", {
      type: "text",
      class: "draft-language",
      placeholder: "sw, pt-BR…",
      autocomplete: "off",
      list: "scene-languages",
      "aria-label": t("draft_translation_aria"),
    });
    const known = el("datalist", { id: "scene-languages" }, ...this.draft.languages().slice(1).map((language) => el("option", { value: language })));
    const note = el("span", { class: "missing", role: "status" });
    const button = el("button", { type: "button", class: "draft-translation" }, t("draft_translation"));
    const run = async () => {
      const language = input.value.trim();
      if (!LANGUAGE_TAG.test(language)) {
        note.textContent = t("language_tag_rule");
        return;
      }
      const count = missingTexts(this.draft.document, this.draft.document.default_language, language, scope);
      if (!count) {
        note.textContent = t("nothing_to_draft", { language });
        return;
      }
      button.disabled = true;
      const progress = el("progress", { "aria-label": t("drafting", { count, language }) });
      note.replaceChildren(progress, " ", t("drafting", { count, language }));
      const reply = await this.draft.write("POST", "/translations", { language, scope }, t("what_drafted", { language }));
      button.disabled = false;
      if (!reply) {
        note.textContent = t("not_drafted");
        return;
      }
      const { drafted, skipped } = reply.body.translation;
      const parts = [t("drafted", { count: drafted.length, language })];
      if (skipped.length) parts.push(t("drafted_skipped", { count: skipped.length, paths: skipped.map((/** @type {{path: string}} */ s) => s.path).join(", ") }));
      this.onSaved();
      this.onDrafted(parts.join(" "));
    };
    input.addEventListener("keydown", (event) => event.key === "Enter" && run());
    button.addEventListener("click", run);
    return el("div", { class: "text-row drafter" }, el("label", {}, t("draft_translation_label"), input), known, button, note);
  }

  /** The scene's texts end with a field to declare one more language. */
  languageAdder() {
    const input = el("input", {
      type: "text",
      id: "add-language",
      placeholder: "ja, pt-BR…",
      autocomplete: "off",
      "aria-label": t("add_language_aria"),
    });
    const note = el("span", { class: "missing", role: "status" });
    const add = () => {
      const language = input.value.trim();
      if (!LANGUAGE_TAG.test(language)) {
        note.textContent = t("language_tag_rule");
        return;
      }
      if (this.draft.languages().some((known) => known.toLowerCase() === language.toLowerCase())) {
        note.textContent = t("language_known", { language });
        return;
      }
      this.draft.addLanguage(language).then((reply) => reply && this.onSaved());
    };
    input.addEventListener("keydown", (event) => event.key === "Enter" && add());
    const button = el("button", { type: "button", id: "add-language-button" }, t("add_language"));
    button.addEventListener("click", add);
    return el("div", { class: "text-row add-language" }, el("label", {}, t("add_language_label"), input), button, note);
  }
}


/**
 * How many texts under `scope` are written in `source` and not in `target` (as the server's editing.missing_texts).
 * @param {any} doc
 * @param {string} source
 * @param {string} target
 * @param {string} scope
 */
export function missingTexts(doc, source, target, scope) {
  /** @type {[string, Record<string, string> | undefined][]} */
  const texts = [["title", doc.title], ["description", doc.description]];
  for (const node of doc.nodes) for (const key of ["name", "description"]) texts.push([`nodes.${node.id}.${key}`, node[key]]);
  for (const overlay of doc.overlays || []) for (const key of ["title", "text"]) texts.push([`overlays.${overlay.id}.${key}`, overlay[key]]);
  for (const tour of doc.tours || []) {
    texts.push([`tours.${tour.id}.title`, tour.title]);
    for (const stop of tour.stops) for (const key of ["title", "narration"]) texts.push([`tours.${tour.id}.stops.${stop.id}.${key}`, stop[key]]);
  }
  return texts.filter(([path, text]) => (!scope || path === scope || path.startsWith(`${scope}.`)) && text?.[source] && !(target in text)).length;
}
