// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialStep, STEPS } from '../src/wizard.js';

test('the wizard starts at the welcome step', () => {
  assert.equal(initialStep(), 'welcome');
  assert.ok(STEPS.includes(initialStep()));
});
