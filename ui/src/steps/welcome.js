// @ts-check
/**
 * Step 1: what calconnect does, what stays on this machine, which Microsoft cloud this run talks to,
 * and the accounts already connected.
 */
import { h, replaceChildren } from '../dom.js';
import { appInfo, listAccounts, uiReady } from '../ipc.js';
import { accessLabel } from '../wizard.js';
import { errorCard } from '../error-card.js';

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  const version = h('dd', { 'data-testid': 'app-version', class: 'placeholder' }, 'loading…');
  const cloud = h('dd', { 'data-testid': 'cloud-label', class: 'placeholder' }, 'loading…');
  const status = h('div', { role: 'status' });
  const accountList = h(
    'div',
    { class: 'account-list', 'data-testid': 'welcome-accounts', 'aria-busy': 'true' },
    h('p', { class: 'placeholder' }, 'Looking for connected accounts…'),
  );

  replaceChildren(
    root,
    h('h1', {}, 'Connect your Outlook calendar'),
    h(
      'p',
      { class: 'lead' },
      'calconnect signs you in to Microsoft 365 and shows what a calendar app can see: your calendars, or only when you are busy.',
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'stays-here' },
      h('h2', { id: 'stays-here' }, 'What stays on this computer'),
      h(
        'ul',
        { class: 'facts' },
        h('li', {}, 'You sign in on Microsoft’s own page, in your browser or with a code on another device.'),
        h('li', {}, 'Your sign-in tokens are kept only in this computer’s keychain, never in a file.'),
        h('li', {}, 'calconnect talks to Microsoft directly; nothing is sent anywhere else.'),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'connected-accounts' },
      h('h2', { id: 'connected-accounts' }, 'Connected accounts'),
      accountList,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'this-run' },
      h('h2', { id: 'this-run' }, 'This copy of calconnect'),
      h('dl', { class: 'meta' }, h('dt', {}, 'Version'), version, h('dt', {}, 'Microsoft cloud'), cloud),
    ),
    status,
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'primary', 'data-testid': 'connect', onclick: () => ctx.dispatch({ type: 'connectNew' }) },
        'Connect an account',
      ),
    ),
  );

  let active = true;
  const infoShown = appInfo()
    .then((info) => {
      if (!active) return;
      version.textContent = info.version;
      version.classList.remove('placeholder');
      cloud.textContent = info.cloudLabel;
      cloud.classList.remove('placeholder');
      const badge = document.getElementById('cloud-badge');
      if (badge) badge.textContent = info.cloudLabel;
    })
    .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
      if (!active) return;
      replaceChildren(status, errorCard(error));
    });

  const accountsShown = listAccounts()
    .then((accounts) => {
      if (!active) return;
      accountList.setAttribute('aria-busy', 'false');
      if (accounts.length === 0) {
        replaceChildren(accountList, h('p', { class: 'muted', 'data-testid': 'no-accounts' }, 'No account is connected yet.'));
        return;
      }
      replaceChildren(
        accountList,
        h(
          'ul',
          { class: 'plain-list' },
          accounts.map((account) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: 'account-link',
                  'data-testid': 'account-link',
                  'data-email': account.email,
                  onclick: () =>
                    account.needsSignInAgain
                      ? ctx.dispatch({ type: 'reconnect', account })
                      : ctx.dispatch({ type: 'openAccount', account }),
                },
                h('span', { class: 'account-name' }, account.name),
                h('span', { class: 'muted' }, ` ${account.email} · ${accessLabel(account.access)}`),
                account.needsSignInAgain ? h('span', { class: 'badge warn' }, 'Sign in again') : null,
              ),
            ),
          ),
        ),
      );
    })
    .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
      if (!active) return;
      accountList.setAttribute('aria-busy', 'false');
      // Showing the step again asks the core again (it is rebuilt until it starts), e.g. once a keyring runs.
      const retry = h('button', { type: 'button', 'data-testid': 'retry', onclick: () => ctx.dispatch({ type: 'home' }) }, 'Try again');
      replaceChildren(accountList, errorCard(error, retry));
    });

  // Start-up ends when both answers are on screen: after the next frame is painted, say so (a no-op
  // unless the start-up benchmark asked for it).
  performance.mark('welcome-drawn');
  infoShown.finally(() => performance.mark('app-info-shown'));
  accountsShown.finally(() => performance.mark('accounts-shown'));
  Promise.allSettled([infoShown, accountsShown]).then(() => {
    if (active)
      requestAnimationFrame(() =>
        setTimeout(() => {
          performance.mark('frame-painted');
          uiReady().catch(() => {});
        }, 0),
      );
  });

  return () => {
    active = false;
  };
}
