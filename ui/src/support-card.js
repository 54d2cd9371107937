// @ts-check
/**
 * Settings' help card: the log folder, and the diagnostic summary a helpdesk asks for (version, cloud,
 * keychain, proxy, last errors — never a token), shown for review before it is copied.
 */
import { h } from './dom.js';
import { copyButton } from './copy-button.js';
import { diagnosticInfo, openLogFolder } from './ipc.js';

export function supportCard() {
  const status = h('p', { class: 'muted small', role: 'status', 'data-testid': 'support-status' });
  const summary = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { id: 'diagnostic-info', rows: '8', readonly: '', spellcheck: 'false', 'data-testid': 'diagnostic-info', hidden: '' })
  );
  const copyWrap = h('span', {});
  const showDiagnostics = () => {
    diagnosticInfo().then(
      (text) => {
        summary.value = text;
        summary.hidden = false;
        copyWrap.replaceChildren(copyButton(text, 'Copy the diagnostic info', summary));
        status.textContent = 'Check it, then copy it into your message to the helpdesk. It holds no token or password.';
      },
      (/** @type {import('./ipc.js').IpcError} */ error) => {
        status.textContent = `${error.message} ${error.nextStep ?? ''}`;
      },
    );
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'support-heading' },
    h('h2', { id: 'support-heading' }, 'Help and diagnostics'),
    h('p', { class: 'small' }, 'calconnect keeps a log of what it did (a file a day, a week kept), without tokens or passwords, for your helpdesk.'),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          'data-testid': 'open-log-folder',
          onclick: () =>
            openLogFolder().then(
              (path) => {
                status.textContent = `Opened ${path}`;
              },
              (/** @type {import('./ipc.js').IpcError} */ error) => {
                status.textContent = `${error.message} ${error.nextStep ?? ''}`;
              },
            ),
        },
        'Open log folder',
      ),
      h('button', { type: 'button', 'data-testid': 'show-diagnostic-info', onclick: showDiagnostics }, 'Copy diagnostic info…'),
      copyWrap,
    ),
    h('label', { for: 'diagnostic-info', class: 'sr-only' }, 'Diagnostic info'),
    summary,
    status,
  );
}
