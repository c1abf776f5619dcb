/**
 * `npm run bench -- --records N` (default 200000): one full usage cycle of N lines against the
 * real dev server and PostgreSQL, with the worker as its own process; and, in the same run, the
 * limit: fetching the same pages and COPYing the raw rows with nothing else. Last line: JSON.
 */
import { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { RhipeClient } from '../carrier/client';
import { usageCycleWorkflow } from '../workflows/usage-cycle';
import { historyEvents, onboardFirstProvider, peakRssMb, startStack } from './harness';

const o = new Command('bench').option('--records <n>', 'usage lines', '200000').option('--page-size <n>', 'lines per carrier page', '1000').parse().opts<{ records: string; pageSize: string }>();
const records = Number(o.records);
const pageSize = Number(o.pageSize);

async function main(): Promise<void> {
  const stack = await startStack('bench', records, { pg: 54401, temporal: 7401, sim: 9401 });
  try {
    // The worker runs from the start (onboarding is a workflow too); RSS is sampled throughout.
    const worker = stack.startWorker();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakRssMb(worker.pid!))), 250);
    const providerId = await onboardFirstProvider(stack);
    const window = { startDate: '2000-01-01', endDate: '2100-12-31' };

    // The limit: the same pages, raw rows COPYed into a scratch table, nothing else.
    const p = stack.sim.dataset.providers[0]!;
    const client = new RhipeClient({ identityUrl: stack.sim.url, apiUrl: stack.sim.url, timeoutMs: 60_000 }, { clientId: p.clientId, clientSecret: p.clientSecret });
    await stack.pool.query('CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw (record_id text, raw text)');
    const limitStart = Date.now();
    let limitRows = 0;
    const db = await stack.pool.connect();
    try {
      for await (const page of client.usagePages(window, pageSize)) {
        const lines = page.records.map((r) => {
          const id = String((r as { RecordId?: unknown }).RecordId ?? '');
          return `${id}\t${JSON.stringify(r).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')}\n`;
        });
        limitRows += lines.length;
        await pipeline(Readable.from(lines), db.query(copyFrom('COPY bench_raw (record_id, raw) FROM STDIN')));
      }
    } finally {
      db.release();
    }
    const limitSeconds = (Date.now() - limitStart) / 1000;

    // The real thing: one cycle through the worker process.
    const workflowId = `bench-cycle-${Date.now()}`;
    const start = Date.now();
    const summary = await stack.client.workflow.execute(usageCycleWorkflow, { taskQueue: 'csp-billing', workflowId, args: [{ providerId, window }] });
    const seconds = (Date.now() - start) / 1000;
    peak = Math.max(peak, peakRssMb(worker.pid!));
    clearInterval(sampler);
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    const events = await historyEvents(stack.client, workflowId);
    const timing = await stack.pool.query<{ fetch_s: number; mediate_s: number }>(
      `SELECT extract(epoch FROM max(received_at) - min(received_at))::float AS fetch_s, extract(epoch FROM max(updated_at) - max(received_at))::float AS mediate_s FROM usage_line`,
    );
    process.stderr.write(`cycle: fetched ${summary.fetched}, billed ${summary.billed}, quarantined ${summary.quarantined}, repeats ${summary.duplicatesSkipped}\n`);
    const stages = { carrier: 0, decide: 0, persist: 0 };
    for (const line of stack.workerLogs) {
      if (!line.includes('usage pages fetched')) continue;
      const ms = (JSON.parse(line) as { ms: typeof stages }).ms;
      stages.carrier += ms.carrier;
      stages.decide += ms.decide;
      stages.persist += ms.persist;
    }
    process.stderr.write(`fetch activity: waiting for carrier pages ${(stages.carrier / 1000).toFixed(1)} s, deciding ${(stages.decide / 1000).toFixed(1)} s, waiting for the previous page's save ${(stages.persist / 1000).toFixed(1)} s\n`);
    process.stderr.write(`where the time goes: fetch+persist ~${timing.rows[0]!.fetch_s.toFixed(1)} s, mediation after the last page ~${timing.rows[0]!.mediate_s.toFixed(1)} s, total ${seconds.toFixed(1)} s; limit ${limitSeconds.toFixed(1)} s for ${limitRows} rows\n`);
    const recordsPerSecond = Math.round(summary.fetched / seconds);
    const limitRecordsPerSecond = Math.round(limitRows / limitSeconds);
    process.stdout.write(
      JSON.stringify({
        records: summary.fetched, seconds: Number(seconds.toFixed(2)), recordsPerSecond, limitRecordsPerSecond,
        ratio: Number((recordsPerSecond / limitRecordsPerSecond).toFixed(3)), peakRssMb: peak, historyEvents: events,
      }) + '\n',
    );
  } finally {
    await stack.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
