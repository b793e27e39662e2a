// @ts-check
// The lobby: pick a scene, a name, a language and a colour, then enter. Deep links (?scene=, ?name=, ?lang=)
// fill it in; the name and colour are remembered on this device.
import { fetchScenes } from "./api.js";
import { find } from "./dom.js";
import { pickText } from "./i18n.js";
import { MAX_NAME_CHARS } from "./protocol.js";

/** @typedef {import("./types.js").Hello} Choice what the visitor chose: the hello's fields */

/**
 * Fill the lobby in and show it; each submit hides it and enters, and an entry that fails shows it again.
 * @param {object} options
 * @param {URLSearchParams} options.params the page's query
 * @param {import("./i18n.js").Words} options.words switched as the language select changes
 * @param {(status: string, message?: string) => void} options.setStatus
 * @param {(choice: Choice) => Promise<void>} options.onEnter
 * @param {(error: unknown) => void} options.onEnterFailed
 */
export async function showLobby({ params, words, setStatus, onEnter, onEnterFailed }) {
  const form = find("#lobby", HTMLFormElement);
  const languageSelect = find("#language", HTMLSelectElement);
  const nameInput = find("#name", HTMLInputElement);
  const colourInput = find("#colour", HTMLInputElement);
  const select = find("#scene", HTMLSelectElement);
  const language = params.get("lang") || navigator.language.split("-")[0] || "en";
  if ([...languageSelect.options].some((o) => o.value === language)) languageSelect.value = language;
  words.setLanguage(languageSelect.value);
  languageSelect.addEventListener("change", () => words.setLanguage(languageSelect.value));
  nameInput.value = params.get("name") || localStorage.getItem("thirdspace.name") || "";
  nameInput.maxLength = MAX_NAME_CHARS;
  colourInput.value = localStorage.getItem("thirdspace.colour") || `#${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, "0")}`;
  const { scenes } = await fetchScenes();
  for (const scene of scenes) {
    const option = document.createElement("option");
    option.value = scene.id;
    option.textContent = `${pickText(scene.title, languageSelect.value)} (${scene.languages.join(", ")})`;
    select.append(option);
  }
  const wanted = params.get("scene");
  if (wanted && scenes.some((s) => s.id === wanted)) select.value = wanted;
  else if (wanted) setStatus("lobby", words.t("no_scene", { scene: wanted }));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    /** @type {Choice} */
    const choice = {
      scene: select.value,
      name: nameInput.value.trim() || "Visitor",
      language: languageSelect.value,
      colour: colourInput.value,
    };
    localStorage.setItem("thirdspace.name", choice.name);
    localStorage.setItem("thirdspace.colour", choice.colour);
    history.replaceState(null, "", `?scene=${encodeURIComponent(choice.scene)}`);
    onEnter(choice).catch((error) => {
      onEnterFailed(error);
      form.hidden = false;
    });
    form.hidden = true;
  });
  form.hidden = false;
}
