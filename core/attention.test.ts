import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsAdminAttention } from './attention';

test('wrong credentials and a forbidden call need an admin; transient and other faults do not', () => {
  assert.equal(needsAdminAttention('INVALID_CLIENT'), true);
  assert.equal(needsAdminAttention('FORBIDDEN'), true);
  for (const code of [
    'BAD_REQUEST',
    'NOT_FOUND',
    'UNAUTHORIZED',
    'RATE_LIMITED',
    'SERVER_ERROR',
    'TIMEOUT',
    'NETWORK',
    'MALFORMED_BODY',
    'UNEXPECTED_SHAPE',
    'REPEATED_PAGE',
    'CYCLE_FAILED',
    '',
    null,
    undefined,
  ]) {
    assert.equal(needsAdminAttention(code), false, String(code));
  }
});
