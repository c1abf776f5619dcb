import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestSystem } from './support/system';
import { flash, startConsoleUnderTest, type ConsoleUnderTest } from './support/console';
import { screenshot } from './support/browser';
import { resolveGroup } from '../workflows/quarantine-group.api';
import type { RunningConsole } from '../client/console/server';
import type { ProviderView } from '../db/providers';
import { Decimal } from '../core/money';
import { displayMoney } from '../client/display';
import { mediatePage } from '../activities/mediate';
import { parseLosslessJson } from '../lib/lossless';
import { MAX_ADMIN_TEXT_CHARS } from '../core/admin-text';

// Quarantine triage in the console: the queue sorted and totalled, bulk actions on checked
// groups, and the group page's allocation preview, picker and labels.
let ui: ConsoleUnderTest;
let env: TestWorkflowEnvironment;
let sys: TestSystem;
let provider: ProviderView;
let web: RunningConsole;

before(async () => {
  ui = await startConsoleUnderTest();
  ({ env, sys, provider, web } = ui);
});

after(async () => {
  await ui?.stop();
});

/** A number as the console shows money ("1,234.56 AUD" → 1234.56). */
function amountOf(text: string): Decimal {
  const m = /(-?[\d,]+\.\d\d) [A-Z]{3}/.exec(text) ?? assert.fail(`no amount in "${text}"`);
  return new Decimal(m[1]!.replace(/,/g, ''));
}

async function cellTexts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}

async function quarantinedGroups(reason: string | null = null): Promise<string[]> {
  const res = await sys.db.pool.query<{ group_key: string }>(
    `SELECT DISTINCT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND ($2::text IS NULL OR reason = $2) ORDER BY group_key`,
    [provider.id, reason],
  );
  return res.rows.map((r) => r.group_key);
}

test('the queue sorts by carrier charge when its header is clicked (on the server: the pager keeps it), with age and lines, and totals for the filter', async () => {
  const { context, page } = await ui.signedIn('alice');
  try {
    await page.goto(`${web.url}/quarantine?provider=${encodeURIComponent(provider.id)}`);
    const unsorted = await cellTexts(page, 'table.groups tbody td.amount');
    await Promise.all([
      page.waitForURL(/sort=amount/),
      page.click('table.groups th a.sort:has-text("Carrier charge")'),
    ]);
    assert.match(page.url(), new RegExp(`provider=${provider.id}`), 'the filter stays');
    const amounts = (await cellTexts(page, 'table.groups tbody td.amount')).map(amountOf);
    assert.ok(amounts.length >= 3, `${amounts.length} groups`);
    for (let i = 1; i < amounts.length; i++)
      assert.ok(amounts[i - 1]!.gte(amounts[i]!), `largest first: ${amounts.map(String).join(', ')}`);
    assert.notDeepEqual(amounts.map(String), unsorted.map(amountOf).map(String), 'the order changed');
    assert.match((await page.locator('table.groups th a.sort.on').textContent()) ?? '', /Carrier charge ▼/);
    const ages = await cellTexts(page, 'table.groups tbody td.age');
    assert.ok(
      ages.every((a) => a.trim() === '0'),
      'received today: 0 days',
    );

    const db = await sys.db.pool.query<{ lines: number; groups: number }>(
      `SELECT count(*)::int AS lines, count(DISTINCT group_key)::int AS groups FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED'`,
      [provider.id],
    );
    const totals = (await page.locator('table.groups tfoot tr.totals').textContent()) ?? '';
    assert.match(totals, new RegExp(`Totals for this filter: ${db.rows[0]!.groups} group\\(s\\)`));
    assert.match(totals, new RegExp(`\\b${db.rows[0]!.lines}\\b`));
    assert.match(totals, new RegExp(`[\\d,]+\\.\\d\\d ${provider.currency}`), 'the charge with its currency');

    // Sorted by lines, on the server: a page of 25 from the whole filter.
    await page.goto(`${web.url}/quarantine?sort=lines`);
    const lines = (await cellTexts(page, 'table.groups tbody td.lines')).map(Number);
    const most = await sys.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM usage_line WHERE status = 'QUARANTINED' GROUP BY group_key ORDER BY 1 DESC LIMIT 1`,
    );
    assert.equal(lines[0], most.rows[0]!.n, 'the largest group of every provider first');
    assert.deepEqual(
      lines,
      [...lines].sort((a, b) => b - a),
    );
    const next = page.locator('.pager a[rel=next]');
    if ((await next.count()) > 0) assert.match((await next.getAttribute('href')) ?? '', /sort=lines/);
    assert.equal(await page.locator('#bulk-action option[value=allocate]').count(), 0, 'two providers listed');
    assert.match((await page.locator('fieldset.bulk .note').textContent()) ?? '', /filter by one provider/);
    await page.goto(`${web.url}/quarantine?provider=${encodeURIComponent(provider.id)}&sort=amount`);
    await screenshot(page, 'quarantine');
  } finally {
    await context.close();
  }

  const viewer = await ui.signedIn('victor');
  try {
    await viewer.page.goto(`${web.url}/quarantine?sort=amount`);
    assert.ok((await viewer.page.locator('table.groups tbody tr').count()) > 0);
    assert.equal(
      await viewer.page.locator('input[type=checkbox], fieldset.bulk').count(),
      0,
      'a viewer sees no action',
    );
  } finally {
    await viewer.context.close();
  }
});

test('the group page previews an allocation (lines, charge, cost, what stays) and the allocation then bills exactly that', async () => {
  const { context, page } = await ui.signedIn('alice');
  try {
    // The group of "Unlisted Customer 0", whose tenant has no service: its suggestion is the known tenant's.
    let key = '';
    for (const k of await quarantinedGroups('NON_EXISTENT_SERVICE')) {
      await page.goto(`${web.url}/quarantine/group?key=${encodeURIComponent(k)}`);
      if (!/none alike enough/.test((await page.locator('dl.facts').textContent()) ?? '')) {
        key = k;
        break;
      }
    }
    assert.ok(key, 'a group with a suggested service');
    const service = await page.locator('#allocate-service').inputValue();
    assert.match(service, /^S-\d+$/, 'the suggestion is preselected');
    await Promise.all([page.waitForURL(/preview=/), page.click('#preview-allocation')]);
    assert.equal(await page.locator('#allocate-service').inputValue(), service, 'the previewed service stays chosen');
    const preview = (await page.locator('#allocation-preview').textContent()) ?? '';
    const m =
      /Allocating to (S-\d+).*?: (\d+) line\(s\), charge (-?[\d,]+\.\d\d) ([A-Z]{3}) \(cost (-?[\d,]+\.\d\d) [A-Z]{3}\)/s.exec(
        preview,
      ) ?? assert.fail(`preview: ${preview}`);
    assert.equal(m[1], service);
    assert.equal(m[4], provider.currency);
    const stays = (await cellTexts(page, '#allocation-preview table.stay tbody td.num')).reduce(
      (n, t) => n + Number(t),
      0,
    );
    await screenshot(page, 'group');
    const before = await sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_charge WHERE provider_id = $1',
      [provider.id],
    );
    const lineIds = (
      await sys.db.pool.query<{ id: string }>(
        `SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
        [key],
      )
    ).rows.map((r) => r.id);
    assert.equal(Number(m[2]) + stays, lineIds.length, 'every quarantined line is billed or stays, in the preview');

    await page.fill('#allocate-note', 'previewed first');
    await Promise.all([page.waitForURL(/\/quarantine\/group\?key=/), page.click('#allocate button')]);
    assert.match(
      await flash(page),
      new RegExp(
        `Allocated to ${service} by alice: ${lineIds.length} line\\(s\\); billed ${m[2]}, back in quarantine ${stays}`,
      ),
    );
    const billed = await sys.db.pool.query<{ n: number; charge: string; cost: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(charge), 0)::text AS charge, coalesce(sum(carrier_cost), 0)::text AS cost
         FROM usage_charge WHERE usage_line_id = ANY($1::bigint[]) AND live`,
      [lineIds],
    );
    assert.equal(billed.rows[0]!.n, Number(m[2]));
    assert.equal(displayMoney(billed.rows[0]!.charge, provider.currency), `${m[3]} ${provider.currency}`);
    assert.equal(displayMoney(billed.rows[0]!.cost, provider.currency), `${m[5]} ${provider.currency}`);
    const after = await sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_charge WHERE provider_id = $1',
      [provider.id],
    );
    assert.equal(after.rows[0]!.n - before.rows[0]!.n, Number(m[2]), 'the preview itself billed nothing');
    // The audit log has the allocation once: the preview is a read, as `--preview` is on the CLI.
    const audited = await sys.db.pool.query<{ action: string }>(
      `SELECT action FROM audit_event WHERE target = $1 AND principal = 'alice'`,
      [key],
    );
    assert.deepEqual(
      audited.rows.map((r) => r.action),
      ['quarantine.allocate'],
    );
  } finally {
    await context.close();
  }
});

test('a group with no suggestion preselects no service, and every field of the group page has its own visible label', async () => {
  // A line of a tenant nobody has a service for, named like none of them, arrives as a cycle's would.
  const sample = await sys.db.pool.query<{ raw: string }>(
    `SELECT raw FROM usage_line WHERE provider_id = $1 AND status = 'COMPLETED' ORDER BY id LIMIT 1`,
    [provider.id],
  );
  const text = sample.rows[0]!.raw.replace(/"TenantId":"[^"]*"/, '"TenantId":"0f0e0d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f"')
    .replace(/"CustomerName":"[^"]*"/, '"CustomerName":"Zephyr Quokka Holdings"')
    .replace(/"PrimaryDomainName":"[^"]*"/, '"PrimaryDomainName":"zq-holdings.example"')
    .replace(/"RecordId":"[^"]*"/, '"RecordId":"triage-unlike-1"');
  await mediatePage(
    sys.db.pool,
    provider.id,
    { receivedBy: 'triage-test', mediatedBy: 'triage-test' },
    [parseLosslessJson(text)],
    [text],
  );
  const key = `${provider.id}|NON_EXISTENT_SERVICE|0f0e0d0c-1b2a-4c3d-8e4f-5a6b7c8d9e0f`;
  const { context, page } = await ui.signedIn('alice');
  try {
    await page.goto(`${web.url}/quarantine/group?key=${encodeURIComponent(key)}`);
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /Suggested servicenone alike enough/);
    assert.equal(await page.locator('#allocate-service').inputValue(), '', 'nothing preselected');
    assert.match(
      (await page.locator('#allocate-service option:checked').textContent()) ?? '',
      /choose a service \(none suggested\)/,
    );
    // The browser will not send the form without a choice; Preview says what is missing.
    await Promise.all([page.waitForURL(/\/quarantine\/group\?key=/), page.click('#preview-allocation')]);
    assert.match(await flash(page), /Choose a service to preview the allocation/);

    // Runs in the page (the browser's DOM), typed by hand since the project compiles without DOM types.
    interface TextNode {
      nodeType: number;
      textContent: string | null;
    }
    interface Field {
      name: string;
      labels: Iterable<{ childNodes: Iterable<TextNode> }>;
    }
    const labels = await page.evaluate(() => {
      const document = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<Field> } })
        .document;
      return [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')].map((el) => [
        el.name,
        // The label's own words (its text nodes), not the text of the field it wraps.
        [...el.labels].map((l) =>
          [...l.childNodes]
            .filter((n) => n.nodeType === 3)
            .map((n) => n.textContent ?? '')
            .join('')
            .trim(),
        ),
      ]);
    });
    const fields = labels as Array<[string, string[]]>;
    assert.ok(fields.length >= 4, `${fields.length} fields`);
    for (const [name, texts] of fields)
      assert.ok(
        texts.length > 0 && texts[0]!.length > 1,
        `field ${name} has a visible label: ${JSON.stringify(texts)}`,
      );
    const texts = fields.map(([, t]) => t[0]!);
    assert.equal(new Set(texts).size, texts.length, `each label says which field: ${texts.join(' | ')}`);
    assert.ok(!texts.includes('Note'), 'no bare "Note" box');
    // A note or reason may be as long as every caller accepts (2,000 characters), no shorter.
    const limits = await page
      .locator('input[name=note], input[name=reason]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('maxlength')));
    assert.ok(limits.length >= 3);
    assert.deepEqual(new Set(limits), new Set([String(MAX_ADMIN_TEXT_CHARS)]));
  } finally {
    await context.close();
  }
});

test('bulk write-off of the checked groups: each one through its own action, audited as the signed-in user; a refused one stops nothing', async () => {
  const { context, page } = await ui.signedIn('alice');
  try {
    await page.goto(`${web.url}/quarantine?provider=${encodeURIComponent(provider.id)}`);
    // Three groups the other tests leave alone (they allocate NON_EXISTENT_SERVICE groups).
    const listed = await page
      .locator('table.groups input[type=checkbox]')
      .evaluateAll((boxes) => boxes.map((b) => (b as unknown as { value: string }).value));
    const keys = listed.filter((k) => !k.includes('|NON_EXISTENT_SERVICE|')).slice(0, 3);
    assert.equal(keys.length, 3, `three groups of ${listed.join(', ')}`);
    for (const k of keys) await page.check(`table.groups input[type=checkbox][value="${k}"]`);
    await page.selectOption('#bulk-action', 'writeOff');
    await page.fill('#bulk-reason', 'trial licences, never billable');
    // Someone else resolves the first group while the page is open.
    await resolveGroup({ temporal: env.client, taskQueue: sys.taskQueue }, keys[0]!, {
      action: 'writeOff',
      reason: 'done elsewhere',
      by: 'bob',
    });
    const lines = await sys.db.pool.query<{ group_key: string; n: number }>(
      `SELECT group_key, count(*)::int AS n FROM usage_line WHERE group_key = ANY($1::text[]) AND status = 'QUARANTINED' GROUP BY group_key`,
      [keys.slice(1)],
    );
    assert.equal(lines.rowCount, 2);
    await Promise.all([page.waitForURL(`${web.url}/quarantine/bulk`), page.click('fieldset.bulk button')]);
    assert.match((await page.locator('h1').textContent()) ?? '', /Bulk write-off\s*2 of 3 group\(s\) applied/);
    for (const [i, key] of keys.entries()) {
      const row = (await page.locator('table.bulk-results tr', { hasText: key }).textContent()) ?? '';
      if (i > 0) {
        const n = lines.rows.find((r) => r.group_key === key)!.n;
        assert.match(
          row,
          new RegExp(`APPLIED.*${n} line\\(s\\); billed 0, back in quarantine 0, written off ${n}`, 's'),
        );
      } else assert.match(row, /REFUSED.*already resolved/s);
    }
    await screenshot(page, 'quarantine-bulk');

    const still = await sys.db.pool.query(
      'SELECT 1 FROM usage_line WHERE group_key = ANY($1::text[]) AND status = $2',
      [keys, 'QUARANTINED'],
    );
    assert.equal(still.rowCount, 0, 'the lines are written off');
    const actions = await sys.db.pool.query<{
      group_key: string;
      request_id: string;
      actor: string;
      principal: string;
      outcome: string;
      reason: string;
    }>(
      `SELECT group_key, request_id, actor, principal, outcome, params ->> 'reason' AS reason FROM quarantine_action
        WHERE group_key = ANY($1::text[]) AND actor = 'alice' ORDER BY group_key`,
      [keys],
    );
    assert.deepEqual(
      actions.rows.map((a) => [a.group_key, a.actor, a.principal, a.outcome, a.reason]),
      keys.map((k, i) => [k, 'alice', 'alice', i > 0 ? 'APPLIED' : 'REJECTED', 'trial licences, never billable']),
    );
    assert.equal(new Set(actions.rows.map((a) => a.request_id)).size, 3, 'each group its own request id');
    // The one audit log: a row per group, with its own outcome, as the signed-in user.
    const audit = await sys.db.pool.query<{ target: string; outcome: string; reason: string | null }>(
      `SELECT target, outcome, reason FROM audit_event
        WHERE action = 'quarantine.write-off' AND principal = 'alice' AND target = ANY($1::text[])`,
      [keys],
    );
    assert.deepEqual(
      audit.rows.map((a) => `${a.target} ${a.outcome}`).sort(),
      keys.map((k) => `${k} ${k === keys[0] ? 'REFUSED' : 'APPLIED'}`).sort(),
    );
    assert.match(audit.rows.find((a) => a.target === keys[0])!.reason ?? '', /already resolved/);
  } finally {
    await context.close();
  }
});

test('bulk allocation is offered for one provider only, and the server refuses groups of two providers before doing anything', async () => {
  const { context, page } = await ui.signedIn('alice');
  try {
    await page.goto(`${web.url}/quarantine?provider=${encodeURIComponent(provider.id)}`);
    assert.equal(await page.locator('#bulk-action option[value=allocate]').count(), 1);
    assert.ok((await page.locator('#bulk-service option').count()) > 1, 'the provider’s services to choose from');
    const service = await page.locator('#bulk-service option').nth(1).getAttribute('value');
    const other = (
      await sys.db.pool.query<{ group_key: string }>(
        `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = 'NON_EXISTENT_SERVICE' LIMIT 1`,
        [ui.second.id],
      )
    ).rows[0]!.group_key;
    const own = (await quarantinedGroups('NON_EXISTENT_SERVICE'))[0]!;
    await page.check(`table.groups input[type=checkbox][value="${own}"]`);
    // A second provider's group added to the form, as a stale or forged page could send it.
    await page.evaluate((key) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const document = (globalThis as any).document;
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'key';
      input.value = key;
      document.querySelector('#bulk').appendChild(input);
    }, other);
    await page.selectOption('#bulk-action', 'allocate');
    await page.selectOption('#bulk-service', service);
    await page.fill('#bulk-reason', 'same customer');
    await Promise.all([page.waitForURL(/\/quarantine\?/), page.click('fieldset.bulk button')]);
    assert.match(
      await flash(page),
      /Nothing done: Allocating several groups at once needs groups of one provider; the checked groups belong to 2 providers/,
    );
    const acted = await sys.db.pool.query('SELECT 1 FROM quarantine_action WHERE group_key = ANY($1::text[])', [
      [own, other],
    ]);
    assert.equal(acted.rowCount, 0, 'no group was touched');
  } finally {
    await context.close();
  }
});
