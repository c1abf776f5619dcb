import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachConcurrently } from './concurrency';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every item once, never more than the limit at a time, and actually concurrent', async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await forEachConcurrently(Array.from({ length: 50 }, (_, i) => i), 8, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await tick(n % 3);
    seen.push(n);
    running--;
  });
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(peak, 8);
});

test('a failure is thrown after the calls in flight settle; nothing new starts', async () => {
  let started = 0;
  let settled = 0;
  await assert.rejects(
    forEachConcurrently(Array.from({ length: 100 }, (_, i) => i), 4, async (n) => {
      started++;
      await tick(2);
      settled++;
      if (n === 5) throw new Error('group 5 refused');
    }),
    /group 5 refused/,
  );
  assert.equal(settled, started);
  assert.ok(started < 100, `${started} started`);
});

test('an empty list and a bad limit', async () => {
  await forEachConcurrently([], 4, async () => assert.fail('not called'));
  await assert.rejects(forEachConcurrently([1], 0, async () => undefined), /limit must be at least 1/);
});
