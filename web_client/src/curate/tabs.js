// @ts-check
// The side panel's tabs: one panel shown at a time.
import { find, findAll } from "../dom.js";

/** @param {HTMLElement} bar the tab list (#tabs) */
export function bindTabs(bar) {
  const tabs = findAll("button", HTMLButtonElement, bar);
  for (const tab of tabs) {
    tab.addEventListener("click", () => {
      for (const other of tabs) {
        other.setAttribute("aria-selected", String(other === tab));
        find(`#tab-${other.dataset.tab}`).hidden = other !== tab;
      }
    });
  }
}
