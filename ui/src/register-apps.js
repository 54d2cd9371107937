// @ts-check
/**
 * Settings → "Register the apps in my tenant": the Azure CLI and Microsoft Graph PowerShell commands and the
 * manifest JSON that create calconnect's three apps (all generated in Rust from its one table of Microsoft
 * Graph permission IDs), then the tenant ID and client IDs they print, saved like the rest of Settings.
 */
import { h, replaceChildren } from './dom.js';
import { registrationGuide, saveSettings } from './ipc.js';
import { errorCard } from './error-card.js';
import { copyButton } from './copy-button.js';

/** An Entra application (client) ID or tenant ID. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A tenant ID or a verified domain such as contoso.com. */
const TENANT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[a-z0-9-]+(\.[a-z0-9-]+)+)$/i;
/** Settings' tenants that are not one tenant: the apps are single-tenant, so these are not kept. */
const SHARED_TENANTS = ['organizations', 'common', 'consumers'];

/**
 * Replaces `root`'s contents with the panel.
 * @param {HTMLElement} root
 * @param {{
 *   settings: import('./ipc.js').Settings,
 *   onSaved: (view: import('./ipc.js').SettingsView) => void,
 *   onBack: () => void,
 * }} options `settings`: the Settings form as it stands (its cloud and tenant choose the commands)
 */
export function renderRegisterApps(root, { settings, onSaved, onBack }) {
  const back = h('button', { type: 'button', onclick: onBack }, 'Back to Settings');
  replaceChildren(root, h('div', { class: 'card', 'aria-busy': 'true' }, h('div', { class: 'skeleton tall' })));
  registrationGuide(settings.cloud, settings.tenant).then(
    (guide) => {
      if (root.isConnected) replaceChildren(root, panel(guide, settings, onSaved, back));
    },
    (/** @type {import('./ipc.js').IpcError} */ error) => {
      if (root.isConnected) replaceChildren(root, errorCard(error, back));
    },
  );
}

/**
 * @param {import('./ipc.js').RegistrationGuide} guide
 * @param {import('./ipc.js').Settings} settings
 * @param {(view: import('./ipc.js').SettingsView) => void} onSaved
 * @param {HTMLElement} back
 */
function panel(guide, settings, onSaved, back) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'register-apps-title', 'data-testid': 'register-apps' },
    h('h2', { id: 'register-apps-title' }, 'Register the apps in my tenant'),
    h(
      'p',
      {},
      'Run one of these to create calconnect’s three apps in your Microsoft Entra ID, each a single-tenant public client ',
      '(“Allow public client flows” on, redirect URI ',
      h('code', {}, 'http://localhost'),
      ' of type Public client/native) with its delegated Microsoft Graph permissions. Then enter the IDs it prints below.',
    ),
    tabs([
      { id: 'az', title: 'Azure CLI', body: script(guide.azureCli, 'az', 'Azure CLI commands, for bash or zsh. They print the tenant ID and the three client IDs.') },
      { id: 'powershell', title: 'PowerShell', body: script(guide.powershell, 'powershell', 'Microsoft Graph PowerShell commands. They print the tenant ID and the three client IDs.') },
      { id: 'manifest', title: 'Manifest', body: manifests(guide.apps) },
    ]),
    h('h3', {}, 'What each app requests'),
    permissions(guide.apps),
    h('ul', { class: 'facts small' }, guide.notes.map((note) => h('li', {}, note))),
    idsForm(guide, settings, onSaved, back),
  );
}

/** @param {import('./ipc.js').RegistrationApp[]} apps */
function permissions(apps) {
  return h(
    'table',
    { class: 'permission-ids', 'data-testid': 'register-permissions' },
    h('caption', { class: 'sr-only' }, 'The delegated Microsoft Graph permissions each app requests, with their IDs'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'App'), h('th', { scope: 'col' }, 'Delegated permission'), h('th', { scope: 'col' }, 'Microsoft Graph permission ID'))),
    h(
      'tbody',
      {},
      apps.flatMap((app) =>
        app.permissions.map((permission, index) =>
          h(
            'tr',
            {},
            index === 0 ? h('th', { scope: 'row', rowspan: String(app.permissions.length) }, app.displayName) : null,
            h('td', {}, h('code', {}, permission.name)),
            h('td', { class: 'id' }, h('code', {}, permission.id)),
          ),
        ),
      ),
    ),
  );
}

/**
 * @param {string} text
 * @param {string} id
 * @param {string} caption
 */
function script(text, id, caption) {
  const code = h('pre', { class: 'script', id: `register-${id}`, 'data-testid': `register-${id}`, tabindex: '0' }, text);
  return h('div', {}, h('div', { class: 'script-head' }, h('p', { class: 'small muted' }, caption), copyButton(text, 'Copy the commands', code)), code);
}

/** @param {import('./ipc.js').RegistrationApp[]} apps */
function manifests(apps) {
  return h(
    'div',
    { 'data-testid': 'register-manifest' },
    h(
      'p',
      { class: 'small muted' },
      'Each app as a Microsoft Graph application object: set these properties in the app’s Manifest (Entra admin center → App registrations → the app → Manifest), or send it as the body of POST /applications.',
    ),
    apps.map((app) => {
      const code = h('pre', { class: 'script', tabindex: '0' }, app.manifest);
      return h('div', {}, h('div', { class: 'script-head' }, h('h3', {}, app.displayName), copyButton(app.manifest, `Copy the manifest of ${app.displayName}`, code)), code);
    }),
  );
}

/**
 * Tabs after the WAI-ARIA pattern: arrow keys, Home and End move between them; only the chosen panel shows.
 * @param {{ id: string, title: string, body: HTMLElement }[]} entries
 */
function tabs(entries) {
  /** @type {HTMLElement[]} */
  const buttons = [];
  /** @type {HTMLElement[]} */
  const panels = [];
  const select = (/** @type {number} */ chosen, /** @type {boolean} */ focus) => {
    buttons.forEach((button, index) => {
      const selected = index === chosen;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
      panels[index].hidden = !selected;
      if (selected && focus) button.focus();
    });
  };
  entries.forEach((entry, index) => {
    buttons.push(
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          class: 'tab',
          id: `register-tab-${entry.id}`,
          'aria-controls': `register-panel-${entry.id}`,
          'data-testid': `register-tab-${entry.id}`,
          onclick: () => select(index, false),
          onkeydown: (/** @type {Event} */ event) => {
            const key = /** @type {KeyboardEvent} */ (event).key;
            const last = entries.length - 1;
            const next = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last }[key];
            if (next === undefined) return;
            event.preventDefault();
            select(next, true);
          },
        },
        entry.title,
      ),
    );
    panels.push(h('div', { role: 'tabpanel', id: `register-panel-${entry.id}`, 'aria-labelledby': `register-tab-${entry.id}` }, entry.body));
  });
  select(0, false);
  return h('div', { class: 'tabs' }, h('div', { role: 'tablist', 'aria-label': 'How to register the apps' }, buttons), panels);
}

/**
 * The IDs the commands print, saved into Settings with the cloud the commands were made for.
 * @param {import('./ipc.js').RegistrationGuide} guide
 * @param {import('./ipc.js').Settings} settings
 * @param {(view: import('./ipc.js').SettingsView) => void} onSaved
 * @param {HTMLElement} back
 */
function idsForm(guide, settings, onSaved, back) {
  const tenant = guide.tenant ?? (SHARED_TENANTS.includes(settings.tenant.toLowerCase()) ? '' : settings.tenant);
  const line = (/** @type {string} */ printed) => `Printed after “${printed}”.`;
  const fields = [
    { name: 'tenant', label: 'Tenant ID', printed: 'Tenant ID:', value: tenant, pattern: TENANT, hint: `${line('Tenant ID:')} The apps are single-tenant, so calconnect signs in through your tenant.` },
    { name: 'fullClientId', label: 'Client ID of the Full app', printed: 'Client ID of the Full app:', value: settings.fullClientId, pattern: GUID },
    { name: 'freebusyClientId', label: 'Client ID of the Free/Busy app', printed: 'Client ID of the Free/Busy app:', value: settings.freebusyClientId, pattern: GUID },
    { name: 'teamsClientId', label: 'Client ID of the Teams conferencing app', printed: 'Client ID of the Teams conferencing app:', value: settings.teamsClientId, pattern: GUID },
  ].map((field) => ({ hint: line(field.printed), ...field }));
  const inputs = fields.map((field) =>
    /** @type {HTMLInputElement} */ (
      h('input', { id: `register-${field.name}`, name: field.name, type: 'text', value: field.value, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `register-${field.name}-hint` })
    ),
  );
  const status = h('p', { role: 'status', class: 'muted', 'data-testid': 'register-status' });
  const form = h(
    'form',
    {
      onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        const values = inputs.map((input) => input.value.trim());
        const wrong = fields.findIndex((field, index) => (index === 0 || values[index] !== '') && !field.pattern.test(values[index]));
        inputs.forEach((input, index) => input.setAttribute('aria-invalid', String(index === wrong)));
        if (wrong !== -1) {
          status.textContent = `${fields[wrong].label}: paste the ID printed after “${fields[wrong].printed}”.`;
          inputs[wrong].focus();
          return;
        }
        status.textContent = 'Saving…';
        const [tenantId, fullClientId, freebusyClientId, teamsClientId] = values;
        saveSettings({ cloud: settings.cloud, tenant: tenantId, fullClientId, freebusyClientId, teamsClientId }).then(
          (saved) => {
            if (form.isConnected) onSaved(saved);
          },
          (/** @type {import('./ipc.js').IpcError} */ error) => {
            if (form.isConnected) replaceChildren(status, errorCard(error));
          },
        );
      },
    },
    h('h3', {}, 'The IDs they print'),
    fields.map((field, index) =>
      h('div', { class: 'field' }, h('label', { for: inputs[index].id }, field.label), inputs[index], h('small', { id: `register-${field.name}-hint`, class: 'muted' }, field.hint)),
    ),
    h('div', { class: 'actions' }, back, h('button', { type: 'submit', class: 'primary', 'data-testid': 'register-save' }, 'Save the IDs')),
    status,
  );
  return form;
}
