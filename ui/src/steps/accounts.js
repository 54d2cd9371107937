// @ts-check
/**
 * Step 5: every connected account: open it, sign in again when its sign-in expired, or disconnect it
 * after confirming.
 */
import { h, replaceChildren } from '../dom.js';
import { disconnect, listAccounts } from '../ipc.js';
import { accessLabel } from '../wizard.js';
import { errorCard } from '../error-card.js';

/** @typedef {import('../ipc.js').Account} Account */

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  let active = true;
  const list = h(
    'ul',
    { class: 'plain-list accounts', 'data-testid': 'accounts-list', 'aria-busy': 'true' },
    [1, 2].map(() => h('li', { class: 'card skeleton' })),
  );
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'accounts-status' }, 'Loading accounts…');

  replaceChildren(
    root,
    h('h1', {}, 'Accounts'),
    h('p', { class: 'lead' }, 'Switch between your connected accounts, sign in again, or disconnect one.'),
    status,
    list,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'primary', 'data-testid': 'connect', onclick: () => ctx.dispatch({ type: 'connectNew' }) }, 'Connect an account'),
    ),
  );

  const load = () =>
    listAccounts().then(
      (accounts) => {
        if (!active) return;
        list.setAttribute('aria-busy', 'false');
        status.textContent = accounts.length === 0 ? 'No account is connected.' : `${accounts.length} connected account${accounts.length === 1 ? '' : 's'}.`;
        replaceChildren(list, ...accounts.map(row));
      },
      (/** @type {import('../ipc.js').IpcError} */ error) => {
        if (active) replaceChildren(list, h('li', {}, errorCard(error)));
      },
    );

  /** @param {Account} account */
  function row(account) {
    const actions = h('div', { class: 'actions compact' });
    const item = h(
      'li',
      { class: 'card account-item', 'data-testid': 'account-item', 'data-email': account.email, 'data-access': account.access },
      h(
        'div',
        { class: 'account-summary' },
        h('strong', { class: 'account-name' }, account.name),
        h('span', { class: 'muted' }, account.email),
        h('span', { class: 'badge' }, accessLabel(account.access)),
        account.needsSignInAgain ? h('span', { class: 'badge warn' }, 'Needs sign-in again') : null,
      ),
      actions,
    );
    const showActions = () =>
      replaceChildren(
        actions,
        account.needsSignInAgain
          ? h('button', { type: 'button', class: 'primary', 'data-testid': 'reconnect', onclick: () => ctx.dispatch({ type: 'reconnect', account }) }, 'Sign in again')
          : h('button', { type: 'button', class: 'primary', 'data-testid': 'open-account', 'aria-label': `Open ${account.name} (${accessLabel(account.access)})`, onclick: () => ctx.dispatch({ type: 'openAccount', account }) }, 'Open'),
        h('button', { type: 'button', 'data-testid': 'disconnect', 'aria-label': `Disconnect ${account.email}`, onclick: confirm }, 'Disconnect'),
      );
    const confirm = () => {
      const yes = h(
        'button',
        {
          type: 'button',
          class: 'danger',
          'data-testid': 'confirm-disconnect',
          onclick: () => {
            yes.setAttribute('disabled', '');
            disconnect(account.id).then(
              () => {
                if (active) load();
              },
              (/** @type {import('../ipc.js').IpcError} */ error) => {
                if (active) replaceChildren(actions, errorCard(error));
              },
            );
          },
        },
        'Disconnect',
      );
      const no = h('button', { type: 'button', onclick: showActions }, 'Keep it');
      replaceChildren(
        actions,
        h('p', { class: 'confirm', role: 'alert' }, `Disconnect ${account.email} (${accessLabel(account.access)})? Its sign-in is removed from this computer’s keychain.`),
        yes,
        no,
      );
      no.focus();
    };
    showActions();
    return item;
  }

  load();
  return () => {
    active = false;
  };
}
