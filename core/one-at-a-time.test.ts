import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OneAtATime } from './one-at-a-time';

test('work runs one piece at a time, in the order handed in, past a failure', async () => {
  const queue = new OneAtATime();
  const log: string[] = [];
  const step = (name: string, ms: number, fail = false) =>
    queue.run(async () => {
      log.push(`${name} start`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    });
  const results = await Promise.allSettled([step('a', 20), step('b', 1, true), step('c', 5)]);
  assert.deepEqual(log, ['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
});
