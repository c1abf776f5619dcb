import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startOneProviderSystem, type OneProviderSystem } from './support/one-provider';
import type { TestSystem } from './support/system';
import { Decimal } from '../core/money';

// Quarantine triage from the CLI: each group's age, the list sorted, the totals of a filter.
let one: OneProviderSystem;
let sys: TestSystem;
let providerId: string;

before(async () => {
  one = await startOneProviderSystem({ usageRecords: 400, cycleId: 'triage-cycle-1' });
  ({ sys } = one);
  providerId = one.provider.id;
});
after(async () => {
  await one?.stop();
});

interface ListedGroup {
  group: string;
  reason: string;
  lines: number;
  ageDays: number;
  carrierCharge: string;
  currency: string;
}
interface Listing {
  groups: ListedGroup[];
  totals: { groups: number; lines: number; carrierCharge: Record<string, string> };
}

const csp = (...args: string[]) => one.csp(...args);

async function listing(...args: string[]): Promise<Listing> {
  const r = await csp('quarantine', 'list', '--provider', providerId, '--json', ...args);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as Listing;
}

/** Each group key's position is its tie-break: equal values keep the keys' order. */
function assertSortedDescending(groups: ListedGroup[], value: (g: ListedGroup) => Decimal, what: string): void {
  for (let i = 1; i < groups.length; i++) {
    const [a, b] = [groups[i - 1]!, groups[i]!];
    const cmp = value(a).comparedTo(value(b));
    assert.ok(cmp > 0 || (cmp === 0 && a.group < b.group), `${what}: ${a.group} before ${b.group}`);
  }
}

test("ageDays counts whole days since the group's oldest line was received, and --sort age puts the oldest first", async () => {
  const before = await listing();
  assert.ok(before.groups.length >= 3, `${before.groups.length} groups`);
  assert.ok(
    before.groups.every((g) => g.ageDays === 0),
    'lines received today are 0 days old',
  );
  // One group's lines arrived 3 and 10 days ago (its oldest decides), another's 5 days ago.
  const old = [...before.groups].reverse().find((g) => g.lines >= 2) ?? assert.fail('a group of two lines or more');
  const middle = before.groups.find((g) => g !== old)!;
  const lines = await sys.db.pool.query<{ id: string }>(
    `SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED' ORDER BY id`,
    [old.group],
  );
  await sys.db.pool.query(`UPDATE usage_line SET received_at = now() - interval '3 days' WHERE group_key = $1`, [
    old.group,
  ]);
  await sys.db.pool.query(`UPDATE usage_line SET received_at = now() - interval '10 days 2 hours' WHERE id = $1`, [
    lines.rows.at(-1)!.id,
  ]);
  await sys.db.pool.query(`UPDATE usage_line SET received_at = now() - interval '5 days' WHERE group_key = $1`, [
    middle.group,
  ]);

  const aged = await listing('--sort', 'age');
  assert.deepEqual(
    aged.groups.slice(0, 2).map((g) => [g.group, g.ageDays]),
    [
      [old.group, 10],
      [middle.group, 5],
    ],
  );
  assertSortedDescending(aged.groups, (g) => new Decimal(g.ageDays), 'oldest first');
  const table = await csp('quarantine', 'list', '--provider', providerId, '--sort', 'age');
  assert.equal(table.code, 0, table.err);
  assert.match(table.out.split('\n')[0]!, /\blines\s+ageDays\b/, 'an ageDays column beside lines');
  assert.match(table.out.split('\n')[2]!, /\s10\s/, 'the oldest group first (under the dashes), 10 days old');
});

test('--sort amount and --sort lines put the largest first, ties in group key order; without --sort the order is by provider, reason and key', async () => {
  const byAmount = await listing('--sort', 'amount');
  assertSortedDescending(byAmount.groups, (g) => new Decimal(g.carrierCharge), 'largest carrier charge first');
  const byLines = await listing('--sort', 'lines');
  assertSortedDescending(byLines.groups, (g) => new Decimal(g.lines), 'most lines first');
  assert.ok(
    byLines.groups.some((g, i) => i > 0 && g.lines === byLines.groups[i - 1]!.lines),
    'the demo has groups with as many lines: their tie is broken by key',
  );
  const plain = await listing();
  const keys = plain.groups.map((g) => g.group);
  assert.deepEqual(keys, [...keys].sort(), 'one provider: by reason, then key (the key starts with both)');
  assert.notDeepEqual(
    byAmount.groups.map((g) => g.group),
    keys,
    'sorting by amount changes the order',
  );
  assert.deepEqual(
    [...byAmount.groups].map((g) => g.group).sort(),
    [...keys].sort(),
    'the same groups, in another order',
  );
});

test('totals: the groups, lines and carrier charge per currency of the filter, in --json and a line under the table', async () => {
  const all = await listing();
  assert.equal(all.totals.groups, all.groups.length);
  assert.equal(
    all.totals.lines,
    all.groups.reduce((n, g) => n + g.lines, 0),
  );
  const expected = new Map<string, Decimal>();
  for (const g of all.groups)
    expected.set(g.currency, (expected.get(g.currency) ?? new Decimal(0)).plus(g.carrierCharge));
  assert.ok(expected.size >= 2, 'the demo quarantines lines in another currency too (CURRENCY_MISMATCH)');
  assert.deepEqual(
    Object.fromEntries(Object.entries(all.totals.carrierCharge).map(([c, a]) => [c, new Decimal(a).toFixed(4)])),
    Object.fromEntries([...expected].map(([c, a]) => [c, a.toFixed(4)])),
  );

  const reason = all.groups.find((g) => g.reason === 'NON_EXISTENT_SERVICE')!.reason;
  const filtered = await listing('--reason', reason);
  const currency = filtered.groups[0]!.currency;
  const sum = filtered.groups.reduce((s, g) => s.plus(g.carrierCharge), new Decimal(0));
  assert.deepEqual(filtered.totals, {
    groups: filtered.groups.length,
    lines: filtered.groups.reduce((n, g) => n + g.lines, 0),
    carrierCharge: { [currency]: sum.toFixed(4) },
  });
  assert.ok(filtered.totals.lines < all.totals.lines, 'the totals follow the filter');

  const table = await csp('quarantine', 'list', '--provider', providerId, '--reason', reason);
  assert.equal(table.code, 0, table.err);
  const shown = sum.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2);
  assert.equal(
    table.out.trim().split('\n').at(-1),
    `totals: ${filtered.totals.groups} group(s), ${filtered.totals.lines} line(s), carrier charge ${shown.replace(/\B(?=(\d{3})+(?!\d))/g, ',')} ${currency}`,
  );
});

test('an unknown --sort is refused before anything is read: exit 2, naming the choices', async () => {
  const r = await csp('quarantine', 'list', '--sort', 'size');
  assert.equal(r.code, 2);
  assert.match(r.err, /--sort must be one of amount, age, lines, not "size"/);
  assert.equal(r.out, '');
});
