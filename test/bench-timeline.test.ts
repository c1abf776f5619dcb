import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cycleTimeline } from '../bench/timeline';

test("cycleTimeline: each activity type's span and summed time, and the most cycles at once", () => {
  const t0 = 1_000_000;
  const span = (activity: string, from: number, to: number) => ({
    activity,
    startedMs: t0 + from * 1000,
    endedMs: t0 + to * 1000,
  });
  const timeline = cycleTimeline(
    [
      [span('fetchUsage', 0.2, 10), span('notifyQuarantineGroups', 10, 11)],
      [span('fetchUsage', 0.5, 12), span('notifyQuarantineGroups', 12, 12.5)],
      // Starts after the first cycle ended and overlaps only the second: still two at once at most.
      [span('fetchUsage', 11, 20)],
      [],
    ],
    t0,
  );
  assert.deepEqual(timeline.activities.fetchUsage, { calls: 3, from: 0.2, to: 20, busySeconds: 30.3 });
  assert.deepEqual(timeline.activities.notifyQuarantineGroups, { calls: 2, from: 10, to: 12.5, busySeconds: 1.5 });
  assert.equal(timeline.cyclesAtOnce, 2);
  // A cycle ending at the very moment another starts does not count as running beside it.
  assert.equal(cycleTimeline([[span('a', 0, 1)], [span('a', 1, 2)]], t0).cyclesAtOnce, 1);
});
