// @ts-check
/**
 * For admins: test the Teams Enterprise app before handing it to a vendor. Its token and roles, the
 * organisation, the test user and a meeting created on the user's behalf (then deleted), each step as
 * it finishes, with the exact fix when Teams refuses (an application access policy, admin consent).
 */
import { h, replaceChildren } from '../dom.js';
import { appInfo, exportTeamsReport, testTeamsApp } from '../ipc.js';
import { errorCard } from '../error-card.js';
import { copyButton } from '../copy-button.js';

/** A chosen certificate PEM larger than this is not a key and a certificate. */
const MAX_PEM_BYTES = 256 * 1024;

const STATUS = {
  passed: { mark: '✔', words: 'passed' },
  failed: { mark: '✘', words: 'failed' },
  warning: { mark: '!', words: 'warning' },
  skipped: { mark: '–', words: 'skipped' },
};

/**
 * @param {string} id
 * @param {string} label
 * @param {Record<string, string | boolean>} attributes
 * @param {string} [hint]
 */
function field(id, label, attributes, hint) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, spellcheck: 'false', autocomplete: 'off', ...(hint ? { 'aria-describedby': `${id}-hint` } : {}), ...attributes }),
    hint ? h('small', { id: `${id}-hint`, class: 'muted' }, hint) : null,
  );
}

/** @param {import('../ipc.js').TeamsStep} step */
function stepRow(step) {
  const status = STATUS[step.status];
  return h(
    'li',
    { class: 'ews-step', 'data-status': step.status, 'data-step': step.id },
    h(
      'details',
      { open: step.status === 'failed' },
      h('summary', { class: 'step-line' }, h('span', { class: `step-mark ${step.status}`, 'aria-hidden': 'true' }, status.mark), h('span', { class: 'step-title' }, step.title), h('span', { class: 'sr-only' }, `: ${status.words}`), h('span', { class: 'muted small step-time' }, `${step.durationMs} ms`)),
      h('p', { class: 'step-detail' }, step.detail),
      step.requests.length ? h('ul', { class: 'small requests-list' }, step.requests.map((line) => h('li', {}, h('code', { class: 'url' }, line)))) : null,
    ),
  );
}

/** @param {import('../ipc.js').TeamsReport} report */
function verdictCard(report) {
  return h(
    'section',
    { class: `card verdict level-${report.passed ? 'full' : 'none'}`, 'aria-labelledby': 'teams-verdict-heading', 'data-testid': 'teams-verdict', 'data-passed': String(report.passed) },
    h('h2', { id: 'teams-verdict-heading' }, report.passed ? 'Teams meetings: working' : 'Teams meetings: not working'),
    h('p', { 'data-testid': 'teams-summary' }, report.summary),
    report.organization ? h('p', { class: 'small' }, `Organisation: ${report.organization} (${report.verifiedDomains.join(', ')})`) : null,
    report.fixes.length
      ? h(
          'div',
          { 'data-testid': 'teams-fixes' },
          h('h3', {}, 'To fix'),
          report.fixes.map((fix) =>
            h(
              'div',
              { class: 'fix' },
              h('p', {}, fix.problem),
              fix.command ? h('div', { class: 'command' }, h('code', {}, fix.command), copyButton(fix.command, 'Copy the command')) : null,
              fix.link ? h('div', { class: 'command' }, h('code', { class: 'url' }, fix.link), copyButton(fix.link, 'Copy the admin consent link')) : null,
              h('p', { class: 'small' }, `It ${fix.changes}.`),
              h('p', { class: 'small muted' }, 'Microsoft documentation: ', h('code', { class: 'url' }, fix.docUrl)),
            ),
          ),
        )
      : null,
  );
}

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  let active = true;
  /** @type {string | null} */
  let certificatePem = null;
  const run = h('button', { type: 'submit', class: 'primary', 'data-testid': 'teams-run' }, 'Run the test');
  const certificateName = h('small', { class: 'muted', id: 'teams-certificate-hint', role: 'status' }, 'Or a PEM file with the certificate and its private key (kept in memory only).');
  const certificate = /** @type {HTMLInputElement} */ (h('input', { id: 'teams-certificate', type: 'file', accept: '.pem', 'aria-describedby': 'teams-certificate-hint' }));
  certificate.addEventListener('change', () => {
    const file = certificate.files?.[0];
    certificatePem = null;
    if (!file) {
      certificateName.textContent = 'Or a PEM file with the certificate and its private key (kept in memory only).';
      return;
    }
    if (file.size > MAX_PEM_BYTES) {
      certificateName.textContent = `${file.name} is too large to be a certificate file.`;
      return;
    }
    run.setAttribute('disabled', '');
    file
      .text()
      .finally(() => run.removeAttribute('disabled'))
      .then((text) => {
        if (text.includes('ENCRYPTED PRIVATE KEY')) {
          certificateName.textContent = `${file.name} holds an encrypted key: decrypt it first (openssl pkey -in key.pem -out key-plain.pem).`;
          return;
        }
        if (!text.includes('-----BEGIN CERTIFICATE-----') || !text.includes('PRIVATE KEY-----')) {
          certificateName.textContent = `${file.name} needs both the certificate and its private key in PEM.`;
          return;
        }
        certificatePem = text;
        certificateName.textContent = `Using the certificate in ${file.name}.`;
      })
      .catch(() => {
        certificateName.textContent = `${file.name} could not be read.`;
      });
  });
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'card', 'aria-labelledby': 'teams-form-heading' },
      h('h2', { id: 'teams-form-heading' }, 'Teams Enterprise app'),
      field('teams-tenant', 'Tenant ID or domain', { type: 'text', required: true, 'data-testid': 'teams-tenant' }),
      field('teams-client-id', 'Application (client) ID', { type: 'text', required: true, 'data-testid': 'teams-client-id' }),
      field('teams-secret', 'Client secret', { type: 'password', 'data-testid': 'teams-secret' }, 'A chosen certificate is used instead of the secret.'),
      h('div', { class: 'field' }, h('label', { for: 'teams-certificate' }, 'Certificate (optional)'), certificate, certificateName),
      field('teams-user', 'Test user', { type: 'text', inputmode: 'email', required: true, 'data-testid': 'teams-user' }, 'The meeting is created on this user’s behalf, then deleted.'),
      h('div', { class: 'actions' }, run),
    )
  );
  const progress = h('p', { class: 'muted', role: 'status', 'data-testid': 'teams-progress' });
  const steps = h('ol', { class: 'ews-steps', 'aria-label': 'Test steps', 'data-testid': 'teams-steps' });
  const results = h('div', { 'data-testid': 'teams-results' });
  const exportStatus = h('p', { class: 'small', role: 'status', 'data-testid': 'teams-export-status' });
  replaceChildren(
    root,
    h('h1', {}, 'Test the Teams Enterprise app'),
    h('p', { class: 'lead' }, 'Before a vendor creates Teams meetings for your users, check the app: its permissions, the tenant, a test user, and a meeting made on that user’s behalf — deleted again afterwards.'),
    form,
    progress,
    steps,
    results,
  );
  /** @param {string} id */
  const value = (id) => /** @type {HTMLInputElement} */ (root.querySelector(`#${id}`)).value;

  appInfo()
    .then((info) => {
      if (!active || info.cloud !== 'sandbox') return;
      /** @type {HTMLInputElement} */ (root.querySelector('#teams-tenant')).value = 'contoso.com';
      /** @type {HTMLInputElement} */ (root.querySelector('#teams-client-id')).value = '50617283-94a5-4b6c-97e8-f90a1b2c3d4e';
      /** @type {HTMLInputElement} */ (root.querySelector('#teams-user')).value = 'lee@contoso.com';
      form.append(h('p', { class: 'small muted' }, 'Sandbox: the app "calconnect Teams Enterprise" (secret demo-teams-enterprise-secret~not-a-real-secret) has its application access policy granted to adele@, not to lee@contoso.com.'));
    })
    .catch(() => {});

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run.setAttribute('disabled', '');
    run.textContent = 'Testing…';
    replaceChildren(steps);
    replaceChildren(results);
    progress.textContent = 'Running the test…';
    testTeamsApp(
      { tenantId: value('teams-tenant'), clientId: value('teams-client-id'), user: value('teams-user'), clientSecret: value('teams-secret') || null, certificatePem },
      (step) => {
        if (!active) return;
        steps.append(stepRow(step));
        progress.textContent = `${step.title}: ${STATUS[step.status].words}`;
      },
    )
      .then((report) => {
        if (!active) return;
        progress.textContent = `Finished: ${report.steps.length} steps.`;
        replaceChildren(steps, ...report.steps.map(stepRow));
        const exportButton = (/** @type {'json' | 'text'} */ format, /** @type {string} */ label) =>
          h(
            'button',
            {
              type: 'button',
              'data-testid': `teams-export-${format}`,
              onclick: () =>
                exportTeamsReport(format)
                  .then((path) => {
                    exportStatus.textContent = `Saved to ${path}`;
                  })
                  .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
                    exportStatus.textContent = `${error.message} ${error.nextStep ?? ''}`;
                  }),
            },
            label,
          );
        replaceChildren(results, verdictCard(report), h('div', { class: 'actions' }, exportButton('json', 'Save the log as JSON'), exportButton('text', 'Save as a text report')), exportStatus);
      })
      .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
        if (!active) return;
        progress.textContent = '';
        replaceChildren(results, errorCard(error));
      })
      .finally(() => {
        if (!active) return;
        run.removeAttribute('disabled');
        run.textContent = 'Run the test again';
      });
  });

  return () => {
    active = false;
  };
}
