// @ts-check
// The scene as published now: a curator's publish arrives as a `scene` message and is applied in place (moved,
// added and removed nodes, new assets streamed in), without a reload.
import { fetchManifest } from "./api.js";
import { messageOf } from "./dom.js";
import { isMachineTranslated, pickedLanguage, pickText } from "./i18n.js";

/** @typedef {import("./types.js").SceneDocument} SceneDocument */

export class LiveScene {
  /**
   * @param {object} options
   * @param {SceneDocument} options.document as the page loaded it
   * @param {string} options.language the reader's
   * @param {HTMLElement} options.title the HUD's scene title
   * @param {import("./i18n.js").Words} options.words
   */
  constructor({ document, language, title, words }) {
    this.document = document;
    this.language = language;
    this.title = title;
    this.words = words;
    this.showTitle();
  }

  showTitle() {
    this.title.textContent = pickText(this.document.title, this.language);
    if (this.isMachine("title", this.document.title)) this.title.dataset.machine = this.words.t("machine");
    else delete this.title.dataset.machine;
  }

  /**
   * Whether the text at `path` is shown to this reader in a machine translation.
   * @param {string} path
   * @param {import("./types.js").LocalText | undefined} text
   * @returns {boolean}
   */
  isMachine(path, text) {
    return isMachineTranslated(this.document, path, pickedLanguage(text, this.language));
  }

  /**
   * A node's name in the reader's language, or its id.
   * @param {string} id
   * @returns {string}
   */
  nodeName(id) {
    const spec = this.document.nodes.find((n) => n.id === id);
    return (spec && pickText(spec.name, this.language)) || id;
  }

  /**
   * Apply each publish as it comes.
   * @param {object} options
   * @param {import("./net.js").Connection} options.connection
   * @param {import("./world.js").SceneStreamer} options.streamer
   * @param {import("./tours.js").TourGuide} options.guide
   * @param {import("./provenance.js").ProvenanceLabels} options.labels
   * @param {(revision: number) => void} options.onApplied
   * @param {(message: string) => void} options.onFailed the error's message
   */
  follow({ connection, streamer, guide, labels, onApplied, onFailed }) {
    connection.addEventListener("scene", async (e) => {
      const live = /** @type {CustomEvent<import("./types.js").SceneUpdate>} */ (e).detail;
      try {
        const fresh = await fetchManifest(live.scene);
        await streamer.update(live.document, fresh);
        this.document = live.document;
        guide.setDocument(live.document);
        labels.refresh();
        onApplied(live.revision);
        this.showTitle();
      } catch (error) {
        onFailed(messageOf(error));
      }
    });
  }
}
