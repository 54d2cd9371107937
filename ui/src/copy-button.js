// @ts-check
/** A "Copy" button that says what it copied, and falls back to selecting the text when the clipboard is refused. */
import { h } from './dom.js';

/**
 * @param {string} text
 * @param {string} label the button's accessible name, e.g. "Copy the code"
 * @param {HTMLElement} [selectOnFailure] element whose text is selected if the clipboard is unavailable
 */
export function copyButton(text, label, selectOnFailure) {
  const status = h('span', { class: 'copy-status', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'copy',
      'aria-label': label,
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = 'Copied';
        } catch {
          if (selectOnFailure) {
            const range = document.createRange();
            range.selectNodeContents(selectOnFailure);
            const selection = window.getSelection();
            selection?.removeAllRanges();
            selection?.addRange(range);
          }
          status.textContent = 'Press Ctrl+C to copy';
        }
        setTimeout(() => {
          status.textContent = '';
        }, 3000);
      },
    },
    'Copy',
  );
  return h('span', { class: 'copy-wrap' }, button, status);
}
