import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { flash, startConsoleUnderTest, type ConsoleUnderTest } from './support/console';
import { screenshot } from './support/browser';
import { waitFor } from './support/wait';

// The console's part of the one audit log, and the Audit page that reads it.
let cut: ConsoleUnderTest;

before(async () => {
  cut = await startConsoleUnderTest();
});
after(async () => {
  await cut?.stop();
});

interface Row {
  actor: string;
  principal: string | null;
  source: string;
  action: string;
  kind: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  details: Record<string, unknown> | null;
  provider_id: string | null;
}

/** The rows for an action, once the response has been recorded (after it is sent). */
async function rowsFor(action: string, n: number): Promise<Row[]> {
  return waitFor(`${n} audit row(s) for ${action}`, async () => {
    const r = await cut.sys.db.pool.query<Row>(`SELECT * FROM audit_event WHERE action = $1 ORDER BY id`, [action]);
    return r.rows.length >= n && r.rows;
  });
}

test('console actions are recorded with the signed-in user, applied and refused; so is every 403', async () => {
  const { context, page } = await cut.signedIn('alice');
  const provider = cut.provider;
  await page.goto(`${cut.web.url}/rates?provider=${encodeURIComponent(provider.id)}`);
  await page.fill('input[name=percent]', '12.5');
  await Promise.all([page.waitForURL(/\/rates\?/), page.click('form[action$="/default-markup"] button[type=submit]')]);
  assert.match(await flash(page), /Default markup: .* → 12\.5/);
  await page.fill('input[name=percent]', 'twelve');
  await Promise.all([page.waitForURL(/\/rates\?/), page.click('form[action$="/default-markup"] button[type=submit]')]);
  assert.match(await flash(page), /^Refused:/);
  const refusedText = (await flash(page)).replace(/^Refused: /, '');

  const markup = await rowsFor('rates.default-markup', 2);
  assert.equal(markup.length, 2, 'one row per action: the rate change’s own row is the applied one');
  assert.deepEqual(
    markup.map((r) => [r.source, r.actor, r.principal, r.provider_id, r.outcome, r.details?.percent]),
    [
      ['console', 'alice', 'alice', provider.id, 'APPLIED', '12.5'],
      ['console', 'alice', 'alice', provider.id, 'REFUSED', 'twelve'],
    ],
  );
  assert.equal(markup[0]!.kind, 'rate.default-markup');
  assert.equal(markup[1]!.reason, refusedText);
  for (const r of markup) assert.equal(r.details?._csrf, undefined, 'no CSRF token in the log');

  // A download is an export: audited too.
  const period = new Date().toISOString().slice(0, 7);
  const download = await context.request.get(
    `${cut.web.url}/month-end/export?provider=${encodeURIComponent(provider.id)}&period=${period}&format=csv`,
  );
  assert.equal(download.status(), 200);
  const exported = await rowsFor('billing.export', 1);
  assert.deepEqual(
    [exported[0]!.principal, exported[0]!.outcome, exported[0]!.provider_id],
    ['alice', 'APPLIED', provider.id],
  );
  await context.close();

  // The viewer: the page refused, and a change sent anyway refused by the server; both recorded.
  const viewer = await cut.signedIn('victor');
  assert.equal(await viewer.page.locator('nav a[href="/audit"]').count(), 0, 'no Audit link for a viewer');
  const forbidden = await viewer.page.goto(`${cut.web.url}/audit`);
  assert.equal(forbidden!.status(), 403);
  const csrf = await viewer.page.getAttribute('meta[name=csrf-token]', 'content');
  const post = await viewer.context.request.post(
    `${cut.web.url}/rates/${encodeURIComponent(provider.id)}/default-markup`,
    { form: { _csrf: csrf!, percent: '1' } },
  );
  assert.equal(post.status(), 403);
  const refusals = await waitFor('the viewer’s 403s recorded', async () => {
    const r = await cut.sys.db.pool.query<Row>(
      `SELECT * FROM audit_event WHERE principal = 'victor' AND outcome = 'REFUSED' ORDER BY id`,
    );
    return r.rows.length >= 2 && r.rows;
  });
  assert.deepEqual(
    refusals.map((r) => [r.action, r.actor, r.source]),
    [
      ['audit', 'victor', 'console'],
      ['rates.default-markup', 'victor', 'console'],
    ],
  );
  for (const r of refusals) assert.match(r.reason!, /Your role \(viewer\) may not do this: it needs the billing role/);
  await viewer.context.close();
});

test('the Audit page filters by provider, actor, action and outcome, with times in the provider’s zone and readable details', async () => {
  const { context, page } = await cut.signedIn('alice');
  await page.goto(`${cut.web.url}/audit`);
  assert.ok((await page.locator('table.audit tbody tr').count()) >= 5);

  const rowsShown = async () => {
    const rows = page.locator('table.audit tbody tr');
    const shown: string[][] = [];
    for (let i = 0; i < (await rows.count()); i++)
      shown.push((await rows.nth(i).locator('td').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()));
    return shown;
  };
  const filter = async (choices: Record<string, string>) => {
    await page.goto(`${cut.web.url}/audit`);
    for (const [name, value] of Object.entries(choices))
      await page.selectOption(`form.filters select[name=${name}]`, value);
    await Promise.all([page.waitForURL(/\/audit\?/), page.click('form.filters button[type=submit]')]);
  };

  await filter({ outcome: 'REFUSED' });
  const refused = await rowsShown();
  assert.ok(refused.length >= 3);
  for (const cells of refused) assert.match(cells[5]!, /^REFUSED/);

  await filter({ actor: 'victor' });
  const victor = await rowsShown();
  assert.ok(victor.length >= 3, 'the sign-in and the two 403s');
  for (const cells of victor) assert.match(cells[1]!, /^victor/);

  await filter({ provider: cut.provider.id, action: 'rates.default-markup', outcome: 'APPLIED' });
  const applied = await rowsShown();
  assert.equal(applied.length, 1);
  const [when, who, from, action, target, outcome, details] = applied[0]!;
  assert.match(when!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} AE[DS]T$/, 'in the provider’s zone (Australia/Sydney)');
  assert.equal(who, 'alice');
  assert.match(from!, /^console/);
  assert.equal(action, 'rates.default-markup');
  assert.equal(target, `default markup % ${cut.provider.name}`);
  assert.equal(outcome, 'APPLIED');
  assert.match(details!, /percent:\s*12\.5/);
  assert.doesNotMatch(details!, /[{}"]/, 'details as a key: value list, not JSON');

  await filter({ provider: cut.second.id });
  assert.deepEqual(await rowsShown(), [['No action matches.']]);

  await page.goto(`${cut.web.url}/audit?outcome=MAYBE`);
  assert.match((await page.locator('.flash.error').textContent()) ?? '', /Outcome must be APPLIED or REFUSED/);

  await page.goto(`${cut.web.url}/audit?provider=${encodeURIComponent(cut.provider.id)}`);
  await screenshot(page, 'audit');
  await context.close();
});
