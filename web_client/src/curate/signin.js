// @ts-check
// Signing in with a token, and out. Only curators and admins edit here; a guide is told where guides work.
import { find, messageOf } from "../dom.js";
import { t } from "./words.js";

const EDITORS = ["curator", "admin"];

export class SignIn {
  /**
   * @param {object} options
   * @param {import("./api.js").Api} options.api keeps the session
   * @param {{status: string}} options.state
   * @param {() => Promise<void>} options.onSignedIn
   */
  constructor({ api, state, onSignedIn }) {
    this.api = api;
    this.state = state;
    this.onSignedIn = onSignedIn;
    this.form = find("#signin", HTMLFormElement);
    const token = find("#token", HTMLInputElement);
    this.form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const session = (await api.call("POST", "/api/session", { body: { token: token.value.trim() } })).body;
        api.session = session;
        token.value = "";
        if (session.user.role === "guide") return this.show(t("guide_note"));
        if (!EDITORS.includes(session.user.role)) return this.show(t("not_curator"));
        await onSignedIn();
      } catch (error) {
        this.show(messageOf(error));
      }
    });
    find("#signout", HTMLButtonElement).addEventListener("click", async () => {
      await api.call("DELETE", "/api/session").catch(() => {});
      location.reload();
    });
  }

  // The session this browser has, if any: straight to the editor for a curator, the form for anyone else.
  async start() {
    try {
      this.api.session = (await this.api.call("GET", "/api/session")).body;
    } catch {
      this.api.session = null;
    }
    const user = this.api.session?.user;
    if (user?.role === "guide") return this.show(t("guide_note"));
    if (!user || !EDITORS.includes(user.role)) return this.show();
    await this.onSignedIn();
  }

  /** @param {string} [message] */
  show(message = "") {
    this.state.status = "signed-out";
    find("#editor").hidden = true;
    this.form.hidden = false;
    find("#signin-error").textContent = message;
  }

  hide() {
    this.form.hidden = true;
    find("#editor").hidden = false;
  }
}
