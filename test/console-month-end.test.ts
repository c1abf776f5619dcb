import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { flash, startConsoleUnderTest, CONSOLE_PASSWORDS, type ConsoleUnderTest } from './support/console';
import { HttpSession, screenshot } from './support/browser';
import { previousMonth } from '../carrier/simulator/dataset';
import { buildExport } from '../client/month-end';

// The console's month end: a reconciliation run by a billing user, its classes and differing
// lines (per class, in pages), the dispute list downloaded; a viewer can run none. And the
// invoice contact a billing user edits on the tenant page, carried by the Xero export.
let c: ConsoleUnderTest;
let period: string;

before(async () => {
  // Enough lines that the differing lines fill more than one page.
  c = await startConsoleUnderTest({ usageRecords: 1200, pageSize: 200 });
  period = previousMonth(c.sys.sim.dataset.usageMonth);
});
after(async () => {
  await c?.stop();
});

const storedReconciliations = async () =>
  (
    await c.sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM invoice_reconciliation WHERE provider_id = $1',
      [c.provider.id],
    )
  ).rows[0]!.n;

test('month end: a billing user runs the reconciliation, sees its classes and differing lines per class, and downloads the dispute list', async () => {
  const { context, page } = await c.signedIn('alice');
  try {
    const { web, provider } = c;
    await page.goto(`${web.url}/month-end?provider=${provider.id}&period=${period}`);
    assert.match((await page.locator('.note').allTextContents()).join(' '), /No reconciliation of/);
    await Promise.all([
      page.waitForURL(/\/month-end\/reconciliation\?/, { timeout: 60_000 }),
      page.click('#run-reconciliation button'),
    ]);
    assert.match(await flash(page), new RegExp(`Reconciled by alice: invoice \\S+ \\(${period}\\): difference`));

    // The classes: lines, invoiced, received and difference, each 2 places with the currency.
    const classRows = await Promise.all(
      (await page.locator('table.reconciliation tbody tr').all()).map(async (r) =>
        (await r.locator('td').allTextContents()).join(' '),
      ),
    );
    assert.equal(classRows.length, 5);
    const money = `-?[\\d,]+\\.\\d\\d ${provider.currency}`;
    for (const row of classRows)
      assert.match(
        row.replace(/\s+/g, ' ').trim(),
        new RegExp(`^[A-Z_]+ \\d+ ${money} ${money} ${money}$`),
        `a class row: ${row}`,
      );
    assert.doesNotMatch(classRows.join(' '), /\d\.\d{3,}/, 'no long decimals');
    // The total row: every line, and the headline's difference (each figure rounded once).
    const totalCells = (await page.locator('table.reconciliation tfoot th').allTextContents()).map((t) => t.trim());
    assert.equal(totalCells[0], 'Total');
    assert.equal(
      Number(totalCells[1]),
      classRows.reduce((n, r) => n + Number(/^[A-Z_]+\s+(\d+)/.exec(r.trim())![1]), 0),
    );
    const headline = (await page.locator('table.reconciliation caption strong').textContent())!.trim();
    assert.equal(totalCells[4]!.replace(/,/g, ''), headline.replace(/,/g, ''));

    // The differing lines: customer, product by name, amounts to the cent; 25 to a page.
    const lines = page.locator('#differing-lines tbody tr');
    assert.equal(await lines.count(), 25);
    const pager = (await page.locator('nav.pager span').textContent()) ?? '';
    const total = Number(/\((\d+)\)/.exec(pager)?.[1]);
    assert.ok(total > 25, `more differing lines than a page: ${pager}`);
    const first = (await lines.first().locator('td').allTextContents()).map((t) => t.trim());
    assert.match(first[1]!, /\w/, 'a customer');
    assert.match(first[2]!, /^(Microsoft|Office|Exchange|Power|Visio)/, `a product name: ${first[2]}`);
    for (const amount of first.slice(4).filter(Boolean)) assert.match(amount, new RegExp(`^${money}$`));
    await screenshot(page, 'reconciliation');

    // Drill into one class: only its lines.
    await Promise.all([page.waitForURL(/class=AMOUNT_DIFFERS/), page.click('nav.class-filter >> text=AMOUNT_DIFFERS')]);
    const classes = await page.locator('#differing-lines tbody tr td:first-child').allTextContents();
    assert.ok(classes.length > 0);
    assert.ok(
      classes.every((t) => t.trim() === 'AMOUNT_DIFFERS'),
      classes.join(','),
    );
    for (const row of await page.locator('#differing-lines tbody tr').all())
      assert.equal((await row.locator('td').nth(6).textContent())?.trim(), `1.25 ${provider.currency}`);

    // The dispute list to send to Rhipe: every differing line, the columns exactly.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dispute-download')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.equal(csv.split('\r\n')[0], 'RecordId,class,customer,product,invoiced,received,difference');
    const rows = parseCsv<Record<string, string>>(csv, { columns: true });
    assert.equal(rows.length, total, 'every differing line, not one page');
    assert.ok(rows.every((r) => r.class !== 'MATCHED'));

    // Back on the month's page: the stored reconciliation with its links.
    await page.goto(`${web.url}/month-end?provider=${provider.id}&period=${period}`);
    assert.match((await page.locator('.reconciliation-links').first().textContent()) ?? '', /Differing lines \(\d+\)/);
    await screenshot(page, 'month-end-reconciled');
  } finally {
    await context.close();
  }
});

test('a viewer sees the reconciliation but no run, and the server refuses a run sent anyway', async () => {
  const { context, page } = await c.signedIn('victor');
  try {
    await page.goto(`${c.web.url}/month-end?provider=${c.provider.id}&period=${period}`);
    assert.equal(await page.locator('#run-reconciliation').count(), 0, 'no run for a viewer');
  } finally {
    await context.close();
  }
  const before = await storedReconciliations();
  const http = new HttpSession(c.web.url);
  assert.equal((await http.login('victor', CONSOLE_PASSWORDS.victor)).status, 303);
  const form = await http.request('GET', `/month-end?provider=${c.provider.id}&period=${period}`);
  const token = HttpSession.formToken(await form.text());
  const refused = await http.request('POST', '/month-end/reconcile', {
    _csrf: token,
    provider: c.provider.id,
    period: previousMonth(period),
  });
  assert.equal(refused.status, 403);
  assert.equal(await storedReconciliations(), before, 'nothing ran');
});

/** The service of the simulator's second tenant of the first provider (Rhipe lists no contact for it). */
async function serviceWithoutContact(): Promise<{ id: string; customer: string }> {
  const tenant = c.sys.sim.dataset.providers[0]!.tenants[1]!;
  const r = await c.sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE tenant_domain = $1', [
    tenant.domain,
  ]);
  return { id: r.rows[0]!.id, customer: tenant.customerName };
}

test("the tenant page: a billing user sets the invoice contact (checked first), shown with its source and carried by Xero's export", async () => {
  const { id, customer } = await serviceWithoutContact();
  const { context, page } = await c.signedIn('alice');
  try {
    await page.goto(`${c.web.url}/tenants/${id}`);
    assert.match((await page.locator('#contact + dl').textContent()) ?? '', /Email\s*none/);
    const form = page.locator('#contact-form');
    const save = () =>
      Promise.all([
        page.waitForURL(/\/tenants\/.*#contact$/),
        form.getByRole('button', { name: 'Save contact' }).click(),
      ]);
    await form.getByLabel('Email').fill('accounts@fabrikam');
    await form.getByLabel('Street line 1').fill('18 Dock Road');
    await form.getByLabel('City').fill('Port Melbourne');
    await save();
    assert.match(await flash(page), /Refused: "accounts@fabrikam" is not an email address/);
    const none = await c.sys.db.pool.query('SELECT 1 FROM customer_contact WHERE admin_updated_by IS NOT NULL');
    assert.equal(none.rowCount, 0, 'nothing was saved');

    await form.getByLabel('Email').fill('accounts@fabrikam.example.com.au');
    await form.getByLabel('Street line 1').fill('Unit 4');
    await form.getByLabel('Street line 2').fill('18 Dock Road');
    await form.getByLabel('City').fill('Port Melbourne');
    await form.getByLabel('State / region').fill('VIC');
    await form.getByLabel('Postcode').fill('3207');
    await form.getByLabel('Country').fill('Australia');
    await save();
    assert.match(
      await flash(page),
      /Invoice contact of .* saved by alice: accounts@fabrikam\.example\.com\.au; Unit 4, 18 Dock Road, Port Melbourne VIC 3207, Australia/,
    );
    const facts = (await page.locator('#contact + dl').textContent()) ?? '';
    assert.match(facts, /accounts@fabrikam\.example\.com\.au\s*set by alice/);
    assert.match(facts, /Unit 4, 18 Dock Road, Port Melbourne VIC 3207, Australia\s*set by alice/);
    await page.locator('#contact').scrollIntoViewIfNeeded();
    await screenshot(page, 'tenant-contact');

    const xero = parseCsv<Record<string, string>>(await buildExport(c.sys.db.pool, c.provider, period, 'xero'), {
      columns: true,
    });
    const row = xero.find((r) => r['*ContactName'] === customer) ?? assert.fail(`no invoice for ${customer}`);
    assert.deepEqual(
      [
        row.EmailAddress,
        row.POAddressLine1,
        row.POAddressLine2,
        row.POCity,
        row.PORegion,
        row.POPostalCode,
        row.POCountry,
      ],
      ['accounts@fabrikam.example.com.au', 'Unit 4', '18 Dock Road', 'Port Melbourne', 'VIC', '3207', 'Australia'],
    );
  } finally {
    await context.close();
  }
});

test('a viewer sees the invoice contact but no form, and the server refuses a change sent anyway', async () => {
  const { id } = await serviceWithoutContact();
  const { context, page } = await c.signedIn('victor');
  try {
    await page.goto(`${c.web.url}/tenants/${id}`);
    assert.match((await page.locator('#contact + dl').textContent()) ?? '', /Email/);
    assert.equal(await page.locator('#contact-form').count(), 0);
  } finally {
    await context.close();
  }
  const http = new HttpSession(c.web.url);
  await http.login('victor', CONSOLE_PASSWORDS.victor);
  const token = HttpSession.formToken(await (await http.request('GET', `/tenants/${id}`)).text());
  const refused = await http.request('POST', `/tenants/${id}/contact`, { _csrf: token, email: 'victor@example.com' });
  assert.equal(refused.status, 403);
  const victor = await c.sys.db.pool.query(`SELECT 1 FROM customer_contact WHERE admin_email = 'victor@example.com'`);
  assert.equal(victor.rowCount, 0);
});
