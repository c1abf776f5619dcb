import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { workerConnection } from '../workers/runtime';
import { deleteUsageSchedule, ensureUsageSchedule, usageScheduleHandle } from '../workflows/usage-cycle.api';
import { ensureTenantWorkflow } from '../workflows/tenant.api';
import { onboardingState } from '../workflows/onboarding.api';
import { describeGroup, signalLinesAdded } from '../workflows/quarantine-group.api';
import { quarantineGroupKey } from '../core/quarantine-group';
import type { WorkflowStarter } from '../workflows/starter';
import { localTemporal } from './support/temporal';

// A worker's activities call Temporal over the worker's own (native) connection, not grpc-js
// (workers/runtime.ts). The *.api.ts modules tell outcomes apart by the SDK's error classes
// (already running, not found): those must hold over this connection too. No worker polls here:
// starts, signals and schedules need only the server.
let env: TestWorkflowEnvironment;
let connection: NativeConnection;
let starter: WorkflowStarter;

before(async () => {
  env = await localTemporal();
  connection = await workerConnection(env.connection.options.address);
  starter = {
    temporal: new Client({ connection, namespace: env.namespace ?? 'default' }),
    taskQueue: `worker-client-${randomUUID()}`,
  };
});

after(async () => {
  await connection?.close();
  await env?.teardown();
});

test("the worker's client (native connection): schedules are created or updated, deleted once; a second start and a missing workflow are told apart", async () => {
  const provider = {
    id: randomUUID(),
    name: 'Native Co',
    time_zone: 'Australia/Sydney',
    cycle_times: ['06:00', '18:00'],
  };
  assert.equal(await ensureUsageSchedule(starter, provider), 'created');
  assert.equal(await ensureUsageSchedule(starter, { ...provider, cycle_times: ['07:30'] }), 'updated');
  const described = await usageScheduleHandle(starter.temporal, provider.id).describe();
  assert.deepEqual(
    described.spec.calendars?.map((c) => [c.hour, c.minute]),
    [[[{ start: 7, end: 7, step: 1 }], [{ start: 30, end: 30, step: 1 }]]],
  );
  assert.equal(await deleteUsageSchedule(starter.temporal, provider.id), true);
  assert.equal(await deleteUsageSchedule(starter.temporal, provider.id), false);

  const tenant = { providerId: provider.id, tenantId: randomUUID(), serviceId: 'S-1' };
  assert.equal(await ensureTenantWorkflow(starter, tenant), true);
  assert.equal(await ensureTenantWorkflow(starter, tenant), false);
  assert.equal(await onboardingState(starter.temporal, randomUUID()), null);

  // A quarantine group is signal-with-started: the second signal reaches the same run.
  const groupKey = quarantineGroupKey(provider.id, 'NON_EXISTENT_SERVICE', randomUUID());
  await signalLinesAdded(starter, groupKey, { source: 'cycle-1', count: 3 });
  const first = await describeGroup(starter.temporal, groupKey);
  await signalLinesAdded(starter, groupKey, { source: 'cycle-2', count: 2 });
  const second = await describeGroup(starter.temporal, groupKey);
  assert.equal(second.runId, first.runId);
  assert.equal(second.status.name, 'RUNNING');
});
