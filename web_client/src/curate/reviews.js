// @ts-check
// The review queue: generated assets and machine-translated texts wait here until a curator approves or rejects
// them, with a note for the record.
import { el, find } from "../dom.js";
import { t } from "./words.js";

/**
 * @typedef {object} Review
 * @property {number} id
 * @property {"asset" | "text"} kind
 * @property {string} subject
 * @property {string} created_by
 * @property {string | null} scene_id
 * @property {{provenance?: {recipe?: string, prompt?: string}, path?: string, language?: string, text?: string, source_language?: string, source_text?: string}} detail
 */

export class Reviews {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api
   * @param {(message: string) => void} options.say
   * @param {() => Promise<unknown>} options.onDecided what a decision changes besides the queue (the library, the draft)
   */
  constructor({ api, say, onDecided }) {
    this.api = api;
    this.say = say;
    this.onDecided = onDecided;
  }

  async load() {
    /** @type {{reviews: Review[]}} */
    const { reviews } = (await this.api.call("GET", "/api/curate/reviews?status=pending")).body;
    find("#pending-count").textContent = reviews.length ? `(${reviews.length})` : "";
    // assets first, then the texts grouped by scene and language, each group under its heading
    const key = (/** @type {Review} */ r) => (r.kind === "asset" ? "" : `${r.scene_id} ${r.detail.language}`);
    const sorted = [...reviews].sort((a, b) => key(a).localeCompare(key(b)) || a.id - b.id);
    /** @type {HTMLLIElement[]} */
    const items = [];
    sorted.forEach((review, i) => {
      if (review.kind === "text" && (i === 0 || key(sorted[i - 1]) !== key(review))) {
        const count = sorted.filter((r) => key(r) === key(review)).length;
        items.push(el("li", { class: "group", "data-group": key(review) }, el("strong", {}, t("review_group", { scene: review.scene_id || "", language: review.detail.language || "", count }))));
      }
      items.push(this.item(review));
    });
    find("#reviews").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, t("nothing_waiting"))]));
  }

  /**
   * @param {Review} review
   * @returns {HTMLLIElement}
   */
  item(review) {
    const note = el("input", { type: "text", placeholder: t("review_note"), "aria-label": t("review_note_on", { id: review.id }) });
    /** @param {"approve" | "reject"} decision */
    const decide = (decision) => async () => {
      await this.api.call("POST", `/api/curate/reviews/${review.id}`, { body: { decision, note: note.value } });
      this.say(t(decision === "approve" ? "approved_subject" : "rejected_subject", { subject: review.subject }));
      await Promise.all([this.load(), this.onDecided()]);
    };
    const detail = review.detail;
    const what = review.kind === "asset"
      ? t("generated_by", { subject: review.subject, how: detail.provenance?.recipe || detail.provenance?.prompt || t("generated"), who: review.created_by })
      : detail.source_text === undefined
        ? `${detail.path} [${detail.language}]: “${detail.text}”`
        : detail.path || "";
    // a drafted translation: its source beside it
    const pair = detail.source_text === undefined
      ? null
      : el(
          "div",
          { class: "side-by-side" },
          el("blockquote", { lang: detail.source_language || "", dir: "auto" }, el("small", {}, detail.source_language || ""), " ", detail.source_text),
          el("blockquote", { lang: detail.language || "", dir: "auto" }, el("small", {}, detail.language || ""), " ", detail.text || ""),
        );
    return el(
      "li",
      { "data-review": review.id, "data-scene": review.scene_id || "" },
      el("div", { class: "row" }, el("span", { class: "badge pending" }, t(`kind_${review.kind}`)), el("span", {}, what)),
      pair,
      note,
      el("div", { class: "row" }, el("button", { type: "button", onclick: decide("approve") }, t("approve")), el("button", { type: "button", class: "quiet", onclick: decide("reject") }, t("reject"))),
    );
  }
}
