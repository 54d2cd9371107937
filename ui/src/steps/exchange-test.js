// @ts-check
/**
 * For Exchange admins: test an Enterprise Connect service account before handing it to a vendor.
 * Each step appears as it finishes (pushed from Rust), expandable to the requests it made; the verdict
 * names the access level granted, what a vendor can and cannot do, and the exact fix for what is missing.
 */
import { h, replaceChildren } from '../dom.js';
import { appInfo, exportExchangeReport, testExchangeAccount } from '../ipc.js';
import { errorCard } from '../error-card.js';
import { copyButton } from '../copy-button.js';

/** @typedef {import('../ipc.js').ExchangeReport} ExchangeReport */
/** @typedef {import('../ipc.js').ExchangeStep} ExchangeStep */

/** What a status looks like in the step list: a symbol and the words a screen reader says. */
const STATUS = {
  passed: { mark: '✔', words: 'passed' },
  failed: { mark: '✘', words: 'failed' },
  warning: { mark: '!', words: 'warning' },
  skipped: { mark: '–', words: 'skipped' },
  running: { mark: '…', words: 'running' },
};

/**
 * A labelled input.
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

/**
 * One row of the step list; `<details>` so the requests stay one click away.
 * @param {ExchangeStep | { id: string, title: string, status: 'running' }} step
 */
export function stepRow(step) {
  const status = STATUS[step.status];
  const mark = h('span', { class: `step-mark ${step.status}`, 'aria-hidden': 'true' }, status.mark);
  const title = h('span', { class: 'step-title' }, step.title);
  const spoken = h('span', { class: 'sr-only' }, `: ${status.words}`);
  if (!('detail' in step)) {
    return h('li', { class: 'ews-step', 'data-status': step.status }, h('div', { class: 'step-line' }, mark, title, spoken));
  }
  const summary = h('summary', { class: 'step-line' }, mark, title, spoken, h('span', { class: 'muted small step-time' }, `${step.durationMs} ms`));
  return h(
    'li',
    { class: 'ews-step', 'data-status': step.status, 'data-step': step.id },
    h(
      'details',
      { open: step.status === 'failed' },
      summary,
      h('p', { class: 'step-detail' }, step.detail),
      step.docUrl && step.status !== 'passed'
        ? h('p', { class: 'small' }, 'Microsoft documentation: ', h('code', { class: 'url' }, step.docUrl), copyButton(step.docUrl, 'Copy the documentation link'))
        : null,
      step.requests.length
        ? h(
            'table',
            { class: 'requests' },
            h('caption', { class: 'sr-only' }, `Requests made by ${step.title}`),
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Operation'), h('th', { scope: 'col' }, 'URL'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Code'), h('th', { scope: 'col' }, 'Time'))),
            h(
              'tbody',
              {},
              step.requests.map((request) =>
                h(
                  'tr',
                  {},
                  h('td', {}, request.operation),
                  h('td', { class: 'url' }, `${request.method} ${request.url}`),
                  h('td', {}, request.status === null ? (request.note ?? '—') : String(request.status)),
                  h('td', {}, request.responseCode ?? ''),
                  h('td', {}, `${request.durationMs} ms`),
                ),
              ),
            ),
          )
        : null,
    ),
  );
}

/**
 * The verdict card.
 * @param {ExchangeReport} report
 */
function verdictCard(report) {
  const verdict = report.verdict;
  return h(
    'section',
    { class: `card verdict level-${verdict.level}`, 'aria-labelledby': 'verdict-heading', 'data-testid': 'ews-verdict', 'data-level': verdict.level },
    h('h2', { id: 'verdict-heading' }, 'Access granted: ', h('span', { 'data-testid': 'ews-level' }, LEVEL_LABELS[verdict.level])),
    h('p', {}, verdict.summary),
    verdict.vendorCan.length ? h('div', {}, h('h3', {}, 'A vendor can'), h('ul', { class: 'facts can' }, verdict.vendorCan.map((line) => h('li', {}, line)))) : null,
    verdict.vendorCannot.length ? h('div', {}, h('h3', {}, 'A vendor cannot'), h('ul', { class: 'facts cannot' }, verdict.vendorCannot.map((line) => h('li', {}, line)))) : null,
    verdict.fixes.length
      ? h(
          'div',
          { 'data-testid': 'ews-fixes' },
          h('h3', {}, 'To fix'),
          verdict.fixes.map((fix) =>
            h(
              'div',
              { class: 'fix' },
              h('p', {}, fix.problem),
              fix.command ? h('div', { class: 'command' }, h('code', {}, fix.command), copyButton(fix.command, 'Copy the command')) : null,
              h('p', { class: 'small muted' }, fix.docUrl),
            ),
          ),
        )
      : null,
    verdict.notes.map((note) => h('p', { class: 'note' }, note)),
  );
}

/** @type {Record<string, string>} */
const LEVEL_LABELS = { full: 'Full', restricted: 'Restricted', freeBusy: 'Free-busy only', none: 'None' };

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  let active = true;
  const mailbox = field('ews-mailbox', 'Test mailbox', { type: 'email', required: true, 'data-testid': 'ews-mailbox' }, 'A user or resource mailbox the service account should reach.');
  const passwordFields = h(
    'div',
    { 'data-auth': 'password' },
    field('ews-username', 'Service account', { type: 'text', required: true, 'data-testid': 'ews-username' }, 'User name, DOMAIN\\user or UPN.'),
    field('ews-password', 'Password', { type: 'password', required: true, 'data-testid': 'ews-password' }),
  );
  const appFields = h(
    'div',
    { 'data-auth': 'app', hidden: true },
    field('ews-tenant', 'Tenant ID or domain', { type: 'text' }),
    field('ews-client-id', 'Application (client) ID', { type: 'text' }),
    field('ews-client-secret', 'Client secret', { type: 'password' }),
  );
  const authChoice = h(
    'fieldset',
    { class: 'choice' },
    h('legend', {}, 'How the service account signs in'),
    h('label', {}, h('input', { type: 'radio', name: 'ews-auth', value: 'password', checked: true }), ' Password (Exchange on-premises)'),
    h('label', {}, h('input', { type: 'radio', name: 'ews-auth', value: 'app' }), ' App registration with a client secret (Exchange Online)'),
  );
  const ewsUrl = field('ews-url', 'EWS URL (optional)', { type: 'url', placeholder: 'https://mail.contoso.com/EWS/Exchange.asmx' }, 'Leave empty to find it with Autodiscover.');
  const run = h('button', { type: 'submit', class: 'primary', 'data-testid': 'ews-run' }, 'Run the test');
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'card', 'aria-labelledby': 'ews-form-heading' }, h('h2', { id: 'ews-form-heading' }, 'Service account'), mailbox, authChoice, passwordFields, appFields, ewsUrl, h('div', { class: 'actions' }, run)));
  const steps = h('ol', { class: 'ews-steps', 'aria-label': 'Test steps', 'data-testid': 'ews-steps' });
  const progress = h('p', { class: 'muted', role: 'status', 'data-testid': 'ews-progress' });
  const results = h('div', { 'data-testid': 'ews-results' });
  const exportStatus = h('p', { class: 'small', role: 'status', 'data-testid': 'ews-export-status' });

  replaceChildren(
    root,
    h('h1', {}, 'Test an Exchange service account'),
    h('p', { class: 'lead' }, 'Before you hand Enterprise Connect credentials to a vendor, see what they can really do: Autodiscover, TLS, sign-in, impersonation of a mailbox, and the access level actually granted.'),
    form,
    progress,
    steps,
    results,
  );

  for (const radio of authChoice.querySelectorAll('input[type=radio]')) {
    radio.addEventListener('change', () => {
      const app = /** @type {HTMLInputElement} */ (authChoice.querySelector('input:checked')).value === 'app';
      passwordFields.hidden = app;
      appFields.hidden = !app;
      for (const input of passwordFields.querySelectorAll('input')) input.required = !app;
      for (const input of appFields.querySelectorAll('input')) input.required = app;
    });
  }

  /** @param {string} id */
  const value = (id) => /** @type {HTMLInputElement} */ (root.querySelector(`#${id}`)).value;

  // In the sandbox, suggest the demo service account and the AvailabilityOnly mailbox.
  appInfo()
    .then((info) => {
      if (!active || info.cloud !== 'sandbox') return;
      /** @type {HTMLInputElement} */ (root.querySelector('#ews-mailbox')).value = 'lee@contoso.com';
      /** @type {HTMLInputElement} */ (root.querySelector('#ews-username')).value = 'svc-calconnect@contoso.com';
      form.append(h('p', { class: 'small muted' }, 'Sandbox: svc-calconnect@contoso.com has Full access to adele@, Restricted to megan@, AvailabilityOnly on lee@ and nothing on alex@contoso.com. Its password is Demo-Passw0rd!calconnect.'));
    })
    .catch(() => {});

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const app = /** @type {HTMLInputElement} */ (authChoice.querySelector('input:checked')).value === 'app';
    /** @type {import('../ipc.js').ExchangeTestRequest} */
    const request = {
      mailbox: value('ews-mailbox'),
      ewsUrl: value('ews-url') || null,
      credentials: app
        ? { kind: 'app', tenantId: value('ews-tenant'), clientId: value('ews-client-id'), clientSecret: value('ews-client-secret') }
        : { kind: 'password', username: value('ews-username'), password: value('ews-password') },
    };
    run.setAttribute('disabled', '');
    run.textContent = 'Testing…';
    steps.setAttribute('aria-busy', 'true');
    replaceChildren(steps);
    replaceChildren(results);
    progress.textContent = 'Running the test…';
    /** @type {HTMLElement | null} */
    let running = null;
    testExchangeAccount(request, (message) => {
      if (!active) return;
      if (message.event === 'stepStarted') {
        running = stepRow({ id: message.id, title: message.title, status: 'running' });
        steps.append(running);
        progress.textContent = `${message.title}…`;
      } else {
        const row = stepRow(message.step);
        if (running) running.replaceWith(row);
        else steps.append(row);
        running = null;
      }
    })
      .then((report) => {
        if (!active) return;
        progress.textContent = `Finished: ${report.steps.length} steps.`;
        replaceChildren(steps, ...report.steps.map(stepRow));
        const exportButton = (/** @type {'json' | 'text'} */ format, /** @type {string} */ label) =>
          h(
            'button',
            {
              type: 'button',
              'data-testid': `ews-export-${format}`,
              onclick: () =>
                exportExchangeReport(format)
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
        steps.setAttribute('aria-busy', 'false');
        run.removeAttribute('disabled');
        run.textContent = 'Run the test again';
      });
  });

  return () => {
    active = false;
  };
}
