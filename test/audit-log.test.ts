import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { startTestSystem, type TestSystem } from './support/system';
import { cliEnv, runCli } from './support/cli';
import { waitFor } from './support/wait';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { resolveGroup, signalAction } from '../workflows/quarantine-group.api';
import { setQuantity, tenantState } from '../workflows/tenant.api';
import { osUserName } from '../client/actor';
import { changesSomething, commandDetails } from '../client/audit';
import { requestAction } from '../client/console/audit';

// The one audit log: what the CLI, signals sent straight to Temporal and the system leave in it.
let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;
let groupKeys: string[];

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 300, pageSize: 100 });
  providerId = (await sys.onboardSimProvider(0)).id;
  await runUsageCycleNow({ temporal: env.client, taskQueue: sys.taskQueue }, { providerId }, 'audit-cycle-1');
  const groups = await sys.db.pool.query<{ group_key: string }>(
    `SELECT group_key FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' AND group_key NOT LIKE '%|NO_RATE_CARD|%'
      GROUP BY group_key ORDER BY count(*) DESC, group_key LIMIT 3`,
    [providerId],
  );
  groupKeys = groups.rows.map((r) => r.group_key);
  assert.equal(groupKeys.length, 3, 'the cycle quarantined lines in three groups at least');
});
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

const csp = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, cliEnv(sys, env, { LOG_LEVEL: 'warn', ...extra }));

interface Row {
  actor: string;
  os_user: string | null;
  principal: string | null;
  source: string;
  kind: string;
  action: string;
  target: string | null;
  outcome: string;
  reason: string | null;
  details: Record<string, unknown> | null;
  provider_id: string | null;
  new_value: unknown;
}

async function rows(where: string, params: unknown[] = []): Promise<Row[]> {
  return (await sys.db.pool.query<Row>(`SELECT * FROM audit_event WHERE ${where} ORDER BY id`, params)).rows;
}

const count = async () =>
  (await sys.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event')).rows[0]!.n;

test('which commands are audited, what their rows name, and no secret among the details', () => {
  assert.equal(changesSomething('rates.set', {}), true);
  assert.equal(changesSomething('tenant.set-contact', {}), true, 'a command nobody listed is audited');
  for (const path of ['rates.list', 'quarantine.show', 'schedule.describe', 'billing.report', 'audit', 'rates.export'])
    assert.equal(changesSomething(path, {}), false, path);
  assert.equal(changesSomething('tenant.cancel', { preview: true }), false);
  assert.equal(changesSomething('billing.rerate', {}), false);
  assert.equal(changesSomething('billing.rerate', { apply: true }), true);

  assert.deepEqual(
    commandDetails(['provider'], ['p-1'], {
      clientId: 'id',
      clientSecret: 's3cr3t',
      clientSecretStdin: true,
      password: 'pw',
      json: true,
      note: undefined,
    }),
    {
      provider: 'p-1',
      clientId: 'id',
      clientSecret: '[not recorded]',
      clientSecretStdin: true,
      password: '[not recorded]',
    },
  );

  assert.deepEqual(requestAction('/rates/:providerId/:edit', { providerId: 'p-1', edit: 'set' }, {}), {
    action: 'rates.set',
    target: 'p-1',
  });
  assert.deepEqual(requestAction('/quarantine/group/action', {}, { action: 'writeOff', key: 'p-1|X|t' }), {
    action: 'quarantine.write-off',
    target: 'p-1|X|t',
  });
  assert.deepEqual(requestAction('/users/:action', { action: 'add' }, { username: 'bea' }), {
    action: 'user.add',
    target: 'bea',
  });
  // Named as the CLI names the same action, so one filter finds both.
  assert.deepEqual(requestAction('/month-end/:change', { change: 'close' }, { provider: 'p-1' }), {
    action: 'period.close',
    target: 'p-1',
  });
  assert.equal(requestAction('/tenants/:serviceId/contact', { serviceId: 'S-1' }, {}).action, 'tenant.set-contact');
});

test('CLI: a command that changes something is one row, applied or refused with its error; a listing is none', async () => {
  const product = (
    await sys.db.pool.query<{ p: string }>(
      `SELECT product_ref AS p FROM usage_line WHERE provider_id = $1 AND product_ref IS NOT NULL LIMIT 1`,
      [providerId],
    )
  ).rows[0]!.p;

  const before = await count();
  assert.equal((await csp(['rates', 'list', providerId])).code, 0);
  assert.equal((await csp(['audit'])).code, 0);
  const tenant = sys.sim.dataset.providers[0]!.tenants[0]!.domain;
  const preview = await csp(['tenant', 'cancel', tenant, '--preview', '--json']);
  assert.equal(preview.code, 0, preview.err);
  assert.equal(await count(), before, 'listings and previews are not audited');

  const set = await csp([
    'rates',
    'set',
    providerId,
    '--product',
    product,
    '--kind',
    'markup',
    '--value',
    '18.5',
    '--by',
    'alice',
  ]);
  assert.equal(set.code, 0, set.err);
  // The rate change records its own row (old and new rule), and that is the command's row.
  const applied = await rows(`action = 'rates.set'`);
  assert.equal(applied.length, 1);
  assert.deepEqual(
    { ...applied[0]!, new_value: applied[0]!.new_value !== null },
    {
      ...applied[0]!,
      actor: 'alice',
      os_user: osUserName(),
      principal: null,
      source: 'cli',
      kind: 'rate.set',
      outcome: 'APPLIED',
      reason: null,
      provider_id: providerId,
      new_value: true,
    },
  );
  assert.equal(applied[0]!.details!.product, product);
  assert.equal(applied[0]!.target, product);
  assert.equal(applied[0]!.details!.by, 'alice');

  const alerts = await csp(['alerts', 'set', 'cycle_failed', '--provider', providerId, '--disable', '--by', 'carol']);
  assert.equal(alerts.code, 0, alerts.err);
  const alertRow = await rows(`action = 'alerts.set'`);
  assert.deepEqual(
    alertRow.map((r) => [r.source, r.actor, r.os_user, r.target, r.provider_id, r.outcome, r.details]),
    [
      [
        'cli',
        'carol',
        osUserName(),
        'cycle_failed',
        providerId,
        'APPLIED',
        { rule: 'cycle_failed', provider: providerId, disable: true, by: 'carol' },
      ],
    ],
  );

  const refused = await csp([
    'rates',
    'set',
    providerId,
    '--product',
    'not-a-guid',
    '--kind',
    'markup',
    '--value',
    '1',
  ]);
  assert.equal(refused.code, 2);
  const reopen = await csp([
    'period',
    'reopen',
    '--provider',
    providerId,
    '--period',
    '2026-13',
    '--by',
    'bob',
    '--reason',
    'late credit',
  ]);
  assert.equal(reopen.code, 2);
  const refusals = await rows(`outcome = 'REFUSED' AND source = 'cli'`);
  assert.deepEqual(
    refusals.map((r) => [r.action, r.actor, r.os_user, r.target, r.provider_id, r.reason]),
    [
      // A product rule's target is its product, refused as applied; its provider has its own column.
      ['rates.set', osUserName(), osUserName(), 'not-a-guid', providerId, refused.err.replace(/^csp: /, '').trim()],
      ['period.reopen', 'bob', osUserName(), providerId, providerId, reopen.err.replace(/^csp: /, '').trim()],
    ],
  );
  assert.equal(refusals[1]!.details!.reason, 'late credit');
});

test('CLI: provider add is audited, and its client secret never reaches audit_event', async () => {
  const p = sys.sim.dataset.providers[1]!;
  const onCommandLine = '0123456789abcdef0123456789abcdef';
  const refused = await csp([
    'provider',
    'add',
    '--name',
    p.name,
    '--client-id',
    p.clientId,
    '--client-secret',
    onCommandLine,
  ]);
  assert.equal(refused.code, 2);
  const added = await csp(['provider', 'add', '--name', p.name, '--client-id', p.clientId, '--json'], {
    RHIPE_CLIENT_SECRET: p.clientSecret,
  });
  assert.equal(added.code, 0, added.err);

  const adds = await rows(`action = 'provider.add'`);
  assert.deepEqual(
    adds.map((r) => [r.outcome, r.target, r.details!.clientSecret ?? null]),
    [
      ['REFUSED', p.name, '[not recorded]'],
      ['APPLIED', p.name, null],
    ],
  );
  assert.ok(adds[1]!.provider_id, 'the provider added is the row’s provider');
  for (const secret of [onCommandLine, p.clientSecret]) {
    const found = await sys.db.pool.query(`SELECT id FROM audit_event WHERE audit_event::text ILIKE '%' || $1 || '%'`, [
      secret,
    ]);
    assert.equal(found.rowCount, 0, 'no secret in the audit log');
  }
});

test('signals sent straight to Temporal are recorded with source temporal, applied and refused', async () => {
  const [writeOffKey, allocateKey] = groupKeys as [string, string];
  await signalAction(env.client, writeOffKey, { action: 'writeOff', by: 'wanda', reason: 'billed by the NZ entity' });
  await signalAction(env.client, allocateKey, { action: 'allocate', by: 'wanda', serviceId: 'S-999999' });
  const signalled = await waitFor(
    'both signals audited',
    async () => {
      const r = await rows(`source = 'temporal' AND actor = 'wanda'`);
      return r.length === 2 && r;
    },
    60_000,
  );
  const byAction = Object.fromEntries(signalled.map((r) => [r.action, r]));
  assert.equal(byAction['quarantine.write-off']!.outcome, 'APPLIED');
  assert.equal(byAction['quarantine.write-off']!.target, writeOffKey);
  assert.equal(byAction['quarantine.write-off']!.provider_id, providerId);
  assert.equal(byAction['quarantine.write-off']!.details!.reason, 'billed by the NZ entity');
  assert.equal(byAction['quarantine.allocate']!.outcome, 'REFUSED');
  assert.match(byAction['quarantine.allocate']!.reason!, /S-999999/);
  assert.equal(byAction['quarantine.allocate']!.os_user, null);
});

test('a licence change sent straight to Temporal is recorded with source temporal', async () => {
  const service = (
    await sys.db.pool.query<{ id: string; tenant_id: string }>(
      `SELECT id, tenant_id FROM service WHERE provider_id = $1 ORDER BY id LIMIT 1`,
      [providerId],
    )
  ).rows[0]!;
  const ref = { providerId, tenantId: service.tenant_id };
  const licence = (await tenantState(env.client, ref)).licences.find((l) => !l.parentSubscriptionId && l.quantity > 1)!;
  await setQuantity(env.client, ref, {
    subscriptionId: licence.subscriptionId,
    quantity: licence.quantity - 1,
    by: 'tina',
  });
  const [row] = await rows(`actor = 'tina'`);
  assert.deepEqual(
    [row!.source, row!.action, row!.target, row!.provider_id, row!.outcome, row!.details!.quantity],
    ['temporal', 'tenant.set-quantity', service.id, providerId, 'APPLIED', licence.quantity - 1],
  );
});

test('a request id reused in a group for another action is refused, saying so; the same action again is a retry', async () => {
  const key = groupKeys[2]!;
  const t = { temporal: env.client, taskQueue: sys.taskQueue };
  const first = await resolveGroup(t, key, { action: 'cleanse', by: 'rex', requestId: 'req-reused', osUser: 'rex' });
  assert.equal(first.outcome, 'APPLIED');
  const again = await resolveGroup(t, key, { action: 'cleanse', by: 'rex', requestId: 'req-reused', osUser: 'rex' });
  assert.deepEqual(again, first, 'the same request again is answered as it was');

  // Through the Update: refused before it is accepted.
  await assert.rejects(
    resolveGroup(t, key, { action: 'writeOff', reason: 'dup', by: 'rex', requestId: 'req-reused', osUser: 'rex' }),
    (err: Error) => {
      const chain: string[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause) chain.push(e.message);
      assert.match(chain.join(' | '), /request id "req-reused" was already used in this group for cleanse/);
      return true;
    },
  );
  // As a signal (no validator): the activity refuses it, and audits it.
  await signalAction(env.client, key, { action: 'writeOff', reason: 'dup', by: 'rex', requestId: 'req-reused' });
  const refused = await waitFor(
    'the signal audited',
    async () => (await rows(`source = 'temporal' AND actor = 'rex'`))[0],
    60_000,
  );
  assert.equal(refused.outcome, 'REFUSED');
  assert.match(refused.reason!, /already used in this group for cleanse: send the writeOff with a new request id/);
  const writtenOff = await sys.db.pool.query(
    `SELECT 1 FROM usage_line WHERE group_key = $1 AND status = 'WRITTEN_OFF'`,
    [key],
  );
  assert.equal(writtenOff.rowCount, 0, 'nothing written off');
});

test('csp audit: filters by provider, time, actor, action and outcome; --json has the documented shape', async () => {
  type Events = { events: Array<Record<string, unknown>> };
  const audit = async (...args: string[]) => {
    const r = await csp(['audit', '--json', ...args]);
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as Events).events;
  };
  const all = await audit('--limit', '1000');
  assert.ok(all.length >= 6);
  assert.deepEqual(Object.keys(all[0]!), [
    'at',
    'actor',
    'osUser',
    'principal',
    'source',
    'action',
    'target',
    'outcome',
    'reason',
    'details',
  ]);
  const times = all.map((e) => e.at as string);
  assert.deepEqual(times, [...times].sort().reverse(), 'newest first');

  assert.deepEqual(
    (await audit('--actor', 'alice')).map((e) => e.action),
    ['rates.set'],
  );
  assert.deepEqual(
    (await audit('--action', 'rates', '--outcome', 'refused')).map((e) => [e.action, e.outcome]),
    [['rates.set', 'REFUSED']],
  );
  const temporal = await audit('--provider', providerId, '--action', 'quarantine');
  assert.ok(temporal.length >= 3 && temporal.every((e) => String(e.action).startsWith('quarantine.')));
  assert.deepEqual(await audit('--since', '2999-01-01'), []);
  assert.equal((await audit('--limit', '2')).length, 2);

  const table = await csp(['audit', '--actor', 'alice']);
  assert.match(table.out, /rates\.set/);
  assert.match(table.out, /AEDT|AEST/, "times in the provider's zone");
  for (const [args, message] of [
    [['--since', 'yesterday'], /--since must be an ISO 8601 date/],
    [['--outcome', 'MAYBE'], /--outcome must be one of APPLIED, REFUSED/],
    [['--limit', '0'], /--limit must be a whole number/],
    [['--provider', 'nobody'], /no provider "nobody"/],
  ] as const) {
    const r = await csp(['audit', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, message);
  }
});
