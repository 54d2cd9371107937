// @ts-check
/**
 * For admins: test the Graph Enterprise Connect app before handing it to a vendor. Is it consented, does
 * it see the users, rooms and calendars it needs, and is it limited to the users it should be? The verdict
 * (Full, Restricted, Free-busy only, None) says what a vendor can and cannot do, with the fix.
 */
import { h } from '../dom.js';
import { exportGraphReport, testGraphApp } from '../ipc.js';
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
  return renderAppTest(root, {
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
}
