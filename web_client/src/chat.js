// @ts-check
// The chat panel. Visitor text is always inserted with textContent, never as HTML.
// Each line shows in the reader's language where it can: quick-chat phrases from the curated tables,
// free text as the original at once and the machine translation when it arrives, the original a tap away.
import { find, findAll } from "./dom.js";
import { primary } from "./i18n.js";
import { MAX_CHAT_CHARS } from "./protocol.js";

/** @typedef {import("./types.js").ChatMessage} ChatMessage */
/** @typedef {import("./i18n.js").Words} Words */
/** @typedef {Record<string, Record<string, string>>} PhraseTables phrase id -> {language: template} */
/** @typedef {{message: ChatMessage, text: HTMLElement, meta: HTMLElement, line: HTMLLIElement}} ChatLine */

export class ChatPanel {
  /**
   * @param {object} options
   * @param {HTMLUListElement} options.log
   * @param {HTMLFormElement} options.form
   * @param {HTMLInputElement} options.input
   * @param {(text: string) => void} options.onSend
   * @param {string} options.reader the reader's language tag
   * @param {Words} options.words
   * @param {PhraseTables} [options.phrases]
   * @param {(nodeId: string) => string} [options.nameOf] node id -> its name in the reader's language
   * @param {(chatId: number) => void} [options.onReport]
   */
  constructor({ log, form, input, onSend, reader, words, phrases = {}, nameOf = (id) => id, onReport = () => {} }) {
    this.log = log;
    this.input = input;
    this.reader = reader;
    this.words = words;
    this.phrases = phrases;
    this.nameOf = nameOf;
    this.onReport = onReport;
    /** @type {Map<number, ChatLine>} chat id -> its line */
    this.lines = new Map();
    /** @type {Set<number>} visitor ids this reader has muted (on this page only) */
    this.muted = new Set();
    /** @type {Set<() => void>} told when the lines change (the headset menu shows them too) */
    this.listeners = new Set();
    input.maxLength = MAX_CHAT_CHARS;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      onSend(text);
      input.value = "";
    });
  }

  /**
   * A quick-chat phrase in the reader's language, naming `thing`; null for an unknown phrase.
   * @param {string} phrase
   * @param {string} [thing]
   * @returns {string | null}
   */
  render(phrase, thing) {
    const table = this.phrases[phrase];
    if (!table) return null;
    const template = table[this.reader] || table[primary(this.reader)] || table.en;
    return template.replace("{thing}", thing ? this.nameOf(thing) : "");
  }

  /**
   * @param {ChatMessage} message
   * @param {number} selfId
   */
  add(message, selfId) {
    const words = this.words;
    const line = document.createElement("li");
    line.dataset.chat = String(message.id);
    line.dataset.from = String(message.from);
    if (message.from === selfId) line.classList.add("self");
    if (this.muted.has(message.from)) line.hidden = true;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = message.name;
    const text = document.createElement("span");
    text.className = "text";
    text.dir = "auto";
    const quick = message.quick && this.render(message.quick.phrase, message.quick.thing);
    if (quick) {
      text.textContent = quick;
      text.lang = this.reader;
      line.classList.add("quick");
    } else {
      text.textContent = message.text;
      text.lang = message.language;
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    if (!quick && primary(message.language) !== primary(this.reader)) meta.textContent = words.languageName(message.language);
    if (message.detected) meta.textContent = `${meta.textContent} · ${words.t("looks_like", { language: words.languageName(message.detected) })}`.replace(/^ · /, "");
    line.append(name, text, meta);
    if (message.from !== selfId) line.append(this.actions(message));
    this.lines.set(message.id, { message, text, meta, line });
    this.append(line);
  }

  /**
   * Mute and report, on someone else's line.
   * @param {ChatMessage} message
   * @returns {HTMLElement}
   */
  actions(message) {
    const words = this.words;
    const box = document.createElement("span");
    box.className = "actions";
    const mute = document.createElement("button");
    mute.type = "button";
    mute.className = "link";
    mute.textContent = words.t("mute");
    mute.addEventListener("click", () => this.mute(message.from, message.name));
    const report = document.createElement("button");
    report.type = "button";
    report.className = "link";
    report.textContent = words.t("report");
    report.addEventListener("click", () => {
      this.onReport(message.id);
      report.disabled = true;
      report.textContent = words.t("reported");
    });
    box.append(mute, report);
    return box;
  }

  /**
   * Hide a visitor's lines, on this page only.
   * @param {number} from
   * @param {string} name
   */
  mute(from, name) {
    this.muted.add(from);
    for (const other of this.log.querySelectorAll(`li[data-from="${from}"]`)) if (other instanceof HTMLElement) other.hidden = true;
    this.system(this.words.t("muted", { name }));
  }

  /**
   * Show the original of a machine-translated line, or the translation again (its "show original" link).
   * @param {number} id
   */
  toggleOriginal(id) {
    this.lines.get(id)?.line.querySelector("button.original")?.dispatchEvent(new MouseEvent("click"));
  }

  /**
   * The last `count` lines shown (muted ones left out), as the reader sees them, for the headset menu.
   * @param {number} count
   * @param {number} selfId
   * @returns {{id: number | null, from: number | null, name: string, text: string, lang: string, translated: boolean, original: boolean, self: boolean}[]}
   */
  recent(count, selfId) {
    const shown = [...this.log.children].filter((li) => li instanceof HTMLLIElement && !li.hidden).slice(-count);
    return shown.map((li) => {
      const entry = this.lines.get(Number(/** @type {HTMLElement} */ (li).dataset.chat));
      if (!entry) return { id: null, from: null, name: "", text: li.textContent, lang: "", translated: false, original: false, self: false };
      const { message, text, line } = entry;
      const translated = line.classList.contains("translated");
      return {
        id: message.id,
        from: message.from,
        name: message.name,
        text: text.textContent,
        lang: text.lang,
        translated,
        original: translated && text.textContent === message.text,
        self: message.from === selfId,
      };
    });
  }

  /** @param {() => void} listener told when lines are added or change */
  onChange(listener) {
    this.listeners.add(listener);
  }

  /**
   * A machine translation of a line already shown: show it, marked, with the original one tap away.
   * @param {import("./types.js").ChatTranslation} update
   */
  translation(update) {
    const words = this.words;
    const entry = this.lines.get(update.id);
    if (!entry) return;
    const { message, text, meta } = entry;
    if (update.text === undefined) {
      meta.textContent = `${words.languageName(message.language)} · ${words.t("unavailable")}`;
      return;
    }
    text.textContent = update.text;
    text.lang = update.language;
    meta.replaceChildren(`${words.t("machine")} · `);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "link original";
    toggle.textContent = words.t("show_original");
    let showingOriginal = false;
    toggle.addEventListener("click", () => {
      showingOriginal = !showingOriginal;
      text.textContent = showingOriginal ? message.text : update.text;
      text.lang = showingOriginal ? message.language : update.language;
      toggle.textContent = showingOriginal ? words.t("show_translation") : words.t("show_original");
    });
    toggle.addEventListener("click", () => this.changed());
    meta.append(toggle);
    entry.line.classList.add("translated");
    this.changed();
  }

  changed() {
    for (const listener of this.listeners) listener();
  }

  /**
   * A line from the page itself (someone joined, a reconnect, an error).
   * @param {string} text
   */
  system(text) {
    const line = document.createElement("li");
    line.className = "system";
    line.textContent = text;
    this.append(line);
  }

  // Start again from a new welcome: no lines (the mutes stay).
  clear() {
    this.log.replaceChildren();
    this.lines.clear();
  }

  /**
   * The chat lines shown (not the page's own), as a reader sees them.
   * @returns {{id: number, text: string, lang: string, meta: string, hidden: boolean}[]}
   */
  shownLines() {
    return findAll("li[data-chat]", HTMLLIElement, this.log).map((li) => {
      const text = find(".text", HTMLElement, li);
      return { id: Number(li.dataset.chat), text: text.textContent, lang: text.lang, meta: find(".meta", HTMLElement, li).textContent, hidden: Boolean(li.hidden) };
    });
  }

  /** @param {HTMLLIElement} line */
  append(line) {
    this.log.append(line);
    while (this.log.children.length > 200) this.log.firstChild.remove();
    this.log.scrollTop = this.log.scrollHeight;
    this.changed();
  }
}

// The quick-chat bar: a phrase, and for some phrases a thing in the scene to name.
export class QuickChat {
  /**
   * @param {object} options
   * @param {HTMLSelectElement} options.phraseSelect
   * @param {HTMLSelectElement} options.thingSelect
   * @param {HTMLButtonElement} options.button
   * @param {PhraseTables} options.phrases
   * @param {string} options.reader
   * @param {Words} options.words
   * @param {[string, string][]} options.things node id and name, for phrases that name a thing
   * @param {(phrase: string, thing: string | null) => void} options.onSend
   */
  constructor({ phraseSelect, thingSelect, button, phrases, reader, words, things, onSend }) {
    /** @param {Record<string, string>} table */
    const pick = (table) => table[reader] || table[primary(reader)] || table.en;
    this.phrases = phrases;
    this.things = things;
    this.onSend = onSend;
    this.pick = pick;
    phraseSelect.replaceChildren(
      new Option(words.t("quick"), ""),
      ...Object.entries(phrases).map(([id, table]) => new Option(pick(table).replace("{thing}", "…"), id)),
    );
    thingSelect.replaceChildren(new Option(words.t("something"), ""), ...things.map(([id, name]) => new Option(name, id)));
    phraseSelect.addEventListener("change", () => {
      const needsThing = phrases[phraseSelect.value]?.en.includes("{thing}");
      thingSelect.hidden = !needsThing;
    });
    button.addEventListener("click", () => {
      const phrase = phraseSelect.value;
      if (!phrase) return;
      const needsThing = phrases[phrase].en.includes("{thing}");
      if (needsThing && !thingSelect.value) return thingSelect.focus();
      onSend(phrase, needsThing ? thingSelect.value : null);
      phraseSelect.value = "";
      thingSelect.hidden = true;
    });
  }

  /**
   * The phrases as the reader reads them, and whether each names a thing (the headset menu's list).
   * @returns {{id: string, label: string, needsThing: boolean}[]}
   */
  choices() {
    return Object.entries(this.phrases).map(([id, table]) => ({ id, label: this.pick(table).replace("{thing}", "…"), needsThing: table.en.includes("{thing}") }));
  }

  /**
   * Send a phrase, with the thing it names if it names one.
   * @param {string} phrase
   * @param {string | null} [thing]
   */
  send(phrase, thing = null) {
    if (!this.phrases[phrase]) return;
    this.onSend(phrase, thing);
  }
}
