/**
 * `npm run chaos -- [--records 100000] [--kills 10]`: one usage cycle against the real dev server,
 * PostgreSQL and the simulator, while the worker is SIGKILLed and restarted at random moments, the
 * carrier answers 5xx, 429 with Retry-After, expired tokens and a malformed page, and PostgreSQL is
 * restarted once. Then every line is checked against a count made from the simulator's own data.
 * Last line: {"kills", "records", "lost", "duplicated", "totalsMatch", "seconds"}.
 */
import type { ChildProcess } from 'node:child_process';
import { Command } from 'commander';
import { parseLosslessJson } from '../core/lossless';
import { contentHash, rawRecordId } from '../core/usage-record';
import { listServices } from '../db/services';
import { usageCycleWorkflow } from '../workflows/usage-cycle';
import { expectedOutcomes, recomputedTotals } from '../test/support/expected';
import { onboardFirstProvider, startStack } from './harness';

const o = new Command('chaos').option('--records <n>', 'usage lines', '100000').option('--kills <n>', 'worker SIGKILLs', '10').option('--seed <n>', 'randomness of the kill times', '7').parse().opts<{ records: string; kills: string; seed: string }>();
const records = Number(o.records);
const kills = Number(o.kills);
let seed = Number(o.seed);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const stack = await startStack('chaos', records, { pg: 54411, temporal: 7411, sim: 9411 });
  let worker: ChildProcess = stack.startWorker();
  const started = Date.now();
  try {
    const providerId = await onboardFirstProvider(stack);
    const window = { startDate: '2000-01-01', endDate: '2100-12-31' };
    stack.sim.faults.set([
      { endpoint: 'usage', kind: 'http500', probability: 0.03 },
      { endpoint: 'usage', kind: 'http503', probability: 0.02 },
      { endpoint: 'usage', kind: 'http429', probability: 0.03, retryAfterSeconds: 1 },
      { endpoint: 'usage', kind: 'expireToken', probability: 0.02 },
      { endpoint: 'usage', kind: 'malformed', afterCalls: 15, times: 1 },
    ]);
    const handle = await stack.client.workflow.start(usageCycleWorkflow, { taskQueue: 'csp-billing', workflowId: `chaos-${Date.now()}`, args: [{ providerId, window }] });
    let done = false;
    const result = handle.result().finally(() => (done = true));
    result.catch(() => undefined);

    let killed = 0;
    let pgRestarted = false;
    const killWorker = async () => {
      worker.kill('SIGKILL');
      await new Promise((r) => worker.once('exit', r));
      killed++;
      process.stderr.write(`chaos: worker killed (${killed})\n`);
    };
    // Kill at random moments during the cycle, `kills` times (a cycle that ends first is followed
    // by a second one over the same window, killed the remaining times, below).
    while (!done && killed < kills) {
      await sleep(3000 + random() * 6000);
      if (done) break;
      await killWorker();
      if (!pgRestarted && killed === Math.ceil(kills / 2)) {
        await stack.restartPostgres();
        pgRestarted = true;
        process.stderr.write('chaos: PostgreSQL restarted\n');
      }
      worker = stack.startWorker();
    }
    await result;
    // The same window again under the same chaos, if the first cycle ended before enough kills:
    // everything is a repeat, and nothing may be billed again.
    while (killed < kills) {
      const again = await stack.client.workflow.start(usageCycleWorkflow, { taskQueue: 'csp-billing', workflowId: `chaos-again-${Date.now()}`, args: [{ providerId, window }] });
      let finished = false;
      const r = again.result().finally(() => (finished = true));
      r.catch(() => undefined);
      while (!finished && killed < kills) {
        await sleep(2000 + random() * 4000);
        if (finished) break;
        await killWorker();
        worker = stack.startWorker();
      }
      await r;
    }
    if (!pgRestarted) {
      await stack.restartPostgres();
      process.stderr.write('chaos: PostgreSQL restarted (after the cycle)\n');
    }
    const seconds = (Date.now() - started) / 1000;
    stack.sim.faults.clear();

    // The independent count, from the simulator's own data.
    const expected = expectedOutcomes(stack.sim.dataset, 0);
    const want = new Set<string>();
    for (let i = 0; i < expected.total; i++) {
      const rec = parseLosslessJson(stack.sim.dataset.usageLineJson(0, i));
      want.add(`${rawRecordId(rec) ?? ''}|${contentHash(rec)}`);
    }
    const stored = await stack.pool.query<{ k: string; status: string; reason: string | null }>(
      `SELECT record_key || '|' || content_hash AS k, status, reason FROM usage_line WHERE provider_id = $1`,
      [providerId],
    );
    const have = new Set(stored.rows.map((r) => r.k));
    const lost = [...want].filter((k) => !have.has(k)).length;
    const unsettled = stored.rows.filter((r) => r.status === 'NEW' || r.status === 'CLEANSED').length;
    const dup = await stack.pool.query<{ n: number }>(`SELECT (count(*) - count(DISTINCT record_key))::int AS n FROM usage_charge WHERE provider_id = $1`, [providerId]);
    const sums = await stack.pool.query<{ n: number; charge: string; cost: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(charge), 0)::text AS charge, coalesce(sum(carrier_cost), 0)::text AS cost FROM usage_charge WHERE provider_id = $1`,
      [providerId],
    );
    const services = (await listServices(stack.pool, providerId)).map((s) => ({ serviceId: s.id, tenantId: s.tenant_id, cancelledOn: s.cancelled_on }));
    const totals = recomputedTotals(stack.sim.dataset, 0, services);
    const byReason: Record<string, number> = {};
    for (const r of stored.rows) if (r.status === 'QUARANTINED') byReason[r.reason!] = (byReason[r.reason!] ?? 0) + 1;
    const reasonsMatch = JSON.stringify(Object.entries(byReason).sort()) === JSON.stringify(Object.entries(expected.quarantined).sort());
    const totalsMatch = sums.rows[0]!.n === expected.billed && sums.rows[0]!.n === totals.billed && sums.rows[0]!.charge === totals.charge && sums.rows[0]!.cost === totals.cost && reasonsMatch && unsettled === 0;
    process.stderr.write(
      `chaos: ${stored.rowCount} lines stored, ${unsettled} unsettled; billed ${sums.rows[0]!.n} (expected ${expected.billed}); charge ${sums.rows[0]!.charge} (recomputed ${totals.charge}); ` +
        `quarantined ${JSON.stringify(byReason)} (expected ${JSON.stringify(expected.quarantined)}); carrier faults fired ${stack.sim.faults.firedLog.length}\n`,
    );
    process.stdout.write(JSON.stringify({ kills: killed, records: expected.total, lost, duplicated: dup.rows[0]!.n, totalsMatch, seconds: Number(seconds.toFixed(1)) }) + '\n');
    if (lost > 0 || dup.rows[0]!.n > 0 || !totalsMatch) process.exitCode = 1;
  } finally {
    worker.kill('SIGKILL');
    await stack.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`chaos: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
