import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { waitFor } from './support/wait';

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 40, usageMonth: '2026-11' });
  providerId = (await sys.onboardSimProvider(0)).id;
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

const windowOf = async (cycleId: string) =>
  (
    await sys.db.pool.query<{ ws: string; we: string; status: string }>(
      `SELECT to_char(window_start, 'YYYY-MM-DD') AS ws, to_char(window_end, 'YYYY-MM-DD') AS we, status FROM cycle_run WHERE id = $1`,
      [cycleId],
    )
  ).rows[0];

test('cycle run --from/--to runs one cycle for exactly that window and prints its summary', async () => {
  const r = await runCli(
    ['cycle', 'run', providerId, '--from', '2026-10-01', '--to', '2026-10-31', '--json'],
    cliEnv(sys, env),
  );
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out) as {
    cycleId: string;
    window: { startDate: string; endDate: string };
    fetched: number;
  };
  assert.deepEqual(summary.window, { startDate: '2026-10-01', endDate: '2026-10-31' });
  assert.deepEqual(await windowOf(summary.cycleId), { ws: '2026-10-01', we: '2026-10-31', status: 'COMPLETED' });
  // October only: the simulator's November lines are not in it.
  assert.equal(summary.fetched, 20);
});

test('schedule trigger --from/--to starts a cycle for that window', async () => {
  const r = await runCli(
    ['schedule', 'trigger', providerId, '--from', '2026-11-01', '--to', '2026-11-30'],
    cliEnv(sys, env),
  );
  assert.equal(r.code, 0, r.err);
  const cycleId = /usage cycle (\S+) started for 2026-11-01 to 2026-11-30/.exec(r.out)?.[1];
  assert.ok(cycleId, r.out);
  const row = await waitFor('the triggered cycle', async () => {
    const w = await windowOf(cycleId);
    return w?.status === 'COMPLETED' ? w : undefined;
  });
  assert.deepEqual(row, { ws: '2026-11-01', we: '2026-11-30', status: 'COMPLETED' });
});

test('an impossible or reversed window is refused before anything starts', async () => {
  for (const [from, to, message] of [
    ['2026-02-30', '2026-03-31', /February 2026 has 28 days/],
    ['2026-11-01', '2026-10-31', /is after --to/],
    ['2026-11-01', undefined, /give both --from and --to/],
  ] as const) {
    const r = await runCli(['cycle', 'run', providerId, '--from', from, ...(to ? ['--to', to] : [])], cliEnv(sys, env));
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, message);
  }
});

test('a failed cycle is printed with its cause chain', async () => {
  sys.sim.faults.set([{ endpoint: 'usage', kind: 'http403', times: 1 }]);
  try {
    const r = await runCli(
      ['cycle', 'run', providerId, '--from', '2026-11-01', '--to', '2026-11-30'],
      cliEnv(sys, env),
    );
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /workflow usage-cycle:p-[0-9a-f]+:now-\S+ failed/);
    assert.match(r.err, /caused by: FORBIDDEN: .*HTTP 403/);
    assert.doesNotMatch(r.err, /Workflow execution failed/);
  } finally {
    sys.sim.faults.clear();
  }
});
