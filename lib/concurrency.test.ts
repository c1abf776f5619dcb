import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachConcurrently, orderedTurns, Slots } from './concurrency';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every item once, never more than the limit at a time, and actually concurrent', async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await forEachConcurrently(
    Array.from({ length: 50 }, (_, i) => i),
    8,
    async (n) => {
      running++;
      peak = Math.max(peak, running);
      await tick(n % 3);
      seen.push(n);
      running--;
    },
  );
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.equal(peak, 8);
});

test('a failure is thrown after the calls in flight settle; nothing new starts', async () => {
  let started = 0;
  let settled = 0;
  await assert.rejects(
    forEachConcurrently(
      Array.from({ length: 100 }, (_, i) => i),
      4,
      async (n) => {
        started++;
        await tick(2);
        settled++;
        if (n === 5) throw new Error('group 5 refused');
      },
    ),
    /group 5 refused/,
  );
  assert.equal(settled, started);
  assert.ok(started < 100, `${started} started`);
});

test('an empty list and a bad limit', async () => {
  await forEachConcurrently([], 4, async () => assert.fail('not called'));
  await assert.rejects(
    forEachConcurrently([1], 0, async () => undefined),
    /limit must be at least 1/,
  );
});

test('Slots: at most the size at once, waiters served in order, heartbeating while they wait; a cancelled waiter leaves the queue', async () => {
  const slots = new Slots(2);
  const never = new Promise<never>(() => undefined);
  const first = await slots.acquire(() => undefined, never);
  const second = await slots.acquire(() => undefined, never);
  const order: string[] = [];
  let beats = 0;
  const third = slots.acquire(() => beats++, never).then((release) => (order.push('third'), release));
  let cancel!: (err: Error) => void;
  const cancelled = new Promise<never>((_, reject) => (cancel = reject));
  const quitter = slots.acquire(() => undefined, cancelled);
  const fourth = slots.acquire(() => undefined, never).then((release) => (order.push('fourth'), release));
  await new Promise((r) => setTimeout(r, 2_100));
  assert.ok(beats >= 1, 'a waiter heartbeats');
  assert.deepEqual(order, [], 'nobody gets a third slot');
  cancel(new Error('cancelled'));
  await assert.rejects(quitter, /cancelled/);
  first();
  first(); // releasing twice frees one slot only
  const releaseThird = await third;
  assert.deepEqual(order, ['third']);
  second();
  const releaseFourth = await fourth;
  assert.deepEqual(order, ['third', 'fourth'], 'the cancelled waiter took no slot');
  releaseThird();
  releaseFourth();
  // Both slots free again: two acquire at once without waiting.
  await slots.acquire(() => undefined, never);
  await slots.acquire(() => undefined, never);
});

test('orderedTurns: each turn is ready only once the one before it is released, whoever waits first; a turn released without its step lets the next go', async () => {
  const nextTurn = orderedTurns();
  const first = nextTurn();
  const second = nextTurn();
  const third = nextTurn();
  const order: string[] = [];
  // The later turns wait first; they still go in turn order.
  const waiting = [third.ready.then(() => order.push('third')), second.ready.then(() => order.push('second'))];
  await first.ready;
  await tick(20);
  assert.deepEqual(order, [], 'no turn goes before the first is released');
  first.release();
  await tick(20);
  assert.deepEqual(order, ['second']);
  // A holder that failed before its step releases its turn as well; releasing twice is harmless.
  second.release();
  second.release();
  await Promise.all(waiting);
  assert.deepEqual(order, ['second', 'third']);
});
