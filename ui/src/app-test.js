// @ts-check
/**
 * What the admin tests of Graph apps share (the Teams test and the Graph test): the form with a client
 * secret or a certificate file (read here, kept in memory only), the live step list, the fixes with their
 * commands or links, and the exports. Each step supplies its own fields, run and verdict.
 */
import { h, replaceChildren } from './dom.js';
import { appInfo } from './ipc.js';
import { errorCard } from './error-card.js';
import { copyButton } from './copy-button.js';
import { linkActions } from './link-actions.js';

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
export function field(id, label, attributes, hint) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, spellcheck: 'false', autocomplete: 'off', ...(hint ? { 'aria-describedby': `${id}-hint` } : {}), ...attributes }),
    hint ? h('small', { id: `${id}-hint`, class: 'muted' }, hint) : null,
  );
}

/** @param {import('./ipc.js').TeamsStep} step */
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

/**
 * The fixes of a verdict, each with its command or link to copy.
 * @param {string} testId
 * @param {import('./ipc.js').TeamsFix[]} fixes
 */
export function fixesBlock(testId, fixes) {
  if (!fixes.length) return null;
  return h(
    'div',
    { 'data-testid': testId },
    h('h3', {}, 'To fix'),
    fixes.map((fix) =>
      h(
        'div',
        { class: 'fix' },
        h('p', {}, fix.problem),
        fix.command ? h('div', { class: 'command' }, h('code', {}, fix.command), copyButton(fix.command, 'Copy the command')) : null,
        fix.link ? h('div', { class: 'command' }, h('code', { class: 'url' }, fix.link), ...linkActions(fix.link, 'the admin consent link')) : null,
        h('p', { class: 'small' }, `It ${fix.changes}.`),
        h('p', { class: 'small muted' }, 'Microsoft documentation: ', h('code', { class: 'url' }, fix.docUrl), ...linkActions(fix.docUrl, 'the documentation link')),
      ),
    ),
  );
}

/**
 * @typedef {{
 *   prefix: string, heading: string, lead: string, formHeading: string, userLabel: string, userHint: string,
 *   extraFields?: HTMLElement[],
 *   sandbox: { tenant: string, clientId: string, user: string, note: string },
 *   run: (request: import('./ipc.js').TeamsTestRequest, onStep: (step: import('./ipc.js').TeamsStep) => void) => Promise<{ steps: import('./ipc.js').TeamsStep[] }>,
 *   verdict: (report: any) => HTMLElement,
 *   exportReport: (format: 'json' | 'text') => Promise<string | null>,
 * }} AppTestOptions
 */

/**
 * Renders an admin app test step.
 * @param {HTMLElement} root
 * @param {AppTestOptions} options
 * @returns {() => void} cleanup
 */
export function renderAppTest(root, options) {
  const p = options.prefix;
  let active = true;
  let running = false;
  /** @type {string | null} */
  let certificatePem = null;
  const run = h('button', { type: 'submit', class: 'primary', 'data-testid': `${p}-run` }, 'Run the test');
  const defaultHint = 'Or a PEM file with the certificate and its private key (kept in memory only).';
  const certificateName = h('small', { class: 'muted', id: `${p}-certificate-hint`, role: 'status' }, defaultHint);
  const certificate = /** @type {HTMLInputElement} */ (h('input', { id: `${p}-certificate`, type: 'file', accept: '.pem', 'aria-describedby': `${p}-certificate-hint` }));
  certificate.addEventListener('change', () => {
    const file = certificate.files?.[0];
    certificatePem = null;
    if (!file) {
      certificateName.textContent = defaultHint;
      return;
    }
    if (file.size > MAX_PEM_BYTES) {
      certificateName.textContent = `${file.name} is too large to be a certificate file.`;
      return;
    }
    run.setAttribute('disabled', '');
    file
      .text()
      .finally(() => {
        if (!running) run.removeAttribute('disabled');
      })
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
      { class: 'card', 'aria-labelledby': `${p}-form-heading` },
      h('h2', { id: `${p}-form-heading` }, options.formHeading),
      field(`${p}-tenant`, 'Tenant ID or domain', { type: 'text', required: true, 'data-testid': `${p}-tenant` }),
      field(`${p}-client-id`, 'Application (client) ID', { type: 'text', required: true, 'data-testid': `${p}-client-id` }),
      field(`${p}-secret`, 'Client secret', { type: 'password', 'data-testid': `${p}-secret` }, 'A chosen certificate is used instead of the secret.'),
      h('div', { class: 'field' }, h('label', { for: `${p}-certificate` }, 'Certificate (optional)'), certificate, certificateName),
      field(`${p}-user`, options.userLabel, { type: 'text', inputmode: 'email', required: true, 'data-testid': `${p}-user` }, options.userHint),
      ...(options.extraFields ?? []),
      h('div', { class: 'actions' }, run),
    )
  );
  const progress = h('p', { class: 'muted', role: 'status', 'data-testid': `${p}-progress` });
  const steps = h('ol', { class: 'ews-steps', 'aria-label': 'Test steps', 'data-testid': `${p}-steps` });
  const results = h('div', { 'data-testid': `${p}-results` });
  const exportStatus = h('p', { class: 'small', role: 'status', 'data-testid': `${p}-export-status` });
  replaceChildren(root, h('h1', {}, options.heading), h('p', { class: 'lead' }, options.lead), form, progress, steps, results);
  /** @param {string} id */
  const value = (id) => /** @type {HTMLInputElement} */ (root.querySelector(`#${p}-${id}`)).value;

  appInfo()
    .then((info) => {
      if (!active || info.cloud !== 'sandbox') return;
      /** @type {HTMLInputElement} */ (root.querySelector(`#${p}-tenant`)).value = options.sandbox.tenant;
      /** @type {HTMLInputElement} */ (root.querySelector(`#${p}-client-id`)).value = options.sandbox.clientId;
      /** @type {HTMLInputElement} */ (root.querySelector(`#${p}-user`)).value = options.sandbox.user;
      form.append(h('p', { class: 'small muted' }, options.sandbox.note));
    })
    .catch(() => {});

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    running = true;
    run.setAttribute('disabled', '');
    run.textContent = 'Testing…';
    replaceChildren(steps);
    replaceChildren(results);
    progress.textContent = 'Running the test…';
    options
      .run({ tenantId: value('tenant'), clientId: value('client-id'), user: value('user'), clientSecret: value('secret') || null, certificatePem }, (step) => {
        if (!active) return;
        steps.append(stepRow(step));
        progress.textContent = `${step.title}: ${STATUS[step.status].words}`;
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
              'data-testid': `${p}-export-${format}`,
              onclick: () =>
                options
                  .exportReport(format)
                  .then((path) => {
                    exportStatus.textContent = path ? `Saved to ${path}` : 'Not saved.';
                  })
                  .catch((/** @type {import('./ipc.js').IpcError} */ error) => {
                    exportStatus.textContent = `${error.message} ${error.nextStep ?? ''}`;
                  }),
            },
            label,
          );
        replaceChildren(results, options.verdict(report), h('div', { class: 'actions' }, exportButton('json', 'Save the log as JSON'), exportButton('text', 'Save as a text report')), exportStatus);
      })
      .catch((/** @type {import('./ipc.js').IpcError} */ error) => {
        if (!active) return;
        progress.textContent = '';
        replaceChildren(results, errorCard(error));
      })
      .finally(() => {
        running = false;
        if (!active) return;
        run.removeAttribute('disabled');
        run.textContent = 'Run the test again';
      });
  });

  return () => {
    active = false;
  };
}
