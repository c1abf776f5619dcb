import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { NOTIFY_CONCURRENCY, signalGroupsAdded } from '../activities/quarantine-notify';

test('new lines are signalled to quarantine groups with bounded concurrency, each group once', async () => {
  let running = 0;
  let peak = 0;
  const signalled: string[] = [];
  // Counts calls at Temporal's client boundary; each takes a little while, as a network call does.
  const temporal = {
    workflow: {
      signalWithStart: async (_wf: unknown, options: { workflowId: string; signalArgs: [{ count: number }] }) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        signalled.push(`${options.workflowId}=${options.signalArgs[0].count}`);
        running--;
      },
    },
  } as unknown as Client;
  const groups = Array.from({ length: 400 }, (_, i) => ({ groupKey: `p-1|NON_EXISTENT_SERVICE|tenant-${i}`, lines: i + 1 }));
  const n = await signalGroupsAdded({ temporal, taskQueue: 'q' }, groups, 'cycle-1');
  assert.equal(n, 400);
  assert.equal(new Set(signalled).size, 400);
  assert.ok(signalled.includes('quarantine:p-1:NON_EXISTENT_SERVICE:tenant-9=10'));
  assert.equal(peak, NOTIFY_CONCURRENCY, 'signals in flight at once');
});
