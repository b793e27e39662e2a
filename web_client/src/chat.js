// The chat panel. Visitor text is always inserted with textContent, never as HTML.
// Each line shows in the reader's language where it can: quick-chat phrases from the curated tables,
// free text as the original at once and the machine translation when it arrives, the original a tap away.
import { languageName, primary, t } from "./i18n.js";
import { MAX_CHAT_CHARS } from "./protocol.js";

export class ChatPanel {
  constructor({ log, form, input, onSend, reader, phrases = {}, nameOf = (id) => id, onReport = () => {} }) {
    this.log = log;
    this.input = input;
    this.reader = reader; // the reader's language tag
    this.phrases = phrases; // phrase id -> {language: template}
    this.nameOf = nameOf; // node id -> its name in the reader's language
    this.onReport = onReport;
    this.lines = new Map(); // chat id -> {message, element}
    this.muted = new Set(); // visitor ids this reader has muted (on this page only)
    input.maxLength = MAX_CHAT_CHARS;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      onSend(text);
      input.value = "";
    });
  }

  render(phrase, thing) {
    const table = this.phrases[phrase];
    if (!table) return null;
    const template = table[this.reader] || table[primary(this.reader)] || table.en;
    return template.replace("{thing}", thing ? this.nameOf(thing) : "");
  }

  add(message, selfId) {
    const line = document.createElement("li");
    line.dataset.chat = message.id;
    line.dataset.from = message.from;
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
    if (!quick && primary(message.language) !== primary(this.reader)) meta.textContent = languageName(message.language);
    if (message.detected) meta.textContent = `${meta.textContent} · ${t("looks_like", { language: languageName(message.detected) })}`.replace(/^ · /, "");
    line.append(name, text, meta);
    if (message.from !== selfId) line.append(this.actions(message, line));
    this.lines.set(message.id, { message, text, meta, line });
    this.append(line);
  }

  actions(message, line) {
    const box = document.createElement("span");
    box.className = "actions";
    const mute = document.createElement("button");
    mute.type = "button";
    mute.className = "link";
    mute.textContent = t("mute");
    mute.addEventListener("click", () => {
      this.muted.add(message.from);
      for (const other of this.log.querySelectorAll(`li[data-from="${message.from}"]`)) other.hidden = true;
      this.system(t("muted", { name: message.name }));
    });
    const report = document.createElement("button");
    report.type = "button";
    report.className = "link";
    report.textContent = t("report");
    report.addEventListener("click", () => {
      this.onReport(message.id);
      report.disabled = true;
      report.textContent = t("reported");
    });
    box.append(mute, report);
    return box;
  }

  // A machine translation of a line already shown: show it, marked, with the original one tap away.
  translation(update) {
    const entry = this.lines.get(update.id);
    if (!entry) return;
    const { message, text, meta } = entry;
    if (update.text === undefined) {
      meta.textContent = `${languageName(message.language)} · ${t("unavailable")}`;
      return;
    }
    text.textContent = update.text;
    text.lang = update.language;
    meta.replaceChildren(`${t("machine")} · `);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "link original";
    toggle.textContent = t("show_original");
    let showingOriginal = false;
    toggle.addEventListener("click", () => {
      showingOriginal = !showingOriginal;
      text.textContent = showingOriginal ? message.text : update.text;
      text.lang = showingOriginal ? message.language : update.language;
      toggle.textContent = showingOriginal ? t("show_translation") : t("show_original");
    });
    meta.append(toggle);
    entry.line.classList.add("translated");
  }

  system(text) {
    const line = document.createElement("li");
    line.className = "system";
    line.textContent = text;
    this.append(line);
  }

  append(line) {
    this.log.append(line);
    while (this.log.children.length > 200) this.log.firstChild.remove();
    this.log.scrollTop = this.log.scrollHeight;
  }
}

// The quick-chat bar: a phrase, and for some phrases a thing in the scene to name.
export class QuickChat {
  constructor({ phraseSelect, thingSelect, button, phrases, reader, things, onSend }) {
    const pick = (table) => table[reader] || table[primary(reader)] || table.en;
    phraseSelect.replaceChildren(
      new Option(t("quick"), ""),
      ...Object.entries(phrases).map(([id, table]) => new Option(pick(table).replace("{thing}", "…"), id)),
    );
    thingSelect.replaceChildren(new Option(t("something"), ""), ...things.map(([id, name]) => new Option(name, id)));
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
}
