// @ts-check
/**
 * For admins: test the Teams Enterprise app before handing it to a vendor. Its token and roles, the
 * organisation, the test user and a meeting created on the user's behalf (then deleted), each step as
 * it finishes, with the exact fix when Teams refuses (an application access policy, admin consent).
 */
import { h } from '../dom.js';
import { exportTeamsReport, testTeamsApp } from '../ipc.js';
import { fixesBlock, renderAppTest } from '../app-test.js';

/** @param {import('../ipc.js').TeamsReport} report */
function verdictCard(report) {
  return h(
    'section',
    { class: `card verdict level-${report.passed ? 'full' : 'none'}`, 'aria-labelledby': 'teams-verdict-heading', 'data-testid': 'teams-verdict', 'data-passed': String(report.passed) },
    h('h2', { id: 'teams-verdict-heading' }, report.passed ? 'Teams meetings: working' : 'Teams meetings: not working'),
    h('p', { 'data-testid': 'teams-summary' }, report.summary),
    report.organization ? h('p', { class: 'small' }, `Organisation: ${report.organization} (${report.verifiedDomains.join(', ')})`) : null,
    fixesBlock('teams-fixes', report.fixes),
  );
}

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  return renderAppTest(root, {
    prefix: 'teams',
    heading: 'Test the Teams Enterprise app',
    lead: 'Before a vendor creates Teams meetings for your users, check the app: its permissions, the tenant, a test user, and a meeting made on that user’s behalf — deleted again afterwards.',
    formHeading: 'Teams Enterprise app',
    userLabel: 'Test user',
    userHint: 'The meeting is created on this user’s behalf, then deleted.',
    sandbox: {
      tenant: 'contoso.com',
      clientId: '50617283-94a5-4b6c-97e8-f90a1b2c3d4e',
      user: 'lee@contoso.com',
      note: 'Sandbox: the app "calconnect Teams Enterprise" (secret demo-teams-enterprise-secret~not-a-real-secret) has its application access policy granted to adele@, not to lee@contoso.com.',
    },
    run: testTeamsApp,
    verdict: verdictCard,
    exportReport: exportTeamsReport,
  });
}
