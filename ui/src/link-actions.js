// @ts-check
/**
 * A link's two ways out: open it in the system browser (Rust accepts only https links) or copy it.
 */
import { h } from './dom.js';
import { copyButton } from './copy-button.js';
import { openLink } from './ipc.js';

/**
 * An "Open" button for `url`; a refusal or a missing browser is said beside it.
 * @param {string} url
 * @param {string} label accessible name, e.g. "Open the admin consent link in the browser"
 * @param {string} [text] visible text
 */
export function openButton(url, label, text = 'Open') {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'copy',
      'aria-label': label,
      'data-open-link': url,
      onclick: () => {
        status.textContent = '';
        openLink(url).then(
          () => {
            status.textContent = 'Opened in your browser';
          },
          (/** @type {import('./ipc.js').IpcError} */ error) => {
            status.textContent = `${error.message} ${error.nextStep ?? ''}`;
          },
        );
      },
    },
    text,
  );
  return h('span', { class: 'copy-wrap' }, button, status);
}

/**
 * Open and copy, side by side.
 * @param {string} url
 * @param {string} what e.g. "the admin consent link"
 * @param {HTMLElement} [selectOnFailure] the element to select when the clipboard is refused
 */
export function linkActions(url, what, selectOnFailure) {
  return [openButton(url, `Open ${what} in the browser`), copyButton(url, `Copy ${what}`, selectOnFailure)];
}
