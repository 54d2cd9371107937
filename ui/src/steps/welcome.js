// @ts-check
/**
 * Step 1: what calconnect does, what stays on this machine, and which Microsoft cloud this run talks to.
 */
import { h, replaceChildren } from '../dom.js';
import { appInfo } from '../ipc.js';

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  const version = h('dd', { 'data-testid': 'app-version', class: 'placeholder' }, 'loading…');
  const cloud = h('dd', { 'data-testid': 'cloud-label', class: 'placeholder' }, 'loading…');
  const status = h('div', { role: 'status' });

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
      { class: 'card', 'aria-labelledby': 'this-run' },
      h('h2', { id: 'this-run' }, 'This copy of calconnect'),
      h('dl', { class: 'meta' }, h('dt', {}, 'Version'), version, h('dt', {}, 'Microsoft cloud'), cloud),
    ),
    status,
  );

  let active = true;
  appInfo()
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
      replaceChildren(
        status,
        h('div', { class: 'card error' }, h('strong', {}, error.message), error.nextStep ? h('p', {}, error.nextStep) : null),
      );
    });

  return () => {
    active = false;
  };
}
