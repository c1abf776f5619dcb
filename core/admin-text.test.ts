import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminTextProblem, MAX_ADMIN_TEXT_CHARS } from './admin-text';

test('admin text up to the cap is accepted, one character more is refused with the limit', () => {
  assert.equal(adminTextProblem('note', undefined), null);
  assert.equal(adminTextProblem('note', 'x'.repeat(MAX_ADMIN_TEXT_CHARS)), null);
  assert.equal(
    adminTextProblem('note', 'x'.repeat(MAX_ADMIN_TEXT_CHARS + 1)),
    'note is 2001 characters long; at most 2000 are kept',
  );
});
