// @ts-check
/**
 * Step 3: sign in with the browser or with a code on another device. Progress (countdown, poll state)
 * and the outcome are pushed from Rust over a channel; this step never polls.
 */
import { h, replaceChildren } from '../dom.js';
import { cancelSignIn, startBrowserSignIn, startDeviceCode } from '../ipc.js';
import { accessLabel, formatCountdown } from '../wizard.js';
import { errorCard } from '../error-card.js';
import { copyButton } from '../copy-button.js';
import { linkActions } from '../link-actions.js';

/** @typedef {import('../ipc.js').IpcError} IpcError */
/** @typedef {import('../ipc.js').SignInEvent} SignInEvent */

const POLL_TEXT = {
  waiting: 'Waiting for you to finish signing in on the other device…',
  pending: 'Not finished yet on the other device. Still waiting…',
  slowDown: 'Microsoft asked calconnect to check less often. Still waiting…',
};

/**
 * @param {HTMLElement} root
 * @param {import('../wizard.js').StepContext} ctx
 * @returns {() => void} cleanup
 */
export function render(root, ctx) {
  const access = ctx.state.access ?? 'full';
  const body = h('div', { class: 'sign-in-body' });
  let active = true;
  /** The attempt whose events are current; events of an earlier attempt are ignored. */
  let attempt = 0;
  let inFlight = false;

  replaceChildren(
    root,
    h('h1', {}, 'Sign in to Microsoft 365'),
    h('p', { class: 'lead' }, `Access: ${accessLabel(access)}. Choose how you want to sign in.`),
    body,
  );

  // Elements the events update; recreated per attempt.
  const countdown = h('span', { 'data-testid': 'countdown' }, '');
  const progress = /** @type {HTMLProgressElement} */ (h('progress', { max: '1', value: '1', 'aria-label': 'Time left' }));
  const pollState = h('p', { class: 'muted', 'data-testid': 'poll-state', role: 'status' }, '');

  function showChoice() {
    replaceChildren(
      body,
      h(
        'div',
        { class: 'method-grid' },
        h(
          'button',
          { type: 'button', class: 'method primary', 'data-testid': 'method-browser', onclick: () => begin('browser') },
          h('strong', {}, 'Open my browser'),
          h('span', {}, 'Sign in on Microsoft’s page in your web browser on this computer.'),
        ),
        h(
          'button',
          { type: 'button', class: 'method', 'data-testid': 'method-device', onclick: () => begin('deviceCode') },
          h('strong', {}, 'Use a code on another device'),
          h('span', {}, 'Enter a short code on your phone or another computer.'),
        ),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'back' }) }, 'Back')),
    );
  }

  /**
   * @param {'browser' | 'deviceCode'} method
   * @param {boolean} [askConsent] browser only: ask Microsoft to show its consent page (after `ConsentRequired`)
   */
  async function begin(method, askConsent = false) {
    const current = ++attempt;
    let finished = false;
    inFlight = true;
    replaceChildren(
      body,
      h('div', { class: 'card waiting', 'aria-busy': 'true' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('p', {}, 'Contacting Microsoft…')),
    );
    /** @param {SignInEvent} event */
    const onEvent = (event) => {
      if (!active || current !== attempt) return;
      switch (event.kind) {
        case 'countdown':
          countdown.textContent = formatCountdown(event.remainingSeconds);
          progress.value = event.remainingSeconds;
          break;
        case 'polling':
          pollState.textContent = POLL_TEXT[event.poll];
          break;
        case 'connected':
          finished = true;
          inFlight = false;
          ctx.dispatch({ type: 'connected', account: event.account, calendars: event.calendars });
          break;
        case 'failed':
          finished = true;
          inFlight = false;
          if (event.error.code === 'Cancelled') showChoice();
          else showFailure(event.error, method);
          break;
      }
    };
    try {
      if (method === 'browser') {
        const view = await startBrowserSignIn(access, onEvent, askConsent);
        if (active && current === attempt && !finished) showBrowserWait(view);
      } else {
        const view = await startDeviceCode(access, onEvent);
        if (active && current === attempt && !finished) showDeviceCode(view);
      }
    } catch (error) {
      inFlight = false;
      if (active && current === attempt) showFailure(/** @type {IpcError} */ (error), method);
    }
  }

  function cancelButton() {
    return h(
      'button',
      {
        type: 'button',
        'data-testid': 'cancel-sign-in',
        onclick: () => {
          // The channel then reports Cancelled, which brings back the choice.
          cancelSignIn().catch(() => showChoice());
        },
      },
      'Cancel',
    );
  }

  /**
   * @param {number} total
   * @param {string} label
   */
  function timer(total, label) {
    progress.max = Math.max(1, total);
    progress.value = total;
    countdown.textContent = formatCountdown(total);
    return h('div', { class: 'timer' }, h('span', { class: 'muted' }, label, ' '), countdown, progress);
  }

  /** @param {import('../ipc.js').BrowserSignIn} view */
  function showBrowserWait(view) {
    const url = h('code', { class: 'url', 'data-testid': 'authorize-url' }, view.authorizeUrl);
    replaceChildren(
      body,
      h(
        'div',
        { class: 'card waiting', 'data-testid': 'browser-wait', 'aria-busy': 'true' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('h2', {}, 'Waiting for your browser…'),
        h('p', {}, 'Finish signing in on the Microsoft page in your browser. This window moves on by itself.'),
        timer(view.timeoutSeconds, 'Time left:'),
        view.browserOpened
          ? h('details', {}, h('summary', {}, 'The browser did not open?'), h('p', {}, 'Open this address yourself:'), url, copyButton(view.authorizeUrl, 'Copy the sign-in address', url))
          : h('div', {}, h('p', {}, 'Your browser did not open. Open this address yourself:'), url, copyButton(view.authorizeUrl, 'Copy the sign-in address', url)),
      ),
      h(
        'div',
        { class: 'actions' },
        cancelButton(),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              // Starting the device code cancels this attempt on the Rust side.
              begin('deviceCode');
            },
          },
          'Use a code instead',
        ),
      ),
    );
  }

  /** @param {import('../ipc.js').DeviceCode} view */
  function showDeviceCode(view) {
    const code = h('output', { class: 'user-code', 'data-testid': 'user-code', 'aria-label': 'Your code' }, view.userCode);
    const uri = h('code', { class: 'url', 'data-testid': 'verification-uri' }, view.verificationUri);
    pollState.textContent = POLL_TEXT.waiting;
    replaceChildren(
      body,
      h(
        'div',
        { class: 'card device-code', 'data-testid': 'device-code' },
        h(
          'div',
          { class: 'device-steps' },
          h('p', {}, '1. On your phone or another computer, open'),
          h('p', {}, uri, ' ', ...linkActions(view.verificationUri, 'the address', uri)),
          h('p', {}, '2. Enter this code:'),
          h('p', { class: 'code-row' }, code, ' ', copyButton(view.userCode, 'Copy the code', code)),
          timer(view.remainingSeconds, 'The code expires in'),
          pollState,
        ),
        view.qrCode
          ? h('img', { class: 'qr', src: view.qrCode, width: '180', height: '180', alt: `QR code that opens ${view.verificationUri}` })
          : null,
      ),
      h('div', { class: 'actions' }, cancelButton()),
    );
  }

  /**
   * @param {IpcError} error
   * @param {'browser' | 'deviceCode'} method
   */
  function showFailure(error, method) {
    const alternative = error.alternative && error.alternative !== method ? error.alternative : null;
    // No consent on record (AADSTS65001): Microsoft's consent page comes first, an administrator only if it fails.
    const consent = error.code === 'ConsentRequired';
    replaceChildren(
      body,
      errorCard(
        error,
        ...(consent
          ? [h('button', { type: 'button', class: 'primary', 'data-testid': 'sign-in-with-consent', onclick: () => begin('browser', true) }, 'Sign in again with consent')]
          : []),
        h('button', { type: 'button', class: consent ? false : 'primary', 'data-testid': 'retry', onclick: () => begin(method) }, 'Try again'),
        ...(alternative
          ? [
              h(
                'button',
                { type: 'button', onclick: () => begin(alternative) },
                alternative === 'deviceCode' ? 'Use a code on another device' : 'Open my browser',
              ),
            ]
          : []),
        ...(error.code === 'Configuration'
          ? [h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'showSettings' }) }, 'Open Settings')]
          : []),
        h('button', { type: 'button', onclick: () => ctx.dispatch({ type: 'back' }) }, 'Choose other access'),
      ),
    );
  }

  showChoice();

  return () => {
    active = false;
    // Leaving the step ends the wait: nobody is there to see its outcome.
    if (inFlight) cancelSignIn().catch(() => {});
  };
}
