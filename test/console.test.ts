import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestSystem } from './support/system';
import {
  CONSOLE_PASSWORDS,
  flash,
  startConsoleUnderTest,
  type ConsoleUnderTest,
  type ConsoleUser,
} from './support/console';
import { waitFor } from './support/wait';
import { HttpSession, screenshot } from './support/browser';
import { tenantState } from '../workflows/tenant.api';
import { startConsole, type RunningConsole } from '../client/console/server';
import type { ProviderView } from '../db/providers';
import { readFileSync } from 'node:fs';
import { monthIn } from '../core/period';
import { closePeriod, isPeriodClosed, reopenPeriod } from '../db/billing-periods';
import { setRateRule } from '../db/rates';
import { Decimal } from '../core/money';
import { buildChargesReport } from '../client/month-end';
import { shownFigures } from '../core/billing-report';
import { displayMoney } from '../client/display';

// The web console against the real system (test/support/console.ts), driven by Debian's Chromium.
// Each browser test leaves a screenshot in test-output/console/.
let ui: ConsoleUnderTest;
let env: TestWorkflowEnvironment;
let sys: TestSystem;
let provider: ProviderView;
let web: RunningConsole;
const PASSWORD = CONSOLE_PASSWORDS;

before(async () => {
  ui = await startConsoleUnderTest();
  ({ env, sys, provider, web } = ui);
});

after(async () => {
  await ui?.stop();
});

const signedIn = (user: ConsoleUser) => ui.signedIn(user);

test('sign in: the dashboard shows each provider, its cycles, quarantine by reason and the month; the sign-in is audited', async () => {
  const { context, page } = await signedIn('alice');
  try {
    await page.locator('h1', { hasText: 'Dashboard' }).waitFor();
    assert.equal(await page.locator('.card').count(), 2);
    const card = page.locator(`.card[data-provider="${provider.id}"]`);
    assert.match((await card.locator('h2').textContent()) ?? '', new RegExp(provider.name));
    assert.match((await card.textContent()) ?? '', /COMPLETED/);
    assert.match((await card.locator('caption').textContent()) ?? '', /Quarantine by reason/);
    assert.match((await card.textContent()) ?? '', /NON_EXISTENT_SERVICE/);
    // The month's figures are Month end's: the charge as invoiced (invoice lines rounded once each).
    const month = shownFigures(
      (await buildChargesReport(sys.db.pool, provider, monthIn(new Date(), provider.time_zone), 'customer')).totals,
    );
    const moneyLine = (await card.locator('.money-line').textContent()) ?? '';
    assert.match(moneyLine, new RegExp(`charge [\\d,]+\\.\\d\\d ${provider.currency}`));
    assert.ok(moneyLine.includes(`charge ${displayMoney(month.charge, provider.currency)}`), moneyLine);
    assert.ok(moneyLine.includes(`margin ${displayMoney(month.margin, provider.currency)}`), moneyLine);
    assert.equal(
      await card.locator('a[href*="/namespaces/default/workflows/console-cycle-1"]').count(),
      1,
      'the last cycle links to the Temporal Web UI',
    );
    await screenshot(page, 'dashboard');
    const audit = await sys.db.pool.query(
      `SELECT actor, kind FROM audit_event WHERE kind = 'login' AND actor = 'alice'`,
    );
    assert.equal(audit.rowCount, 1);
  } finally {
    await context.close();
  }
});

test('quarantine: from the filtered list to a group, allocated to the suggested service, its lines billed and the action audited as the signed-in user', async () => {
  const { context, page } = await signedIn('alice');
  try {
    await page.goto(`${web.url}/quarantine`);
    await page.selectOption('select[name=carrier]', 'Rhipe - Microsoft');
    await page.selectOption('select[name=reason]', 'NON_EXISTENT_SERVICE');
    await page.selectOption('select[name=provider]', provider.id);
    await Promise.all([page.waitForURL(/reason=NON_EXISTENT_SERVICE/), page.click('form.filters button')]);
    assert.ok((await page.locator('table.groups tbody tr').count()) > 0);
    assert.match(
      (await page.locator('table.groups tbody tr').first().textContent()) ?? '',
      new RegExp(`-?[\\d,]+\\.\\d\\d ${provider.currency}`),
      'amounts carry the currency',
    );
    await screenshot(page, 'quarantine');

    // A group whose tenant is like one of the provider's services: the suggestion is what is allocated to.
    const groupLinks = await page
      .locator('a.group-link')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    let suggested = '';
    for (const href of groupLinks) {
      await page.goto(new URL(href, web.url).toString());
      suggested = (await page.locator('dl.facts').textContent()) ?? '';
      if (!/none alike enough/.test(suggested)) break;
    }
    assert.doesNotMatch(suggested, /none alike enough/, 'some group of the demo has a suggested service');
    const key = new URL(page.url()).searchParams.get('key')!;
    const quarantined = await sys.db.pool.query<{ id: number }>(
      `SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
      [key],
    );
    assert.ok(quarantined.rowCount! > 0);
    const firstChoice = await page.locator('#allocate select[name=serviceId] option').first().getAttribute('value');
    assert.ok(firstChoice && /^S-\d+$/.test(firstChoice));
    assert.match(suggested, new RegExp(`Suggested service${firstChoice}\\b`), 'the suggestion is the first choice');

    await page.fill('#allocate input[name=note]', 'new tenant of the customer');
    await Promise.all([page.waitForURL(/\/quarantine\/group\?key=/), page.click('#allocate button')]);
    const message = await flash(page);
    assert.match(
      message,
      new RegExp(
        `Allocated to ${firstChoice} by alice: ${quarantined.rowCount} line\\(s\\); billed ${quarantined.rowCount}`,
      ),
    );
    assert.equal(await page.locator('table.lines .status.QUARANTINED').count(), 0);
    assert.equal(
      await page.locator('table.lines .status.COMPLETED').count(),
      Math.min(quarantined.rowCount!, 25),
      'every line shows as billed',
    );
    assert.match((await page.locator('table.audit tbody tr').first().textContent()) ?? '', /allocate.*alice.*APPLIED/s);
    await screenshot(page, 'quarantine-allocated');

    const ids = quarantined.rows.map((r) => r.id);
    const billed = await sys.db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM usage_charge WHERE usage_line_id = ANY($1::bigint[]) AND service_id = $2',
      [ids, firstChoice],
    );
    assert.equal(billed.rows[0]!.n, ids.length);
    const action = await sys.db.pool.query<{ actor: string; principal: string; outcome: string }>(
      'SELECT actor, principal, outcome FROM quarantine_action WHERE group_key = $1',
      [key],
    );
    assert.deepEqual(
      action.rows,
      [{ actor: 'alice', principal: 'alice', outcome: 'APPLIED' }],
      'recorded as the signed-in user, its authenticated principal too',
    );
  } finally {
    await context.close();
  }
});

test("quarantine: a CURRENCY_MISMATCH group's amounts carry its records' currency on the dashboard, the list and its page", async () => {
  const { context, page } = await signedIn('alice');
  try {
    const group = await sys.db.pool.query<{ group_key: string; currency: string }>(
      `SELECT group_key, upper(min(raw::jsonb ->> 'Currency')) AS currency FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND reason = 'CURRENCY_MISMATCH' GROUP BY group_key ORDER BY group_key LIMIT 1`,
      [provider.id],
    );
    const { group_key: key, currency } = group.rows[0]!;
    const own = (
      await sys.db.pool.query<{ currency: string }>('SELECT currency FROM provider WHERE id = $1', [provider.id])
    ).rows[0]!.currency;
    assert.notEqual(currency, own);
    await page.goto(`${web.url}/`);
    const row = (await page.locator('table.compact tr', { hasText: 'CURRENCY_MISMATCH' }).first().textContent()) ?? '';
    assert.match(row, new RegExp(`\\d\\.\\d\\d ${currency}`), `dashboard row: ${row}`);
    await page.goto(`${web.url}/quarantine?provider=${encodeURIComponent(provider.id)}&reason=CURRENCY_MISMATCH`);
    const listed = (await page.locator('tbody tr').first().textContent()) ?? '';
    assert.match(listed, new RegExp(`\\d\\.\\d\\d ${currency}`), `list row: ${listed}`);
    await page.goto(`${web.url}/quarantine/group?key=${encodeURIComponent(key)}`);
    const still = (await page.locator('dd.quarantined-count').textContent()) ?? '';
    assert.match(still, new RegExp(`carrier charge [\\d,]+\\.\\d\\d ${currency}`), `group page: ${still}`);
    // Each form names its own action by its own request id.
    const ids = await page
      .locator('form input[name=requestId]')
      .evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    assert.ok(ids.length >= 2, `${ids.length} forms`);
    assert.equal(new Set(ids).size, ids.length, `request ids: ${ids.join(', ')}`);
  } finally {
    await context.close();
  }
});

test('quarantine: a refusal is shown on the page with its reason (a write-off without a reason)', async () => {
  const { context, page } = await signedIn('alice');
  try {
    const group = await sys.db.pool.query<{ group_key: string }>(
      `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' ORDER BY group_key LIMIT 1`,
      [provider.id],
    );
    const key = group.rows[0]!.group_key;
    await page.goto(`${web.url}/quarantine/group?key=${encodeURIComponent(key)}`);
    await Promise.all([page.waitForURL(/\/quarantine\/group\?key=/), page.click('#write-off button')]);
    assert.match(await flash(page), /Refused: a write-off needs a reason/);
    const still = await sys.db.pool.query(`SELECT 1 FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`, [
      key,
    ]);
    assert.ok(still.rowCount! > 0, 'nothing changed');
  } finally {
    await context.close();
  }
});

test("tenants: search, open a tenant, an invalid quantity is refused with the validator's message, a valid one is applied and in the history with who", async () => {
  const { context, page } = await signedIn('alice');
  try {
    const service = (
      await sys.db.pool.query<{ id: string; tenant_id: string; customer_name: string }>(
        `SELECT s.id, s.tenant_id, s.customer_name FROM service s JOIN licence l ON l.provider_id = s.provider_id AND l.tenant_id = s.tenant_id
        WHERE s.provider_id = $1 AND l.parent_subscription_id IS NULL ORDER BY s.id LIMIT 1`,
        [provider.id],
      )
    ).rows[0]!;
    // The tenant workflow knows its price list once its first reconcile is done.
    await waitFor('tenant reconciled', async () => {
      const s = await tenantState(env.client, { providerId: provider.id, tenantId: service.tenant_id });
      return s.products.length > 0 && s.licences.length > 0;
    });
    await page.goto(`${web.url}/tenants`);
    await page.fill('input[name=q]', service.customer_name.slice(0, 8));
    await Promise.all([page.waitForURL(/q=/), page.click('form.filters button')]);
    await Promise.all([page.waitForURL(/\/tenants\/S-/), page.locator(`a[href="/tenants/${service.id}"]`).click()]);

    const form = page.locator('form.quantity').first();
    await form.locator('input[name=quantity]').fill('0');
    await Promise.all([page.waitForURL(new RegExp(`/tenants/${service.id}$`)), form.locator('button').click()]);
    assert.match(await flash(page), /Refused: quantity for .* must be between 1 and 300 \(price list\); got 0/);
    await screenshot(page, 'tenant-refused');

    const current = Number(await page.locator('form.quantity').first().locator('input[name=quantity]').inputValue());
    await page
      .locator('form.quantity')
      .first()
      .locator('input[name=quantity]')
      .fill(String(current + 1));
    await Promise.all([
      page.waitForURL(new RegExp(`/tenants/${service.id}$`)),
      page.locator('form.quantity').first().locator('button').click(),
    ]);
    assert.match(await flash(page), new RegExp(`Done \\(change .*\\) by alice: .*× ${current + 1}`));
    assert.match(
      (await page.locator('table.events tbody tr').first().textContent()) ?? '',
      new RegExp(`this system.*${current}.*${current + 1}.*alice`, 's'),
      'old, new and who',
    );
    await screenshot(page, 'tenant-changed');
    const change = await sys.db.pool.query<{ requested_by: string; principal: string }>(
      `SELECT requested_by, principal FROM licence_change WHERE tenant_id = $1 AND kind = 'setQuantity' AND status = 'DONE'`,
      [service.tenant_id],
    );
    assert.deepEqual(change.rows, [{ requested_by: 'alice', principal: 'alice' }]);
  } finally {
    await context.close();
  }
});

test('rates: a rule edited in the page is checked like `csp rates` and audited with who, old and new', async () => {
  const { context, page } = await signedIn('alice');
  try {
    const rule = (
      await sys.db.pool.query<{ product_id: string; kind: string; value: string | null }>(
        `SELECT product_id, kind, value::text FROM rate_rule WHERE provider_id = $1 AND service_id IS NULL ORDER BY product_id LIMIT 1`,
        [provider.id],
      )
    ).rows[0]!;
    await page.goto(`${web.url}/rates?provider=${provider.id}`);
    await page.fill('#set-rule input[name=productId]', rule.product_id);
    await page.selectOption('#set-rule select[name=kind]', 'markup');
    await page.fill('#set-rule input[name=value]', 'lots');
    await Promise.all([page.waitForURL(/\/rates\?provider=/), page.click('#set-rule button')]);
    assert.match(await flash(page), /Refused: value must be a decimal number/);

    await page.fill('#set-rule input[name=productId]', rule.product_id);
    await page.selectOption('#set-rule select[name=kind]', 'markup');
    await page.fill('#set-rule input[name=value]', '18.5');
    await Promise.all([page.waitForURL(/\/rates\?provider=/), page.click('#set-rule button')]);
    assert.match(
      await flash(page),
      new RegExp(`Rule for ${rule.product_id}: ${rule.kind}${rule.value ? ` ${rule.value}` : ''} → markup 18.5`),
    );
    const row = page.locator('table.rate-audit tbody tr').first();
    assert.equal((await row.locator('.who').textContent())?.trim(), 'alice');
    assert.equal((await row.locator('.new').textContent())?.trim(), 'markup 18.5');
    assert.equal(
      (await row.locator('.old').textContent())?.trim(),
      `${rule.kind}${rule.value ? ` ${rule.value}` : ''}`,
    );
    await screenshot(page, 'rates-audited');

    const stored = await sys.db.pool.query<{ kind: string; value: string }>(
      'SELECT kind, value::text FROM rate_rule WHERE provider_id = $1 AND product_id = $2 AND service_id IS NULL',
      [provider.id, rule.product_id],
    );
    assert.deepEqual(stored.rows[0], { kind: 'markup', value: '18.5' });
    const audit = await sys.db.pool.query<{
      actor: string;
      old_value: { kind: string };
      new_value: { kind: string; value: string };
    }>(
      `SELECT actor, old_value, new_value FROM audit_event WHERE kind = 'rate.set' AND provider_id = $1 ORDER BY id DESC LIMIT 1`,
      [provider.id],
    );
    assert.equal(audit.rows[0]!.actor, 'alice');
    assert.equal(audit.rows[0]!.old_value.kind, rule.kind);
    assert.deepEqual(audit.rows[0]!.new_value, {
      productId: rule.product_id,
      serviceId: null,
      kind: 'markup',
      value: '18.5',
    });
  } finally {
    await context.close();
  }
});

test('month end: the charges report with its margin chart (chart.js served here), the CSV export downloaded, the month closed by the signed-in user', async () => {
  const { context, page } = await signedIn('alice');
  try {
    const period = monthIn(new Date(), provider.time_zone);
    await page.goto(`${web.url}/month-end?provider=${provider.id}&period=${period}&by=product`);
    assert.match(
      (await page.locator('table.report tfoot').textContent()) ?? '',
      new RegExp(`Total.*[\\d,]+\\.\\d\\d ${provider.currency}`, 's'),
    );
    // The chart is drawn by the locally served chart.js (a CDN would be blocked by the page's CSP).
    await page.waitForFunction(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const g = globalThis as any;
      return !!g.Chart && !!g.Chart.getChart(g.document.getElementById('margin-chart'));
    });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv.split('\r\n')[0]!, /period/);
    assert.ok(csv.split('\r\n').filter(Boolean).length > 1, 'the export has rows');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/\/month-end\?provider=/), page.click('#close-period button')]);
    assert.match(await flash(page), new RegExp(`${period} closed by alice`));
    await screenshot(page, 'month-end');
    const state = await sys.db.pool.query<{ status: string; changed_by: string }>(
      'SELECT status, changed_by FROM billing_period WHERE provider_id = $1 AND period = $2',
      [provider.id, period],
    );
    assert.deepEqual(state.rows, [{ status: 'CLOSED', changed_by: 'alice' }]);
  } finally {
    await context.close();
  }
});

test('a viewer sees no action, and the server refuses one sent anyway (with a valid session and CSRF token)', async () => {
  const { context, page } = await signedIn('victor');
  try {
    const key = (
      await sys.db.pool.query<{ group_key: string }>(
        `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' ORDER BY group_key DESC LIMIT 1`,
        [provider.id],
      )
    ).rows[0]!.group_key;
    await page.goto(`${web.url}/quarantine/group?key=${encodeURIComponent(key)}`);
    assert.equal(await page.locator('section.actions form').count(), 0, 'no action form for a viewer');
    assert.match((await page.locator('p.note').textContent()) ?? '', /need the billing role/);
    // Send the write-off the page does not offer, as a real form post from this browser session.
    await page.evaluate((groupKey) => {
      // Runs in the page (the browser's DOM); typed loosely since the project compiles without DOM types.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const document = (globalThis as any).document;
      const form = document.createElement('form');
      form.method = 'post';
      form.action = '/quarantine/group/action';
      const csrf = document.querySelector('meta[name=csrf-token]')!.getAttribute('content')!;
      for (const [k, v] of Object.entries({ _csrf: csrf, key: groupKey, action: 'writeOff', reason: 'viewer tries' })) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = k;
        input.value = v;
        form.appendChild(input);
      }
      document.body.appendChild(form);
      form.submit();
    }, key);
    await page.waitForURL(`${web.url}/quarantine/group/action`);
    assert.match(
      (await page.locator('.flash.error').textContent()) ?? '',
      /Your role \(viewer\) may not do this: it needs the billing role/,
    );
    await screenshot(page, 'viewer-refused');
    const actions = await sys.db.pool.query(
      `SELECT 1 FROM quarantine_action WHERE group_key = $1 AND actor = 'victor'`,
      [key],
    );
    assert.equal(actions.rowCount, 0);
    const still = await sys.db.pool.query(`SELECT 1 FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`, [
      key,
    ]);
    assert.ok(still.rowCount! > 0);
  } finally {
    await context.close();
  }
});

test('HTTP: without a session, pages redirect to sign-in and changes are refused (401); nothing changes', async () => {
  const anon = new HttpSession(web.url);
  const page = await anon.request('GET', '/quarantine');
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login?next=%2Fquarantine');
  const key = (
    await sys.db.pool.query<{ group_key: string }>(
      `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' LIMIT 1`,
      [provider.id],
    )
  ).rows[0]!.group_key;
  const before = await sys.db.pool.query('SELECT count(*)::int AS n FROM quarantine_action');
  const post = await anon.request('POST', '/quarantine/group/action', {
    key,
    action: 'writeOff',
    reason: 'no session',
  });
  assert.equal(post.status, 401);
  const rate = await anon.request('POST', `/rates/${provider.id}/default-markup`, { percent: '50' });
  assert.equal(rate.status, 401);
  const after = await sys.db.pool.query('SELECT count(*)::int AS n FROM quarantine_action');
  assert.equal(after.rows[0].n, before.rows[0].n);
});

test('HTTP: with a session but without (or with a wrong) CSRF token, changes are refused (403); with it, the same request works', async () => {
  const s = new HttpSession(web.url);
  const login = await s.login('alice', PASSWORD.alice);
  assert.equal(login.status, 303);
  const setCookie = login.headers.getSetCookie().find((c) => c.startsWith('csp_session='))!;
  assert.match(setCookie, /HttpOnly/i);
  assert.match(setCookie, /SameSite=Strict/i);
  const token = s.cookies.get('csp_session')!;
  const stored = await sys.db.pool.query('SELECT 1 FROM console_session WHERE token_hash = $1', [token]);
  assert.equal(stored.rowCount, 0, 'the database holds only a hash of the session token');

  const markup = async () =>
    (
      await sys.db.pool.query<{ v: string | null }>(
        'SELECT default_markup_percent::text AS v FROM rate_card WHERE provider_id = $1',
        [provider.id],
      )
    ).rows[0]!.v;
  const before = await markup();
  const missing = await s.request('POST', `/rates/${provider.id}/default-markup`, { percent: '42' });
  assert.equal(missing.status, 403);
  assert.match(await missing.text(), /CSRF/);
  const wrong = await s.request('POST', `/rates/${provider.id}/default-markup`, {
    percent: '42',
    _csrf: 'x'.repeat(43),
  });
  assert.equal(wrong.status, 403);
  assert.equal(await markup(), before, 'nothing changed');

  const csrf = HttpSession.formToken(await (await s.request('GET', `/rates?provider=${provider.id}`)).text());
  const ok = await s.request('POST', `/rates/${provider.id}/default-markup`, { percent: '42', _csrf: csrf });
  assert.equal(ok.status, 303);
  assert.equal(await markup(), '42');

  // Another session's token does not fit this session.
  const other = new HttpSession(web.url);
  await other.login('victor', PASSWORD.victor);
  const foreign = await other.request('POST', '/logout', { _csrf: csrf });
  assert.equal(foreign.status, 403);

  // Signing out ends the session on the server: the old cookie no longer works.
  const out = await s.request('POST', '/logout', { _csrf: csrf });
  assert.equal(out.status, 303);
  const replay = await fetch(`${web.url}/`, { redirect: 'manual', headers: { cookie: `csp_session=${token}` } });
  assert.equal(replay.status, 303);
});

test('HTTP: sign-in needs the form it was given (login CSRF), and failed sign-ins are audited', async () => {
  const s = new HttpSession(web.url);
  const forged = await s.request('POST', '/login', { username: 'alice', password: PASSWORD.alice, _csrf: 'forged' });
  assert.equal(forged.status, 403);
  assert.equal(s.cookies.has('csp_session'), false);
  const wrong = await s.login('alice', 'not-her-password');
  assert.equal(wrong.status, 401);
  const audited = await sys.db.pool.query<{ actor: string }>(
    `SELECT actor FROM audit_event WHERE kind = 'login.failed' ORDER BY id DESC LIMIT 1`,
  );
  assert.equal(audited.rows[0]!.actor, 'alice');
});

test('HTTP: sign-in attempts are rate-limited per address', async () => {
  const limited = await startConsole(
    {
      pool: sys.db.pool,
      temporal: env.client,
      taskQueue: sys.taskQueue,
      namespace: 'default',
      temporalUiUrl: null,
      log: sys.logs.logger(),
    },
    { port: 0 },
    // A long window: under load, four argon2 checks can take longer than a minute.
    { loginAttemptsPerMinute: 3, loginWindowMs: 15 * 60_000 },
  );
  try {
    const s = new HttpSession(limited.url);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await s.login('victor', `wrong-password-${i}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    const right = await s.login('victor', PASSWORD.victor);
    assert.equal(right.status, 429, 'even the right password waits for the window to pass');
    const limitedAudit = await sys.db.pool.query(
      `SELECT 1 FROM audit_event WHERE kind = 'login.rate-limited' AND actor = 'victor'`,
    );
    assert.ok(limitedAudit.rowCount! >= 1);
  } finally {
    await limited.close();
  }
});

test("re-rate: a closed month says to reopen it first; once open, the preview's table per customer, then the apply credits and charges again, as the signed-in user", async () => {
  const period = monthIn(new Date(), provider.time_zone);
  if (await isPeriodClosed(sys.db.pool, provider.id, period))
    await reopenPeriod(sys.db.pool, provider.id, period, 'alice', 'the re-rate test needs it open');
  const product = (
    await sys.db.pool.query<{ product: string }>(
      `SELECT product_key AS product FROM usage_charge WHERE provider_id = $1 AND billing_period = $2 AND live
        GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
      [provider.id, period],
    )
  ).rows[0]!.product;
  const { context, page } = await signedIn('alice');
  try {
    await closePeriod(sys.db.pool, provider.id, period, 'alice');
    await page.goto(`${web.url}/rerate?provider=${provider.id}&period=${period}`);
    assert.match(await page.locator('.flash.error').first().innerText(), /is closed: reopen it first/);
    assert.equal(await page.locator('#rerate-apply').count(), 0);
    await reopenPeriod(sys.db.pool, provider.id, period, 'alice', 'a rate was wrong');

    await setRateRule(sys.db.pool, provider.id, { productId: product, kind: 'markup', value: new Decimal('41.5') });
    await page.goto(`${web.url}/month-end?provider=${provider.id}&period=${period}`);
    await Promise.all([page.waitForURL(/\/rerate\?/), page.click('#rerate-link')]);
    await page.fill('#rerate-preview input[name=product]', product);
    await Promise.all([page.waitForURL(/product=/), page.click('#rerate-preview button')]);
    const caption = await page.locator('#rerate-table caption').innerText();
    const lines = Number(/^(\d+) of/.exec(caption)?.[1] ?? assert.fail(caption));
    assert.ok(lines > 0, caption);
    assert.match(
      await page.locator('#rerate-table tfoot').innerText(),
      new RegExp(`Total\\s+${lines}\\s+[\\d,]+\\.\\d\\d ${provider.currency}`),
    );
    await screenshot(page, 'rerate');
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL(/\/rerate\?/), page.click('#rerate-apply button')]);
    assert.match(
      await flash(page),
      new RegExp(`Re-rated ${period} by alice: ${lines} charge\\(s\\) credited and charged again`),
    );
    const written = await sys.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM usage_charge WHERE provider_id = $1 AND cycle_id LIKE 'rerate:%' AND entry = 'CREDIT'`,
      [provider.id],
    );
    assert.equal(written.rows[0]!.n, lines);
    assert.match(await page.locator('#rerate-table tbody').innerText(), /Nothing to re-rate/);
  } finally {
    await context.close();
  }
});
