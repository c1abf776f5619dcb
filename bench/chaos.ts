/**
 * `npm run chaos -- [--records 100000] [--kills 10]`: one usage cycle against the real dev server,
 * PostgreSQL and the simulator, while the worker is SIGKILLed and restarted at random moments, the
 * carrier answers 5xx, 429 with Retry-After, expired tokens and a malformed page, and PostgreSQL is
 * restarted once. Then every line is checked against a count made from the simulator's own data.
 * Then the same inside `npm start` (workers/system.ts, CYCLE_ONCE=1): its supervised worker and
 * embedded PostgreSQL are SIGKILLed mid-cycle, the supervisor restarts them, and every line of
 * both demo providers is checked the same way.
 * Last line: {"kills", "records", "lost", "duplicated", "totalsMatch", "seconds", "npmStart": {...}}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { buildSimulator } from '../carrier/simulator/server';
import type { Dataset } from '../carrier/simulator/dataset';
import { embeddedUrlFor, startEmbeddedPostgres } from '../db/embedded';
import { createPool, type Pool } from '../db/pool';
import { getProvider } from '../db/providers';
import { Command } from '@commander-js/extra-typings';
import { parseLosslessJson } from '../lib/lossless';
import { rawRecordId } from '../core/usage-record';
import { textHash } from '../core/mediation';
import { listServices } from '../db/services';
import { runningCyclesFetched } from '../db/cycle-runs';
import { startUsageCycleNow } from '../workflows/usage-cycle.api';
import { expectedOutcomes, recomputedTotals } from '../test/support/expected';
import { onboardFirstProvider, startStack } from './harness';
import { freePort } from '../test/support/ports';

const o = new Command('chaos')
  .option('--records <n>', 'usage lines', '100000')
  .option('--kills <n>', 'worker SIGKILLs', '10')
  .option('--seed <n>', 'randomness of the kill times', '7')
  .option('--system-records <n>', 'usage lines per provider inside npm start', '100000')
  .parse()
  .opts();
const records = Number(o.records);
const kills = Number(o.kills);
let seed = Number(o.seed);
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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
    const starter = { temporal: stack.client, taskQueue: 'csp-billing' };
    const handle = await startUsageCycleNow(starter, { providerId, window }, `chaos-${Date.now()}`);
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
      const again = await startUsageCycleNow(starter, { providerId, window }, `chaos-again-${Date.now()}`);
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

    const check = await checkProvider(stack.pool, stack.sim.dataset, 0, providerId);
    stack.sim.faults.clear();
    process.stderr.write(`chaos: carrier faults fired ${stack.sim.faults.firedLog.length}\n`);
    const inside = await chaosInsideNpmStart(Number(o.systemRecords));
    process.stdout.write(
      JSON.stringify({
        kills: killed,
        records: check.records,
        lost: check.lost,
        duplicated: check.duplicated,
        totalsMatch: check.totalsMatch,
        seconds: Number(seconds.toFixed(1)),
        npmStart: inside,
      }) + '\n',
    );
    const bad = (c: { lost: number; duplicated: number; totalsMatch: boolean }) =>
      c.lost > 0 || c.duplicated > 0 || !c.totalsMatch;
    if (bad(check) || bad(inside)) process.exitCode = 1;
  } finally {
    worker.kill('SIGKILL');
    await stack.stop();
  }
}

/** Every line of one provider has exactly one outcome, and billed totals equal a straight recomputation. */
async function checkProvider(
  pool: Pool,
  dataset: Dataset,
  index: number,
  providerId: string,
): Promise<{ records: number; lost: number; duplicated: number; totalsMatch: boolean }> {
  // The independent count, from the simulator's own data.
  const expected = expectedOutcomes(dataset, index);
  const want = new Set<string>();
  for (let i = 0; i < expected.total; i++) {
    // Stored as received: keyed by the RecordId and the hash of the line's exact text.
    const text = dataset.usageLineJson(index, i);
    want.add(`${rawRecordId(parseLosslessJson(text)) ?? ''}|${textHash(text)}`);
  }
  const stored = await pool.query<{ k: string; status: string; reason: string | null }>(
    `SELECT record_key || '|' || content_hash AS k, status, reason FROM usage_line WHERE provider_id = $1`,
    [providerId],
  );
  const have = new Set(stored.rows.map((r) => r.k));
  const lost = [...want].filter((k) => !have.has(k)).length;
  const unsettled = stored.rows.filter((r) => r.status === 'NEW' || r.status === 'CLEANSED').length;
  const dup = await pool.query<{ n: number }>(
    `SELECT (count(*) - count(DISTINCT record_key))::int AS n FROM usage_charge WHERE provider_id = $1`,
    [providerId],
  );
  const sums = await pool.query<{ n: number; charge: string; cost: string }>(
    `SELECT count(*)::int AS n, coalesce(sum(charge), 0)::text AS charge, coalesce(sum(carrier_cost), 0)::text AS cost FROM usage_charge WHERE provider_id = $1`,
    [providerId],
  );
  const services = (await listServices(pool, providerId)).map((s) => ({
    serviceId: s.id,
    tenantId: s.tenant_id,
    cancelledOn: s.cancelled_on,
  }));
  const totals = recomputedTotals(dataset, index, services);
  const byReason: Record<string, number> = {};
  for (const r of stored.rows) if (r.status === 'QUARANTINED') byReason[r.reason!] = (byReason[r.reason!] ?? 0) + 1;
  const reasonsMatch =
    JSON.stringify(Object.entries(byReason).sort()) === JSON.stringify(Object.entries(expected.quarantined).sort());
  const totalsMatch =
    sums.rows[0]!.n === expected.billed &&
    sums.rows[0]!.n === totals.billed &&
    sums.rows[0]!.charge === totals.charge &&
    sums.rows[0]!.cost === totals.cost &&
    reasonsMatch &&
    unsettled === 0;
  process.stderr.write(
    `chaos: ${providerId}: ${stored.rowCount} lines stored, ${unsettled} unsettled; billed ${sums.rows[0]!.n} (expected ${expected.billed}); charge ${sums.rows[0]!.charge} (recomputed ${totals.charge}); ` +
      `quarantined ${JSON.stringify(byReason)} (expected ${JSON.stringify(expected.quarantined)})\n`,
  );
  return { records: expected.total, lost, duplicated: dup.rows[0]!.n, totalsMatch };
}

/**
 * `npm start` as a user runs it (CYCLE_ONCE=1), with its worker and its embedded PostgreSQL
 * SIGKILLed mid-cycle: the supervisor must restart both, and nothing may be lost or billed twice.
 */
async function chaosInsideNpmStart(recordsPerProvider: number) {
  const dataDir = path.join(PROJECT_ROOT, '.data', 'chaos-system');
  rmSync(dataDir, { recursive: true, force: true });
  const pgPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    METRICS_PORT: '0',
    SIMULATOR_RECORDS: String(recordsPerProvider),
    CYCLE_ONCE: '1',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  const started = Date.now();
  const system = spawn(process.execPath, ['--import', 'tsx', 'workers/system.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stdout = '';
  let partial = '';
  system.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  system.stderr.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        process.stderr.write(`${line}\n`);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => system.once('exit', (c) => resolve(c)));
  const seen = (msg: string) => logs.filter((l) => l.msg === msg);
  const waitFor = async (msg: string, count = 1) => {
    while (seen(msg).length < count) {
      if (system.exitCode !== null) throw new Error(`npm start exited (${system.exitCode}) before "${msg}"`);
      await sleep(100);
    }
    return seen(msg).at(-1)!;
  };
  // Kills land mid-cycle whatever the machine's speed: each waits until the running cycles have
  // fetched more lines (read from npm start's own database), never on a fixed sleep.
  await waitFor('demo provider onboarded', 2);
  const progress = createPool(embeddedUrlFor(dataDir, pgPort, 'csp')!, 1);
  const total = 2 * recordsPerProvider;
  const fetchedAtLeast = async (lines: number) => {
    for (;;) {
      if (system.exitCode !== null)
        throw new Error(`npm start exited (${system.exitCode}) before its cycles fetched ${lines} lines`);
      const now = await runningCyclesFetched(progress).catch(() => ({ running: 0, fetched: 0 }));
      if (now.running > 0 && now.fetched >= lines) return now.fetched;
      await sleep(50);
    }
  };
  const worker = (await waitFor('worker running (supervised)')).pid as number;
  const atWorkerKill = await fetchedAtLeast(Math.round(total * 0.15));
  process.kill(worker, 'SIGKILL');
  process.stderr.write(`chaos: npm start's worker (pid ${worker}) killed at ${atWorkerKill} of ${total} lines\n`);
  await waitFor('worker restarted');
  const atPostgresKill = await fetchedAtLeast(atWorkerKill + Math.round(total * 0.15));
  await progress.end();
  const postgres = (await waitFor('embedded PostgreSQL running')).pid as number;
  process.kill(postgres, 'SIGKILL');
  process.stderr.write(
    `chaos: npm start's PostgreSQL (pid ${postgres}) killed at ${atPostgresKill} of ${total} lines\n`,
  );
  await waitFor('postgres restarted');
  const code = await exited;
  const seconds = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`npm start exited ${code}: ${JSON.stringify(logs.slice(-5))}`);
  const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { cycles: unknown[] };

  // Count from the simulator's own data, as above, for both demo providers.
  const dataset = buildSimulator({ usageRecords: recordsPerProvider }).dataset;
  const db = await startEmbeddedPostgres(dataDir, pgPort);
  const pool = createPool(embeddedUrlFor(dataDir, pgPort, 'csp')!, 4);
  try {
    const checks = [];
    for (const [index, p] of dataset.providers.entries()) {
      const provider = await getProvider(pool, p.clientId);
      if (!provider) throw new Error(`provider ${p.name} was not onboarded`);
      checks.push(await checkProvider(pool, dataset, index, provider.id));
    }
    return {
      workerKills: 1,
      postgresKills: 1,
      restartsLogged: seen('worker restarted').length + seen('postgres restarted').length,
      cycles: summary.cycles.length,
      records: checks.reduce((n, c) => n + c.records, 0),
      lost: checks.reduce((n, c) => n + c.lost, 0),
      duplicated: checks.reduce((n, c) => n + c.duplicated, 0),
      totalsMatch: checks.every((c) => c.totalsMatch),
      seconds: Number(seconds.toFixed(1)),
    };
  } finally {
    await pool.end();
    await db.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`chaos: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
