import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freshDatabase } from './support/database';
import { migrateDown, migrateUp } from '../db/migrate';
import { createPool } from '../db/pool';

test('migrations: up from empty, re-run is a no-op, down and up again', async () => {
  const db = await freshDatabase({ migrate: false });
  // Migrations run as the schema's owner; the application role sees no table it was not granted.
  const owner = createPool(db.ownerUrl, 2);
  try {
    const first = await migrateUp(db.ownerUrl);
    assert.ok(first.length >= 1);
    assert.deepEqual(await migrateUp(db.ownerUrl), []);
    const tables = await owner.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    for (const t of [
      'provider',
      'service',
      'usage_line',
      'usage_charge',
      'quarantine_action',
      'cycle_run',
      'rate_rule',
      'licence_event',
    ]) {
      assert.ok(
        tables.rows.some((r) => r.table_name === t),
        `table ${t}`,
      );
    }
    await migrateDown(db.ownerUrl, first.length);
    const after = await owner.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'usage_line'`,
    );
    assert.equal(after.rows[0].n, 0);
    assert.deepEqual(await migrateUp(db.ownerUrl), first);
  } finally {
    await owner.end();
    await db.drop();
  }
});

test('migrations: concurrent runs (workers starting together) both succeed, each migration applied once', async () => {
  const db = await freshDatabase({ migrate: false });
  // Migrations run as the schema's owner; the application role sees no table it was not granted.
  const owner = createPool(db.ownerUrl, 2);
  try {
    // Two workers starting at once: the second waits for the first's lock, then finds nothing to do.
    const [a, b] = await Promise.all([migrateUp(db.ownerUrl), migrateUp(db.ownerUrl)]);
    const rows = await owner.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY id');
    assert.ok(rows.rowCount! >= 1);
    assert.deepEqual(
      [...a, ...b].sort(),
      rows.rows.map((r) => r.name).sort(),
      'every migration applied by exactly one of them',
    );
    assert.ok(a.length === 0 || b.length === 0, 'one run applied them all');
    assert.deepEqual(await migrateUp(db.ownerUrl), []);
  } finally {
    await owner.end();
    await db.drop();
  }
});

test('database: a RecordId can be billed once only, whatever the code does', async () => {
  const db = await freshDatabase();
  try {
    await db.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'c', 'x', 'UTC', '{06:00}')`,
    );
    await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', 't')`);
    for (const h of ['h1', 'h2']) {
      await db.pool.query(
        `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id) VALUES ('p1', 'R', $1, '{}', 'c')`,
        [h],
      );
    }
    const ids = (await db.pool.query<{ id: number }>('SELECT id FROM usage_line ORDER BY id')).rows.map((r) => r.id);
    const charge = (lineId: number) =>
      db.pool.query(
        `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, charge_start, charge_end)
         VALUES ($1, 'p1', 'R', 'S-1', '2026-10', 'p', 1, 1, 1, 1, 1, 0, 'price', 'a', 'b')`,
        [lineId],
      );
    await charge(ids[0]!);
    await assert.rejects(charge(ids[1]!), /usage_charge_one_live/);
  } finally {
    await db.drop();
  }
});

test("database: a cycle's charge totals are kept per statement, exact, through inserts, changes and removals", async () => {
  const db = await freshDatabase();
  try {
    await db.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'c', 'x', 'UTC', '{06:00}')`,
    );
    await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', 't')`);
    await db.pool.query(
      `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id) SELECT 'p1', 'R' || g, 'h', '{}', 'c' FROM generate_series(1, 6) g`,
    );
    // Two cycles' charges in one statement, amounts that binary floats would not add exactly.
    await db.pool.query(
      `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, cycle_id, charge_start, charge_end)
       SELECT l.id, 'p1', l.record_key, 'S-1', '2026-10', 'p', 1, 1, 1, 0.1000 * n, 0.3000 * n, 0.2000 * n, 'price', CASE WHEN n <= 4 THEN 'c1' ELSE 'c2' END, 'a', 'b'
         FROM (SELECT id, record_key, row_number() OVER (ORDER BY id) AS n FROM usage_line) l`,
    );
    const parts = async () =>
      (
        await db.pool.query<{ cycle_id: string; n: number; cost: string; charge: string; margin: string }>(
          `SELECT cycle_id, sum(charges)::int AS n, sum(carrier_cost)::numeric(38,4)::text AS cost, sum(charge)::numeric(38,4)::text AS charge, sum(margin)::numeric(38,4)::text AS margin
         FROM usage_charge_cycle_part GROUP BY cycle_id HAVING sum(charges) <> 0 OR sum(charge) <> 0 ORDER BY cycle_id`,
        )
      ).rows;
    const direct = async () =>
      (
        await db.pool.query(
          `SELECT cycle_id, count(*)::int AS n, sum(carrier_cost)::text AS cost, sum(charge)::text AS charge, sum(margin)::text AS margin
         FROM usage_charge GROUP BY cycle_id ORDER BY cycle_id`,
        )
      ).rows;
    assert.deepEqual(await parts(), [
      { cycle_id: 'c1', n: 4, cost: '1.0000', charge: '3.0000', margin: '2.0000' },
      { cycle_id: 'c2', n: 2, cost: '1.1000', charge: '3.3000', margin: '2.2000' },
    ]);
    await db.pool.query(`UPDATE usage_charge SET live = false WHERE record_key = 'R1'`);
    await db.pool.query(`UPDATE usage_charge SET charge = charge + 0.0100, cycle_id = 'c2' WHERE record_key = 'R2'`);
    await db.pool.query(`DELETE FROM usage_charge WHERE record_key = 'R6'`);
    assert.deepEqual(await parts(), await direct());
    assert.deepEqual(
      (await parts()).map((p) => [p.cycle_id, p.n, p.charge]),
      [
        ['c1', 3, '2.4000'],
        ['c2', 2, '2.1100'],
      ],
    );
    // A change that moves no amount (a charge no longer live) records nothing.
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM usage_charge_cycle_part')).rows[0].n;
    await db.pool.query(`UPDATE usage_charge SET live = false WHERE record_key = 'R3'`);
    assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM usage_charge_cycle_part')).rows[0].n, before);
  } finally {
    await db.drop();
  }
});

test("database: a provider's quarantine is read from its own lines, not every provider's", async () => {
  const db = await freshDatabase();
  try {
    await db.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('big', 'Big', 'c1', 'x', 'UTC', '{06:00}'), ('small', 'Small', 'c2', 'x', 'UTC', '{06:00}')`,
    );
    // The other provider's lines fill many heap pages (171 read without the index), as a quarantine does.
    await db.pool.query(
      `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id, status, reason, group_key, sub_total)
       SELECT CASE WHEN g % 400 = 0 THEN 'small' ELSE 'big' END, 'R' || g, 'h', repeat('x', 3000), 'c', 'QUARANTINED', 'NO_RATE_CARD',
              CASE WHEN g % 400 = 0 THEN 'small' ELSE 'big' END || '|NO_RATE_CARD|t', 1.25
         FROM generate_series(1, 8000) g`,
    );
    // Maintenance is the owner's (and autovacuum's): the application role may not VACUUM.
    const owner = createPool(db.ownerUrl, 1);
    await owner.query('VACUUM ANALYZE usage_line').finally(() => owner.end());
    const plan = (
      await db.pool.query<{
        'QUERY PLAN': Array<{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }>;
      }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT count(*), coalesce(sum(sub_total), 0) FROM usage_line WHERE provider_id = 'small' AND status = 'QUARANTINED'`,
      )
    ).rows[0]!['QUERY PLAN'][0]!.Plan;
    const pages = plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
    // 20 lines of "small" against 7,980 of "big": a read of every quarantined line touches thousands of pages.
    assert.ok(pages < 20, `${pages} pages read for 20 quarantined lines`);
    const snapshot = await db.pool.query(
      `SELECT count(*)::int AS n, sum(sub_total)::text AS amount FROM usage_line WHERE provider_id = 'small' AND status = 'QUARANTINED'`,
    );
    assert.deepEqual(snapshot.rows[0], { n: 20, amount: '25.00' });
  } finally {
    await db.drop();
  }
});
