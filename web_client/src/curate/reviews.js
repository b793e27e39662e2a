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
 * @property {{provenance?: {recipe?: string, prompt?: string}, path?: string, language?: string, text?: string}} detail
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
    find("#reviews").replaceChildren(...(reviews.length ? reviews.map((review) => this.item(review)) : [el("li", { class: "muted" }, t("nothing_waiting"))]));
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
    const what = review.kind === "asset"
      ? t("generated_by", { subject: review.subject, how: review.detail.provenance?.recipe || review.detail.provenance?.prompt || t("generated"), who: review.created_by })
      : `${review.detail.path} [${review.detail.language}]: “${review.detail.text}”`;
    return el(
      "li",
      { "data-review": review.id },
      el("div", { class: "row" }, el("span", { class: "badge pending" }, t(`kind_${review.kind}`)), el("span", {}, what)),
      note,
      el("div", { class: "row" }, el("button", { type: "button", onclick: decide("approve") }, t("approve")), el("button", { type: "button", class: "quiet", onclick: decide("reject") }, t("reject"))),
    );
  }
}
