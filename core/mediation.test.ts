import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addVersions,
  decideBatch,
  lineFacts,
  versionsOf,
  type BatchContext,
  type BatchLine,
  type Decision,
  type KnownVersion,
} from './mediation';
import { parseLosslessJson } from '../lib/lossless';
import { Decimal } from './money';

const T1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const P1 = '11111111-1111-4111-8111-111111111111';

/** A valid record's text with fields replaced (values as JSON text). */
function text(set: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    RecordId: '"r-1"',
    TenantId: `"${T1}"`,
    ProductId: `"${P1}"`,
    ChargeStartDate: '"2026-10-01T00:00:00+10:00"',
    ChargeEndDate: '"2026-10-31T23:59:59.9999999+10:00"',
    UnitPrice: '10.5',
    Quantity: '3',
    BillableRatio: '1',
    SubTotal: '31.5',
    Currency: '"AUD"',
    ...set,
  };
  return `{${Object.entries(fields)
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`;
}

function line(t: string): BatchLine {
  const record = parseLosslessJson(t);
  return { ...lineFacts(record, t), record };
}

function ctx(known: Record<string, KnownVersion[]> = {}): BatchContext {
  return {
    card: { currency: 'AUD', defaultMarkupPercent: new Decimal(10), rules: [] },
    services: [{ serviceId: 'S-1', tenantId: T1 }],
    known: (key) => known[key] ?? [],
    parse: parseLosslessJson,
  };
}

const stored = (t: string, invalid = false): KnownVersion => ({
  contentHash: lineFacts(parseLosslessJson(t), t).contentHash,
  invalid,
  raw: t,
});
const outcome = (d: Decision) => (d.status === 'QUARANTINED' ? d.reason : d.status);

test('a new line goes through identify, bucket and rate', () => {
  const [d] = decideBatch([line(text())], ctx());
  assert.equal(d!.status, 'COMPLETED');
  assert.equal(d!.status === 'COMPLETED' && d!.rated.charge.toFixed(4), '34.6500');
});

test('the same bytes again, or the same content written differently, is a repeat: never billed again', () => {
  const first = text();
  for (const again of [
    first,
    text({ UnitPrice: '10.50', SubTotal: '3.15e1' }), // numbers compared as decimals
    text({ TenantId: `"${T1.toUpperCase()}"` }), // GUIDs compared case-insensitively
    `{"Currency":"AUD",${first.slice(1, -1).replace(',"Currency":"AUD"', '')}}`, // field order is not content
  ]) {
    assert.deepEqual(decideBatch([line(again)], ctx({ 'r-1': [stored(first)] })).map(outcome), ['REPEAT'], again);
  }
});

test('the revision rule: other content under a RecordId received before is DUPLICATE_USAGE, unless that version was invalid', () => {
  const revised = line(text({ Quantity: '4', SubTotal: '42' }));
  assert.deepEqual(decideBatch([revised], ctx({ 'r-1': [stored(text())] })).map(outcome), ['DUPLICATE_USAGE']);
  // An invalid earlier version never makes a later one a revision: the corrected line is billed.
  const broken = text({ ChargeEndDate: '"2025-10-31T23:59:59+10:00"' });
  assert.deepEqual(decideBatch([revised], ctx({ 'r-1': [stored(broken, true)] })).map(outcome), ['COMPLETED']);
  // INVALID_RECORD is checked before DUPLICATE_USAGE.
  assert.deepEqual(decideBatch([line(broken)], ctx({ 'r-1': [stored(text())] })).map(outcome), ['INVALID_RECORD']);
});

test('within a batch, earlier lines count as received before later ones', () => {
  const original = line(text());
  const revised = line(text({ Quantity: '4', SubTotal: '42' }));
  const broken = line(text({ SubTotal: '"42"' }));
  assert.deepEqual(decideBatch([original, revised, line(text())], ctx()).map(outcome), [
    'COMPLETED',
    'DUPLICATE_USAGE',
    'REPEAT',
  ]);
  assert.deepEqual(decideBatch([broken, revised], ctx()).map(outcome), ['INVALID_RECORD', 'COMPLETED']);
  // Other RecordIds do not interfere.
  assert.deepEqual(
    decideBatch([original, line(text({ RecordId: '"r-2"', Quantity: '4', SubTotal: '42' }))], ctx()).map(outcome),
    ['COMPLETED', 'COMPLETED'],
  );
});

test('a repeated invalid line is a repeat too, not quarantined twice', () => {
  const bad = text({ Quantity: 'null' });
  assert.deepEqual(
    decideBatch([line(bad), line(bad.replace('"Quantity":null', '"Quantity": null'))], ctx({})).map(outcome),
    ['INVALID_RECORD', 'REPEAT'],
  );
});

test("a decided page's versions: each stored line, as received; repeats and lines without a RecordId are nobody's", () => {
  const billed = { recordKey: 'r-1', contentHash: 'h1', raw: 'a', decision: { status: 'COMPLETED' } as Decision };
  const invalid = {
    recordKey: 'r-2',
    contentHash: 'h2',
    raw: 'b',
    decision: { status: 'QUARANTINED', reason: 'INVALID_RECORD' } as Decision,
  };
  const undecided = { recordKey: 'r-1', contentHash: 'h3', raw: 'c', decision: null };
  const repeat = { recordKey: 'r-3', contentHash: 'h4', raw: 'd', decision: { status: 'REPEAT' } as Decision };
  const keyless = {
    recordKey: '',
    contentHash: 'h5',
    raw: 'e',
    decision: { status: 'QUARANTINED', reason: 'INVALID_RECORD' } as Decision,
  };
  const versions = versionsOf([billed, invalid, undecided, repeat, keyless]);
  assert.deepEqual(versions, [
    ['r-1', { contentHash: 'h1', invalid: false, raw: 'a' }],
    ['r-2', { contentHash: 'h2', invalid: true, raw: 'b' }],
    ['r-1', { contentHash: 'h3', invalid: false, raw: 'c' }],
  ]);
  const known = new Map<string, KnownVersion[]>([['r-1', [{ contentHash: 'h0', invalid: false, raw: null }]]]);
  addVersions(known, versions);
  assert.deepEqual(
    known.get('r-1')!.map((v) => v.contentHash),
    ['h0', 'h1', 'h3'],
  );
  assert.deepEqual(
    known.get('r-2')!.map((v) => v.invalid),
    [true],
  );
  assert.equal(known.has('r-3'), false);
});
