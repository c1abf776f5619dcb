/**
 * `npm run bench -- --records N` (default 200000): one full usage cycle of N lines against the
 * real dev server and PostgreSQL, with the worker as its own process; and, in the same run, what
 * the simulator serves alone and the limit: fetching the same pages, JSON.parse, and COPYing the
 * raw rows into an unlogged table, nothing else.
 *
 * `--providers 20 --records 50000`: twenty providers' cycles at once (N lines each) on two worker
 * processes (`--workers`), with each worker's share of the fetch activities.
 *
 * Where the time goes: CPU seconds of the worker(s), PostgreSQL (every backend), this process (the
 * simulator lives here) and the Temporal dev server during the cycle. Last line: one JSON object.
 */
import { measureQuarantineFanOut } from './quarantine-fan-out';
import { Command } from '@commander-js/extra-typings';
import os from 'node:os';
import { writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { from as copyFrom } from 'pg-copy-streams';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { onboardSimulatorProvider } from '../client/demo-provider';
import { cycleTimeline } from './timeline';
import {
  activitySpans,
  cpuSeconds,
  peakRssMb,
  postgresCpuSeconds,
  startStack,
  workflowHistories,
  type Stack,
} from './harness';

const o = new Command('bench')
  .option('--records <n>', 'usage lines (per provider)', '200000')
  .option('--page-size <n>', 'lines per carrier page', '1000')
  .option('--providers <n>', 'providers whose cycles run at once', '1')
  .option('--workers <n>', 'worker processes (default: 1, or 2 with several providers)')
  .option('--fan-out-groups <n>', 'quarantine groups told in the fan-out measurement (0 skips it)', '5000')
  .parse()
  .opts();
const records = Number(o.records);
const pageSize = Number(o.pageSize);
const providers = Number(o.providers);
const workerCount = Number(o.workers ?? (providers > 1 ? 2 : 1));
const WINDOW = { startDate: '2000-01-01', endDate: '2100-12-31' };
let stopping = false;
/** A worker that exits before the end makes the run's figures meaningless (and its per-worker counts). */
const earlyExits: string[] = [];

/** The usage call straight over HTTP, each body as bytes: no client, no parsing. */
async function rawPages(
  stack: Stack,
  index: number,
  each: (body: Buffer) => Promise<number>,
): Promise<{ lines: number; seconds: number }> {
  const p = stack.sim.dataset.providers[index]!;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: p.clientId,
    client_secret: p.clientSecret,
    scope: 'rhipeapi',
  });
  const token = (await (
    await request(`${stack.sim.url}/core/connect/token`, {
      method: 'POST',
      body: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
  ).body.json()) as { access_token: string };
  const started = Date.now();
  let lines = 0;
  for (let page = 1; ; page++) {
    const res = await request(`${stack.sim.url}/api/v2/microsoftcsp/licence/usage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...WINDOW, page, pageSize }),
    });
    const n = await each(Buffer.from(await res.body.arrayBuffer()));
    if (n === 0) break;
    lines += n;
  }
  return { lines, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const stack = await startStack(
    'bench',
    records,
    { pg: 54401, temporal: 7401, sim: 9401 },
    { providers: Math.max(2, providers) },
  );
  // The cycle pages as the limit does: the worker's page size is the bench's.
  stack.workerEnv.USAGE_PAGE_SIZE = String(pageSize);
  const workers: ChildProcess[] = [];
  try {
    // Workers run from the start (onboarding is a workflow too); RSS is sampled throughout.
    const perWorker: Array<{ pid: number; fetchCalls: number; pages: number; lines: number }> = [];
    for (let w = 0; w < workerCount; w++) {
      const child = stack.startWorker();
      workers.push(child);
      const share = { pid: child.pid!, fetchCalls: 0, pages: 0, lines: 0 };
      perWorker.push(share);
      let partial = '';
      const recent: string[] = [];
      child.once('exit', (code, signal) => {
        if (stopping) return;
        earlyExits.push(`worker ${child.pid} exited early (${code ?? signal})`);
        process.stderr.write(
          `bench: worker ${child.pid} exited early (${code ?? signal}); its last lines:\n${recent.join('\n')}\n`,
        );
      });
      child.stderr!.on('data', (d: Buffer) => {
        const parts = (partial + d.toString()).split('\n');
        partial = parts.pop()!;
        recent.push(...parts);
        recent.splice(0, Math.max(0, recent.length - 20));
        for (const line of parts) {
          if (!line.includes('usage pages fetched')) continue;
          const r = JSON.parse(line) as { pages: number; lines: number };
          share.fetchCalls++;
          share.pages += r.pages;
          share.lines += r.lines;
        }
      });
    }
    let peak = 0;
    const sample = () => (peak = Math.max(peak, ...workers.map((w) => peakRssMb(w.pid!))));
    const sampler = setInterval(sample, 250);
    const providerIds: string[] = [];
    for (let i = 0; i < providers; i++) {
      const { provider } = await onboardSimulatorProvider(stack.ctx, stack.sim.dataset, i, {
        timeZone: 'Australia/Sydney',
        cycleTimes: ['06:00', '18:00'],
      });
      providerIds.push(provider.id);
    }

    // What the simulator serves alone: the same pages, read as bytes (lines counted, not decoded:
    // the reading side shares this process's thread) and dropped. Its CPU time too (this process:
    // the simulator and the reading side), which a busy machine does not inflate. Three passes, the
    // fastest kept: the first also warms the simulator's code and templates.
    const recordIdKey = Buffer.from('"RecordId"');
    const countLines = async (body: Buffer) => {
      let n = 0;
      for (let at = body.indexOf(recordIdKey); at !== -1; at = body.indexOf(recordIdKey, at + recordIdKey.length)) n++;
      return n;
    };
    let served = { lines: 0, seconds: Infinity };
    let servedCpuSeconds = 0;
    for (let pass = 0; pass < 3; pass++) {
      const servedCpu = process.cpuUsage();
      const run = await rawPages(stack, 0, countLines);
      if (run.seconds < served.seconds) {
        served = run;
        servedCpuSeconds = cpuOf(process.cpuUsage(servedCpu));
      }
    }

    // The limit: the same pages, JSON.parse, the raw rows COPYed into an unlogged table, nothing else.
    const limitCpu = { bench: process.cpuUsage(), postgres: postgresCpuSeconds(stack.pgDataDir) };
    // The benchmark's own scratch table: made and filled as the owner (the application role has no DDL).
    await stack.ownerPool.query('CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw (record_id text, raw text)');
    const db = await stack.ownerPool.connect();
    let limit: { lines: number; seconds: number };
    try {
      limit = await rawPages(stack, 0, async (body) => {
        const page = (JSON.parse(body.toString('utf8')) as { Records: Array<Record<string, unknown>> }).Records;
        if (page.length === 0) return 0;
        const rows = page.map(
          (r) =>
            `${String((r.RecordId as string | number | undefined) ?? '')}\t${JSON.stringify(r).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')}\n`,
        );
        await pipeline(Readable.from(rows), db.query(copyFrom('COPY bench_raw (record_id, raw) FROM STDIN')));
        return page.length;
      });
    } finally {
      db.release();
    }
    const limitCpuSeconds =
      cpuOf(process.cpuUsage(limitCpu.bench)) + postgresCpuSeconds(stack.pgDataDir) - limitCpu.postgres;

    // The real thing: every provider's cycle at once, through the worker process(es).
    const cpuBefore = {
      workers: workers.map((w) => cpuSeconds(w.pid!)),
      postgres: postgresCpuSeconds(stack.pgDataDir),
      bench: process.cpuUsage(),
      temporal: stack.temporalPid ? cpuSeconds(stack.temporalPid) : 0,
    };
    process.stderr.write(`cycle: started (${providers} provider(s), ${workerCount} worker process(es))\n`);
    const started = Date.now();
    const ids = providerIds.map((id, i) => `bench-cycle-${i}-${started}`);
    const summaries = await Promise.all(
      providerIds.map((providerId, i) =>
        runUsageCycleNow({ temporal: stack.client, taskQueue: 'csp-billing' }, { providerId, window: WINDOW }, ids[i]),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    if (earlyExits.length > 0) throw new Error(`${earlyExits.join('; ')}: this run's figures are not the system's`);
    const benchCpu = process.cpuUsage(cpuBefore.bench);
    const cpu = {
      worker: round1(workers.reduce((t, w, k) => t + cpuSeconds(w.pid!) - cpuBefore.workers[k]!, 0)),
      postgres: round1(postgresCpuSeconds(stack.pgDataDir) - cpuBefore.postgres),
      simulatorAndBench: round1(cpuOf(benchCpu)),
      temporal: round1(stack.temporalPid ? cpuSeconds(stack.temporalPid) - cpuBefore.temporal : 0),
    };
    sample();
    clearInterval(sampler);
    stopping = true;
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode === null ? w.once('exit', r) : r(null)))));
    // Each cycle's history (every run of it), read once: its length, and when its steps ran.
    const histories = await Promise.all(ids.map((id) => workflowHistories(stack.client, id)));
    const events = Math.max(...histories.map((runs) => runs.reduce((total, run) => total + run.length, 0)));
    // When the cycles' steps ran (seconds from the start, across every cycle): what the wall clock went on.
    const timeline = cycleTimeline(histories.map(activitySpans), started);
    for (const [activity, t] of Object.entries(timeline.activities)) {
      process.stderr.write(
        `timeline: ${activity} ×${t.calls} from ${t.from} s to ${t.to} s (${t.busySeconds} s summed)\n`,
      );
    }
    if (providers > 1)
      process.stderr.write(`timeline: at most ${timeline.cyclesAtOnce} of ${providers} cycles running at once\n`);

    const fetched = summaries.reduce((t, s) => t + s.fetched, 0);
    const billed = summaries.reduce((t, s) => t + s.billed, 0);
    const quarantined = summaries.reduce((t, s) => t + s.quarantined, 0);
    const repeats = summaries.reduce((t, s) => t + s.duplicatesSkipped, 0);
    process.stderr.write(
      `cycle${providers > 1 ? 's' : ''}: fetched ${fetched}, billed ${billed}, quarantined ${quarantined}, repeats ${repeats} in ${seconds.toFixed(1)} s\n`,
    );
    process.stderr.write(
      `simulator alone: ${served.lines} lines in ${served.seconds.toFixed(1)} s; limit (fetch + JSON.parse + COPY): ${limit.lines} lines in ${limit.seconds.toFixed(1)} s\n`,
    );
    process.stderr.write(
      `CPU seconds during the cycle: worker ${cpu.worker}, PostgreSQL ${cpu.postgres}, simulator+bench ${cpu.simulatorAndBench}, Temporal ${cpu.temporal} (wall ${seconds.toFixed(1)} s, ${os.availableParallelism()} cores)\n`,
    );
    const stages = { carrier: 0, lines: 0, known: 0, decide: 0, persist: 0 };
    // BENCH_WORKER_LOG=<file>: the workers' log lines (JSON, one a line), to look into a run afterwards.
    if (process.env.BENCH_WORKER_LOG) writeFileSync(process.env.BENCH_WORKER_LOG, stack.workerLogs.join('\n') + '\n');
    for (const line of stack.workerLogs) {
      if (!line.includes('usage pages fetched')) continue;
      const ms = (JSON.parse(line) as { ms: Partial<typeof stages> }).ms;
      for (const k of Object.keys(stages) as Array<keyof typeof stages>) stages[k] += ms[k] ?? 0;
    }
    const s1 = (msTotal: number) => `${(msTotal / 1000).toFixed(1)} s`;
    process.stderr.write(
      `fetch activities (summed): waiting for carrier pages ${s1(stages.carrier)}, hashing and reading lines ${s1(stages.lines)}, ` +
        `waiting for their stored versions ${s1(stages.known)}, deciding ${s1(stages.decide)}, waiting for the previous page's save ${s1(stages.persist)}\n`,
    );
    if (workerCount > 1)
      for (const w of perWorker)
        process.stderr.write(`worker ${w.pid}: ${w.fetchCalls} fetch activities, ${w.pages} pages, ${w.lines} lines\n`);

    const fanOutGroups = Number(o.fanOutGroups);
    let fanOut: Awaited<ReturnType<typeof measureQuarantineFanOut>> | null = null;
    if (fanOutGroups > 0) {
      // Telling 5,000 quarantine groups about new lines: a second cycle of provider 0 whose lines
      // belong to 5,000 tenants it has no service for, announced by its notify activity (bench/quarantine-fan-out.ts).
      const workersAlive = workers.map(() => stack.startWorker());
      workers.push(...workersAlive);
      fanOut = await measureQuarantineFanOut(stack, workersAlive, providerIds[0]!, 0, fanOutGroups);
      process.stderr.write(
        `quarantine fan-out: ${fanOut.groups} groups told in ${fanOut.seconds} s (${fanOut.concurrency} at a time), all settled after ${fanOut.settledSeconds} s; ` +
          `CPU seconds: Temporal ${fanOut.cpuSeconds.temporal}, worker ${fanOut.cpuSeconds.worker}, PostgreSQL ${fanOut.cpuSeconds.postgres}, bench ${fanOut.cpuSeconds.bench}; load ${fanOut.load}\n`,
      );
      for (const w of workersAlive) w.kill('SIGTERM');
      await Promise.all(
        workersAlive.map((w) => new Promise((r) => (w.exitCode === null ? w.once('exit', r) : r(null)))),
      );
    }

    const recordsPerSecond = Math.round(fetched / seconds);
    const limitRecordsPerSecond = Math.round(limit.lines / limit.seconds);
    process.stdout.write(
      JSON.stringify({
        records: fetched,
        ...(providers > 1 ? { providers, workers: workerCount } : {}),
        seconds: Number(seconds.toFixed(2)),
        recordsPerSecond,
        limitRecordsPerSecond,
        ratio: Number((recordsPerSecond / limitRecordsPerSecond).toFixed(3)),
        simulatorLinesPerSecond: Math.round(served.lines / served.seconds),
        peakRssMb: peak,
        historyEvents: events,
        cpuSeconds: cpu,
        ...(providers > 1 ? { cyclesAtOnce: timeline.cyclesAtOnce } : {}),
        ...(fanOut ? { quarantineFanOut: fanOut } : {}),
        // CPU microseconds per line (all processes): what a busy machine's wall clock hides.
        cpuMicrosPerLine: {
          cycle: Math.round(((cpu.worker + cpu.postgres + cpu.simulatorAndBench + cpu.temporal) * 1e6) / fetched),
          limit: Math.round((limitCpuSeconds * 1e6) / limit.lines),
          simulator: Math.round((servedCpuSeconds * 1e6) / served.lines),
        },
        ...(workerCount > 1
          ? { perWorker: perWorker.map((w) => ({ fetchActivities: w.fetchCalls, pages: w.pages, lines: w.lines })) }
          : {}),
      }) + '\n',
    );
  } finally {
    stopping = true;
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await stack.stop();
  }
}

function cpuOf(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
