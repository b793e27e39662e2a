// The chat panel. Visitor text is always inserted with textContent, never as HTML.
import { MAX_CHAT_CHARS } from "./protocol.js";

export class ChatPanel {
  constructor({ log, form, input, onSend }) {
    this.log = log;
    this.input = input;
    input.maxLength = MAX_CHAT_CHARS;
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      onSend(text);
      input.value = "";
    });
  }

  add(message, selfId) {
    const line = document.createElement("li");
    if (message.from === selfId) line.classList.add("self");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = message.name;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    text.lang = message.language;
    text.dir = "auto";
    line.append(name, text);
    this.append(line);
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
