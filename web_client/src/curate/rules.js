// @ts-check
// The scene's own chat rules, shown when no node is selected: the blocklist and the glossary, saved as a new draft
// revision of the whole document. (Overlays, anchors and tours have their own tab: layer.js.)
import { find, messageOf } from "../dom.js";
import { t } from "./words.js";

/** @typedef {import("../types.js").SceneDocument} SceneDocument */

export class SceneRules {
  /**
   * @param {object} options
   * @param {import("./draft.js").Draft} options.draft
   * @param {(message: string) => void} options.say
   * @param {() => void} options.onSaved show the panel again
   */
  constructor({ draft, say, onSaved }) {
    this.draft = draft;
    this.panel = find("#chat-rules");
    this.blocklist = find("#blocklist", HTMLTextAreaElement);
    this.glossary = find("#glossary", HTMLTextAreaElement);
    find("#save-chat-rules", HTMLButtonElement).addEventListener("click", async () => {
      let glossary;
      try {
        glossary = JSON.parse(this.glossary.value || "[]");
      } catch (error) {
        return say(t("glossary_invalid", { error: messageOf(error) }));
      }
      const blocklist = this.blocklist.value.split("\n").map((line) => line.trim()).filter(Boolean);
      const chat = { ...(draft.document.chat || {}), blocklist, glossary };
      if (await draft.write("PUT", "", { document: { ...draft.document, chat }, message: t("what_chat_rules") }, t("what_chat_rules"))) {
        onSaved();
      }
    });
  }

  /** @param {import("../types.js").NodeSpec | undefined} spec the node selected: the scene's rules hide */
  render(spec) {
    this.panel.hidden = Boolean(spec);
    if (spec) return;
    const document = this.draft.document;
    this.blocklist.value = (document.chat?.blocklist || []).join("\n");
    this.glossary.value = JSON.stringify(document.chat?.glossary || [], null, 1);
  }
}
