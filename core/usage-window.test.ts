import { test } from 'node:test';
import assert from 'node:assert/strict';
import { usageWindow } from './usage-window';

test('the window starts on the first of the month lookbackMonths back and ends today', () => {
  const now = new Date('2026-11-15T03:00:00Z');
  assert.deepEqual(usageWindow(now, 'UTC', 1), { startDate: '2026-10-01', endDate: '2026-11-15' });
  assert.deepEqual(usageWindow(now, 'UTC', 0), { startDate: '2026-11-01', endDate: '2026-11-15' });
  assert.deepEqual(usageWindow(now, 'UTC', 3), { startDate: '2026-08-01', endDate: '2026-11-15' });
});

test("today is the provider's: late on the last UTC day of a month is already the next month in Sydney", () => {
  const now = new Date('2026-11-30T14:00:00Z'); // 2026-12-01 01:00 in Sydney (UTC+11)
  assert.deepEqual(usageWindow(now, 'Australia/Sydney', 1), { startDate: '2026-11-01', endDate: '2026-12-01' });
  assert.deepEqual(usageWindow(now, 'America/Los_Angeles', 1), { startDate: '2026-10-01', endDate: '2026-11-30' });
});

test('looking back across a new year', () => {
  assert.deepEqual(usageWindow(new Date('2027-01-10T12:00:00Z'), 'UTC', 1), { startDate: '2026-12-01', endDate: '2027-01-10' });
  assert.deepEqual(usageWindow(new Date('2027-01-10T12:00:00Z'), 'UTC', 13), { startDate: '2025-12-01', endDate: '2027-01-10' });
});
