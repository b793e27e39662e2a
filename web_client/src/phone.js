// @ts-check
// The page on a phone: the lobby and the HUD stay in the part of the screen the visitor sees, above the on-screen
// keyboard, and the help line speaks of the joystick and taps.
import { addWords } from "./i18n.js";

addWords({
  en: { help_touch: "Joystick to walk · drag to look · tap the floor to walk there" },
  fr: { help_touch: "Joystick pour marcher · glisser pour regarder · toucher le sol pour s'y rendre" },
  es: { help_touch: "Joystick para caminar · desliza para mirar · toca el suelo para ir allí" },
  ar: { help_touch: "عصا التحكم للمشي · اسحب للنظر · المس الأرض للذهاب إليها" },
  zh: { help_touch: "摇杆行走 · 拖动环顾 · 轻触地面即可走过去" },
  hi: { help_touch: "चलने के लिए जॉयस्टिक · देखने के लिए खींचें · वहाँ जाने के लिए फ़र्श को छुएँ" },
  sw: { help_touch: "Kijiti cha kutembea · buruta kutazama · gusa sakafu kwenda pale" },
  ja: { help_touch: "ジョイスティックで歩く · ドラッグで見回す · 床をタップしてそこへ歩く" },
  de: { help_touch: "Joystick zum Gehen · ziehen zum Umsehen · auf den Boden tippen, um dorthin zu gehen" },
  pt: { help_touch: "Joystick para andar · arraste para olhar · toque no chão para ir até lá" },
});

const KEYBOARD_MIN_PX = 100;

/**
 * Keep `--visual-top` and `--visual-height` on `root` equal to the visual viewport: the part of the page on screen.
 * An on-screen keyboard shrinks it (on iOS, and on Android unless the layout viewport is resized with it), so the
 * lobby and the HUD, laid out in that box by the style sheet, stay above the keyboard with the chat input in view;
 * `data-keyboard="open"` on `root` says the keyboard is up (the HUD then leaves the little room there is to the chat).
 * A pinch-zoom also shrinks it: then the page is left as it is, so that zooming in does enlarge it.
 * @param {HTMLElement} [root]
 * @param {VisualViewport | null} [viewport]
 * @returns {() => void} stop following
 */
export function followVisualViewport(root = document.documentElement, viewport = window.visualViewport) {
  if (!viewport) return () => {};
  const update = () => {
    const zoomed = viewport.scale > 1.01;
    // What the visual viewport leaves out at the bottom, unzoomed: a keyboard (browser bars change both viewports).
    const covered = zoomed ? 0 : innerHeight - viewport.height;
    if (covered > Math.max(KEYBOARD_MIN_PX, innerHeight * 0.2)) root.dataset.keyboard = "open";
    else delete root.dataset.keyboard;
    if (zoomed) {
      root.style.removeProperty("--visual-top");
      root.style.removeProperty("--visual-height");
      return;
    }
    root.style.setProperty("--visual-top", `${viewport.offsetTop}px`);
    root.style.setProperty("--visual-height", `${viewport.height}px`);
  };
  viewport.addEventListener("resize", update);
  viewport.addEventListener("scroll", update);
  update();
  return () => {
    viewport.removeEventListener("resize", update);
    viewport.removeEventListener("scroll", update);
  };
}
