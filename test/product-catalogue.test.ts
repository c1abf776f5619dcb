import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { productCatalogue, recordUsageProducts } from '../db/product-catalogue';
import { getRateCard } from '../db/rates';
import { parseLosslessJson } from '../lib/lossless';
import type { LosslessNumber } from 'lossless-json';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import type { ProviderView } from '../db/providers';
import { PassThrough } from 'node:stream';
import { askDefaultMarkup } from '../client/markup-input';

let env: TestWorkflowEnvironment;
let sys: TestSystem;
let harbour: ProviderView;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 40, providers: 4 });
  harbour = await sys.onboardSimProvider(0);
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

const csp = (args: string[], extra: Record<string, string> = {}) => runCli(args, cliEnv(sys, env, extra));
const product = (name: string) => sys.sim.dataset.products.find((p) => p.name === name)!;

interface ListedRule {
  productId: string;
  productName: string | null;
  kind: string;
  value: unknown;
  unitCost: unknown;
  unitRrp: unknown;
  sellPrice: unknown;
}
const listed = async (providerId: string) => {
  const r = await csp(['rates', 'list', providerId, '--json']);
  assert.equal(r.code, 0, r.err);
  // Parsed losslessly: the exact numbers as written.
  const card = parseLosslessJson(r.out) as { defaultMarkupPercent: unknown; rules: ListedRule[] };
  const text = (v: unknown) => (v === null ? null : (v as LosslessNumber).value);
  return {
    defaultMarkup: text(card.defaultMarkupPercent),
    rules: card.rules.map((x) => ({
      ...x,
      value: text(x.value),
      unitCost: text(x.unitCost),
      unitRrp: text(x.unitRrp),
      sellPrice: text(x.sellPrice),
    })),
  };
};

test('the price list reads (discovery, each tenant reconcile) fill the catalogue: every product named, with cost and RRP', async () => {
  const catalogue = await productCatalogue(sys.db.pool, harbour.id);
  assert.equal(catalogue.length, sys.sim.dataset.products.length);
  for (const p of sys.sim.dataset.products) {
    const kept = catalogue.find((x) => x.productId === p.productId)!;
    assert.equal(kept.name, p.name);
    assert.equal(kept.unitCost?.toFixed(), p.cost);
    assert.equal(kept.unitRrp?.toFixed(), p.retail);
  }
});

test('rates list: each rule with its product name, cost, RRP and sell price (rated as a cycle rates)', async () => {
  const { rules } = await listed(harbour.id);
  assert.ok(rules.length > 0);
  for (const r of rules) {
    const p = sys.sim.dataset.products.find((x) => x.productId === r.productId)!;
    assert.equal(r.productName, p.name);
    assert.equal(r.unitCost, p.cost);
    assert.equal(r.unitRrp, p.retail);
  }
  // The demo card has one rule of each kind: price (its value), rrp (the RRP), markup 18.5% over cost.
  const basic = rules.find((r) => r.productName === 'Microsoft 365 Business Basic')!;
  assert.deepEqual([basic.kind, basic.value, basic.sellPrice], ['price', '9.8', '9.8']);
  const standard = rules.find((r) => r.productName === 'Microsoft 365 Business Standard')!;
  assert.deepEqual([standard.kind, standard.sellPrice], ['rrp', '20.6']);
  const premium = rules.find((r) => r.productName === 'Microsoft 365 Business Premium')!;
  // 30.3 × 1.185 = 35.9055
  assert.deepEqual([premium.kind, premium.value, premium.sellPrice], ['markup', '18.5', '35.9055']);

  const table = await csp(['rates', 'list', harbour.name]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /productName/);
  assert.match(table.out, /Microsoft 365 Business Premium .*markup +18\.5 +30\.30 AUD +36\.30 AUD +35\.91 AUD/);
});

test('rates set takes a product name; a name matching several products or none is refused with the candidates', async () => {
  const visio = product('Visio Plan 2');
  const set = await csp(['rates', 'set', harbour.id, '--product', 'visio plan 2', '--kind', 'markup', '--value', '10']);
  assert.equal(set.code, 0, set.err);
  assert.match(set.out, new RegExp(`markup rule set for Visio Plan 2 \\(${visio.productId}\\)`));
  const rule = (await getRateCard(sys.db.pool, harbour.id))!.rules.find((r) => r.productId === visio.productId)!;
  assert.deepEqual([rule.kind, rule.value?.toFixed()], ['markup', '10']);
  const { rules } = await listed(harbour.id);
  // 21.4 × 1.1 = 23.54
  assert.deepEqual(
    rules.filter((r) => r.productId === visio.productId).map((r) => [r.productName, r.sellPrice]),
    [['Visio Plan 2', '23.54']],
  );

  const ambiguous = await csp(['rates', 'set', harbour.id, '--product', 'Business', '--kind', 'rrp']);
  assert.equal(ambiguous.code, 2, ambiguous.err);
  assert.match(ambiguous.err, /product "Business" matches 3 products: /);
  for (const name of ['Basic', 'Standard', 'Premium']) {
    const p = product(`Microsoft 365 Business ${name}`);
    assert.ok(ambiguous.err.includes(`Microsoft 365 Business ${name} (${p.productId})`), ambiguous.err);
  }
  const unknown = await csp(['rates', 'set', harbour.id, '--product', 'Dynamics 365', '--kind', 'rrp']);
  assert.equal(unknown.code, 2, unknown.err);
  assert.match(unknown.err, /product "Dynamics 365": no product of this provider has that name; known products: /);
  // A bad value is refused before the name is looked up, as for a GUID.
  const badValue = await csp(['rates', 'set', harbour.id, '--product', 'Visio', '--kind', 'markup', '--value', 'x']);
  assert.equal(badValue.code, 2);
  assert.match(badValue.err, /--value must be a decimal number/);
  const after = (await getRateCard(sys.db.pool, harbour.id))!.rules.filter((r) => r.productId === visio.productId);
  assert.equal(after.length, 1, 'nothing changed by the refused ones');

  const removed = await csp(['rates', 'remove', harbour.id, '--product', 'Visio Plan 2']);
  assert.equal(removed.code, 0, removed.err);
  const left = (await getRateCard(sys.db.pool, harbour.id))!.rules.filter((r) => r.productId === visio.productId);
  assert.equal(left.length, 0);
});

test('usage lines name a product only where the price list has not', async () => {
  const known = product('Power BI Pro');
  const other = 'aaaaaaaa-1111-4222-8333-444444444444';
  await recordUsageProducts(sys.db.pool, harbour.id, [
    { productId: known.productId, name: 'Power BI (from a line)', unitCost: '1', unitRrp: '2' },
    { productId: other.toUpperCase(), name: 'Copilot Pro', unitCost: '30.5', unitRrp: null },
  ]);
  await recordUsageProducts(sys.db.pool, harbour.id, [
    { productId: other, name: 'Copilot Pro (renamed)', unitCost: '31', unitRrp: '36.6' },
  ]);
  const catalogue = await productCatalogue(sys.db.pool, harbour.id);
  const kept = catalogue.find((x) => x.productId === known.productId)!;
  assert.deepEqual([kept.name, kept.unitCost?.toFixed()], ['Power BI Pro', known.cost]);
  const fromLines = catalogue.find((x) => x.productId === other)!;
  // The first name and cost stay; only what was missing (the RRP) is filled in.
  assert.deepEqual(
    [fromLines.name, fromLines.unitCost?.toFixed(), fromLines.unitRrp?.toFixed()],
    ['Copilot Pro', '30.5', '36.6'],
  );
});

test('a usage cycle keeps the products on its lines (those the price list has not given)', async () => {
  await sys.db.pool.query(`DELETE FROM product_catalogue WHERE provider_id = $1 AND product_id = $2`, [
    harbour.id,
    product('Office 365 E3').productId,
  ]);
  await runUsageCycleNow({ temporal: env.client, taskQueue: sys.taskQueue }, { providerId: harbour.id }, 'catalogue-1');
  const e3 = (await productCatalogue(sys.db.pool, harbour.id)).find(
    (x) => x.productId === product('Office 365 E3').productId,
  );
  assert.deepEqual([e3?.name, e3?.unitCost?.toFixed()], ['Office 365 E3', product('Office 365 E3').cost]);
});

test('provider add --default-markup sets it before the first cycle and says what the rate card covers', async () => {
  const p = sys.sim.dataset.providers[1]!;
  const r = await csp(
    ['provider', 'add', '--name', p.name, '--client-id', p.clientId, '--currency', 'NZD', '--default-markup', '15'],
    {
      RHIPE_CLIENT_SECRET: p.clientSecret,
    },
  );
  assert.equal(r.code, 0, r.err);
  const id = /provider: +(p-\S+)/.exec(r.out)![1]!;
  assert.match(r.out, /defaultMarkup: +15%/);
  assert.match(r.out, new RegExp(`^rate card covers all ${sys.sim.dataset.products.length} products seen$`, 'm'));
  assert.equal((await listed(id)).defaultMarkup, '15');
  const show = await csp(['provider', 'show', id]);
  assert.match(show.out, new RegExp(`^rateCard: covers all ${sys.sim.dataset.products.length} products seen$`, 'm'));
});

test('provider add --default-markup none, and without it off a terminal: no markup, said, and the coverage line', async () => {
  const seen = sys.sim.dataset.products.length;
  const none = sys.sim.dataset.providers[2]!;
  const r = await csp(
    ['provider', 'add', '--name', none.name, '--client-id', none.clientId, '--default-markup', 'none'],
    {
      RHIPE_CLIENT_SECRET: none.clientSecret,
    },
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /defaultMarkup: +none/);
  assert.match(
    r.out,
    new RegExp(
      `^rate card covers 0 of ${seen} products seen; uncovered products quarantine as NO_RATE_CARD: set a default markup with \`csp rates default-markup <provider> PERCENT\` or rules with \`csp rates set <provider> --product NAME …\`$`,
      'm',
    ),
  );
  const id = /provider: +(p-\S+)/.exec(r.out)![1]!;
  assert.equal((await listed(id)).defaultMarkup, null);

  const silent = sys.sim.dataset.providers[3]!;
  const s = await csp(['provider', 'add', '--name', silent.name, '--client-id', silent.clientId, '--json'], {
    RHIPE_CLIENT_SECRET: silent.clientSecret,
  });
  assert.equal(s.code, 0, s.err);
  assert.match(s.err, /no --default-markup given: the rate card keeps its default markup \(none for a new provider/);
  const out = JSON.parse(s.out) as { defaultMarkup?: string; rateCardCoverage: unknown };
  assert.equal(out.defaultMarkup, undefined);
  assert.deepEqual(out.rateCardCoverage, { seen, covered: 0, defaultMarkup: false });

  const bad = await csp(['provider', 'add', '--name', 'X', '--client-id', silent.clientId, '--default-markup', '-5'], {
    RHIPE_CLIENT_SECRET: silent.clientSecret,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--default-markup: a negative default markup \(-5%\)/);
});

test('on a terminal without --default-markup, the markup is asked for until it is a percent or "none"', async () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let said = '';
  output.on('data', (d: Buffer) => (said += d.toString()));
  const answer = askDefaultMarkup(input, output);
  input.write('lots\n');
  await new Promise((r) => setImmediate(r));
  input.write('-5\n');
  await new Promise((r) => setImmediate(r));
  input.write(' 12.5 \n');
  assert.equal(await answer, '12.5');
  assert.match(
    said,
    /Default markup % over the carrier cost for products without a rate rule \("none" to quarantine them as NO_RATE_CARD\): /,
  );
  assert.match(said, /--default-markup: percent must be a decimal number or "none"/);
  assert.match(said, /--default-markup: a negative default markup \(-5%\)/);
  const none = new PassThrough();
  const asked = askDefaultMarkup(none, new PassThrough());
  none.write('none\n');
  assert.equal(await asked, 'none');
  const ended = new PassThrough();
  const unanswered = askDefaultMarkup(ended, new PassThrough());
  ended.end();
  // Bounded: a question left unanswered would otherwise hang here.
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 5_000)));
  await assert.rejects(
    Promise.race([unanswered, waited]).finally(() => clearTimeout(timer)),
    /stopped at the default markup question: nothing was added/,
  );
});
