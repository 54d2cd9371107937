// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterCalendars, formatCountdown, initialState, initialStep, STEPS, transition } from '../src/wizard.js';

/** @type {import('../src/ipc.js').Account} */
const adele = {
  id: 'full:1',
  name: 'Adele Vance',
  email: 'adele@contoso.com',
  access: 'freeBusy',
  app: 'full',
  grantedScopes: ['User.Read'],
  needsSignInAgain: true,
  connectedAt: '2024-01-01T00:00:00Z',
};

test('the wizard starts at the welcome step', () => {
  assert.equal(initialStep(), 'welcome');
  assert.ok(STEPS.includes(initialStep()));
});

test('connecting goes welcome → access → sign-in → connected', () => {
  let state = initialState();
  state = transition(state, { type: 'connectNew' });
  assert.equal(state.step, 'access');
  assert.equal(state.access, 'full', 'Full is preselected');
  state = transition(state, { type: 'chooseAccess', access: 'freeBusy' });
  assert.deepEqual([state.step, state.access], ['signIn', 'freeBusy']);
  state = transition(state, { type: 'connected', account: adele, calendars: [] });
  assert.equal(state.step, 'connected');
  assert.equal(state.account, adele);
});

test('back from sign-in returns to the access choice, and from elsewhere to welcome', () => {
  const signIn = { ...initialState(), step: /** @type {const} */ ('signIn') };
  assert.equal(transition(signIn, { type: 'back' }).step, 'access');
  const accounts = { ...initialState(), step: /** @type {const} */ ('accounts') };
  assert.equal(transition(accounts, { type: 'back' }).step, 'welcome');
});

test('signing in again reuses the app the account signed in with, not the access it got', () => {
  const state = transition(initialState(), { type: 'reconnect', account: adele });
  assert.deepEqual([state.step, state.access], ['signIn', 'full']);
});

test('opening an account forgets calendars of the previous one', () => {
  const withCalendars = { ...initialState(), calendars: [] };
  assert.equal(transition(withCalendars, { type: 'openAccount', account: adele }).calendars, null);
});

test('the countdown reads minutes and two-digit seconds and never goes negative', () => {
  assert.equal(formatCountdown(899), '14:59');
  assert.equal(formatCountdown(5), '0:05');
  assert.equal(formatCountdown(-3), '0:00');
});

test('calendar search matches name or owner, ignoring case', () => {
  /** @param {string} name @param {string | null} owner */
  const calendar = (name, owner) => ({ id: name, name, color: null, isDefault: false, canEdit: true, owner, freeBusyOnly: false });
  const list = [calendar('Calendar', 'Adele Vance'), calendar('Birthdays', null), calendar('Team', 'Megan Bowen')];
  assert.deepEqual(filterCalendars(list, 'MEGAN').map((c) => c.name), ['Team']);
  assert.deepEqual(filterCalendars(list, 'birth').map((c) => c.name), ['Birthdays']);
  assert.equal(filterCalendars(list, '  ').length, 3);
});

test('the Exchange test is reachable from anywhere and Back returns home', () => {
  const connected = transition(initialState(), { type: 'connectNew' });
  const exchange = transition(connected, { type: 'showExchangeTest' });
  assert.equal(exchange.step, 'exchange');
  assert.equal(transition(exchange, { type: 'back' }).step, 'welcome');
});
