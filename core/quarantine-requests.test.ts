import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_ADMIN_TEXT_CHARS } from './admin-text';
import {
  adminTextOf,
  requestIdReuseProblem,
  requestProblem,
  unrecordableProblem,
  withAdminTextCut,
} from './quarantine-requests';

const long = 'x'.repeat(MAX_ADMIN_TEXT_CHARS + 1);

test('what an admin request needs, checked without I/O, in order', () => {
  assert.equal(requestProblem(undefined), 'request must be an object');
  assert.equal(requestProblem({ action: 'cleanse', by: '' }), 'by (the admin taking the action) is required');
  assert.equal(requestProblem({ action: 'allocate', by: 'a', serviceId: ' ' }), 'allocate needs a serviceId');
  assert.equal(requestProblem({ action: 'writeOff', by: 'a', reason: '' }), 'a write-off needs a reason');
  assert.equal(requestProblem({ action: 'delete', by: 'a' }), 'unknown action "delete"');
  assert.equal(
    requestProblem({ action: 'cleanse', by: 'a', note: long }),
    'note is 2001 characters long; at most 2000 are kept',
  );
  assert.equal(requestProblem({ action: 'writeOff', by: 'a', reason: 'dup' }), null);
});

test('the Update refuses only what cannot or should not be recorded', () => {
  assert.equal(unrecordableProblem(undefined), 'request must be an object');
  assert.equal(unrecordableProblem({ action: 'delete' }), 'unknown action "delete"');
  assert.equal(unrecordableProblem({ action: 'cleanse', by: '' }), null);
  assert.equal(
    unrecordableProblem({ action: 'writeOff', by: 'a', reason: long }),
    'reason is 2001 characters long; at most 2000 are kept',
  );
});

test('over-long text is cut to the cap; the rest of the request is kept', () => {
  const cut = withAdminTextCut({ action: 'writeOff', by: 'a', reason: long, note: 'short' });
  assert.equal(cut.reason.length, MAX_ADMIN_TEXT_CHARS);
  assert.equal(cut.note, 'short');
  assert.equal(adminTextOf(cut), null);
  assert.deepEqual(withAdminTextCut({ action: 'cleanse', by: 'a' }), { action: 'cleanse', by: 'a' });
});

test('a request id reused for another action in the group is refused; the same action again is a retry', () => {
  const earlier = [{ requestId: 'r-1', action: 'allocate' }, { action: 'cleanse' }];
  assert.equal(
    requestIdReuseProblem({ requestId: 'r-1', action: 'writeOff' }, earlier),
    'request id "r-1" was already used in this group for allocate: send the writeOff with a new request id',
  );
  assert.equal(requestIdReuseProblem({ requestId: 'r-1', action: 'allocate' }, earlier), null);
  assert.equal(requestIdReuseProblem({ requestId: 'r-2', action: 'writeOff' }, earlier), null);
  assert.equal(requestIdReuseProblem({ action: 'cleanse' }, earlier), null);
});
