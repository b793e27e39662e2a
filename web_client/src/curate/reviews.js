// @ts-check
// The review queue: generated assets and machine-translated texts wait here until a curator approves or rejects
// them, with a note for the record.
import { el, find } from "../dom.js";

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
    find("#reviews").replaceChildren(...(reviews.length ? reviews.map((review) => this.item(review)) : [el("li", { class: "muted" }, "Nothing is waiting.")]));
  }

  /**
   * @param {Review} review
   * @returns {HTMLLIElement}
   */
  item(review) {
    const note = el("input", { type: "text", placeholder: "A note for the record", "aria-label": `Note on review ${review.id}` });
    /** @param {"approve" | "reject"} decision */
    const decide = (decision) => async () => {
      await this.api.call("POST", `/api/curate/reviews/${review.id}`, { body: { decision, note: note.value } });
      this.say(`${decision === "approve" ? "Approved" : "Rejected"} ${review.subject}.`);
      await Promise.all([this.load(), this.onDecided()]);
    };
    const what = review.kind === "asset"
      ? `${review.subject}: ${review.detail.provenance?.recipe || review.detail.provenance?.prompt || "generated"} by ${review.created_by}`
      : `${review.detail.path} [${review.detail.language}]: “${review.detail.text}”`;
    return el(
      "li",
      { "data-review": review.id },
      el("div", { class: "row" }, el("span", { class: "badge pending" }, review.kind), el("span", {}, what)),
      note,
      el("div", { class: "row" }, el("button", { type: "button", onclick: decide("approve") }, "Approve"), el("button", { type: "button", class: "quiet", onclick: decide("reject") }, "Reject")),
    );
  }
}
