// @ts-check
// The "Enter VR" and "Start AR" buttons, in the visitor's language. A button shows only where the device can start
// its kind of session: a phone without AR, or a desktop without a headset, shows no button at all (three.js'
// VRButton and ARButton write English and leave a greyed "NOT SUPPORTED" button in the way instead).
import { addWords } from "./i18n.js";

addWords({
  en: { enter_vr: "Enter VR", exit_vr: "Exit VR", start_ar: "Start AR", stop_ar: "Stop AR", marker: "Marker", xr_failed: "Could not start: {error}" },
  fr: { enter_vr: "Entrer en RV", exit_vr: "Quitter la RV", start_ar: "Lancer la RA", stop_ar: "Arrêter la RA", marker: "Repère", xr_failed: "Impossible de démarrer : {error}" },
  es: { enter_vr: "Entrar en RV", exit_vr: "Salir de la RV", start_ar: "Iniciar RA", stop_ar: "Detener RA", marker: "Marcador", xr_failed: "No se pudo iniciar: {error}" },
  ar: { enter_vr: "ادخل الواقع الافتراضي", exit_vr: "اخرج من الواقع الافتراضي", start_ar: "ابدأ الواقع المعزز", stop_ar: "أوقف الواقع المعزز", marker: "العلامة", xr_failed: "تعذّر البدء: {error}" },
  zh: { enter_vr: "进入 VR", exit_vr: "退出 VR", start_ar: "开始 AR", stop_ar: "停止 AR", marker: "标记", xr_failed: "无法启动：{error}" },
  hi: { enter_vr: "VR में जाएँ", exit_vr: "VR से बाहर आएँ", start_ar: "AR शुरू करें", stop_ar: "AR बंद करें", marker: "चिह्न", xr_failed: "शुरू नहीं हो सका: {error}" },
  sw: { enter_vr: "Ingia VR", exit_vr: "Toka VR", start_ar: "Anzisha AR", stop_ar: "Simamisha AR", marker: "Alama", xr_failed: "Imeshindwa kuanza: {error}" },
  ja: { enter_vr: "VRに入る", exit_vr: "VRを終了", start_ar: "ARを開始", stop_ar: "ARを終了", marker: "マーカー", xr_failed: "開始できませんでした: {error}" },
  de: { enter_vr: "VR betreten", exit_vr: "VR verlassen", start_ar: "AR starten", stop_ar: "AR beenden", marker: "Markierung", xr_failed: "Start nicht möglich: {error}" },
  pt: { enter_vr: "Entrar em RV", exit_vr: "Sair da RV", start_ar: "Iniciar RA", stop_ar: "Parar RA", marker: "Marcador", xr_failed: "Não foi possível iniciar: {error}" },
}); // prettier-ignore

/**
 * A button that starts an immersive session of `mode` and ends it again; hidden unless the device supports `mode`.
 * Its words follow the page's language (they carry data-i18n, which `Words.setLanguage` rewrites).
 * @param {object} options
 * @param {import("three").WebGLRenderer} options.renderer the session goes to its `xr`
 * @param {XRSessionMode} options.mode
 * @param {XRSessionInit} options.sessionInit
 * @param {XRReferenceSpaceType} options.referenceSpace what the renderer asks of the session
 * @param {import("./i18n.js").Words} options.words
 * @param {string} options.start the words' key while no session runs
 * @param {string} options.stop the words' key while it runs
 * @param {string} options.id the element's id (#VRButton, #ARButton, as three.js names them)
 * @param {() => void} [options.onSession] a session of this button's starts (before the renderer's sessionstart)
 * @param {(message: string) => void} [options.onFailed] the device refused the session
 * @param {XRSystem | undefined} [options.system] navigator.xr
 * @returns {HTMLButtonElement}
 */
export function sessionButton({ renderer, mode, sessionInit, referenceSpace, words, start, stop, id, onSession = () => {}, onFailed = () => {}, system = navigator.xr }) {
  const button = document.createElement("button");
  button.type = "button";
  button.id = id;
  button.className = "xr-button";
  button.hidden = true;
  /** @param {string} key */
  const say = (key) => {
    button.dataset.i18n = key;
    button.textContent = words.t(key);
  };
  say(start);
  /** @type {XRSession | null} */
  let session = null;
  let asking = false;
  // Browsers with their own way in (a button in the browser's UI) can be offered the session: accepting starts it.
  const offer = () => /** @type {{offerSession?: (mode: XRSessionMode, init: XRSessionInit) => Promise<XRSession>}} */ (system).offerSession?.(mode, sessionInit).then(begin, () => {});
  /** @param {XRSession} started */
  const begin = async (started) => {
    session = started;
    started.addEventListener("end", () => {
      session = null;
      say(start);
      offer();
    }, { once: true }); // prettier-ignore
    onSession();
    renderer.xr.setReferenceSpaceType(referenceSpace);
    await renderer.xr.setSession(started);
    say(stop);
  };
  button.addEventListener("click", () => {
    if (session) {
      session.end().catch(() => {});
      return;
    }
    if (asking) return;
    asking = true;
    system
      .requestSession(mode, sessionInit)
      .then(begin)
      .catch((/** @type {unknown} */ error) => onFailed(words.t("xr_failed", { error: error instanceof Error ? error.message : String(error) })))
      .finally(() => (asking = false));
  });
  system
    ?.isSessionSupported(mode)
    .then((supported) => {
      button.hidden = !supported;
      if (supported) offer();
    })
    .catch(() => {}); // not allowed here (an insecure page, a permissions policy): no button
  return button;
}
