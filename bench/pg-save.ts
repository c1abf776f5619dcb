/**
 * `npm run bench:pg-save -- [--records N] [--rounds R]`: PostgreSQL's CPU per line for storing a
 * cycle's pages, without the worker's noise: the pages are parsed, decided and encoded first
 * (as bench/hot-path.ts does), then each is looked up (knownVersions) and saved
 * (saveEncodedPage) in its own transaction, one after another, into a fresh database. Prints the
 * CPU every PostgreSQL process used per line, and the wall time per line. Uses DATABASE_URL's
 * server, or an embedded one of its own.
 */
import { Command } from '@commander-js/extra-typings';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../config';
import { parseNumberPreserving } from '../lib/fast-json';
import { addVersions, batchDecider, versionsOf, type KnownVersion } from '../core/mediation';
import { ensureDatabase, startEmbeddedPostgres } from '../db/embedded';
import { migrateUp } from '../db/migrate';
import { createPool, inTransaction } from '../db/pool';
import { knownVersions, saveEncodedPage } from '../db/usage-lines';
import { batchContext, receivedLines } from '../activities/mediate';
import { encodePage, type EncodedPage } from '../db/usage-rows';
import { postgresCpuSeconds } from './harness';
import { benchUsage } from './hot-path-data';

const o = new Command('pg-save')
  .option('--records <n>', 'usage lines', '200000')
  .option('--rounds <n>', 'fresh databases, one after another', '3')
  .option('--page-size <n>', 'lines per page', '1000')
  .parse()
  .opts();
const records = Number(o.records);
const pageSize = Number(o.pageSize);
const providerId = '6f1c2a8e-0000-4000-8000-000000000001';

async function main(): Promise<void> {
  const { billing, pageTexts } = benchUsage(records, pageSize);
  let server = process.env.DATABASE_URL;
  let pgDataDir: string | null = null;
  let stop = async () => {};
  if (!server) {
    const dataDir = path.join(PROJECT_ROOT, '.data', 'pg-save');
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
    const embedded = await startEmbeddedPostgres(dataDir, Number(process.env.EMBEDDED_PG_PORT ?? 54402));
    server = embedded.url;
    pgDataDir = path.join(dataDir, 'pg');
    stop = () => embedded.stop();
  }
  // Round 0 warms up (the server's caches, the worker's code): the last line sums up the others.
  const measured: Array<{ wall: number; cpu: number | null }> = [];
  try {
    for (let round = 0; round < Number(o.rounds); round++) {
      const url = await ensureDatabase(server, `pg_save_${randomBytes(4).toString('hex')}`);
      await migrateUp(url);
      const pool = createPool(url, 4);
      await pool.query(
        `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ($1, 'P', $1, 'x', 'UTC', '{06:00}')`,
        [providerId],
      );
      await pool.query(
        `INSERT INTO service (id, provider_id, tenant_id) SELECT s.id, $1, s.tenant FROM unnest($2::text[], $3::text[]) AS s(id, tenant)`,
        [providerId, billing.services.map((s) => s.serviceId), billing.services.map((s) => s.tenantId)],
      );
      const cycleId = `bench-cycle-${round}`;
      const pages: Array<{ keys: Array<{ recordKey: string; contentHash: string }>; encoded: EncodedPage }> = [];
      // Decided as the cycle would: against every line of the pages before (revisions, repeats).
      const known = new Map<string, KnownVersion[]>();
      for (const text of pageTexts()) {
        const parsed = parseNumberPreserving(text, 'Records');
        const lines = receivedLines((parsed.value as { Records: unknown[] }).Records, parsed.elementTexts!);
        const decideOne = batchDecider(batchContext(billing, known));
        const decided = lines.map((line) => Object.assign(line, { decision: decideOne(line) }));
        addVersions(known, versionsOf(decided));
        const keys = lines.map((l) => ({ recordKey: l.recordKey, contentHash: l.contentHash }));
        pages.push({ keys, encoded: encodePage({ providerId, receivedBy: cycleId, mediatedBy: cycleId }, decided) });
      }
      await pool.query('CHECKPOINT');
      const cpuBefore = pgDataDir ? postgresCpuSeconds(pgDataDir) : 0;
      const started = process.hrtime.bigint();
      for (const page of pages) {
        await knownVersions(pool, providerId, page.keys);
        await inTransaction(pool, (db) => saveEncodedPage(db, page.encoded, providerId));
      }
      const wall = Number(process.hrtime.bigint() - started) / 1e3 / records;
      const cpu = pgDataDir ? ((postgresCpuSeconds(pgDataDir) - cpuBefore) * 1e6) / records : null;
      console.error(
        JSON.stringify({
          round,
          wallMicrosPerLine: round2(wall),
          postgresCpuMicrosPerLine: cpu === null ? null : round2(cpu),
        }),
      );
      if (round > 0) measured.push({ wall, cpu });
      await pool.end();
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
      await admin.end();
    }
  } finally {
    await stop();
  }
  const mean = (xs: number[]) => (xs.length === 0 ? null : round2(xs.reduce((a, b) => a + b, 0) / xs.length));
  const cpus = measured.flatMap((m) => (m.cpu === null ? [] : [m.cpu]));
  // PostgreSQL's CPU is read from its processes: only an embedded server of this run's own has it.
  console.log(
    JSON.stringify({
      records,
      rounds: measured.length,
      wallMicrosPerLine: mean(measured.map((m) => m.wall)),
      postgresCpuMicrosPerLine: mean(cpus),
    }),
  );
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
