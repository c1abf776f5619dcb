import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { freshDatabase, type TestDatabase } from './support/database';
import { runCli } from './support/cli';
import { parseLosslessJson } from '../lib/lossless';
import { Decimal } from '../core/money';
import { parseRateCard, MAX_RATE_VALUE } from '../core/rate-card';
import { importRateCard } from '../db/rates';
import { quarantineGroupKey } from '../core/quarantine-group';
import { mediatePage } from '../activities/mediate';
import { listGroupLines, groupIdentity } from '../db/quarantined-lines';
import { RateEditError, setDefaultMarkup, setRate } from '../client/rate-changes';
import { quarantineActivities } from '../activities/quarantine';
import { usageActivities } from '../activities/usage';
import { registry } from '../activities/metrics';
import { rerateActivities } from '../activities/rerate';
import { quarantineWaiting } from '../db/health-readings';
import type { ActivityDeps } from '../activities/deps';
import type { ProviderView } from '../db/providers';
import type { ActionOutcome, ApplyActionInput } from '../workflows/quarantine-group.api';

/**
 * Bounds: a value whose charges could not be stored is refused where it is entered; a data error
 * that no retry can fix fails at once with its reason, and the lines it touched stay quarantined.
 */

const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333';
const HUGE = '9'.repeat(41);
let db: TestDatabase;

before(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times, currency) VALUES ('p1', 'Wingtip Partners', 'c', 'x', 'UTC', '{06:00}', 'NZD')`,
  );
  await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', $1)`, [T1]);
  await importRateCard(db.pool, 'p1', {
    currency: 'NZD',
    defaultMarkupPercent: null,
    rules: [{ productId: P1, kind: 'price', value: new Decimal('12.5') }],
  });
});
after(() => db?.drop());

let seq = 0;
function record(productId: string, subTotal: string, over: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    RecordId: `"rec-${++seq}"`,
    TenantId: `"${T1}"`,
    CustomerName: '"Wingtip Toys"',
    PrimaryDomainName: '"wingtip.onmicrosoft.com"',
    ProductId: `"${productId}"`,
    OfferName: '"Visio Plan 2"',
    ChargeStartDate: '"2026-11-01T00:00:00+13:00"',
    ChargeEndDate: '"2026-11-30T23:59:59+13:00"',
    UnitPrice: '10',
    Quantity: '3',
    BillableRatio: '1',
    SubTotal: subTotal,
    Currency: '"NZD"',
    ...over,
  };
  return `{${Object.entries(fields)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
}

async function store(texts: string[], by: string): Promise<void> {
  await mediatePage(
    db.pool,
    'p1',
    { receivedBy: by, mediatedBy: by },
    texts.map((t) => parseLosslessJson(t)),
    texts,
  );
}

async function statuses(groupKey: string): Promise<Record<string, number>> {
  const r = await db.pool.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM usage_line WHERE provider_id = 'p1' AND (group_key = $1 OR status = 'CLEANSED') GROUP BY 1`,
    [groupKey],
  );
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}

const deps = () => ({ pool: db.pool, log: { warn() {}, info() {} } }) as unknown as ActivityDeps;
const act = (input: ApplyActionInput): Promise<ActionOutcome> => {
  const activities = quarantineActivities(deps());
  return new MockActivityEnvironment().run((i: ApplyActionInput) => activities.applyQuarantineAction(i), input);
};

test('a rate or markup whose charges could not be stored is refused at input: rate files, the console’s edits', async () => {
  const card = (rule: string, extra = '') =>
    parseLosslessJson(`{"currency":"NZD"${extra},"rules":[{"productId":"${P1}",${rule}}]}`);
  assert.throws(
    () => parseRateCard(card(`"kind":"price","value":${HUGE}`)),
    /rules\[0\]\.value: a price must be below .*10\^20/,
  );
  assert.throws(() => parseRateCard(card(`"kind":"price","value":1e20`)), /a price must be below/);
  assert.throws(() => parseRateCard(card(`"kind":"markup","value":${HUGE}`)), /a markup must be below/);
  assert.throws(
    () => parseRateCard(card(`"kind":"price","value":1`, `,"defaultMarkupPercent":${HUGE}`)),
    /defaultMarkupPercent: a markup must be below/,
  );
  // Just inside the bound is a rate like any other.
  const inside = MAX_RATE_VALUE.minus('0.0001').toFixed();
  assert.equal(parseRateCard(card(`"kind":"price","value":${inside}`)).rules[0]!.value!.toFixed(), inside);

  // The console's edits (and the CLI's) go through client/rate-changes: refused before anything is written.
  const provider = { id: 'p1', currency: 'NZD' } as ProviderView;
  const edits = { pool: db.pool, temporal: {} as Client, taskQueue: 'none' };
  const who = { actor: 'alice', source: 'console' as const };
  await assert.rejects(
    setRate(edits, provider, { productId: P2, kind: 'price', value: HUGE }, who),
    (e: Error) => e instanceof RateEditError && /a price must be below 100,000,000,000,000,000,000/.test(e.message),
  );
  await assert.rejects(
    setDefaultMarkup(edits, provider, HUGE, who),
    (e: Error) => e instanceof RateEditError && /a markup must be below/.test(e.message),
  );
  const rules = await db.pool.query(`SELECT 1 FROM rate_rule WHERE provider_id = 'p1' AND product_id = $1`, [P2]);
  assert.equal(rules.rowCount, 0);
});

test('the CLI refuses a 41-digit price, markup or rate file with exit 2, saying the limit', async () => {
  const env = { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
  const set = await runCli(['rates', 'set', 'p1', '--product', P2, '--kind', 'price', '--value', HUGE], env);
  assert.equal(set.code, 2, set.err);
  assert.match(set.err, /--value: a price must be below 100,000,000,000,000,000,000 \(10\^20\)/);
  const markup = await runCli(['rates', 'default-markup', 'p1', HUGE], env);
  assert.equal(markup.code, 2, markup.err);
  assert.match(markup.err, /a markup must be below/);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bounds-')), 'card.json');
  writeFileSync(file, `{"currency":"NZD","rules":[{"productId":"${P2}","kind":"price","value":${HUGE}}]}`);
  const imported = await runCli(['rates', 'import', 'p1', '--file', file], env);
  assert.equal(imported.code, 2, imported.err);
  assert.match(imported.err, /rate card file .*card\.json: rules\[0\]\.value: a price must be below/);
  const rules = await db.pool.query(`SELECT 1 FROM rate_rule WHERE provider_id = 'p1' AND product_id = $1`, [P2]);
  assert.equal(rules.rowCount, 0);
});

test('a data error while saving a cleanse fails at once with its reason; the lines stay QUARANTINED; a write-off then works and audits their amount', async () => {
  // Two lines of a product without a rate: quarantined NO_RATE_CARD.
  await store([record(P2, '12.745'), record(P2, '12.745')], 'cycle-1');
  const groupKey = quarantineGroupKey('p1', 'NO_RATE_CARD', T1);
  assert.deepEqual(await statuses(groupKey), { QUARANTINED: 2 });
  // A price stored before rates were bounded at input (as on the demo): its charges overflow NUMERIC(38, 4).
  await db.pool.query(
    `INSERT INTO rate_rule (provider_id, product_id, service_id, kind, value) VALUES ('p1', $1, NULL, 'price', $2::numeric)`,
    [P2, HUGE],
  );
  const cleanse: ApplyActionInput = {
    groupKey,
    providerId: 'p1',
    request: { action: 'cleanse', by: 'alice', requestId: 'cleanse-1' },
    rejection: null,
  };
  await assert.rejects(act(cleanse), (e: unknown) => {
    assert.ok(e instanceof ApplicationFailure, String(e));
    assert.equal(e.nonRetryable, true, 'no retry can store it');
    assert.equal(e.type, 'POSTGRES_22003');
    assert.match(e.message, /cleanse of .*: numeric field overflow \(SQLSTATE 22003\)/);
    return true;
  });
  assert.deepEqual(await statuses(groupKey), { QUARANTINED: 2 }, 'never left CLEANSED');
  const why = await db.pool.query<{ reason: string; reason_detail: string }>(
    `SELECT reason, reason_detail FROM usage_line WHERE group_key = $1`,
    [groupKey],
  );
  assert.ok(why.rows.every((r) => r.reason === 'NO_RATE_CARD' && /SQLSTATE 22003/.test(r.reason_detail)));
  const charges = await db.pool.query(`SELECT 1 FROM usage_charge WHERE product_key = $1`, [P2]);
  assert.equal(charges.rowCount, 0);
  // Retried anyway (a worker restarted mid-way): nothing waits half-way, nothing is billed.
  const again = await act(cleanse);
  assert.deepEqual([again.billed, again.requarantined], [0, 2]);
  assert.deepEqual(await statuses(groupKey), { QUARANTINED: 2 });

  // The group can still be written off; the write-off's amount is what the lines were worth, in their currency.
  const writeOff = await act({
    groupKey,
    providerId: 'p1',
    request: { action: 'writeOff', by: 'bob', reason: 'priced by mistake', requestId: 'wo-1' },
    rejection: null,
  });
  assert.equal(writeOff.writtenOff, 2);
  assert.equal(writeOff.amount, '25.4900');
  const audited = await db.pool.query<{ amount: string }>(
    `SELECT amount::text FROM quarantine_action WHERE request_id = 'wo-1'`,
  );
  assert.equal(audited.rows[0]!.amount, '25.4900');
  const lines = await listGroupLines(db.pool, groupKey);
  assert.deepEqual(
    lines.map((l) => [l.status, l.currency]),
    [
      ['WRITTEN_OFF', 'NZD'],
      ['WRITTEN_OFF', 'NZD'],
    ],
  );
});

test('a data error while a cycle mediates fails it at once; its lines stay where they were', async () => {
  // A line stored undecided (as a crash between persisting and mediating leaves it): NEW.
  await store([record(P3, '1.00')], 'cycle-2');
  await db.pool.query(
    `UPDATE usage_line SET status = 'NEW', reason = NULL, group_key = NULL WHERE provider_id = 'p1' AND raw LIKE $1`,
    [`%${P3}%`],
  );
  await db.pool.query(
    `INSERT INTO rate_rule (provider_id, product_id, service_id, kind, value) VALUES ('p1', $1, NULL, 'price', $2::numeric)`,
    [P3, HUGE],
  );
  const activities = usageActivities(deps());
  const mediate = (i: Parameters<typeof activities.mediateUsage>[0]) => activities.mediateUsage(i);
  await assert.rejects(
    new MockActivityEnvironment().run(mediate, { providerId: 'p1', cycleId: 'cycle-3', batchSize: 100, maxBatches: 5 }),
    (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable && /SQLSTATE 22003/.test(e.message),
  );
  const left = await db.pool.query<{ status: string }>(`SELECT status FROM usage_line WHERE raw LIKE $1`, [`%${P3}%`]);
  assert.deepEqual(
    left.rows.map((r) => r.status),
    ['NEW'],
  );
});

test('after an allocation the group shows its lines (billed) and its customer; the billed metrics count it, and a re-rate', async () => {
  const tenant = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
  await store(
    [record(P1, '30', { TenantId: `"${tenant}"` }), record(P1, '30', { TenantId: `"${tenant}"` })],
    'cycle-4',
  );
  const groupKey = quarantineGroupKey('p1', 'NON_EXISTENT_SERVICE', tenant);
  const metric = async () => {
    const text = await registry.metrics();
    const m = /csp_usage_lines_billed_total\{provider="p1"\} (\d+)/.exec(text);
    const c = /csp_usage_charge_billed\{provider="p1",currency="NZD"\} ([-\d.e]+)/.exec(text);
    return { lines: m ? Number(m[1]) : 0, charge: c ? Number(c[1]) : 0 };
  };
  const before = await metric();
  const out = await act({
    groupKey,
    providerId: 'p1',
    request: { action: 'allocate', serviceId: 'S-1', by: 'alice', requestId: 'alloc-1' },
    rejection: null,
  });
  assert.equal(out.billed, 2);
  assert.equal(out.amount, '75.0000');
  const lines = await listGroupLines(db.pool, groupKey);
  assert.deepEqual(
    lines.map((l) => l.status),
    ['COMPLETED', 'COMPLETED'],
  );
  assert.equal((await groupIdentity(db.pool, groupKey)).customer, 'Wingtip Toys');
  const afterwards = await metric();
  assert.equal(afterwards.lines - before.lines, 2, 'lines billed by an allocation count');
  assert.equal((afterwards.charge - before.charge).toFixed(4), '75.0000');

  // A re-rate bills too: the lines charged again and the net change count.
  await importRateCard(db.pool, 'p1', {
    currency: 'NZD',
    defaultMarkupPercent: null,
    rules: [{ productId: P1, kind: 'price', value: new Decimal('20') }],
  });
  const rerate = rerateActivities({ pool: db.pool });
  const scope = { providerId: 'p1', period: '2026-11', productId: P1, tag: 'rerate-1' };
  const batch = await rerate.rerateBatch({ ...scope, afterChargeId: 0 });
  assert.equal(batch.next, null);
  const outcome = await rerate.rerateOutcome({ providerId: 'p1', tag: 'rerate-1' });
  assert.deepEqual([outcome.lines, outcome.delta], [2, '45.0000']);
  const rerated = await metric();
  assert.equal(rerated.lines - afterwards.lines, 2, 'lines charged again by a re-rate count');
  assert.equal((rerated.charge - afterwards.charge).toFixed(4), '45.0000');
  await rerate.rerateOutcome({ providerId: 'p1', tag: 'rerate-1' });
  assert.deepEqual(await metric(), rerated, 'read again, counted once');
});

test('quarantine amounts waiting are labelled by the records’ currency, never added across currencies', async () => {
  await store([record(P2, '5', { Currency: '"AUD"' })], 'cycle-5');
  const { lines } = await quarantineWaiting(db.pool);
  const mine = lines.filter((r) => r.provider_id === 'p1');
  const aud = mine.filter((r) => r.currency === 'AUD');
  assert.deepEqual(
    aud.map((r) => [r.reason, r.lines, new Decimal(r.amount).toFixed(2)]),
    [['CURRENCY_MISMATCH', 1, '5.00']],
  );
  assert.ok(mine.filter((r) => r.currency !== 'AUD').every((r) => r.currency === 'NZD'));
});
