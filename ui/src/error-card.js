// @ts-check
/** The one way an error is shown: the core's plain sentence, its next step, and what an admin needs. */
import { h } from './dom.js';
import { linkActions } from './link-actions.js';

/**
 * @param {import('./ipc.js').IpcError} error
 * @param {...HTMLElement} actions buttons offered as the way out
 * @returns {HTMLElement}
 */
export function errorCard(error, ...actions) {
  return h(
    'div',
    { class: 'card error', role: 'alert', 'data-testid': 'error', 'data-code': error.code },
    h('strong', { 'data-testid': 'error-message' }, error.message),
    error.nextStep ? h('p', { 'data-testid': 'error-next-step' }, error.nextStep) : null,
    error.adminConsentUrl
      ? h(
          'div',
          { class: 'consent-link' },
          h('p', {}, 'Send this link to your Microsoft 365 administrator:'),
          h('code', { class: 'url', 'data-testid': 'admin-consent-url' }, error.adminConsentUrl),
          ...linkActions(error.adminConsentUrl, 'the admin consent link'),
        )
      : null,
    error.traceId || error.correlationId
      ? h(
          'p',
          { class: 'muted small' },
          error.traceId ? `Trace ID: ${error.traceId}` : '',
          error.traceId && error.correlationId ? ' · ' : '',
          error.correlationId ? `Correlation ID: ${error.correlationId}` : '',
        )
      : null,
    actions.length ? h('div', { class: 'actions' }, ...actions) : null,
  );
}
