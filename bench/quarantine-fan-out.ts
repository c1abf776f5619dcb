/**
 * Quarantine fan-out, measured on the path the product takes: a usage cycle whose lines belong to
 * N tenants the provider has no service for, so mediation quarantines them in N groups
 * (NON_EXISTENT_SERVICE, one per tenant), and the cycle's `notifyQuarantineGroups` activity (in the
 * worker process) signal-with-starts every group. Each group workflow then loads its summary from
 * the database and stays open, waiting for an admin, as real groups do.
 *
 * Reported: how long the activity took (from the cycle's history: started → completed), how long
 * until the worker had handled every group's first tasks (the task queues drained), and the CPU
 * seconds of the dev server, the worker(s), PostgreSQL and this process over that time.
 *
 * Standalone: `npm run bench:fan-out -- --groups 5000` (a stack of its own); `npm run bench`
 * runs it after the cycle, on the same stack.
 */
import { Command } from '@commander-js/extra-typings';
import type { ChildProcess } from 'node:child_process';
import { temporal } from '@temporalio/proto';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { NOTIFY_CONCURRENCY } from '../activities/quarantine-notify';
import { onboardSimulatorProvider } from '../client/demo-provider';
import { getProvider } from '../db/providers';
import { activitySpans, cpuSeconds, postgresCpuSeconds, startStack, type Stack } from './harness';

export interface FanOutResult {
  groups: number;
  /** The notifyQuarantineGroups activity, started → completed (every signal-with-start answered). */
  seconds: number;
  /** From the activity's start until every group workflow had run its first tasks (task queues empty). */
  settledSeconds: number;
  concurrency: number;
  cpuSeconds: { temporal: number; worker: number; postgres: number; bench: number };
  load: string;
}

/** Backlog of a task queue (workflow or activity tasks), as the server counts it. */
async function backlog(stack: Stack, type: temporal.api.enums.v1.TaskQueueType): Promise<number> {
  const res = await stack.client.connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: 'csp-billing' },
    taskQueueType: type,
    reportStats: true,
  });
  return Number(res.stats?.approximateBacklogCount ?? 0);
}

/**
 * `groups` tenants unknown to the provider each get one usage line at the carrier; one usage cycle
 * fetches, quarantines and announces them. The provider at `providerIndex` must be onboarded;
 * its regular usage is switched off at the simulator so the cycle carries the new lines only.
 * With `again`, each tenant then gets one more line and a second cycle tells the same groups,
 * which are already waiting (as most are, cycle after cycle, until an admin resolves them).
 */
export async function measureQuarantineFanOut(
  stack: Stack,
  workers: ChildProcess[],
  providerId: string,
  providerIndex: number,
  groups: number,
  again = false,
): Promise<FanOutResult & { again?: FanOutResult }> {
  const dataset = stack.sim.dataset;
  const p = dataset.providers[providerIndex]!;
  p.usageRecords = 0;
  const today = new Date();
  const tenants = dataset.addCustomers(p, groups);
  for (const tenant of tenants) dataset.addChangeLine(p, tenant, tenant.subscriptions[0]!, 1, today);
  const first = await measureCycleFanOut(stack, workers, providerId, groups);
  if (!again) return first;
  for (const tenant of tenants) dataset.addChangeLine(p, tenant, tenant.subscriptions[0]!, 1, today);
  return { ...first, again: await measureCycleFanOut(stack, workers, providerId, groups) };
}

/** One cycle that quarantines one new line in each of `groups` groups, measured until the task queues are empty. */
async function measureCycleFanOut(
  stack: Stack,
  workers: ChildProcess[],
  providerId: string,
  groups: number,
): Promise<FanOutResult> {
  // CPU samples every 250 ms, so the figures cover the activity's own time span.
  const samples: Array<{ at: number; temporal: number; worker: number; postgres: number; bench: number }> = [];
  const sample = () => {
    const b = process.cpuUsage();
    samples.push({
      at: Date.now(),
      temporal: stack.temporalPid ? cpuSeconds(stack.temporalPid) : 0,
      worker: workers.reduce((t, w) => t + cpuSeconds(w.pid!), 0),
      postgres: postgresCpuSeconds(stack.pgDataDir),
      bench: (b.user + b.system) / 1e6,
    });
  };
  sample();
  const sampler = setInterval(sample, 250);
  try {
    const workflowId = `bench-fan-out-${Date.now()}`;
    const summary = await runUsageCycleNow(
      { temporal: stack.client, taskQueue: 'csp-billing' },
      { providerId, window: { startDate: '2000-01-01', endDate: '2100-12-31' } },
      workflowId,
    );
    if (summary.quarantined !== groups)
      throw new Error(`the fan-out cycle quarantined ${summary.quarantined} lines, expected ${groups}`);
    // The activity's span, from the cycle's history (its own clock: the server's).
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    const notify = activitySpans([history.events ?? []]).find((s) => s.activity === 'notifyQuarantineGroups');
    if (!notify) throw new Error('the fan-out cycle has no completed notifyQuarantineGroups activity');
    const { startedMs: from, endedMs: to } = notify;
    // Settled: the groups' first workflow tasks and summary activities are all handled.
    let quiet = 0;
    const giveUp = Date.now() + 15 * 60_000;
    while (quiet < 3) {
      if (Date.now() > giveUp) throw new Error('the task queues did not empty within 15 minutes of the fan-out');
      const n =
        (await backlog(stack, temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)) +
        (await backlog(stack, temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY));
      quiet = n === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 250));
    }
    const settled = Date.now() - 750;
    sample();
    const at = (t: number) => samples.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best));
    const a = at(from);
    const z = at(settled);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      groups,
      seconds: Number(((to - from) / 1000).toFixed(2)),
      settledSeconds: Number(((settled - from) / 1000).toFixed(2)),
      concurrency: NOTIFY_CONCURRENCY,
      cpuSeconds: {
        temporal: round(z.temporal - a.temporal),
        worker: round(z.worker - a.worker),
        postgres: round(z.postgres - a.postgres),
        bench: round(z.bench - a.bench),
      },
      load: (await import('node:os'))
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const o = new Command('bench:fan-out')
    .option('--groups <n>', 'quarantine groups to tell', '5000')
    .option('--again', 'then give each group one more line and tell them again, in a second cycle')
    .parse()
    .opts();
  const stack = await startStack('bench-fan-out', 0, { pg: 54402, temporal: 7402, sim: 9402 });
  const worker = stack.startWorker();
  try {
    const { provider } = await onboardSimulatorProvider(stack.ctx, stack.sim.dataset, 0, {
      timeZone: 'Australia/Sydney',
      cycleTimes: ['06:00', '18:00'],
    });
    if (!(await getProvider(stack.pool, provider.id))) throw new Error('onboarding failed');
    const result = await measureQuarantineFanOut(stack, [worker], provider.id, 0, Number(o.groups), o.again === true);
    const line = (what: string, r: FanOutResult) =>
      process.stderr.write(
        `quarantine fan-out: ${r.groups} groups ${what} in ${r.seconds} s (${r.concurrency} at a time), every group settled after ${r.settledSeconds} s; ` +
          `CPU seconds: Temporal ${r.cpuSeconds.temporal}, worker ${r.cpuSeconds.worker}, PostgreSQL ${r.cpuSeconds.postgres}, bench ${r.cpuSeconds.bench}; load ${r.load}\n`,
      );
    line('told', result);
    if (result.again) line('already waiting told again', result.again);
    process.stdout.write(JSON.stringify({ quarantineFanOut: result }) + '\n');
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => (worker.exitCode === null ? worker.once('exit', r) : r(null)));
    await stack.stop();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
