// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseError } from '../src/ipc.js';

test('a structured rejection keeps its message and next step', () => {
  const error = normaliseError({ code: 'Internal', message: 'The keychain is locked.', nextStep: 'Unlock it.' });
  assert.deepEqual(error, { code: 'Internal', message: 'The keychain is locked.', nextStep: 'Unlock it.' });
});

test('an unknown code is treated as Internal', () => {
  const error = normaliseError({ code: 'SomethingNew', message: 'odd' });
  assert.equal(error.code, 'Internal');
  assert.equal(error.message, 'odd');
});

test('a bare string or nothing still yields a sentence and a way out', () => {
  assert.equal(normaliseError('boom').message, 'boom');
  const empty = normaliseError(undefined);
  assert.ok(empty.message.length > 0);
  assert.ok(empty.nextStep);
});

test('missing consent keeps its own code, so the sign-in step can offer the consent page', () => {
  const error = normaliseError({ code: 'ConsentRequired', message: 'No consent on record.', nextStep: 'Sign in again with consent.' });
  assert.equal(error.code, 'ConsentRequired');
  assert.equal(error.adminConsentUrl, undefined);
});
