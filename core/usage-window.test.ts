import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explicitWindow, usageWindow } from './usage-window';

test('the window starts on the first of the month lookbackMonths back and ends on the last day of the current month', () => {
  const now = new Date('2026-11-15T03:00:00Z');
  assert.deepEqual(usageWindow(now, 'UTC', 1), { startDate: '2026-10-01', endDate: '2026-11-30' });
  assert.deepEqual(usageWindow(now, 'UTC', 0), { startDate: '2026-11-01', endDate: '2026-11-30' });
  assert.deepEqual(usageWindow(now, 'UTC', 3), { startDate: '2026-08-01', endDate: '2026-11-30' });
});

test("the month is the provider's: late on the last UTC day of a month is already the next month in Sydney", () => {
  const now = new Date('2026-11-30T14:00:00Z'); // 2026-12-01 01:00 in Sydney (UTC+11)
  assert.deepEqual(usageWindow(now, 'Australia/Sydney', 1), { startDate: '2026-11-01', endDate: '2026-12-31' });
  assert.deepEqual(usageWindow(now, 'America/Los_Angeles', 1), { startDate: '2026-10-01', endDate: '2026-11-30' });
});

test('month ends: February in a leap year and not, across a new year', () => {
  assert.deepEqual(usageWindow(new Date('2028-02-03T00:00:00Z'), 'UTC', 0), {
    startDate: '2028-02-01',
    endDate: '2028-02-29',
  });
  assert.deepEqual(usageWindow(new Date('2027-02-03T00:00:00Z'), 'UTC', 0), {
    startDate: '2027-02-01',
    endDate: '2027-02-28',
  });
  assert.deepEqual(usageWindow(new Date('2027-01-10T12:00:00Z'), 'UTC', 1), {
    startDate: '2026-12-01',
    endDate: '2027-01-31',
  });
  assert.deepEqual(usageWindow(new Date('2027-01-10T12:00:00Z'), 'UTC', 13), {
    startDate: '2025-12-01',
    endDate: '2027-01-31',
  });
});

test('an explicit window: real dates, start not after end', () => {
  assert.deepEqual(explicitWindow('2026-10-01', '2026-10-31'), { startDate: '2026-10-01', endDate: '2026-10-31' });
  assert.throws(() => explicitWindow('2026-02-30', '2026-03-31'), /February 2026 has 28 days/);
  assert.throws(() => explicitWindow('2026-11-01', '2026-10-31'), /--from 2026-11-01 is after --to 2026-10-31/);
  assert.throws(() => explicitWindow('10/01/2026', '2026-10-31'), /not a date written YYYY-MM-DD/);
});
