// @ts-check
// The lobby: pick a scene, a name, a language, a colour and an avatar style, then enter. Deep links (?scene=,
// ?name=, ?lang=, ?avatar=) fill it in; the name, colour and style are remembered on this device.
import * as THREE from "three";
import { fetchScenes } from "./api.js";
import { AVATAR_STYLES, DEFAULT_STYLE, standingAvatar } from "./avatars.js";
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
  const picker = new StylePicker(find("#avatar-styles"), find("#avatar-about"), find("#avatar-preview", HTMLCanvasElement), words);
  const language = params.get("lang") || navigator.language.split("-")[0] || "en";
  if ([...languageSelect.options].some((o) => o.value === language)) languageSelect.value = language;
  words.setLanguage(languageSelect.value);
  languageSelect.addEventListener("change", () => words.setLanguage(languageSelect.value));
  nameInput.value = params.get("name") || localStorage.getItem("thirdspace.name") || "";
  nameInput.maxLength = MAX_NAME_CHARS;
  colourInput.value = localStorage.getItem("thirdspace.colour") || `#${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, "0")}`;
  picker.choose(params.get("avatar") || localStorage.getItem("thirdspace.avatar") || DEFAULT_STYLE, colourInput.value);
  colourInput.addEventListener("input", () => picker.choose(picker.value, colourInput.value));
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
  // Before entering, what share of the chosen scene a machine made (objects generated, texts machine-translated).
  const made = find("#scene-made");
  const showMade = () => {
    const share = scenes.find((s) => s.id === select.value)?.made;
    made.hidden = !share;
    if (share) {
      made.textContent = words.t("made_share", {
        objects: share.generated_objects, total_objects: share.objects, texts: share.machine_texts, total_texts: share.texts,
      });
    }
  };
  select.addEventListener("change", showMade);
  languageSelect.addEventListener("change", showMade);
  showMade();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    /** @type {Choice} */
    const choice = {
      scene: select.value,
      name: nameInput.value.trim() || "Visitor",
      language: languageSelect.value,
      colour: colourInput.value,
      avatar: picker.value,
    };
    localStorage.setItem("thirdspace.name", choice.name);
    localStorage.setItem("thirdspace.colour", choice.colour);
    localStorage.setItem("thirdspace.avatar", choice.avatar);
    history.replaceState(null, "", `?scene=${encodeURIComponent(choice.scene)}`);
    onEnter(choice).catch((error) => {
      onEnterFailed(error);
      form.hidden = false;
    });
    form.hidden = true;
  });
  form.hidden = false;
}

// The avatar styles as radio buttons named in the visitor's language (arrow keys move between them, a tap
// picks one), with a still preview of the chosen style in the chosen colour and a line on what it is.
class StylePicker {
  /**
   * @param {HTMLElement} list where the radio buttons go
   * @param {HTMLElement} about the chosen style's description
   * @param {HTMLCanvasElement} canvas the preview
   * @param {import("./i18n.js").Words} words
   */
  constructor(list, about, canvas, words) {
    this.about = about;
    this.words = words;
    this.value = DEFAULT_STYLE;
    this.colour = "#4a90d9";
    /** @type {Map<string, HTMLInputElement>} */
    this.inputs = new Map();
    for (const { id } of AVATAR_STYLES) {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "avatar";
      input.value = id;
      input.addEventListener("change", () => input.checked && this.choose(id, this.colour));
      const name = document.createElement("span");
      name.dataset.i18n = `avatar_${id}`;
      name.textContent = words.t(`avatar_${id}`);
      label.append(input, name);
      list.append(label);
      this.inputs.set(id, input);
    }
    /** @type {Map<string, import("./avatar-styles.js").StyleGeometry>} */
    this.geometry = new Map();
    this.preview = null;
    try {
      const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: true });
      renderer.setPixelRatio(Math.min(devicePixelRatio, 2));
      renderer.setSize(canvas.clientWidth || canvas.width, canvas.clientHeight || canvas.height, false);
      const scene = new THREE.Scene();
      scene.add(new THREE.HemisphereLight("#ffffff", "#554433", 2.2));
      const sun = new THREE.DirectionalLight("#ffffff", 1.6);
      sun.position.set(1, 2, 3);
      scene.add(sun);
      const camera = new THREE.PerspectiveCamera(30, canvas.width / canvas.height, 0.1, 10);
      camera.position.set(0, -0.45, 3.2);
      camera.lookAt(0, -0.62, 0);
      this.preview = { renderer, scene, camera, avatar: /** @type {THREE.Group | null} */ (null) };
    } catch {
      canvas.hidden = true; // no WebGL here: the names and descriptions still tell the styles apart
    }
  }

  /**
   * @param {string} id a style (an unknown one is the default)
   * @param {string} colour
   */
  choose(id, colour) {
    this.value = this.inputs.has(id) ? id : DEFAULT_STYLE;
    this.colour = colour;
    this.inputs.get(this.value).checked = true;
    this.about.dataset.i18n = `avatar_about_${this.value}`;
    this.about.textContent = this.words.t(`avatar_about_${this.value}`);
    const preview = this.preview;
    if (!preview) return;
    if (preview.avatar) {
      preview.scene.remove(preview.avatar);
      preview.avatar.traverse((o) => o instanceof THREE.Mesh && /** @type {THREE.Material} */ (o.material).dispose());
    }
    preview.avatar = standingAvatar(this.value, colour, this.geometry);
    preview.avatar.rotation.y = Math.PI - 0.45; // three quarters, facing the viewer
    preview.scene.add(preview.avatar);
    preview.renderer.render(preview.scene, preview.camera);
  }
}
