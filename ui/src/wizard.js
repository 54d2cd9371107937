// @ts-check
/**
 * The wizard's state machine, kept free of the DOM so it can be tested with `node --test`.
 *
 * Welcome → Choose access → Sign in → Connected, with Accounts and Settings reachable from anywhere.
 */

/** @typedef {'welcome' | 'access' | 'signIn' | 'connected' | 'accounts' | 'settings' | 'exchange' | 'teamsTest' | 'graphTest'} StepName */
/** @typedef {import('./ipc.js').Access} Access */
/** @typedef {import('./ipc.js').Account} Account */
/** @typedef {import('./ipc.js').Calendar} Calendar */

/**
 * @typedef {{
 *   step: StepName,
 *   access: Access | null,
 *   account: Account | null,
 *   calendars: Calendar[] | null,
 * }} WizardState
 */

/**
 * @typedef {{ type: 'connectNew' }
 *   | { type: 'chooseAccess', access: Access }
 *   | { type: 'connected', account: Account, calendars: Calendar[] }
 *   | { type: 'openAccount', account: Account }
 *   | { type: 'reconnect', account: Account }
 *   | { type: 'showAccounts' }
 *   | { type: 'showSettings' }
 *   | { type: 'showExchangeTest' }
 *   | { type: 'showTeamsTest' }
 *   | { type: 'showGraphTest' }
 *   | { type: 'home' }
 *   | { type: 'back' }} WizardEvent
 */

/** The order of the wizard's main steps (Accounts and Settings sit beside them). */
export const STEPS = /** @type {const} */ (['welcome', 'access', 'signIn', 'connected', 'accounts', 'settings', 'exchange', 'teamsTest', 'graphTest']);

/**
 * The step to show first.
 * @returns {StepName}
 */
export function initialStep() {
  return 'welcome';
}

/** @returns {WizardState} */
export function initialState() {
  return { step: initialStep(), access: null, account: null, calendars: null };
}

/**
 * The state after `event`. Pure: the DOM and IPC live in the steps.
 * @param {WizardState} state
 * @param {WizardEvent} event
 * @returns {WizardState}
 */
export function transition(state, event) {
  switch (event.type) {
    case 'connectNew':
      return { ...state, step: 'access', access: state.access ?? 'full' };
    case 'chooseAccess':
      return { ...state, step: 'signIn', access: event.access };
    case 'connected':
      return { ...state, step: 'connected', account: event.account, calendars: event.calendars };
    case 'openAccount':
      return { ...state, step: 'connected', account: event.account, calendars: null };
    case 'reconnect':
      // Sign in again with the app the account used, so its settings and id stay the same.
      return { ...state, step: 'signIn', access: event.account.app };
    case 'showAccounts':
      return { ...state, step: 'accounts' };
    case 'showSettings':
      return { ...state, step: 'settings' };
    case 'showExchangeTest':
      return { ...state, step: 'exchange' };
    case 'showTeamsTest':
      return { ...state, step: 'teamsTest' };
    case 'showGraphTest':
      return { ...state, step: 'graphTest' };
    case 'home':
      return { ...state, step: 'welcome' };
    case 'back':
      return { ...state, step: previousStep(state.step) };
  }
}

/**
 * @param {StepName} step
 * @returns {StepName}
 */
function previousStep(step) {
  switch (step) {
    case 'signIn':
      return 'access';
    case 'access':
    case 'connected':
    case 'accounts':
    case 'settings':
    case 'exchange':
    case 'teamsTest':
    case 'graphTest':
    case 'welcome':
      return 'welcome';
  }
}

/**
 * The label of an access level as the account card shows it.
 * @param {Access} access
 */
export function accessLabel(access) {
  if (access === 'teams') return 'Teams conferencing (no calendar access)';
  return access === 'full' ? 'Full' : 'Free/Busy only';
}

/**
 * `mm:ss` for a countdown.
 * @param {number} seconds
 */
export function formatCountdown(seconds) {
  const safe = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(safe / 60);
  return `${minutes}:${String(safe % 60).padStart(2, '0')}`;
}

/**
 * Calendars whose name or owner contains `query` (case-insensitive); all of them for a blank query.
 * @param {Calendar[]} list
 * @param {string} query
 */
export function filterCalendars(list, query) {
  const needle = query.trim().toLocaleLowerCase();
  if (!needle) return list;
  return list.filter(
    (calendar) =>
      calendar.name.toLocaleLowerCase().includes(needle) || (calendar.owner ?? '').toLocaleLowerCase().includes(needle),
  );
}

/** @typedef {{ state: WizardState, dispatch: (event: WizardEvent) => void }} StepContext */
