import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { parseLosslessJson } from '../lib/lossless';
import { Decimal } from '../core/money';
import { mediatePage } from '../activities/mediate';
import { parseNumberPreserving } from '../lib/fast-json';
import { importRateCard, getRateCard } from '../db/rates';
import { RhipeClient, clearTokenCache } from '../carrier/client';
import { CarrierError } from '../carrier/errors';
import { freshDatabase, type TestDatabase } from './support/database';

const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-111111111111';
let db: TestDatabase;
let seq = 0;

interface Case {
  name: string;
  expect: string;
  drop?: string[];
  set?: Record<string, string>;
  raw?: string;
  charge?: string;
}
const cases = JSON.parse(
  readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'bad-input', 'records.json'), 'utf8'),
) as Case[];

function recordText(c: Case): string {
  if (c.raw) return c.raw;
  const fields: Record<string, string> = {
    RecordId: `"bad-${++seq}"`,
    TenantId: `"${T1}"`,
    CustomerName: '"Contoso"',
    ProductId: `"${P1}"`,
    OfferName: '"Office 365 E3"',
    ChargeStartDate: '"2026-10-01T00:00:00+10:00"',
    ChargeEndDate: '"2026-10-31T23:59:59.9999999+10:00"',
    UnitPrice: '10.5',
    UnitPriceRrp: '13',
    Quantity: '3',
    BillableRatio: '0.0322580645161290322580645161',
    SubTotal: '1.0161290322580645161290322572',
    Currency: '"AUD"',
    BillingCycle: '"Monthly"',
  };
  for (const k of c.drop ?? []) delete fields[k];
  Object.assign(fields, c.set ?? {});
  return `{${Object.entries(fields)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
}

/** Everything stored, as one text: "nothing already stored changed" is this staying equal. */
async function snapshot(): Promise<string> {
  const parts: string[] = [];
  for (const t of [
    'provider',
    'service',
    'rate_card',
    'rate_rule',
    'usage_line',
    'usage_charge',
    'quarantine_action',
  ]) {
    const r = await db.pool.query(`SELECT t::text AS row FROM ${t} t ORDER BY 1`);
    parts.push(`${t}:${r.rows.map((x) => x.row).join('\n')}`);
  }
  return parts.join('\n');
}

before(async () => {
  db = await freshDatabase();
  await db.pool.query(
    `INSERT INTO provider (id, name, client_id, secret_ciphertext, time_zone, cycle_times) VALUES ('p1', 'P', 'c', 'x', 'UTC', '{06:00}')`,
  );
  await db.pool.query(`INSERT INTO service (id, provider_id, tenant_id) VALUES ('S-1', 'p1', $1)`, [T1]);
  await importRateCard(db.pool, 'p1', {
    currency: 'AUD',
    defaultMarkupPercent: null,
    rules: [{ productId: P1, kind: 'price', value: new Decimal('12.5') }],
  });
});
after(() => db.drop());

test('bad records from the carrier: each is quarantined with its reason (or billed exactly), whole and unmodified', async () => {
  const texts = cases.map(recordText);
  const page = parseNumberPreserving(`{"Records":[${texts.join(',')}]}`);
  await mediatePage(
    db.pool,
    'p1',
    { receivedBy: 'cycle-bad', mediatedBy: 'cycle-bad' },
    (page.value as { Records: unknown[] }).Records,
    page.elementTexts!,
  );
  const rows = await db.pool.query<{ raw: string; status: string; reason: string | null; charge: string | null }>(
    `SELECT l.raw, l.status, l.reason, c.charge::text FROM usage_line l LEFT JOIN usage_charge c ON c.usage_line_id = l.id ORDER BY l.id`,
  );
  assert.equal(rows.rows.length, cases.length, 'every line stored');
  cases.forEach((c, i) => {
    const row = rows.rows[i]!;
    const got = row.status === 'COMPLETED' ? 'COMPLETED' : row.reason;
    assert.equal(got, c.expect, c.name);
    if (c.charge) assert.equal(row.charge, c.charge, c.name);
    // Stored as received: the same JSON value, every number's digits intact.
    assert.deepEqual(parseLosslessJson(row.raw), parseLosslessJson(texts[i]!), c.name);
  });
  const tables = await db.pool.query(
    `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'usage_line'`,
  );
  assert.equal(tables.rows[0].n, 1, 'the SQL in a name did nothing');
});

// A carrier double serving one body for the usage call: the page-level corpus.
function serve(body: string, contentType: string, status = 200): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/core/connect/token') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"access_token":"t0k3n","token_type":"Bearer","expires_in":3600}');
      return;
    }
    res.writeHead(status, { 'content-type': contentType }).end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

const pages: Array<[string, string, string, string]> = [
  ['empty body', '', 'application/json', 'MALFORMED_BODY'],
  ['truncated body', '{"Records":[{"RecordId":"x","Quan', 'application/json', 'MALFORMED_BODY'],
  ['HTML error page', '<html><body>502 Bad Gateway</body></html>', 'text/html', 'MALFORMED_BODY'],
  ['JSON with the wrong content type', '{"Records":[]}', 'text/plain', 'MALFORMED_BODY'],
  ['Records is not an array', '{"Records":{"0":{}}}', 'application/json', 'UNEXPECTED_SHAPE'],
  ['no Records at all', '{"Message":"ok"}', 'application/json', 'UNEXPECTED_SHAPE'],
  ['a duplicate key', '{"Records":[],"Records":[{"RecordId":"x"}]}', 'application/json', 'MALFORMED_BODY'],
  ['a bare array', '[{"RecordId":"x"}]', 'application/json', 'UNEXPECTED_SHAPE'],
];

for (const [name, body, type, code] of pages) {
  test(`bad page: ${name} → ${code}, nothing stored changes`, async () => {
    clearTokenCache();
    const before = await snapshot();
    const srv = await serve(body, type);
    try {
      const client = new RhipeClient(
        { identityUrl: srv.url, apiUrl: srv.url, timeoutMs: 2000 },
        { clientId: 'c', clientSecret: 's' },
      );
      await assert.rejects(
        client.usagePage({ startDate: '2026-10-01', endDate: '2026-10-31' }, 1, 100),
        (e: CarrierError) => {
          assert.equal(e.code, code, e.message);
          assert.match(e.message, /licence\/usage/);
          assert.ok(!e.message.includes('t0k3n'));
          return true;
        },
      );
    } finally {
      await srv.close();
    }
    assert.equal(await snapshot(), before);
  });
}

test('a huge page (20,000 lines) is stored and mediated in one go', async () => {
  const lines = Array.from({ length: 20_000 }, (_, i) =>
    recordText({ name: 'big', expect: 'COMPLETED', set: { RecordId: `"huge-${i}"` } }),
  );
  const srv = await serve(`{"Records":[${lines.join(',')}]}`, 'application/json; charset=utf-8');
  try {
    clearTokenCache();
    const client = new RhipeClient(
      { identityUrl: srv.url, apiUrl: srv.url, timeoutMs: 30_000 },
      { clientId: 'c', clientSecret: 's' },
    );
    const page = await client.usagePage({ startDate: '2026-10-01', endDate: '2026-10-31' }, 1, 20_000);
    const r = await mediatePage(
      db.pool,
      'p1',
      { receivedBy: 'cycle-huge', mediatedBy: 'cycle-huge' },
      page.records,
      page.texts,
    );
    assert.equal(r.billed, 20_000);
  } finally {
    await srv.close();
  }
});

test('a bad rate card import is refused with the path of the problem, and the old card stays', async () => {
  const before = await snapshot();
  const { parseRateCard } = await import('../core/rate-card.js');
  for (const [card, problem] of [
    [
      '{"currency":"AUD","rules":[{"productId":"' + P1 + '","kind":"price","value":"ten"}]}',
      /rules\[0\]\.value must be a decimal/,
    ],
    ['{"currency":"AUD","rules":[{"productId":"' + P1 + '","kind":"price","value":-1}]}', /a price cannot be negative/],
    [
      '{"currency":"AUD","rules":[{"productId":"not-a-guid","kind":"markup","value":5}]}',
      /rules\[0\]\.productId must be a product GUID/,
    ],
    [
      '{"currency":"AUD","rules":[{"productId":"' +
        P1 +
        '","kind":"price","value":1},{"productId":"' +
        P1 +
        '","kind":"rrp"}]}',
      /rules\[1\] repeats the rule/,
    ],
    ['{"currency":"AUD<script>","rules":[]}', /currency must be a 3-letter/],
  ] as const) {
    assert.throws(() => parseRateCard(parseLosslessJson(card)), problem);
  }
  assert.equal(await snapshot(), before);
  assert.equal((await getRateCard(db.pool, 'p1'))!.rules.length, 1);
});
