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
   */
  constructor({ container, draft, onSaved }) {
    this.container = container;
    this.draft = draft;
    this.onSaved = onSaved;
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
    if (!spec) rows.push(this.languageAdder());
    this.container.replaceChildren(...rows);
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

