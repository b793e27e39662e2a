// @ts-check
// Finding the page's elements, typed, and making new ones. Text always goes in as text nodes, never as markup.

/**
 * The element `selector` names, checked to be a `type` (HTMLElement unless told).
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {{new (): T, prototype: T}} [type]
 * @param {ParentNode} [root]
 * @returns {T}
 */
export function find(selector, type, root = document) {
  const element = root.querySelector(selector);
  const expected = type || HTMLElement;
  if (!(element instanceof expected)) throw new Error(`the page has no ${expected.name} ${selector}`);
  return /** @type {T} */ (element);
}

/**
 * Every element `selector` names, checked to be `type`s.
 * @template {Element} [T=HTMLElement]
 * @param {string} selector
 * @param {{new (): T, prototype: T}} [type]
 * @param {ParentNode} [root]
 * @returns {T[]}
 */
export function findAll(selector, type, root = document) {
  const expected = type || HTMLElement;
  return [...root.querySelectorAll(selector)].filter((element) => element instanceof expected).map((element) => /** @type {T} */ (element));
}

/**
 * @typedef {Record<string, string | number | boolean | null | undefined | ((event: any) => void)>} Attributes
 * `class` sets the class name, `onNAME` adds a listener, `true` an empty attribute; false, null and undefined
 * leave the attribute out.
 */

/**
 * A new element with attributes and children (strings become text nodes).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/**
 * An error's message, or the thrown value as text.
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  return String((error instanceof Error && error.message) || error);
}
