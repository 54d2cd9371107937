// @ts-check
/**
 * For admins: test the Graph Enterprise Connect app before handing it to a vendor. Is it consented, does
 * it see the users, rooms and calendars it needs, and is it limited to the users it should be? The verdict
 * (Full, Restricted, Free-busy only, None) says what a vendor can and cannot do, with the fix.
 */
import { h, replaceChildren } from '../dom.js';
import { exportGraphReport, listAccounts, readSchedules, testGraphApp } from '../ipc.js';
import { errorCard } from '../error-card.js';
import { fixesBlock, renderAppTest } from '../app-test.js';

/** @type {Record<string, string>} */
const LEVELS = { full: 'Full', restricted: 'Restricted', freeBusy: 'Free-busy only', none: 'None' };

/** @param {import('../ipc.js').GraphReport} report */
function verdictCard(report) {
  return h(
    'section',
    { class: `card verdict level-${report.level}`, 'aria-labelledby': 'graph-verdict-heading', 'data-testid': 'graph-verdict', 'data-level': report.level },
    h('h2', { id: 'graph-verdict-heading' }, 'Access: ', h('span', { 'data-testid': 'graph-level' }, LEVELS[report.level] ?? report.level)),
    h('p', { 'data-testid': 'graph-summary' }, report.summary),
    report.vendorCan.length ? h('div', {}, h('h3', {}, 'A vendor can'), h('ul', { class: 'facts can' }, report.vendorCan.map((line) => h('li', {}, line)))) : null,
    report.vendorCannot.length ? h('div', {}, h('h3', {}, 'A vendor cannot'), h('ul', { class: 'facts cannot' }, report.vendorCannot.map((line) => h('li', {}, line)))) : null,
    fixesBlock('graph-fixes', report.fixes),
  );
}

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  const writeTest = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'graph-write-test', 'data-testid': 'graph-write-test' }));
  const cleanup = renderAppTest(root, {
    prefix: 'graph',
    heading: 'Test the Graph Enterprise Connect app',
    lead: 'Before a vendor connects your organisation, check the app: its permissions, the tenant, the users and rooms it sees, and whether it reaches a test mailbox’s calendar — or is limited to users that leave it out.',
    formHeading: 'Graph Enterprise Connect app',
    userLabel: 'Test mailbox',
    userHint: 'A user’s UPN or one of their addresses.',
    extraFields: [h('div', { class: 'field' }, h('label', {}, writeTest, ' Also create and delete one event (write test)'))],
    sandbox: {
      tenant: 'contoso.com',
      clientId: '7283940a-5b6c-4d7e-89fa-0b1c2d3e4f60',
      user: 'lee@contoso.com',
      note: 'Sandbox: "calconnect Enterprise Connect (Graph)" (secret demo-graph-enterprise-secret~not-a-real-secret). In the Exchange Online demo its calendar access is scoped by RBAC for Applications to adele@ and megan@, so lee@contoso.com is outside it.',
    },
    run: (request, onStep) => testGraphApp(request, writeTest.checked, onStep),
    verdict: verdictCard,
    exportReport: exportGraphReport,
  });
  root.append(freeBusyVariant());
  return cleanup;
}

/**
 * The Free/Busy variant: the admin has connected an account with Free/Busy access (the Enterprise Connect
 * Free/Busy app's client ID in Settings, delegated `Calendars.ReadBasic User.Read offline_access`);
 * getSchedule reads up to 20 addresses, and only status, start and end are kept.
 */
function freeBusyVariant() {
  const account = /** @type {HTMLSelectElement} */ (h('select', { id: 'graph-fb-account', 'data-testid': 'graph-fb-account' }));
  const addresses = /** @type {HTMLTextAreaElement} */ (h('textarea', { id: 'graph-fb-addresses', rows: '3', spellcheck: 'false', 'data-testid': 'graph-fb-addresses', 'aria-describedby': 'graph-fb-hint' }));
  const status = h('p', { class: 'muted', role: 'status', 'data-testid': 'graph-fb-status' });
  const result = h('div', { 'data-testid': 'graph-fb-result' });
  const read = h('button', { type: 'submit', class: 'primary', 'data-testid': 'graph-fb-run' }, 'Read free/busy');
  listAccounts()
    .then((accounts) => {
      const freeBusy = accounts.filter((entry) => entry.access === 'freeBusy');
      replaceChildren(account, ...freeBusy.map((entry) => h('option', { value: entry.id }, `${entry.name} <${entry.email}>`)));
      if (!freeBusy.length) {
        read.setAttribute('disabled', '');
        status.textContent = 'Connect an account with Free/Busy access first (Home → Connect), using the Enterprise Connect Free/Busy app’s client ID in Settings.';
      }
    })
    .catch((/** @type {import('../ipc.js').IpcError} */ error) => replaceChildren(result, errorCard(error)));
  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'graph-fb-heading',
      onsubmit: (/** @type {Event} */ event) => {
        event.preventDefault();
        const list = addresses.value.split(/[\n,;]+/).map((line) => line.trim()).filter(Boolean);
        read.setAttribute('disabled', '');
        status.textContent = 'Reading free/busy…';
        replaceChildren(result);
        readSchedules(account.value, list)
          .then((schedules) => {
            const readable = schedules.filter((entry) => entry.busyBlocks).length;
            status.textContent = `Read ${readable} of ${schedules.length} schedules; only status, start and end are kept.`;
            replaceChildren(
              result,
              h(
                'table',
                { class: 'mailboxes', 'data-testid': 'graph-fb-table' },
                h('caption', { class: 'sr-only' }, 'Free/busy per address'),
                h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Busy blocks (next 7 days)'), h('th', { scope: 'col' }, 'What failed'))),
                h(
                  'tbody',
                  {},
                  schedules.map((entry) =>
                    h('tr', { 'data-schedule': entry.schedule }, h('th', { scope: 'row' }, entry.schedule), h('td', {}, entry.busyBlocks ? String(entry.busyBlocks.length) : '—'), h('td', { class: 'small' }, entry.error ?? '—')),
                  ),
                ),
              ),
            );
          })
          .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
            status.textContent = '';
            replaceChildren(result, errorCard(error));
          })
          .finally(() => read.removeAttribute('disabled'));
      },
    },
    h('h2', { id: 'graph-fb-heading' }, 'Free/Busy variant'),
    h('p', { class: 'small' }, 'Signed in as an admin with the Enterprise Connect Free/Busy app (delegated Calendars.ReadBasic, User.Read, offline_access), read who is busy when — nothing else.'),
    h('div', { class: 'field' }, h('label', { for: 'graph-fb-account' }, 'Free/Busy account'), account),
    h('div', { class: 'field' }, h('label', { for: 'graph-fb-addresses' }, 'Addresses (up to 20)'), addresses, h('small', { id: 'graph-fb-hint', class: 'muted' }, 'One a line; the test mailbox first.')),
    h('div', { class: 'actions' }, read),
    status,
    result,
  );
  return form;
}
