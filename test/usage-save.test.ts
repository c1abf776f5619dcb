import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal } from '../core/money';
import { parseNumberPreserving } from '../lib/fast-json';
import { decideBatch } from '../core/mediation';
import { orderedTurns } from '../lib/concurrency';
import { CopyRows, numericBinary } from '../db/copy';
import { closePeriod } from '../db/billing-periods';
import { inTransaction } from '../db/pool';
import { importRateCard } from '../db/rates';
import { loadBillingContext } from '../db/mediation-context';
import { ConcurrentSaveError, knownVersions, savePage } from '../db/usage-lines';
import { batchContext, mediatePage, receivedLines } from '../activities/mediate';
import { freshDatabase, type TestDatabase } from './support/database';

// The usage pipeline's page save (db/usage-lines.ts savePage) and the database checks it relies on.

const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-111111111111';
let db: TestDatabase;

function page(ids: string[], month: string): { records: unknown[]; texts: string[] } {
  const texts = ids.map(
    (id) =>
      `{"RecordId":"${id}","TenantId":"${T1}","ProductId":"${P1}","ChargeStartDate":"${month}-01T00:00:00+00:00","ChargeEndDate":"${month}-28T00:00:00+00:00",` +
      `"UnitPrice":10,"Quantity":3,"BillableRatio":0.5,"SubTotal":15,"Currency":"AUD"}`,
  );
  const parsed = parseNumberPreserving(`{"Records":[${texts.join(',')}]}`);
  return { records: (parsed.value as { Records: unknown[] }).Records, texts: parsed.elementTexts! };
}

const source = (tag: string) => ({ receivedBy: tag, mediatedBy: tag });

before(async () => {
  db = await freshDatabase();
  for (const p of ['p1', 'p2']) {
    await db.pool.query(
      `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ($1, 'P', $1, 'x', 'UTC', '{06:00}')`,
      [p],
    );
    await importRateCard(db.pool, p, {
      currency: 'AUD',
      defaultMarkupPercent: null,
      rules: [{ productId: P1, kind: 'price', value: new Decimal('12.5') }],
    });
  }
  await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', $1), ('S-2', 'p2', $1)`, [
    T1,
  ]);
});
after(() => db.drop());

test("a page's charges for a closed month land in the next open month, the usage month kept", async () => {
  await closePeriod(db.pool, 'p1', '2026-08', 'alice');
  await closePeriod(db.pool, 'p1', '2026-09', 'alice');
  const { records, texts } = page(['closed-1', 'closed-2'], '2026-08');
  const open = page(['open-1'], '2026-10');
  const saved = await mediatePage(
    db.pool,
    'p1',
    source('cycle-closed'),
    [...records, ...open.records],
    [...texts, ...open.texts],
  );
  assert.equal(saved.billed, 3);
  const charges = await db.pool.query<{
    record_key: string;
    billing_period: string;
    usage_period: string;
    charge: string;
  }>(
    `SELECT record_key, billing_period, usage_period, charge::text FROM usage_charge WHERE provider_id = 'p1' AND record_key IN ('closed-1', 'closed-2', 'open-1') ORDER BY record_key`,
  );
  assert.deepEqual(charges.rows, [
    { record_key: 'closed-1', billing_period: '2026-10', usage_period: '2026-08', charge: '18.7500' },
    { record_key: 'closed-2', billing_period: '2026-10', usage_period: '2026-08', charge: '18.7500' },
    { record_key: 'open-1', billing_period: '2026-10', usage_period: '2026-10', charge: '18.7500' },
  ]);
});

test('a page stored meanwhile by another writer is refused whole (ConcurrentSaveError), never stored or billed twice', async () => {
  const { records, texts } = page(['race-1', 'race-2'], '2026-10');
  const lines = receivedLines(records, texts);
  const billing = await loadBillingContext(db.pool, 'p1');
  // Both writers decide against the same (empty) knowledge, as two cycles of one provider at once would.
  const decisions = decideBatch(lines, batchContext(billing, await knownVersions(db.pool, 'p1', lines)));
  const decided = lines.map((l, i) => ({ ...l, decision: decisions[i]! }));
  const first = await inTransaction(db.pool, (c) => savePage(c, 'p1', source('cycle-a'), decided));
  assert.equal(first.billed, 2);
  await assert.rejects(
    inTransaction(db.pool, (c) => savePage(c, 'p1', source('cycle-b'), decided)),
    ConcurrentSaveError,
  );
  const stored = await db.pool.query(
    `SELECT count(*)::int AS n FROM usage_line WHERE provider_id = 'p1' AND record_key IN ('race-1', 'race-2')`,
  );
  const charged = await db.pool.query(
    `SELECT count(*)::int AS n FROM usage_charge WHERE provider_id = 'p1' AND record_key IN ('race-1', 'race-2')`,
  );
  assert.deepEqual([stored.rows[0].n, charged.rows[0].n], [2, 2]);
  // Deciding again, as the retry does, finds them stored: exact repeats, nothing written.
  const again = await mediatePage(db.pool, 'p1', source('cycle-b'), records, texts);
  assert.deepEqual([again.inserted, again.repeats, again.billed], [0, 2, 0]);
});

test("stored versions of a page's RecordIds: their text comes along only where the bytes differ, and the same content in other bytes is a repeat", async () => {
  const { records, texts } = page(['same-1', 'same-2'], '2026-10');
  await mediatePage(db.pool, 'p1', source('cycle-same'), records, texts);
  // same-1 again as other bytes with the same content (1.10 is 1.1, keys reordered); same-2 revised.
  const month = '2026-10';
  const sameContent =
    `{"TenantId":"${T1}","RecordId":"same-1","ProductId":"${P1}","ChargeStartDate":"${month}-01T00:00:00+00:00","ChargeEndDate":"${month}-28T00:00:00+00:00",` +
    `"UnitPrice":10.00,"Quantity":3,"BillableRatio":0.50,"SubTotal":15.0,"Currency":"AUD"}`;
  const revised = texts[1]!.replace('"Quantity":3', '"Quantity":4');
  const parsed = parseNumberPreserving(`{"Records":[${texts[0]},${sameContent},${revised}]}`);
  const lines = receivedLines((parsed.value as { Records: unknown[] }).Records, parsed.elementTexts!);
  const known = await knownVersions(db.pool, 'p1', lines);
  assert.deepEqual([...known.keys()].sort(), ['same-1', 'same-2']);
  // same-1's stored version is wanted as text (one incoming line has other bytes), same-2's too (revised).
  assert.equal(known.get('same-1')!.length, 1);
  assert.equal(known.get('same-1')![0]!.raw, texts[0]);
  assert.equal(known.get('same-2')![0]!.raw, texts[1]);
  // Exactly the stored bytes again: no text is read.
  const exact = await knownVersions(db.pool, 'p1', lines.slice(0, 1));
  assert.equal(exact.get('same-1')![0]!.raw, null);
  const again = await mediatePage(
    db.pool,
    'p1',
    source('cycle-same-2'),
    (parsed.value as { Records: unknown[] }).Records.slice(1),
    parsed.elementTexts!.slice(1),
  );
  assert.deepEqual([again.inserted, again.repeats, again.billed, again.quarantined.DUPLICATE_USAGE], [1, 1, 0, 1]);
});

test('pages saved at once take their line ids in page order, however their saves are timed: ids are the order of receipt', async () => {
  const decidedPage = async (ids: string[]) => {
    const { records, texts } = page(ids, '2026-10');
    const lines = receivedLines(records, texts);
    const decisions = decideBatch(
      lines,
      batchContext(await loadBillingContext(db.pool, 'p1'), await knownVersions(db.pool, 'p1', lines)),
    );
    return lines.map((l, i) => ({ ...l, decision: decisions[i]! }));
  };
  const first = await decidedPage(['turn-1a', 'turn-1b']);
  const second = await decidedPage(['turn-2a', 'turn-2b']);
  const nextTurn = orderedTurns();
  const firstTurn = nextTurn();
  const secondTurn = nextTurn();
  // The second page's save starts first; the first page's only once the second's has begun.
  const savingSecond = inTransaction(db.pool, (c) => savePage(c, 'p1', source('cycle-turns'), second, secondTurn));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const savingFirst = inTransaction(db.pool, (c) => savePage(c, 'p1', source('cycle-turns'), first, firstTurn));
  await Promise.all([savingFirst, savingSecond]);
  const stored = await db.pool.query<{ record_key: string }>(
    `SELECT record_key FROM usage_line WHERE provider_id = 'p1' AND record_key LIKE 'turn-%' ORDER BY id`,
  );
  assert.deepEqual(
    stored.rows.map((r) => r.record_key),
    ['turn-1a', 'turn-1b', 'turn-2a', 'turn-2b'],
  );
});

test('a charge must name a line of its own provider and RecordId, and a service of that provider; nothing they name goes away', async () => {
  const line = (
    await db.pool.query<{ id: number }>(
      `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id, status, reason) VALUES ('p1', 'ref-1', 'h', '{}', 'c', 'QUARANTINED', 'NO_RATE_CARD') RETURNING id`,
    )
  ).rows[0]!.id;
  const charge = (lineId: number, provider: string, key: string, service: string) =>
    db.pool.query(
      `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin, rule_kind, charge_start, charge_end)
       VALUES ($1, $2, $3, $4, '2026-10', 'p', 1, 1, 1, 1, 1, 0, 'price', 'a', 'b')`,
      [lineId, provider, key, service],
    );
  await assert.rejects(
    charge(line + 1_000_000, 'p1', 'ref-x', 'S-1'),
    /no usage line \d+ of provider p1 with RecordId ref-x/,
  );
  await assert.rejects(charge(line, 'p2', 'ref-1', 'S-2'), /no usage line \d+ of provider p2/);
  await assert.rejects(charge(line, 'p1', 'other-key', 'S-1'), /with RecordId other-key/);
  await assert.rejects(charge(line, 'p1', 'ref-1', 'S-2'), /no service S-2 of provider p1/);
  await assert.rejects(charge(line, 'p1', 'ref-1', 'S-404'), /no service S-404 of provider p1/);
  await charge(line, 'p1', 'ref-1', 'S-1');
  await assert.rejects(db.pool.query(`DELETE FROM usage_line WHERE id = $1`, [line]), /usage lines are never deleted/);
  await assert.rejects(db.pool.query(`DELETE FROM service WHERE id = 'S-1'`), /services are never deleted/);
  await assert.rejects(
    db.pool.query(`UPDATE usage_line SET id = id + 1000000 WHERE id = $1`, [line]),
    /id and provider never change/,
  );
  await assert.rejects(
    db.pool.query(`UPDATE usage_charge SET service_id = 'S-2' WHERE usage_line_id = $1`, [line]),
    /never change/,
  );
  const still = await db.pool.query(
    `SELECT count(*)::int AS n FROM usage_charge WHERE usage_line_id = $1 AND service_id = 'S-1'`,
    [line],
  );
  assert.equal(still.rows[0].n, 1);
});

test('a credit or re-bill must name a charge that exists, which then cannot be deleted; no charge id changes (checked only for charges that name one)', async () => {
  const line = (
    await db.pool.query<{ id: number }>(
      `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id, status) VALUES ('p1', 'named-1', 'h', '{}', 'c', 'COMPLETED') RETURNING id`,
    )
  ).rows[0]!.id;
  const insert = (entry: 'CHARGE' | 'CREDIT', live: boolean, named: { reverses?: number; replaces?: number }) =>
    db.pool.query<{ id: number }>(
      `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio, carrier_cost, charge, margin,
                                 rule_kind, charge_start, charge_end, entry, live, reverses_charge_id, replaces_charge_id)
       VALUES ($1, 'p1', 'named-1', 'S-1', '2026-10', 'p', 1, 1, 1, 1, 1, 0, 'price', 'a', 'b', $2, $3, $4, $5) RETURNING id`,
      [line, entry, live, named.reverses ?? null, named.replaces ?? null],
    );
  const missing = 2_000_000_000;
  const isFk = (pattern: RegExp) => (err: Error & { code?: string }) =>
    err.code === '23503' && pattern.test(err.message);
  await assert.rejects(
    insert('CREDIT', false, { reverses: missing }),
    isFk(new RegExp(`reverses charge ${missing}, which does not exist`)),
  );
  await assert.rejects(
    insert('CHARGE', false, { replaces: missing }),
    isFk(new RegExp(`replaces charge ${missing}, which does not exist`)),
  );
  const charge = (await insert('CHARGE', false, {})).rows[0]!.id;
  const credit = (await insert('CREDIT', false, { reverses: charge })).rows[0]!.id;
  await assert.rejects(
    db.pool.query(`DELETE FROM usage_charge WHERE id = $1`, [charge]),
    isFk(new RegExp(`charge ${charge} cannot be deleted: charge ${credit} reverses or replaces it`)),
  );
  await assert.rejects(
    db.pool.query(`UPDATE usage_charge SET reverses_charge_id = $2 WHERE id = $1`, [credit, missing]),
    isFk(/which does not exist/),
  );
  await assert.rejects(
    db.pool.query(`UPDATE usage_charge SET id = id + 1000000 WHERE id = $1`, [charge]),
    /a usage charge's id never changes/,
  );
  const kept = await db.pool.query(
    `SELECT id, reverses_charge_id FROM usage_charge WHERE record_key = 'named-1' ORDER BY id`,
  );
  assert.deepEqual(
    kept.rows.map((r) => [Number(r.id), r.reverses_charge_id === null ? null : Number(r.reverses_charge_id)]),
    [
      [charge, null],
      [credit, charge],
    ],
  );
  // A charge nothing names may still go (in an open month), as before.
  await db.pool.query(`DELETE FROM usage_charge WHERE id = $1`, [credit]);
  await db.pool.query(`DELETE FROM usage_charge WHERE id = $1`, [charge]);
});

test("a line must name a known provider (one check per statement), and neither the line's provider nor the provider goes away or changes", async () => {
  const insertLines = (providers: string[]) =>
    db.pool.query(
      `INSERT INTO usage_line (provider_id, record_key, content_hash, raw, first_cycle_id, status, reason)
       SELECT p, 'prov-' || n, 'h', '{}', 'c', 'QUARANTINED', 'NO_RATE_CARD' FROM unnest($1::text[]) WITH ORDINALITY AS t(p, n)`,
      [providers],
    );
  // One unknown provider among known ones refuses the whole statement: nothing of it is stored.
  await assert.rejects(
    insertLines(['p1', 'p-unknown', 'p2']),
    (err: Error & { code?: string }) => err.code === '23503' && /no provider p-unknown/.test(err.message),
  );
  const stored = await db.pool.query(`SELECT count(*)::int AS n FROM usage_line WHERE record_key LIKE 'prov-%'`);
  assert.equal(stored.rows[0].n, 0);
  await insertLines(['p1', 'p2']);
  await assert.rejects(
    db.pool.query(`UPDATE usage_line SET provider_id = 'p2' WHERE record_key = 'prov-1'`),
    /id and provider never change/,
  );
  await assert.rejects(db.pool.query(`DELETE FROM provider WHERE id = 'p2'`), /providers are never deleted/);
  await assert.rejects(
    db.pool.query(`UPDATE provider SET id = 'p2-renamed' WHERE id = 'p2'`),
    /provider's id never changes/,
  );
  // What a provider's row may change, it still can.
  await db.pool.query(`UPDATE provider SET name = 'P two' WHERE id = 'p2'`);
  const lines = await db.pool.query(
    `SELECT provider_id FROM usage_line WHERE record_key LIKE 'prov-%' ORDER BY record_key`,
  );
  assert.deepEqual(
    lines.rows.map((r) => r.provider_id),
    ['p1', 'p2'],
  );
});

test('a line with a NUL character in its text fields is stored (U+FFFD in its columns, exact in raw), once, and never billed', async () => {
  const text =
    `{"RecordId":"nul\\u0000id","TenantId":"${T1}\\u0000","ProductId":"${P1}","ChargeStartDate":"2026-10-01T00:00:00+00:00","ChargeEndDate":"2026-10-28T00:00:00+00:00",` +
    `"UnitPrice":10,"Quantity":3,"BillableRatio":0.5,"SubTotal":15,"Currency":"AUD"}`;
  const parsed = parseNumberPreserving(`{"Records":[${text}]}`);
  const records = (parsed.value as { Records: unknown[] }).Records;
  const first = await mediatePage(db.pool, 'p1', source('cycle-nul'), records, parsed.elementTexts!);
  assert.deepEqual([first.inserted, first.billed, first.quarantined.INVALID_RECORD], [1, 0, 1]);
  const again = await mediatePage(db.pool, 'p1', source('cycle-nul-2'), records, parsed.elementTexts!);
  assert.deepEqual([again.inserted, again.repeats], [0, 1], 'the same line again is a repeat, not a second row');
  const row = await db.pool.query<{ record_key: string; tenant_ref: string; raw: string; reason_detail: string }>(
    `SELECT record_key, tenant_ref, raw, reason_detail FROM usage_line WHERE provider_id = 'p1' AND record_key LIKE 'nul%'`,
  );
  assert.equal(row.rows.length, 1);
  assert.equal(row.rows[0]!.record_key, 'nul\uFFFDid');
  assert.equal(row.rows[0]!.raw, text);
  assert.match(row.rows[0]!.reason_detail, /RecordId contains a NUL character/);
});

test("a line's tabs, newlines, carriage returns and backslashes are stored exactly (COPY), in raw, its RecordId and the quarantine detail", async () => {
  // Whitespace between tokens (a pretty-printed page) and escapes inside strings, a RecordId with a
  // backslash, tab and CR in it, and a tenant nobody holds (quarantined, its group key from the text).
  const text =
    `{\r\n\t"RecordId": "copy\\\\id\\t\\r-1",\n\t"TenantId":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb","ProductId":"${P1}","OfferName":"A\\\\B\\nC",` +
    `"ChargeStartDate":"2026-10-01T00:00:00+00:00","ChargeEndDate":"2026-10-28T00:00:00+00:00",\n"UnitPrice":10,"Quantity":3,"BillableRatio":0.5,"SubTotal":15,"Currency":"AUD"\n}`;
  const billed = page(['copy-billed'], '2026-10');
  const parsed = parseNumberPreserving(`{"Records":[${text},${billed.texts[0]}]}`);
  const records = (parsed.value as { Records: unknown[] }).Records;
  assert.equal(parsed.elementTexts![0], text);
  const saved = await mediatePage(db.pool, 'p1', source('cycle\tcopy'), records, parsed.elementTexts!);
  assert.deepEqual([saved.inserted, saved.billed, saved.quarantined.NON_EXISTENT_SERVICE], [2, 1, 1]);
  const rows = await db.pool.query<{
    record_key: string;
    raw: string;
    first_cycle_id: string;
    mediated_cycle_id: string;
    reason_detail: string | null;
  }>(
    `SELECT record_key, raw, first_cycle_id, mediated_cycle_id, reason_detail FROM usage_line WHERE provider_id = 'p1' AND first_cycle_id = $1 ORDER BY id`,
    ['cycle\tcopy'],
  );
  assert.deepEqual(
    rows.rows.map((r) => [r.record_key, r.raw, r.mediated_cycle_id]),
    [
      ['copy\\id\t\r-1', text, 'cycle\tcopy'],
      ['copy-billed', billed.texts[0], 'cycle\tcopy'],
    ],
  );
  const charge = await db.pool.query<{
    cycle_id: string;
    units: string;
    unit_rate: string;
    billable_ratio: string;
    charge: string;
  }>(
    `SELECT cycle_id, units::text, unit_rate::text, billable_ratio::text, charge::text FROM usage_charge WHERE provider_id = 'p1' AND record_key = 'copy-billed'`,
  );
  assert.deepEqual(charge.rows, [
    { cycle_id: 'cycle\tcopy', units: '3', unit_rate: '10', billable_ratio: '0.5', charge: '18.7500' },
  ]);
});

test('ids and billing months are filled into the rows by byte position: lines with multi-byte text, billed and quarantined, open and closed months, mixed', async () => {
  // Each row's id slot (and a charge's month) sits after whatever bytes the rows before it took:
  // names in several scripts make characters and bytes differ, row by row.
  await closePeriod(db.pool, 'p2', '2026-07', 'alice');
  const names = ['Café Łódź', '日本の顧客', 'plain', 'Ærø 🙂 Ltd'];
  const texts = names.map((name, i) => {
    const tenant = i === 2 ? 'cccccccc-cccc-4ccc-8ccc-cccccccccccc' : T1; // the third: a tenant nobody holds
    const month = i % 2 === 0 ? '2026-07' : '2026-10';
    return (
      `{"RecordId":"bytes-${i}","TenantId":"${tenant}","CustomerName":"${name}","ProductId":"${P1}","ChargeStartDate":"${month}-01T00:00:00+00:00",` +
      `"ChargeEndDate":"${month}-28T00:00:00+00:00","UnitPrice":10,"Quantity":${i + 1},"BillableRatio":0.5,"SubTotal":15,"Currency":"AUD"}`
    );
  });
  const parsed = parseNumberPreserving(`{"Records":[${texts.join(',')}]}`);
  const saved = await mediatePage(
    db.pool,
    'p2',
    source('cycle-bytes'),
    (parsed.value as { Records: unknown[] }).Records,
    parsed.elementTexts!,
  );
  assert.deepEqual([saved.inserted, saved.billed, saved.quarantined.NON_EXISTENT_SERVICE], [4, 3, 1]);
  const lines = await db.pool.query<{ id: string; record_key: string; raw: string; status: string }>(
    `SELECT id::text, record_key, raw, status FROM usage_line WHERE provider_id = 'p2' AND first_cycle_id = 'cycle-bytes' ORDER BY id`,
  );
  assert.deepEqual(
    lines.rows.map((r) => [r.record_key, r.raw, r.status]),
    texts.map((t, i) => [`bytes-${i}`, t, i === 2 ? 'QUARANTINED' : 'COMPLETED']),
  );
  const charges = await db.pool.query<{
    usage_line_id: string;
    record_key: string;
    billing_period: string;
    usage_period: string;
    units: string;
  }>(
    `SELECT usage_line_id::text, record_key, billing_period, usage_period, units::text FROM usage_charge WHERE provider_id = 'p2' AND cycle_id = 'cycle-bytes' ORDER BY record_key`,
  );
  const idOf = new Map(lines.rows.map((r) => [r.record_key, r.id]));
  assert.deepEqual(charges.rows, [
    {
      usage_line_id: idOf.get('bytes-0'),
      record_key: 'bytes-0',
      billing_period: '2026-08',
      usage_period: '2026-07',
      units: '1',
    },
    {
      usage_line_id: idOf.get('bytes-1'),
      record_key: 'bytes-1',
      billing_period: '2026-10',
      usage_period: '2026-10',
      units: '2',
    },
    {
      usage_line_id: idOf.get('bytes-3'),
      record_key: 'bytes-3',
      billing_period: '2026-10',
      usage_period: '2026-10',
      units: '4',
    },
  ]);
});

/** The numeric field CopyRows.decimal writes for `text`, without its length. */
function decimalFieldBytes(text: string): Buffer {
  const rows = new CopyRows(16);
  rows.row(1);
  rows.decimal(text);
  const bytes = rows.bytes();
  // The header (19 bytes), the row's field count (2), the field's length (4); the trailer (2) last.
  const length = bytes.readInt32BE(21);
  assert.equal(length, bytes.length - 25 - 2, text);
  return Buffer.from(bytes.subarray(25, 25 + length));
}

test("numbers are sent in PostgreSQL's own binary numeric form, byte for byte, and plain decimal texts only", async () => {
  const texts = [
    '0',
    '0.000',
    '-0',
    '1',
    '-1',
    '0.5',
    '-0.5',
    '0.0001',
    '0.00000001',
    '10000',
    '100000000',
    '12345.678',
    '1.2300',
    '9999.9999',
    '-98765432109876543210.123456789',
    '18.7500',
    '0.33333333333333333333',
    '1000000000000000000000000000000000000000000000000000000000000',
  ];
  for (const text of texts) {
    const sent = await db.pool.query<{ bytes: Buffer }>('SELECT numeric_send($1::numeric) AS bytes', [text]);
    assert.deepEqual(numericBinary(text), sent.rows[0]!.bytes, text);
    assert.deepEqual(decimalFieldBytes(text), sent.rows[0]!.bytes, `CopyRows.decimal ${text}`);
  }
  // CopyRows.decimal (a line's SubTotal, encoded in place) against the memoised encoder, on many texts.
  for (let i = 0; i < 2000; i++) {
    const int = String(Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 12))).padStart(1 + (i % 3), '0');
    const frac =
      i % 5 === 0
        ? ''
        : '.' +
          String(Math.floor(Math.random() * 1e9))
            .padStart(1 + (i % 9), '0')
            .slice(0, 1 + (i % 9));
    const text = (i % 4 === 0 ? '-' : '') + int + frac;
    assert.deepEqual(decimalFieldBytes(text), numericBinary(text), text);
  }
  for (const bad of ['1e5', '', '.5', '1.', '+1', 'NaN', '1,5', '-', '1.2.3', '-.5']) {
    assert.throws(() => numericBinary(bad), /not a plain decimal number/, bad);
    assert.throws(() => decimalFieldBytes(bad), /not a plain decimal number/, bad);
  }
});
