// @ts-check
/** Boots the wizard: shows the first step and swaps steps as the person moves through it. */
import { initialState, transition } from './wizard.js';
import * as welcome from './steps/welcome.js';
import * as access from './steps/access.js';
import * as signIn from './steps/sign-in.js';
import * as connected from './steps/connected.js';
import * as accounts from './steps/accounts.js';
import * as settings from './steps/settings.js';
import * as exchange from './steps/exchange-test.js';
import * as teamsTest from './steps/teams-test.js';
import * as graphTest from './steps/graph-test.js';

// Start-up marks, logged by Rust with the first screen (`uiReady`).
performance.mark('modules-evaluated');

/** @type {Record<import('./wizard.js').StepName, { render: (root: HTMLElement, ctx: import('./wizard.js').StepContext) => () => void }>} */
const stepModules = { welcome, access, signIn, connected, accounts, settings, exchange, teamsTest, graphTest };

/** @type {(() => void) | null} */
let cleanupCurrentStep = null;
let state = initialState();

/**
 * @param {import('./wizard.js').WizardEvent} event
 */
function dispatch(event) {
  state = transition(state, event);
  show();
}

function show() {
  const root = /** @type {HTMLElement} */ (document.getElementById('step'));
  cleanupCurrentStep?.();
  root.dataset.step = state.step;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const current = link.getAttribute('data-nav') === state.step;
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanupCurrentStep = stepModules[state.step].render(root, { state, dispatch });
  // Move focus to the new step so keyboard and screen-reader users start at its heading.
  root.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

/** @type {Record<string, import('./wizard.js').WizardEvent>} */
const navEvents = {
  welcome: { type: 'home' },
  accounts: { type: 'showAccounts' },
  settings: { type: 'showSettings' },
  exchange: { type: 'showExchangeTest' },
  teamsTest: { type: 'showTeamsTest' },
  graphTest: { type: 'showGraphTest' },
};
for (const link of document.querySelectorAll('[data-nav]')) {
  const target = link.getAttribute('data-nav') ?? '';
  link.addEventListener('click', () => dispatch(navEvents[target]));
}

show();
