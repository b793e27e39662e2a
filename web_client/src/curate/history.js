// @ts-check
// The history tab: the draft's revisions (roll back to any), and what each of the scene's languages still lacks
// (overlay texts, narration audio and captions, tour stops).
import { el, find } from "../dom.js";
import { t } from "./words.js";

/** @typedef {{revision: number, author: string, created_at: string, message: string}} Revision */
/**
 * @typedef {object} LanguageGaps
 * @property {boolean} complete
 * @property {string[]} overlays_without_text
 * @property {string[]} narration_without_audio
 * @property {string[]} narration_without_captions
 * @property {{tour: string, stop: string, missing: string[]}[]} stops_missing
 * @property {Record<string, number>} [texts] how its texts were made: human, machine_approved, machine_pending, machine_rejected, missing
 */

export class History {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {import("./draft.js").Draft} options.draft
   * @param {(message: string) => Promise<void>} options.reload take the draft again, then say `message`
   */
  constructor({ api, draft, reload }) {
    this.api = api;
    this.draft = draft;
    this.reload = reload;
  }

  // The revisions, and (without waiting for it) the language report.
  async load() {
    this.loadLanguages().catch(() => {});
    const draft = this.draft;
    /** @type {{revisions: Revision[]}} */
    const { revisions } = (await this.api.call("GET", draft.path("/revisions"))).body;
    find("#revisions").replaceChildren(
      ...revisions.map((revision) =>
        el(
          "li",
          { "data-revision": revision.revision },
          el(
            "div",
            { class: "row" },
            el("strong", {}, `r${revision.revision}`),
            revision.revision === draft.published ? el("span", { class: "badge published" }, t("published")) : null,
            el("span", { class: "muted" }, `${revision.author} · ${new Date(revision.created_at).toLocaleString()}`),
          ),
          el("span", {}, revision.message),
          revision.revision === draft.revision
            ? null
            : el(
                "div",
                { class: "row" },
                el("button", { type: "button", class: "quiet", onclick: () => this.rollBack(revision.revision) }, t("roll_back_to", { revision: revision.revision })),
              ),
        ),
      ),
    );
  }

  async loadLanguages() {
    /** @type {{languages: Record<string, LanguageGaps>}} */
    const report = (await this.api.call("GET", this.draft.path("/languages"))).body;
    find("#languages").replaceChildren(
      ...Object.entries(report.languages).map(([language, gaps]) => {
        const lines = [];
        if (gaps.overlays_without_text.length) lines.push(t("overlays_without_text", { list: gaps.overlays_without_text.join(", ") }));
        if (gaps.narration_without_audio.length) lines.push(t("narration_without_audio", { list: gaps.narration_without_audio.join(", ") }));
        if (gaps.narration_without_captions.length) lines.push(t("narration_without_captions", { list: gaps.narration_without_captions.join(", ") }));
        for (const stop of gaps.stops_missing) lines.push(t("stop_lacks", { stop: `${stop.tour}/${stop.stop}`, missing: stop.missing.map((m) => t(`field_${m}`)).join(t("and")) }));
        return el(
          "li",
          { "data-language": language },
          el("div", { class: "row" }, el("strong", {}, language), el("span", { class: `badge ${gaps.complete ? "published" : "pending"}` }, t(gaps.complete ? "complete" : "gaps"))),
          gaps.texts ? el("span", { class: "text-counts", "data-counts": Object.entries(gaps.texts).map(([k, v]) => `${k}:${v}`).join(" ") }, t("text_counts", gaps.texts)) : null,
          ...lines.map((line) => el("span", { class: "muted" }, line)),
        );
      }),
    );
  }

  /** @param {number} number */
  async rollBack(number) {
    const draft = this.draft;
    if (await draft.write("POST", "/rollback", { revision: number }, t("what_roll_back", { revision: number }))) {
      await this.reload(t("rolled_back", { revision: number, now: draft.revision }));
    }
  }
}
