// @ts-check
// The scene's own settings, shown when no node is selected: its chat rules (blocklist, glossary) and its AR and
// tour layer (anchors, overlays, tours) as JSON, each saved as a new draft revision of the whole document.
import { find, messageOf } from "../dom.js";

/** @typedef {import("../types.js").SceneDocument} SceneDocument */

export class SceneRules {
  /**
   * @param {object} options
   * @param {import("./draft.js").Draft} options.draft
   * @param {(message: string) => void} options.say
   * @param {() => void} options.onSaved show the panel again
   * @param {() => void} options.onLayerSaved the tour layer changed: its language report too
   */
  constructor({ draft, say, onSaved, onLayerSaved }) {
    this.draft = draft;
    this.panel = find("#chat-rules");
    this.blocklist = find("#blocklist", HTMLTextAreaElement);
    this.glossary = find("#glossary", HTMLTextAreaElement);
    this.layer = find("#tour-layer", HTMLTextAreaElement);
    find("#save-tour-layer", HTMLButtonElement).addEventListener("click", async () => {
      let layer;
      try {
        layer = JSON.parse(this.layer.value);
      } catch (error) {
        return say(`Not saved: not valid JSON (${messageOf(error)})`);
      }
      const document = /** @type {SceneDocument & Record<string, unknown>} */ ({ ...draft.document });
      for (const key of ["anchors", "overlays", "tours"]) {
        if (Array.isArray(layer[key]) && layer[key].length) document[key] = layer[key];
        else delete document[key];
      }
      if (await draft.write("PUT", "", { document, message: "overlays and tours" }, "the overlays and tours")) {
        onSaved();
        onLayerSaved();
      }
    });
    find("#save-chat-rules", HTMLButtonElement).addEventListener("click", async () => {
      let glossary;
      try {
        glossary = JSON.parse(this.glossary.value || "[]");
      } catch (error) {
        return say(`Not saved: the glossary is not valid JSON (${messageOf(error)})`);
      }
      const blocklist = this.blocklist.value.split("\n").map((line) => line.trim()).filter(Boolean);
      const chat = { ...(draft.document.chat || {}), blocklist, glossary };
      if (await draft.write("PUT", "", { document: { ...draft.document, chat }, message: "chat rules" }, "the chat rules")) {
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
    const layer = { anchors: document.anchors || [], overlays: document.overlays || [], tours: document.tours || [] };
    this.layer.value = JSON.stringify(layer, null, 1);
  }
}
