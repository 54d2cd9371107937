// @ts-check
/**
 * For Exchange admins: test an Enterprise Connect service account before handing it to a vendor.
 * Each step appears as it finishes (pushed from Rust), expandable to the requests it made; the verdict
 * names the access level granted, what a vendor can and cannot do, and the exact fix for what is missing.
 * Several mailboxes (pasted, one a line or a CSV export) run at once, with a progress bar and a table of
 * each mailbox's level, route and what failed.
 */
import { h, replaceChildren } from '../dom.js';
import { appInfo, exportExchangeReport, testExchangeAccount } from '../ipc.js';
import { errorCard } from '../error-card.js';
import { copyButton } from '../copy-button.js';
import { linkActions } from '../link-actions.js';

/** @typedef {import('../ipc.js').ExchangeReport} ExchangeReport */
/** @typedef {import('../ipc.js').ExchangeStep} ExchangeStep */
/** @typedef {import('../ipc.js').ExchangeMailboxReport} ExchangeMailboxReport */
/** @typedef {import('../ipc.js').ExchangeMailboxProgress} ExchangeMailboxProgress */

/** @type {Record<string, string>} */
const ROUTE_LABELS = { impersonation: 'Impersonation', delegate: 'Delegate access', appOnly: 'App-only' };

/** A chosen CA file larger than this is not a certificate bundle. */
const MAX_CA_FILE_BYTES = 512 * 1024;

/** What a status looks like in the step list: a symbol and the words a screen reader says. */
const STATUS = {
  passed: { mark: '✔', words: 'passed' },
  failed: { mark: '✘', words: 'failed' },
  warning: { mark: '!', words: 'warning' },
  skipped: { mark: '–', words: 'skipped' },
  unconfirmed: { mark: '?', words: 'needs your confirmation' },
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
      { open: step.status === 'failed' || step.status === 'unconfirmed' },
      summary,
      h('p', { class: 'step-detail' }, step.detail),
      step.docUrl && step.status !== 'passed'
        ? h('p', { class: 'small' }, 'Microsoft documentation: ', h('code', { class: 'url' }, step.docUrl), ...linkActions(step.docUrl, 'the documentation link'))
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
          h('h3', {}, verdict.chooseOne ? 'To fix: choose one, least privilege first' : 'To fix'),
          verdict.fixes.map((fix, index) =>
            h(
              'div',
              { class: 'fix' },
              h('p', {}, fix.reaches ? h('strong', {}, `${fixLabel(verdict, index)}: `) : null, fix.problem),
              fix.command ? h('div', { class: 'command' }, h('code', {}, fix.command), copyButton(fix.command, 'Copy the command')) : null,
              fix.changes ? h('p', { class: 'small' }, `It ${fix.changes}.`) : null,
              h('p', { class: 'small muted' }, 'Microsoft documentation: ', h('code', { class: 'url' }, fix.docUrl), ...linkActions(fix.docUrl, 'the documentation link')),
            ),
          ),
        )
      : null,
    verdict.notes.map((note) => h('p', { class: 'note' }, note)),
  );
}

/**
 * Autodiscover found an EWS URL only through a detour (SRV, the plain-http probe, a redirect), so no
 * credentials went to it: the admin may vouch for it, which reruns the test with it as the EWS URL.
 * @param {string} url
 * @param {() => void} useIt
 */
function confirmCard(url, useIt) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'ews-confirm-heading', 'data-testid': 'ews-unconfirmed' },
    h('h2', { id: 'ews-confirm-heading' }, 'Is this your Exchange server?'),
    h('p', {}, 'Autodiscover named this EWS URL, but not directly from the mailbox\'s domain or its autodiscover host, so the service account\'s credentials were not sent to it:'),
    h('p', {}, h('code', { class: 'url', 'data-testid': 'ews-unconfirmed-url' }, url)),
    h('p', { class: 'small muted' }, 'Use it only if you know this host is your organisation\'s Exchange server.'),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', 'data-testid': 'ews-use-url', onclick: useIt }, 'Use this URL')),
  );
}

/** @type {Record<string, string>} */
const LEVEL_LABELS = { full: 'Full', restricted: 'Restricted', freeBusy: 'Free-busy only', none: 'None' };

/**
 * "Option 2, gives Restricted access" among alternatives, "Gives Full access" for a single one.
 * @param {import('../ipc.js').ExchangeVerdict} verdict
 * @param {number} index
 */
function fixLabel(verdict, index) {
  const fix = verdict.fixes[index];
  const level = `${LEVEL_LABELS[fix.reaches ?? ''] ?? fix.reaches} access`;
  if (!verdict.chooseOne) return `Gives ${level}`;
  const position = verdict.fixes.slice(0, index + 1).filter((candidate) => candidate.reaches).length;
  return `Option ${position}, gives ${level}`;
}

/**
 * One row of the per-mailbox table.
 * @param {{ mailbox: string, level: string, route: string | null, failed: string | null }} entry
 */
function mailboxRow(entry) {
  return h(
    'tr',
    { 'data-level': entry.level, 'data-mailbox': entry.mailbox },
    h('th', { scope: 'row' }, entry.mailbox),
    h('td', {}, h('span', { class: `level-pill level-${entry.level}` }, LEVEL_LABELS[entry.level] ?? entry.level)),
    h('td', {}, entry.route ? (ROUTE_LABELS[entry.route] ?? entry.route) : '—'),
    h('td', { class: 'small' }, entry.failed ?? '—'),
  );
}

/**
 * The per-mailbox table: level, route and what failed, one row per mailbox.
 * @param {HTMLElement[]} rows
 */
function mailboxTable(rows) {
  return h(
    'table',
    { class: 'mailboxes', 'data-testid': 'ews-mailboxes' },
    h('caption', { class: 'sr-only' }, 'Access per mailbox'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Mailbox'), h('th', { scope: 'col' }, 'Level'), h('th', { scope: 'col' }, 'Route'), h('th', { scope: 'col' }, 'What failed'))),
    h('tbody', {}, rows),
  );
}

/**
 * @param {HTMLElement} root
 * @returns {() => void} cleanup
 */
export function render(root) {
  let active = true;
  const mailbox = h(
    'div',
    { class: 'field' },
    h('label', { for: 'ews-mailbox' }, 'Test mailboxes'),
    h('textarea', { id: 'ews-mailbox', name: 'ews-mailbox', rows: '3', required: true, spellcheck: 'false', autocomplete: 'off', 'data-testid': 'ews-mailbox', 'aria-describedby': 'ews-mailbox-hint' }),
    h('small', { id: 'ews-mailbox-hint', class: 'muted' }, 'One mailbox address a line, or paste a CSV export with a header (PrimarySmtpAddress, EmailAddress…). Up to 8 are tested at once.'),
  );
  const caName = h('small', { class: 'muted', id: 'ews-ca-hint', role: 'status', 'data-testid': 'ews-ca-name' }, 'Only for an internal CA: the OS trust store and the public roots are always trusted.');
  const caInput = /** @type {HTMLInputElement} */ (h('input', { id: 'ews-ca-file', type: 'file', accept: '.pem,.crt,.cer', 'aria-describedby': 'ews-ca-hint', 'data-testid': 'ews-ca-file' }));
  /** @type {string | null} */
  let caPem = null;
  caInput.addEventListener('change', () => {
    const file = caInput.files?.[0];
    caPem = null;
    if (!file) {
      caName.textContent = 'Only for an internal CA: the OS trust store and the public roots are always trusted.';
      return;
    }
    if (file.size > MAX_CA_FILE_BYTES) {
      caName.textContent = `${file.name} is too large to be a certificate file.`;
      return;
    }
    // The run waits for the file: a test started before it is read would not trust the CA.
    run.setAttribute('disabled', '');
    file
      .text()
      .finally(() => run.removeAttribute('disabled'))
      .then((text) => {
        if (!text.includes('-----BEGIN CERTIFICATE-----')) {
          caName.textContent = `${file.name} is not a PEM certificate (export the CA as Base-64 encoded X.509).`;
          return;
        }
        caPem = text;
        caName.textContent = `Trusting ${file.name} as well.`;
      })
      .catch(() => {
        caName.textContent = `${file.name} could not be read.`;
      });
  });
  const caField = h('div', { class: 'field' }, h('label', { for: 'ews-ca-file' }, 'Internal CA certificate (optional)'), caInput, caName);
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
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'card', 'aria-labelledby': 'ews-form-heading' }, h('h2', { id: 'ews-form-heading' }, 'Service account'), mailbox, authChoice, passwordFields, appFields, ewsUrl, caField, h('div', { class: 'actions' }, run)));
  const steps = h('ol', { class: 'ews-steps', 'aria-label': 'Test steps', 'data-testid': 'ews-steps' });
  const progress = h('p', { class: 'muted', role: 'status', 'data-testid': 'ews-progress' });
  const bar = /** @type {HTMLProgressElement} */ (h('progress', { class: 'ews-bar', max: '1', value: '0', hidden: true, 'aria-label': 'Mailboxes tested', 'data-testid': 'ews-bar' }));
  const liveRows = h('tbody', {});
  const liveTable = h('div', { hidden: true }, h('table', { class: 'mailboxes' }, h('caption', { class: 'sr-only' }, 'Mailboxes tested so far'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Mailbox'), h('th', { scope: 'col' }, 'Level'), h('th', { scope: 'col' }, 'Route'), h('th', { scope: 'col' }, 'What failed'))), liveRows));
  const results = h('div', { 'data-testid': 'ews-results' });
  const exportStatus = h('p', { class: 'small', role: 'status', 'data-testid': 'ews-export-status' });

  replaceChildren(
    root,
    h('h1', {}, 'Test an Exchange service account'),
    h('p', { class: 'lead' }, 'Before you hand Enterprise Connect credentials to a vendor, see what they can really do: Autodiscover, TLS, sign-in, impersonation and delegate access to each mailbox, and the access level actually granted.'),
    form,
    progress,
    bar,
    steps,
    liveTable,
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
      form.append(h('p', { class: 'small muted' }, 'Sandbox: svc-calconnect@contoso.com impersonates adele@ (Full), has Editor on the calendar of megan@ (Restricted, by delegate access), only the Default AvailabilityOnly on lee@ and nothing on alex@contoso.com. Its password is Demo-Passw0rd!calconnect.'));
    })
    .catch(() => {});

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const app = /** @type {HTMLInputElement} */ (authChoice.querySelector('input:checked')).value === 'app';
    /** @type {import('../ipc.js').ExchangeTestRequest} */
    const request = {
      mailboxes: /** @type {HTMLTextAreaElement} */ (root.querySelector('#ews-mailbox')).value,
      ewsUrl: value('ews-url') || null,
      caPem,
      credentials: app
        ? { kind: 'app', tenantId: value('ews-tenant'), clientId: value('ews-client-id'), clientSecret: value('ews-client-secret') }
        : { kind: 'password', username: value('ews-username'), password: value('ews-password') },
    };
    run.setAttribute('disabled', '');
    run.textContent = 'Testing…';
    steps.setAttribute('aria-busy', 'true');
    replaceChildren(steps);
    replaceChildren(results);
    replaceChildren(liveRows);
    liveTable.hidden = true;
    bar.hidden = true;
    progress.textContent = 'Running the test…';
    /** @type {HTMLElement | null} */
    let running = null;
    testExchangeAccount(request, (message) => {
      if (!active) return;
      if (message.event === 'mailboxFinished') {
        const { done, total } = message.progress;
        bar.hidden = false;
        bar.max = total;
        bar.value = done;
        liveTable.hidden = false;
        liveRows.append(mailboxRow(message.progress));
        // The status line is a live region: announce every tenth of the run, not every mailbox.
        const step = Math.max(1, Math.ceil(total / 10));
        if (done === total || done % step === 0) progress.textContent = `${done} of ${total} mailboxes tested…`;
      } else if (message.event === 'stepStarted') {
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
        const several = report.mailboxes.length > 1;
        progress.textContent = several ? `Finished: ${report.mailboxes.length} mailboxes.` : `Finished: ${report.steps.length} steps.`;
        bar.hidden = true;
        liveTable.hidden = true;
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
                    exportStatus.textContent = path ? `Saved to ${path}` : 'Not saved.';
                  })
                  .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
                    exportStatus.textContent = `${error.message} ${error.nextStep ?? ''}`;
                  }),
            },
            label,
          );
        const table = several ? h('section', { class: 'card', 'aria-label': 'Access per mailbox' }, h('h2', {}, 'Mailboxes'), mailboxTable(report.mailboxes.map(mailboxRow))) : null;
        // Several mailboxes: the table first (each mailbox's level), then the verdict for them all.
        const unconfirmed = report.unconfirmedEwsUrl;
        const confirm = unconfirmed
          ? confirmCard(unconfirmed, () => {
              // The admin vouches for the URL: the same test again, with it as the explicit EWS URL.
              /** @type {HTMLInputElement} */ (root.querySelector('#ews-url')).value = unconfirmed;
              form.requestSubmit();
            })
          : null;
        replaceChildren(results, ...(confirm ? [confirm] : []), ...(table ? [table] : []), verdictCard(report), h('div', { class: 'actions' }, exportButton('json', 'Save the log as JSON'), exportButton('text', 'Save as a text report')), exportStatus);
      })
      .catch((/** @type {import('../ipc.js').IpcError} */ error) => {
        if (!active) return;
        progress.textContent = '';
        bar.hidden = true;
        liveTable.hidden = true;
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
