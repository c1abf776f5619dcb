import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { flash, startConsoleUnderTest, type ConsoleUnderTest } from './support/console';
import { screenshot } from './support/browser';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { getRateCard } from '../db/rates';

let c: ConsoleUnderTest;

before(async () => {
  c = await startConsoleUnderTest();
});
after(async () => {
  await c?.stop();
});

const product = (name: string) => c.sys.sim.dataset.products.find((p) => p.name === name)!;
// As shown (a <br> reads as a space).
const text = async (locator: { innerText(): Promise<string> }) =>
  (await locator.innerText()).replace(/\s+/g, ' ').trim();

test('dashboard: each provider’s rate card coverage links to Rates; uncovered products without a default markup are flagged', async () => {
  const { context, page } = await c.signedIn('victor');
  try {
    const seen = c.sys.sim.dataset.products.length;
    // The demo card leaves one product unrated and has no default markup.
    const card = page.locator(`section.card[data-provider="${c.second.id}"]`);
    assert.equal(
      await text(card.locator('dd.coverage')),
      `covers ${seen - 1} of ${seen} products seen · default markup none · Rates`,
    );
    assert.match(
      await text(card.locator('ul.reasons')),
      new RegExp(
        `1 of ${seen} products without a rate and no default markup: their usage will be quarantined as NO_RATE_CARD`,
      ),
    );
    await Promise.all([page.waitForURL(/\/rates\?provider=/), card.locator('dd.coverage a').click()]);
    assert.ok(page.url().endsWith(`/rates?provider=${encodeURIComponent(c.second.id)}`), page.url());
    assert.match(await text(page.locator('p.coverage')), /Visio Plan 2.* is quarantined as NO_RATE_CARD/);
  } finally {
    await context.close();
  }
});

test('rates: the product picker finds a product by name; the saved rule shows its name, cost, RRP and sell price', async () => {
  const { context, page } = await c.signedIn('alice');
  try {
    await page.goto(`${c.web.url}/rates?provider=${c.provider.id}`);
    // No rule without its product's name.
    for (const cell of await page.locator('table.rules td.product-name').all())
      assert.doesNotMatch(await text(cell), /name not known/);
    const visio = product('Visio Plan 2');
    const option = page.locator(`datalist#products option[value="Visio Plan 2"]`);
    assert.equal(await option.getAttribute('data-product'), visio.productId);

    // A name several products share is refused with the candidates; nothing changes.
    await page.fill('#product-picker', 'Business');
    await page.selectOption('#set-rule select[name=kind]', 'rrp');
    await Promise.all([page.waitForURL(/\/rates\?provider=/), page.click('#set-rule button')]);
    assert.match(
      await flash(page),
      /^Refused: product "Business" matches 3 products: Microsoft 365 Business Basic \(.*\), Microsoft 365 Business Premium \(.*\), Microsoft 365 Business Standard \(.*\); give the full name or the GUID$/,
    );

    // Part of a name that fits one product: that product.
    await page.fill('#product-picker', 'visio');
    await page.selectOption('#set-rule select[name=kind]', 'markup');
    await page.fill('#set-rule input[name=value]', '10');
    await Promise.all([page.waitForURL(/\/rates\?provider=/), page.click('#set-rule button')]);
    // (The product was unrated: its quarantined lines are asked to cleanse themselves.)
    assert.ok(
      (await flash(page)).startsWith(
        `Rule for ${visio.productId}: no rule → markup 10. Visio Plan 2 sells at 23.54 AUD per licence per full period.`,
      ),
      await flash(page),
    );
    const row = page.locator(`table.rules tr[data-product="${visio.productId}"]`);
    assert.match(await text(row.locator('.product-name')), new RegExp(`^Visio Plan 2 ${visio.productId}$`));
    assert.equal(await text(row.locator('.rule')), 'markup 10%');
    assert.equal(await text(row.locator('.cost')), '21.40 AUD');
    assert.equal(await text(row.locator('.rrp')), '25.60 AUD');
    // 21.4 × 1.10
    assert.equal(await text(row.locator('.sell')), '23.54 AUD per licence per full period');
    assert.equal(
      (await getRateCard(c.sys.db.pool, c.provider.id))!.rules.find((r) => r.productId === visio.productId)?.kind,
      'markup',
    );

    // Choosing a whole name describes the product beside the picker.
    await page.fill('#product-picker', 'Power BI Pro');
    assert.equal(
      await text(page.locator('#product-picked')),
      `${product('Power BI Pro').productId} · cost 14.90 AUD · RRP 17.90 AUD`,
    );
    await screenshot(page, 'rates');
  } finally {
    await context.close();
  }
});

test('rates: a viewer sees names, cost, RRP and sell prices, and no picker', async () => {
  const { context, page } = await c.signedIn('victor');
  try {
    await page.goto(`${c.web.url}/rates?provider=${c.provider.id}`);
    assert.equal(await page.locator('#set-rule').count(), 0);
    const basic = page.locator(`table.rules tr[data-product="${product('Microsoft 365 Business Basic').productId}"]`);
    assert.match(await text(basic.locator('.product-name')), /^Microsoft 365 Business Basic /);
    assert.equal(await text(basic.locator('.cost')), '8.20 AUD');
  } finally {
    await context.close();
  }
});

test('dashboard: a cycle that found nothing new says so; a covered card is not flagged', async () => {
  // The same window again: every line was billed or quarantined before.
  await runUsageCycleNow(
    { temporal: c.env.client, taskQueue: c.sys.taskQueue },
    { providerId: c.provider.id },
    'again',
  );
  const { context, page } = await c.signedIn('victor');
  try {
    const card = page.locator(`section.card[data-provider="${c.provider.id}"]`);
    assert.match(await text(card.locator('.cycle-outcome')), /^no new usage lines \(\d+ fetched, all seen before\)$/);
    const seen = c.sys.sim.dataset.products.length;
    // The rule set above covers the last product.
    assert.match(await text(card.locator('dd.coverage')), new RegExp(`^covers all ${seen} products seen`));
    assert.doesNotMatch(await text(card), /without a rate/);
    await screenshot(page, 'dashboard-coverage');
  } finally {
    await context.close();
  }
});
