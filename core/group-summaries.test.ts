import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterLinesAdded, afterRead, isNewer } from './group-summaries';

const KEY = 'p-1|NON_EXISTENT_SERVICE|t-1';
const s = (lines: number, asOf?: string, groupKey = KEY) => ({ groupKey, lines, ...(asOf ? { asOf } : {}) });

test('a summary is newer only when both are stamped and it was read later', () => {
  assert.equal(isNewer(s(1, '2026-01-01T00:00:02Z'), s(1, '2026-01-01T00:00:01Z')), true);
  assert.equal(isNewer(s(1, '2026-01-01T00:00:01Z'), s(1, '2026-01-01T00:00:02Z')), false);
  assert.equal(isNewer(s(1), s(1, '2026-01-01T00:00:01Z')), false);
});

test('lines told with a usable summary spare a read; anything else makes the group read again', () => {
  const sent = s(3, 'T2');
  assert.deepEqual(afterLinesAdded({ summary: null, readDue: true }, KEY, sent), { summary: sent, readDue: false });
  assert.deepEqual(afterLinesAdded({ summary: null, readDue: true }, KEY, undefined), { summary: null, readDue: true });
  assert.equal(afterLinesAdded({ summary: null, readDue: false }, KEY, s(3, 'T2', 'other')).readDue, true);
  assert.equal(afterLinesAdded({ summary: null, readDue: false }, KEY, s(0, 'T2')).readDue, true);
  const held = s(2, 'T1');
  assert.deepEqual(afterLinesAdded({ summary: held, readDue: false }, KEY, sent), { summary: sent, readDue: false });
  assert.deepEqual(afterLinesAdded({ summary: sent, readDue: false }, KEY, held), { summary: sent, readDue: false });
  // Not comparable, or a read due anyway: the read settles it.
  assert.deepEqual(afterLinesAdded({ summary: s(2), readDue: false }, KEY, sent), { summary: s(2), readDue: true });
  assert.deepEqual(afterLinesAdded({ summary: held, readDue: true }, KEY, sent), { summary: held, readDue: true });
});

test('a read is the truth unless lines were told during it; a zero read then is read again', () => {
  const held = s(2, 'T3');
  assert.deepEqual(afterRead({ summary: held, readDue: false }, s(0, 'T1'), false), {
    summary: s(0, 'T1'),
    readDue: false,
  });
  assert.deepEqual(afterRead({ summary: held, readDue: false }, s(0, 'T1'), true), { summary: held, readDue: true });
  assert.deepEqual(afterRead({ summary: s(2, 'T1'), readDue: false }, s(0, 'T3'), true), {
    summary: s(0, 'T3'),
    readDue: true,
  });
  assert.deepEqual(afterRead({ summary: null, readDue: true }, s(4), false), { summary: s(4), readDue: true });
});
