import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Decimal } from '../core/money';
import { parseNumberPreserving } from '../lib/fast-json';
import { decideBatch } from '../core/mediation';
import { openCycleRun, fetchCursor } from '../db/cycle-runs';
import { importRateCard } from '../db/rates';
import { loadBillingContext } from '../db/mediation-context';
import { ConcurrentSaveError, knownVersions } from '../db/usage-lines';
import { batchContext, mediatePage, receivedLines } from '../activities/mediate';
import { encodePage, idList, type EncodedPage } from '../db/usage-rows';
import { threadPageSaver, type ThreadPageSaver } from '../db/page-saver';
import { WORKER_NODE_FLAGS } from '../workers/node-flags';
import { PROJECT_ROOT } from '../config';
import { freshDatabase, type TestDatabase } from './support/database';

// The usage cycle's page saver (db/page-saver.ts): pages stored on a thread of their own.

const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-111111111111';
const WINDOW = { startDate: '2026-10-01', endDate: '2026-10-31' };
let db: TestDatabase;
let saver: ThreadPageSaver;

/** Usage records as the carrier sends them: each record's text, and the record parsed losslessly. */
function carrierRecords(ids: string[], quantity = 3): { records: unknown[]; texts: string[] } {
  const texts = ids.map(
    (id) =>
      `{"RecordId":"${id}","TenantId":"${T1}","ProductId":"${P1}","ChargeStartDate":"2026-10-01T00:00:00+00:00","ChargeEndDate":"2026-10-28T00:00:00+00:00",` +
      `"UnitPrice":10,"Quantity":${quantity},"BillableRatio":0.5,"SubTotal":${5 * quantity},"Currency":"AUD"}`,
  );
  const parsed = parseNumberPreserving(`{"Records":[${texts.join(',')}]}`);
  return { records: (parsed.value as { Records: unknown[] }).Records, texts: parsed.elementTexts! };
}

async function decidedPage(providerId: string, cycleId: string, ids: string[]): Promise<EncodedPage> {
  const { records, texts } = carrierRecords(ids);
  const lines = receivedLines(records, texts);
  const decisions = decideBatch(
    lines,
    batchContext(await loadBillingContext(db.pool, providerId), await knownVersions(db.pool, providerId, lines)),
  );
  return encodePage(
    { providerId, receivedBy: cycleId, mediatedBy: cycleId },
    lines.map((l, i) => ({ ...l, decision: decisions[i]! })),
  );
}

before(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'p1', 'x', 'UTC', '{06:00}')`,
  );
  await importRateCard(db.pool, 'p1', {
    currency: 'AUD',
    defaultMarkupPercent: null,
    rules: [{ productId: P1, kind: 'price', value: new Decimal('12.5') }],
  });
  await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', $1)`, [T1]);
  saver = threadPageSaver(db.url, {}, 4);
});
after(async () => {
  await saver.close();
  await db.drop();
});

test("a call's pages saved at once on the saver's thread: stored and billed, ids in page order, the resume point after the last", async () => {
  await openCycleRun(db.pool, 'c-order', 'p1', WINDOW);
  // Five lines take more than the 4 kB Node serves from its shared pool: the page has memory of its own to hand over.
  const first = await decidedPage('p1', 'c-order', ['o-1', 'o-2', 'o-3', 'o-4', 'o-5']);
  const second = await decidedPage('p1', 'c-order', ['o-6', 'o-7']);
  const saves = [
    saver.save({
      call: 'c-order#1',
      providerId: 'p1',
      cycleId: 'c-order',
      page: first,
      cursor: { page: 1, fingerprint: 'f1', fetched: 5 },
    }),
    saver.save({
      call: 'c-order#1',
      providerId: 'p1',
      cycleId: 'c-order',
      page: second,
      cursor: { page: 2, fingerprint: 'f2', fetched: 2 },
    }),
  ];
  // The rows' bytes went to the thread: this thread no longer holds them.
  assert.equal(first.lines.ownMemory()?.byteLength, 0);
  const saved = await Promise.all(saves);
  assert.deepEqual(
    saved.map((s) => [s.inserted, s.billed]),
    [
      [5, 5],
      [2, 2],
    ],
  );
  const rows = await db.pool.query<{ record_key: string; charged: boolean }>(
    `SELECT l.record_key, c.id IS NOT NULL AS charged FROM usage_line l LEFT JOIN usage_charge c ON c.usage_line_id = l.id WHERE l.first_cycle_id = 'c-order' ORDER BY l.id`,
  );
  assert.deepEqual(
    rows.rows.map((r) => r.record_key),
    ['o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'o-6', 'o-7'],
  );
  assert.ok(rows.rows.every((r) => r.charged));
  const cursor = await fetchCursor(db.pool, 'c-order');
  assert.equal(cursor?.nextPage, 3);
  assert.equal(cursor?.lastFingerprint, 'f2');
});

test('a page stored meanwhile by another writer fails on the thread as ConcurrentSaveError, and the page after it is not stored either', async () => {
  await openCycleRun(db.pool, 'c-clash', 'p1', WINDOW);
  const clashing = await decidedPage('p1', 'c-clash', ['x-1', 'x-2']);
  const next = await decidedPage('p1', 'c-clash', ['x-3']);
  // Another writer bills x-2 between this page's deciding and its save.
  const revision = carrierRecords(['x-2'], 4);
  const other = await mediatePage(
    db.pool,
    'p1',
    { receivedBy: 'other', mediatedBy: 'other' },
    revision.records,
    revision.texts,
  );
  assert.equal(other.billed, 1);
  const first = saver.save({
    call: 'c-clash#1',
    providerId: 'p1',
    cycleId: 'c-clash',
    page: clashing,
    cursor: { page: 1, fingerprint: 'f1', fetched: 2 },
  });
  const second = saver.save({
    call: 'c-clash#1',
    providerId: 'p1',
    cycleId: 'c-clash',
    page: next,
    cursor: { page: 2, fingerprint: 'f2', fetched: 1 },
  });
  await assert.rejects(
    first,
    (err: Error) => err instanceof ConcurrentSaveError && /deciding the page again/.test(err.message),
  );
  await assert.rejects(second);
  const stored = await db.pool.query(`SELECT 1 FROM usage_line WHERE first_cycle_id = 'c-clash'`);
  assert.equal(stored.rowCount, 0);
  assert.equal((await fetchCursor(db.pool, 'c-clash'))?.nextPage, 1);
});

test("a database the saver's thread cannot reach: the save fails with the connection's own error code, and does not hang", async () => {
  const nowhere = threadPageSaver('postgres://postgres@127.0.0.1:1/none', { connectTimeoutMs: 2_000 }, 1);
  try {
    const page = await decidedPage('p1', 'c-none', ['n-1']);
    await assert.rejects(
      nowhere.save({
        call: 'c-none#1',
        providerId: 'p1',
        cycleId: 'c-none',
        page,
        cursor: { page: 1, fingerprint: 'f', fetched: 1 },
      }),
      (err: Error & { code?: string }) => err.code === 'ECONNREFUSED' && !(err instanceof ConcurrentSaveError),
    );
  } finally {
    await nowhere.close();
  }
});

test("the saver's thread gets its own heap limits, and the worker's heap flags are the process's again afterwards", () => {
  // The worker's flags as written, and in V8's other spelling (underscores).
  for (const flags of [
    [...WORKER_NODE_FLAGS],
    WORKER_NODE_FLAGS.map((f) => f.replace(/-(?=[a-z])/g, (d, at: number) => (at < 2 ? d : '_'))),
  ]) {
    const run = spawnSync(
      process.execPath,
      [...flags, '--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'fixtures', 'thread-heap.ts')],
      { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const limits = JSON.parse(run.stdout.trim()) as { own: number; plain: number };
    // 48 MB old and 8 MB young, against the flags' 512 MB old generation.
    assert.ok(limits.own < 100, `with ${flags.join(' ')}, the thread's heap limit is ${limits.own} MB`);
    // The flags' 512 MB and young generation; without them V8 would size the heap from the machine's memory (gigabytes).
    assert.ok(
      limits.plain >= 512 && limits.plain < 1024,
      `with ${flags.join(' ')}, a thread made afterwards has ${limits.plain} MB: the flags were not set again`,
    );
  }
});

test('ids drawn for a page are read from their list exactly, and anything else in it is refused', () => {
  assert.deepEqual(idList('41,42,57'), [41, 42, 57]);
  assert.deepEqual(idList('9007199254740991'), [9007199254740991]);
  assert.deepEqual(idList(''), []);
  for (const bad of ['41,,42', '41,', ',41', '4a', '-1', '9007199254740993'])
    assert.throws(() => idList(bad), /not a list of ids/, bad);
});
