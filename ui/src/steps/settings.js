// @ts-check
/**
 * Settings: which Microsoft cloud, which tenant, and the client IDs of your own app registrations.
 */
import { h, replaceChildren } from '../dom.js';
import { accessOptions, getSettings, saveSettings } from '../ipc.js';
import { errorCard } from '../error-card.js';
import { renderRegisterApps } from '../register-apps.js';
import { supportCard } from '../support-card.js';

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  let active = true;
  const body = h('div', { 'aria-busy': 'true' }, h('div', { class: 'card skeleton tall' }));
  replaceChildren(
    root,
    h('h1', {}, 'Settings'),
    h('p', { class: 'lead' }, 'Where calconnect signs you in. Client IDs are those of your own app registrations in Microsoft Entra ID.'),
    body,
    supportCard(),
  );

  /**
   * @param {import('../ipc.js').SettingsView} view
   * @param {string} [message]
   */
  const show = (view, message) => {
    body.setAttribute('aria-busy', 'false');
    const field = (/** @type {string} */ id, /** @type {string} */ label, /** @type {string} */ value, /** @type {string} */ hint) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, label),
        h('input', { id, name: id, type: 'text', value, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${id}-hint` }),
        h('small', { id: `${id}-hint`, class: 'muted' }, hint),
      );
    const cloud = /** @type {HTMLSelectElement} */ (
      h(
        'select',
        { id: 'cloud', name: 'cloud', 'data-testid': 'settings-cloud', 'aria-describedby': 'cloud-hint' },
        view.clouds.map((option) => h('option', { value: option.value, selected: option.value === view.saved.cloud }, option.label)),
      )
    );
    const fields = h(
      'div',
      {},
      field('tenant', 'Tenant', view.saved.tenant, 'organizations (any work or school account), common, a tenant ID or a domain such as contoso.com.'),
      field('fullClientId', 'Client ID of the Full app', view.saved.fullClientId, requests('full')),
      field('freebusyClientId', 'Client ID of the Free/Busy app', view.saved.freebusyClientId, requests('freeBusy')),
      field('teamsClientId', 'Client ID of the Teams conferencing app', view.saved.teamsClientId, requests('teams')),
    );
    const sandboxNote = h(
      'p',
      { class: 'muted' },
      `The sandbox is calconnect’s built-in demo tenant (${view.sandbox.tenant}); its apps are fixed, so the fields below are not used.`,
    );
    const register = /** @type {HTMLButtonElement} */ (
      h(
        'button',
        {
          type: 'button',
          'data-testid': 'settings-register-apps',
          'aria-describedby': 'register-apps-hint',
          onclick: () => {
            const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ (document.getElementById(id)).value;
            renderRegisterApps(body, {
              settings: {
                cloud: /** @type {import('../ipc.js').CloudName} */ (cloud.value),
                tenant: value('tenant'),
                fullClientId: value('fullClientId'),
                freebusyClientId: value('freebusyClientId'),
                teamsClientId: value('teamsClientId'),
              },
              onSaved: (saved) => afterSave(saved),
              onBack: () => show(view),
            });
          },
        },
        'Register the apps in my tenant',
      )
    );
    const registerField = h(
      'div',
      { class: 'field' },
      h('div', {}, register),
      h('small', { id: 'register-apps-hint', class: 'muted' }, 'No app registrations yet? Get the Azure CLI or PowerShell commands that create all three, and enter the IDs they print.'),
    );
    const sync = () => {
      const sandbox = cloud.value === 'sandbox';
      sandboxNote.hidden = !sandbox;
      for (const input of fields.querySelectorAll('input')) input.disabled = sandbox;
      register.disabled = sandbox;
    };
    cloud.addEventListener('change', sync);
    const status = h('p', { role: 'status', class: 'muted', 'data-testid': 'settings-status' }, message ?? '');
    const form = h(
      'form',
      {
        class: 'card',
        onsubmit: (/** @type {Event} */ event) => {
          event.preventDefault();
          const data = new FormData(/** @type {HTMLFormElement} */ (form));
          const text = (/** @type {string} */ name) => String(data.get(name) ?? view.saved[/** @type {'tenant'} */ (name)] ?? '');
          status.textContent = 'Saving…';
          saveSettings({
            cloud: /** @type {import('../ipc.js').CloudName} */ (cloud.value),
            tenant: cloud.value === 'sandbox' ? view.saved.tenant : text('tenant'),
            fullClientId: cloud.value === 'sandbox' ? view.saved.fullClientId : text('fullClientId'),
            freebusyClientId: cloud.value === 'sandbox' ? view.saved.freebusyClientId : text('freebusyClientId'),
            teamsClientId: cloud.value === 'sandbox' ? view.saved.teamsClientId : text('teamsClientId'),
          }).then(
            (saved) => afterSave(saved),
            (/** @type {import('../ipc.js').IpcError} */ error) => {
              if (active) replaceChildren(status, errorCard(error));
            },
          );
        },
      },
      view.lockedByCommandLine
        ? h('p', { class: 'notice' }, `This run uses ${view.activeCloudLabel}, chosen on the command line. What you save here applies when calconnect starts without it.`)
        : null,
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'cloud' }, 'Microsoft cloud'),
        cloud,
        h(
          'small',
          { id: 'cloud-hint', class: 'muted' },
          'GCC (moderate) tenants use Worldwide. GCC High and DoD are separate US Government clouds with their own sign-in and Graph hosts; an account of one cloud cannot sign in to another.',
        ),
      ),
      sandboxNote,
      fields,
      registerField,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'home' }) }, 'Back'),
        h('button', { type: 'submit', class: 'primary', 'data-testid': 'settings-save' }, 'Save'),
      ),
      status,
    );
    replaceChildren(body, form);
    sync();
  };

  /** @param {import('../ipc.js').SettingsView} saved */
  const afterSave = (saved) => {
    if (!active) return;
    const badge = document.getElementById('cloud-badge');
    if (badge) badge.textContent = saved.activeCloudLabel;
    show(saved, saved.lockedByCommandLine ? 'Saved. This run keeps the cloud chosen on the command line.' : 'Saved.');
  };

  /** @type {import('../ipc.js').AccessOption[]} */
  let options = [];
  /** The permissions an app registration must grant, from the same source as the Choose access step. */
  const requests = (/** @type {import('../ipc.js').Access} */ access) => {
    const scopes = options.find((option) => option.access === access)?.scopes.map((entry) => entry.scope) ?? [];
    return scopes.length ? `Needs the delegated permissions ${scopes.join(', ')}.` : '';
  };
  Promise.all([getSettings(), accessOptions()]).then(
    ([view, accessList]) => {
      options = accessList;
      if (active) show(view);
    },
    (/** @type {import('../ipc.js').IpcError} */ error) => active && replaceChildren(body, errorCard(error)),
  );
  return () => {
    active = false;
  };
}
