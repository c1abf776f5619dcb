import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { HttpSession } from './support/browser';
import { freePort } from './support/ports';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { startConsole, type ConsoleDeps, type ConsoleOptions, type RunningConsole } from '../client/console/server';
import { addUser } from '../client/console/auth';
import { createPool } from '../db/pool';
import { MAX_ADMIN_TEXT_CHARS } from '../core/admin-text';
import type { ProviderView } from '../db/providers';

// What an admin can send, through the CLI and the console: bounded notes, confirmed negative
// markups, real groups; sign-in throttled per user and per address; 503 while a service is down.
let env: TestWorkflowEnvironment;
let sys: TestSystem;
let provider: ProviderView;
let groupKey: string;
const consoles: RunningConsole[] = [];
const PASSWORD = { bob: 'correct horse battery one', carol: 'staple battery horse two' };

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 300, pageSize: 100 });
  provider = await sys.onboardSimProvider(0);
  await runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    'safety-cycle-1',
  );
  const g = await sys.db.pool.query<{ group_key: string }>(
    `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' ORDER BY 1 LIMIT 1`,
    [provider.id],
  );
  groupKey = g.rows[0]!.group_key;
  await addUser(sys.db.pool, 'bob', PASSWORD.bob, 'billing');
  await addUser(sys.db.pool, 'carol', PASSWORD.carol, 'billing');
});
after(async () => {
  for (const c of consoles) await c.close().catch(() => undefined);
  await sys?.stop();
  await env?.teardown();
});

async function consoleWith(deps: Partial<ConsoleDeps> = {}, options: ConsoleOptions = {}): Promise<string> {
  const web = await startConsole(
    {
      pool: sys.db.pool,
      temporal: env.client,
      taskQueue: sys.taskQueue,
      namespace: env.namespace ?? 'default',
      temporalUiUrl: null,
      log: sys.logs.logger(),
      ...deps,
    },
    { port: 0 },
    { loginWindowMs: 15 * 60_000, ...options },
  );
  consoles.push(web);
  return web.url;
}

const cli = (...args: string[]) => runCli(args, cliEnv(sys, env));

test('CLI: a note or reason longer than 2,000 characters is refused (exit 2) before anything is done', async () => {
  const long = 'x'.repeat(MAX_ADMIN_TEXT_CHARS + 1);
  const note = await cli('quarantine', 'cleanse', groupKey, '--by', 'bob', '--note', long);
  assert.equal(note.code, 2, note.err);
  assert.match(note.err, /--note is 2001 characters long; at most 2000 are kept/);
  const reason = await cli('quarantine', 'write-off', groupKey, '--by', 'bob', '--reason', long);
  assert.equal(reason.code, 2, reason.err);
  assert.match(reason.err, /--reason is 2001 characters long/);
  const actions = await sys.db.pool.query('SELECT 1 FROM quarantine_action WHERE group_key = $1', [groupKey]);
  assert.equal(actions.rowCount, 0, 'nothing reached the group');
});

test('CLI: quarantine show of a well-formed key no group has is "no such group", exit 2', async () => {
  const parts = groupKey.split('|');
  const unknown = [parts[0], parts[1], '00000000-0000-0000-0000-000000000000', ...parts.slice(3)].join('|');
  const r = await cli('quarantine', 'show', unknown);
  assert.equal(r.code, 2, r.out + r.err);
  assert.match(r.err, /no such quarantine group/);
  const known = await cli('quarantine', 'show', groupKey);
  assert.equal(known.code, 0, known.err);
});

test('a negative default markup needs --allow-negative (CLI: default-markup and import) or the console box', async () => {
  const refused = await cli('rates', 'default-markup', provider.id, '-50', '--by', 'bob');
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /negative default markup \(-50%\).*--allow-negative/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csp-card-'));
  try {
    const file = path.join(dir, 'card.json');
    writeFileSync(file, JSON.stringify({ currency: provider.currency, defaultMarkupPercent: -50, rules: [] }));
    const imported = await cli('rates', 'import', provider.id, '--file', file);
    assert.equal(imported.code, 2, imported.err);
    assert.match(imported.err, /--allow-negative/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const allowed = await cli('rates', 'default-markup', provider.id, '-5', '--by', 'bob', '--allow-negative');
  assert.equal(allowed.code, 0, allowed.err);
  assert.match(allowed.out, /default markup -5%/);
  const positive = await cli('rates', 'default-markup', provider.id, '15', '--by', 'bob');
  assert.equal(positive.code, 0, positive.err);

  const s = new HttpSession(await consoleWith());
  assert.equal((await s.login('bob', PASSWORD.bob)).status, 303);
  const page = await s.request('GET', `/rates?provider=${provider.id}`);
  const csrf = HttpSession.formToken(await page.text());
  await s.request('POST', `/rates/${provider.id}/default-markup`, { _csrf: csrf, percent: '-50' });
  const after = await (await s.request('GET', `/rates?provider=${provider.id}`)).text();
  assert.match(after, /negative default markup/);
  assert.match(after, /class="default-markup">15%/, 'unchanged');
  await s.request('POST', `/rates/${provider.id}/default-markup`, { _csrf: csrf, percent: '-5', allowNegative: 'on' });
  assert.match(await (await s.request('GET', `/rates?provider=${provider.id}`)).text(), /class="default-markup">-5%/);
});

test('console: a note or reason longer than 2,000 characters is refused (400), nothing done', async () => {
  const s = new HttpSession(await consoleWith());
  assert.equal((await s.login('bob', PASSWORD.bob)).status, 303);
  const page = await s.request('GET', `/quarantine/group?key=${encodeURIComponent(groupKey)}`);
  const csrf = HttpSession.formToken(await page.text());
  const r = await s.request('POST', '/quarantine/group/action', {
    _csrf: csrf,
    key: groupKey,
    action: 'writeOff',
    reason: 'y'.repeat(MAX_ADMIN_TEXT_CHARS + 1),
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /reason is 2001 characters long; at most 2000 are kept/);
  const actions = await sys.db.pool.query('SELECT 1 FROM quarantine_action WHERE group_key = $1', [groupKey]);
  assert.equal(actions.rowCount, 0);
});

test('console: an 11th wrong password locks that user only, not another user from the same address', async () => {
  const url = await consoleWith();
  const s = new HttpSession(url);
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) statuses.push((await s.login('bob', `wrong-${i}`)).status);
  assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
  assert.equal((await s.login('bob', PASSWORD.bob)).status, 429, 'bob waits, even with the right password');
  const other = new HttpSession(url);
  assert.equal((await other.login('carol', PASSWORD.carol)).status, 303, 'carol, same address, signs in');
  const audit = await sys.db.pool.query(
    `SELECT 1 FROM audit_event WHERE kind = 'login.rate-limited' AND actor = 'bob' AND detail LIKE '%for this user%'`,
  );
  assert.ok(audit.rowCount! >= 1);
});

test('console: failures per address are limited too (far higher), by the address a trusted proxy names', async () => {
  const url = await consoleWith({}, { loginAttemptsPerAddressPerMinute: 5, trustedProxies: ['127.0.0.1'] });
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const s = new HttpSession(url);
  const login = async (user: string, password: string, ip: string) => {
    const form = await s.request('GET', '/login', undefined, from(ip));
    const token = HttpSession.formToken(await form.text());
    return s.request('POST', '/login', { _csrf: token, username: user, password, next: '/' }, from(ip));
  };
  for (let i = 0; i < 5; i++) assert.equal((await login(`nobody${i}`, 'x', '203.0.113.7')).status, 401);
  assert.equal((await login('carol', PASSWORD.carol, '203.0.113.7')).status, 429, 'that address waits');
  assert.equal(
    (await login('carol', PASSWORD.carol, '203.0.113.8')).status,
    303,
    'another client behind the proxy does not',
  );
  const row = await sys.db.pool.query<{ remote_addr: string }>(
    `SELECT remote_addr FROM audit_event WHERE kind = 'login.rate-limited' ORDER BY id DESC LIMIT 1`,
  );
  assert.equal(row.rows[0]!.remote_addr, '203.0.113.7');

  // Without a configured proxy the header is the client's to write, so it is ignored.
  const direct = await consoleWith({}, { loginAttemptsPerAddressPerMinute: 5 });
  const d = new HttpSession(direct);
  for (let i = 0; i < 5; i++) {
    const form = await d.request('GET', '/login');
    const token = HttpSession.formToken(await form.text());
    await d.request('POST', '/login', { _csrf: token, username: `x${i}`, password: 'x' }, from(`198.51.100.${i}`));
  }
  assert.equal((await d.login('carol', PASSWORD.carol)).status, 429, 'all five counted against 127.0.0.1');
});

test('console: 503 with a plain message while the database is down, or Temporal', async () => {
  const deadPool = createPool(`postgres://nobody:x@127.0.0.1:${await freePort()}/none`, 2, { connectTimeoutMs: 2000 });
  try {
    const down = new HttpSession(await consoleWith({ pool: deadPool }));
    const r = await down.login('bob', PASSWORD.bob);
    assert.equal(r.status, 503);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await r.text(), /The database is unavailable/);
    down.cookies.set('csp_session', 'a'.repeat(43));
    const page = await down.request('GET', '/');
    assert.equal(page.status, 503);
  } finally {
    await deadPool.end();
  }

  const deadTemporal = new Client({
    connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, connectTimeout: '2 seconds' }),
  });
  const s = new HttpSession(await consoleWith({ temporal: deadTemporal }));
  assert.equal((await s.login('bob', PASSWORD.bob)).status, 303);
  const page = await s.request('GET', `/quarantine/group?key=${encodeURIComponent(groupKey)}`);
  const csrf = HttpSession.formToken(await page.text());
  const r = await s.request('POST', '/quarantine/group/action', { _csrf: csrf, key: groupKey, action: 'cleanse' });
  assert.equal(r.status, 503, await r.clone().text());
  assert.match(await r.text(), /Temporal is unavailable/);
});
