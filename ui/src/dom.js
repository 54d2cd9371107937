// @ts-check
/** Tiny DOM helpers: build elements from data, never from HTML strings. */

/**
 * @typedef {string | Node | null | undefined | false} Child
 */

/**
 * Creates an element with attributes and children. Text is always set as text, never parsed as HTML.
 * @param {string} tag
 * @param {Record<string, string | boolean | ((event: Event) => void)>} [attributes]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') {
      element.addEventListener(name.replace(/^on/, ''), value);
    } else if (name === 'style' && typeof value === 'string') {
      // Through the CSSOM: the CSP (style-src 'self') blocks style attributes set as markup.
      element.style.cssText = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else if (value !== false) {
      element.setAttribute(name, value);
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/**
 * Replaces the contents of a container.
 * @param {HTMLElement} container
 * @param {...Node} nodes
 */
export function replaceChildren(container, ...nodes) {
  container.replaceChildren(...nodes);
}
