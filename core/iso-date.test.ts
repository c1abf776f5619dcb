import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlainDate, plainDateProblem, requirePlainDate } from './iso-date';

test('calendar dates: the pattern is not enough, the day must exist', () => {
  for (const ok of ['2026-02-28', '2028-02-29', '2000-02-29', '2026-12-31', '2026-01-01'])
    assert.equal(plainDateProblem(ok), null, ok);
  assert.match(plainDateProblem('2026-02-30')!, /February 2026 has 28 days/);
  assert.match(plainDateProblem('2100-02-29')!, /February 2100 has 28 days/);
  assert.match(plainDateProblem('2026-13-01')!, /month 13 does not exist/);
  assert.match(plainDateProblem('2026-00-10')!, /month 00 does not exist/);
  assert.match(plainDateProblem('2026-04-31')!, /April 2026 has 30 days/);
  assert.match(plainDateProblem('2026-04-00')!, /April 2026 has 30 days/);
  assert.match(plainDateProblem('26-4-1')!, /not a date written YYYY-MM-DD/);
  assert.match(plainDateProblem(20260401)!, /not a date written YYYY-MM-DD/);
  assert.equal(parsePlainDate('2026-02-30'), null);
  assert.equal(parsePlainDate('2026-02-28'), '2026-02-28');
  assert.throws(() => requirePlainDate('2026-02-30', '--date'), /^Error: --date: 2026-02-30 is not a calendar date/);
});
