import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRole, passwordProblem, roleAllows, usernameProblem } from './access';

test('roles: each includes the ones below it, and none above', () => {
  assert.ok(roleAllows('admin', 'billing'));
  assert.ok(roleAllows('admin', 'viewer'));
  assert.ok(roleAllows('billing', 'viewer'));
  assert.ok(roleAllows('billing', 'billing'));
  assert.equal(roleAllows('viewer', 'billing'), false);
  assert.equal(roleAllows('billing', 'admin'), false);
  assert.ok(isRole('viewer'));
  assert.equal(isRole('root'), false);
});

test('usernames and passwords: clear refusals', () => {
  assert.equal(usernameProblem('alice'), null);
  assert.equal(usernameProblem('a.b@example.com'), null);
  assert.match(usernameProblem('Alice') ?? '', /lower-case/);
  assert.match(usernameProblem('') ?? '', /1-64/);
  assert.equal(passwordProblem('correct horse battery', 'alice'), null);
  assert.match(passwordProblem('short', 'alice') ?? '', /at least 12/);
  assert.match(passwordProblem('alice-is-my-password', 'alice') ?? '', /username/);
});
