import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionReasons, byAttention, pageOf, progressPercent } from './view';
import { monthIn } from '../../core/period';

test("this month is the provider's month", () => {
  assert.equal(monthIn(new Date('2026-11-30T14:00:00Z'), 'Australia/Sydney'), '2026-12');
  assert.equal(monthIn(new Date('2026-11-30T14:00:00Z'), 'UTC'), '2026-11');
});

test('pages: clamped to what exists', () => {
  assert.deepEqual(pageOf(0, undefined), { page: 1, pages: 1, size: 25, offset: 0, total: 0 });
  assert.deepEqual(pageOf(51, '3'), { page: 3, pages: 3, size: 25, offset: 50, total: 51 });
  assert.equal(pageOf(51, '99').page, 3);
  assert.equal(pageOf(51, 'x').page, 1);
  assert.equal(pageOf(51, '-2').page, 1);
});

test('providers needing attention come first, with their reasons', () => {
  const ok = {
    name: 'A ok',
    status: 'ACTIVE',
    attentionReason: null,
    lastCycleStatus: 'COMPLETED',
    lastCycleError: null,
    quarantinedLines: 0,
  };
  const quarantined = { ...ok, name: 'B quarantine', quarantinedLines: 3 };
  const broken = {
    ...ok,
    name: 'C creds',
    status: 'NEEDS_ATTENTION',
    attentionReason: 'invalid_client',
    lastCycleStatus: 'FAILED',
    lastCycleError: 'bad credentials',
  };
  assert.deepEqual(
    byAttention([ok, quarantined, broken]).map((p) => p.name),
    ['C creds', 'B quarantine', 'A ok'],
  );
  assert.deepEqual(attentionReasons(broken), ['invalid_client', 'last usage cycle failed: bad credentials']);
  assert.deepEqual(attentionReasons(quarantined), ['3 usage lines in quarantine']);
  assert.deepEqual(attentionReasons(ok), []);
});

test('cycle progress: known when a total is, indeterminate while fetching without one', () => {
  assert.equal(progressPercent({ phase: 'fetching', linesFetched: 500, linesMediated: 400 }), null);
  assert.equal(progressPercent({ phase: 'fetching', linesFetched: 500, linesMediated: 400, expectedLines: 1000 }), 40);
  assert.equal(progressPercent({ phase: 'mediating', linesFetched: 1000, linesMediated: 250 }), 25);
  assert.equal(progressPercent({ phase: 'fetching', linesFetched: 0, linesMediated: 0, percent: 37.6 }), 38);
  assert.equal(progressPercent({ phase: 'completed', linesFetched: 10, linesMediated: 10 }), 100);
});
