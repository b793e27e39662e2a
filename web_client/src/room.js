// @ts-check
// This page's place in a room: who else is there, the count, and what coming back after a drop changes
// (the same place again, or a new one after the resume window or a change of rooms).

/** @typedef {import("./types.js").Welcome} Welcome */

export class RoomPresence {
  /**
   * @param {object} options
   * @param {import("./page-state.js").PageState} options.state
   * @param {import("./avatars.js").Avatars} options.avatars
   * @param {import("./chat.js").ChatPanel} options.chat
   * @param {import("./tours.js").TourGuide} options.guide
   * @param {import("./i18n.js").Words} options.words
   * @param {HTMLElement} options.roomLabel
   * @param {HTMLElement} options.count
   * @param {(status: string, message?: string) => void} options.setStatus
   */
  constructor({ state, avatars, chat, guide, words, roomLabel, count, setStatus }) {
    this.state = state;
    this.avatars = avatars;
    this.chat = chat;
    this.guide = guide;
    this.words = words;
    this.roomLabel = roomLabel;
    this.count = count;
    this.setStatus = setStatus;
  }

  /**
   * The first welcome's room as it was: its chat so far, its label and its count.
   * @param {Welcome} welcome
   */
  show(welcome) {
    for (const message of welcome.chat) this.chat.add(message, welcome.id);
    this.roomLabel.textContent = welcome.room;
    this.updateCount();
  }

  updateCount() {
    this.count.textContent = String(this.avatars.byId.size + 1);
  }

  /**
   * Follow the connection's room events.
   * @param {import("./net.js").Connection} connection
   */
  listen(connection) {
    const { avatars, chat, words, state } = this;
    connection.addEventListener("join", (e) => {
      const { visitor } = /** @type {CustomEvent<{visitor: import("./types.js").Visitor}>} */ (e).detail;
      avatars.add(visitor);
      chat.system(words.t("joined", { name: visitor.name }));
      this.updateCount();
    });
    connection.addEventListener("leave", (e) => {
      const { id } = /** @type {CustomEvent<{id: number}>} */ (e).detail;
      const name = avatars.byId.get(id)?.visitor.name;
      avatars.remove(id);
      if (name) chat.system(words.t("left", { name }));
      this.updateCount();
    });
    connection.addEventListener("resumed", (e) => {
      // The same place: only what we missed. A tour_state follows if we are in a guided tour.
      const again = /** @type {CustomEvent<Welcome>} */ (e).detail;
      state.resumes++;
      state.reconnects++;
      this.place(again);
      for (const message of again.chat) if (!chat.lines.has(message.id)) chat.add(message, again.id);
    });
    connection.addEventListener("rejoined", (e) => {
      // The resume window had passed: a new visitor, perhaps in another room, as if just arrived.
      state.reconnects++;
      this.arrive(/** @type {CustomEvent<Welcome>} */ (e).detail);
      chat.system(words.t("rejoined"));
    });
  }

  /**
   * Back in a room: whoever is there now, and ready again.
   * @param {Welcome} again
   */
  place(again) {
    const { avatars, state } = this;
    state.visitorId = again.id;
    state.room = again.room;
    this.roomLabel.textContent = again.room;
    const present = new Set(again.visitors.map((v) => v.id));
    for (const id of [...avatars.byId.keys()]) if (!present.has(id)) avatars.remove(id);
    for (const visitor of again.visitors) avatars.add(visitor); // not ourselves, not twice
    this.updateCount();
    this.setStatus("ready", "");
  }

  /**
   * A new visitor in a room (after the resume window, or after changing rooms): start the room's view afresh.
   * @param {Welcome} welcome
   */
  arrive(welcome) {
    const { avatars, chat } = this;
    for (const id of [...avatars.byId.keys()]) avatars.remove(id);
    avatars.selfId = welcome.id;
    this.place(welcome);
    chat.clear();
    for (const message of welcome.chat) chat.add(message, welcome.id);
    this.guide.arrived(); // that tour's group was left with the old place
  }
}
