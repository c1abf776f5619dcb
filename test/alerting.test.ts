import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { waitFor } from './support/wait';
import { recordHistory } from './support/histories';
import { ALERTING_SCHEDULE_ID, ensureAlertingSchedule, runAlertingNow } from '../workflows/alerting.api';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import { createActivities } from '../activities';
import { clearTokenCache } from '../carrier/client';
import { upsertRuleSetting } from '../db/alerts';
import type { ProviderView } from '../db/providers';
import type { AlertRule } from '../core/alerts';
import { PROJECT_ROOT } from '../config';
import { registry } from '../activities/metrics';
import { reconcile } from '../core/reconciliation';
import { centsText } from '../core/reconciliation-report';
import { storeReconciliation } from '../db/invoice-reconciliations';

/** A local incoming-webhook receiver (Slack-style JSON) that can be told to fail. */
class WebhookReceiver {
  readonly messages: Array<{ key: string; status: string; rule: string; text: string; idempotencyKey: string }> = [];
  failNext = 0;
  private server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (this.failNext > 0) {
        this.failNext--;
        res.writeHead(500).end('try again');
        return;
      }
      const json = JSON.parse(body) as { text: string; alert: { key: string; status: string; rule: string } };
      this.messages.push({
        key: json.alert.key,
        status: json.alert.status,
        rule: json.alert.rule,
        text: json.text,
        idempotencyKey: String(req.headers['idempotency-key']),
      });
      res.writeHead(200).end('ok');
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/T000/B000/secret-part`;
  }
  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A local SMTP server (smtp-server) keeping each message's Message-ID and subject. */
class MailReceiver {
  readonly messages: Array<{ messageId: string; subject: string; to: string[]; body: string }> = [];
  private server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, done) => {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        const header = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
        const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(header)?.[1]?.trim() ?? '';
        this.messages.push({
          messageId: field('Message-ID'),
          subject: field('Subject'),
          to: session.envelope.rcptTo.map((r) => r.address),
          body: raw,
        });
        done();
      });
    },
  });
  port = 0;
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.server.address() as AddressInfo).port;
  }
  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

let env: TestWorkflowEnvironment;
let sys: TestSystem;
const hooks = new WebhookReceiver();
const mail = new MailReceiver();
let provider: ProviderView;
let cycles = 0;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 300, pageSize: 50 });
  await hooks.start();
  await mail.start();
  sys.deps.alerts = {
    webhookUrls: [hooks.url],
    webhookFormat: 'slack',
    email: {
      smtpUrl: `smtp://127.0.0.1:${mail.port}`,
      from: 'csp-billing@example.com',
      to: ['billing-ops@example.com'],
    },
    giveUpHours: 24,
  };
  provider = await sys.onboardSimProvider(0);
});
after(async () => {
  await hooks.close();
  await mail.close();
  await sys?.stop();
  await env?.teardown();
});

let runs = 0;
const evaluate = () => runAlertingNow({ temporal: env.client, taskQueue: sys.taskQueue }, `alerting:test-${++runs}`);
const runCycle = () =>
  runUsageCycleNow(
    { temporal: env.client, taskQueue: sys.taskQueue },
    { providerId: provider.id },
    `alert-cycle-${++cycles}`,
  );

/** Messages of one rule so far, on both channels, as "FIRING"/"RESOLVED" lists. */
function delivered(rule: AlertRule) {
  const hook = hooks.messages.filter((m) => m.rule === rule).map((m) => m.status);
  const keys = new Set(hooks.messages.filter((m) => m.rule === rule).map((m) => m.key));
  const email = mail.messages
    .filter((m) => [...keys].some((k) => m.messageId.startsWith(`<${k}-`)))
    .map((m) => (m.messageId.endsWith('-firing@csp-billing>') ? 'FIRING' : 'RESOLVED'));
  return { hook, email };
}

/** No message was ever received twice, on either channel. */
function assertNoDuplicates() {
  const hookKeys = hooks.messages.map((m) => `${m.key}/${m.status}`);
  assert.equal(new Set(hookKeys).size, hookKeys.length, `webhook duplicates: ${hookKeys.join(', ')}`);
  const mailIds = mail.messages.map((m) => m.messageId);
  assert.equal(new Set(mailIds).size, mailIds.length, `email duplicates: ${mailIds.join(', ')}`);
}

test('a healthy provider: nothing to send', async () => {
  await runCycle();
  const r = await evaluate();
  assert.equal(r.fired, 0);
  assert.equal(hooks.messages.length + mail.messages.length, 0);
});

test('cycle_failed: delivered once to the webhook and by email, not again after a worker restart, resolved when a cycle succeeds', async () => {
  const row = (
    await sys.db.pool.query<{ secret_ciphertext: string }>('SELECT secret_ciphertext FROM provider WHERE id = $1', [
      provider.id,
    ])
  ).rows[0]!;
  await sys.db.pool.query('UPDATE provider SET secret_ciphertext = $2 WHERE id = $1', [
    provider.id,
    sys.deps.keyring.encrypt('f'.repeat(32)),
  ]);
  clearTokenCache();
  await assert.rejects(runCycle());
  await sys.db.pool.query('UPDATE provider SET secret_ciphertext = $2 WHERE id = $1', [
    provider.id,
    row.secret_ciphertext,
  ]);
  clearTokenCache();

  hooks.failNext = 1; // the receiver refuses the first attempt: retried, still delivered once
  const first = await evaluate();
  assert.equal(first.fired, 1);
  assert.equal(first.delivered, 2);
  assert.deepEqual(delivered('cycle_failed'), { hook: ['FIRING'], email: ['FIRING'] });
  assert.match(hooks.messages[0]!.text, /^\[ALERT\] .*needs attention: .*invalid_client/);
  assert.equal(hooks.messages[0]!.idempotencyKey, `${hooks.messages[0]!.key}-firing`);
  assert.deepEqual(mail.messages[0]!.to, ['billing-ops@example.com']);
  await recordHistory(env.client.workflow.getHandle(`alerting:test-${runs}`), 'alerting-fired-retried');
  assert.match(mail.messages[0]!.body, /rule: +cycle_failed/);

  // Evaluated again, and again after a worker restart: the occurrence is open, nothing is resent.
  assert.equal((await evaluate()).fired, 0);
  await sys.restartWorker();
  assert.equal((await evaluate()).delivered, 0);
  assert.deepEqual(delivered('cycle_failed'), { hook: ['FIRING'], email: ['FIRING'] });

  await runCycle();
  const cleared = await evaluate();
  assert.equal(cleared.resolved, 1);
  assert.deepEqual(delivered('cycle_failed'), { hook: ['FIRING', 'RESOLVED'], email: ['FIRING', 'RESOLVED'] });
  const resolvedMail = mail.messages.find((m) => m.messageId.endsWith('-resolved@csp-billing>'))!;
  assert.match(
    resolvedMail.body,
    /In-Reply-To: <csp-alert-\d+-firing@csp-billing>/i,
    'the resolved email threads with the alert',
  );
  assertNoDuplicates();
});

test('no_successful_cycle: fires after 26 hours without a completed cycle, resolves with the next one', async () => {
  await sys.db.pool.query(
    `UPDATE cycle_run SET finished_at = finished_at - interval '27 hours' WHERE provider_id = $1`,
    [provider.id],
  );
  await sys.db.pool.query(`UPDATE provider SET created_at = created_at - interval '30 days' WHERE id = $1`, [
    provider.id,
  ]);
  assert.equal((await evaluate()).fired, 1);
  assert.equal((await evaluate()).fired, 0);
  assert.deepEqual(delivered('no_successful_cycle'), { hook: ['FIRING'], email: ['FIRING'] });
  await runCycle();
  assert.equal((await evaluate()).resolved, 1);
  assert.deepEqual(delivered('no_successful_cycle'), { hook: ['FIRING', 'RESOLVED'], email: ['FIRING', 'RESOLVED'] });
  assertNoDuplicates();
});

test('quarantine_growth: more quarantined lines than the threshold allows since the previous cycle; resolves when a cycle adds none', async () => {
  await upsertRuleSetting(sys.db.pool, {
    providerId: provider.id,
    rule: 'quarantine_growth',
    threshold: 5,
    by: 'test',
  });
  sys.sim.dataset.epoch = 1; // revised lines come back: quarantined as DUPLICATE_USAGE
  try {
    const s = await runCycle();
    assert.ok((s.quarantinedByReason.DUPLICATE_USAGE ?? 0) > 0);
    assert.equal((await evaluate()).fired, 1);
    assert.deepEqual(delivered('quarantine_growth'), { hook: ['FIRING'], email: ['FIRING'] });
    await runCycle(); // the same revisions again: exact repeats, the quarantine does not grow
    assert.equal((await evaluate()).resolved, 1);
  } finally {
    sys.sim.dataset.epoch = 0;
  }
  assert.deepEqual(delivered('quarantine_growth'), { hook: ['FIRING', 'RESOLVED'], email: ['FIRING', 'RESOLVED'] });
  assertNoDuplicates();
});

test('quarantine_line_age: a line waiting longer than N days; resolves when it is dealt with', async () => {
  const line = (
    await sys.db.pool.query<{ id: number }>(
      `SELECT id FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' ORDER BY id LIMIT 1`,
      [provider.id],
    )
  ).rows[0]!;
  await sys.db.pool.query(`UPDATE usage_line SET received_at = now() - interval '8 days' WHERE id = $1`, [line.id]);
  assert.equal((await evaluate()).fired, 1);
  assert.deepEqual(delivered('quarantine_line_age'), { hook: ['FIRING'], email: ['FIRING'] });
  await sys.db.pool.query(`UPDATE usage_line SET status = 'WRITTEN_OFF' WHERE id = $1`, [line.id]);
  assert.equal((await evaluate()).resolved, 1);
  assert.deepEqual(delivered('quarantine_line_age'), { hook: ['FIRING', 'RESOLVED'], email: ['FIRING', 'RESOLVED'] });
  assertNoDuplicates();
});

test('licence_change_failed: a change the carrier refused is marked FAILED and alerted; a later good change resolves it', async () => {
  const acts = createActivities(sys.deps);
  const simTenant = sys.sim.dataset.providers[0]!.tenants[0]!;
  const sub = simTenant.subscriptions[0]!;
  const service = (
    await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 AND tenant_id = $2', [
      provider.id,
      simTenant.tenantId.toLowerCase(),
    ])
  ).rows[0]!;
  const base = { providerId: provider.id, tenantId: simTenant.tenantId, serviceId: service.id, by: 'alice' };
  await assert.rejects(
    acts.applyLicenceChange({
      ...base,
      changeId: 'change-refused',
      change: { kind: 'setQuantity', subscriptionId: sub.subscriptionId, quantity: 0 },
    }),
    /Quantity must be between/,
  );
  const row = (
    await sys.db.pool.query<{ status: string }>(`SELECT status FROM licence_change WHERE change_id = 'change-refused'`)
  ).rows[0]!;
  assert.equal(row.status, 'FAILED');
  assert.match(await registry.metrics(), /csp_licence_changes_total\{kind="setQuantity",outcome="failed"\} 1\n/);
  assert.equal((await evaluate()).fired, 1);
  assert.deepEqual(delivered('licence_change_failed'), { hook: ['FIRING'], email: ['FIRING'] });
  assert.match(hooks.messages.at(-1)!.text, /setQuantity .*failed: .*Quantity must be between/);
  await acts.applyLicenceChange({
    ...base,
    changeId: 'change-good',
    change: { kind: 'setQuantity', subscriptionId: sub.subscriptionId, quantity: sub.quantity + 1 },
  });
  assert.equal((await evaluate()).resolved, 1);
  assert.deepEqual(delivered('licence_change_failed'), { hook: ['FIRING', 'RESOLVED'], email: ['FIRING', 'RESOLVED'] });
  assertNoDuplicates();
});

test('reconciliation_difference: a stored invoice reconciliation with a difference; resolved when the revised invoice agrees', async () => {
  const store = async (version: string, invoiced: string) => {
    const rec = reconcile(
      [
        { recordId: 'R-1', subTotal: '10.00' },
        { recordId: 'R-2', subTotal: invoiced },
      ],
      [
        { recordId: 'R-1', subTotal: '10.00' },
        { recordId: 'R-2', subTotal: '5.00' },
      ],
    );
    const report = {
      providerId: provider.id,
      period: '2026-10',
      invoiceId: 'INV-77',
      version,
      currency: 'AUD',
      invoiceLines: rec.invoiceLines,
      classes: rec.classes,
      differenceCents: rec.differenceCents,
      difference: centsText(rec.differenceCents),
      differences: rec.differences,
      differencesTotal: rec.differences.length,
    };
    await storeReconciliation(sys.db.pool, {
      providerId: provider.id,
      invoiceId: 'INV-77',
      period: '2026-10',
      version,
      invoiceLines: 2,
      report,
      differenceCents: rec.differenceCents,
      workflowId: null,
    });
  };
  await store('v1', '5.50');
  assert.equal((await evaluate()).fired, 1);
  assert.deepEqual(delivered('reconciliation_difference'), { hook: ['FIRING'], email: ['FIRING'] });
  assert.match(
    hooks.messages.at(-1)!.text,
    /invoice reconciliation differs: invoice INV-77 \(2026-10\): difference 0\.50 AUD; 1 MATCHED, 1 AMOUNT_DIFFERS/,
  );
  await store('v2', '5.00');
  assert.equal((await evaluate()).resolved, 1);
  assert.deepEqual(delivered('reconciliation_difference'), {
    hook: ['FIRING', 'RESOLVED'],
    email: ['FIRING', 'RESOLVED'],
  });
  assertNoDuplicates();
});

test('a disabled rule raises nothing; a receiver down for good never blocks billing and is retried by later runs', async () => {
  await upsertRuleSetting(sys.db.pool, { providerId: provider.id, rule: 'cycle_failed', enabled: false, by: 'test' });
  await sys.db.pool.query(`UPDATE provider SET status = 'NEEDS_ATTENTION', attention_reason = 'test' WHERE id = $1`, [
    provider.id,
  ]);
  assert.equal((await evaluate()).fired, 0);
  await upsertRuleSetting(sys.db.pool, { providerId: provider.id, rule: 'cycle_failed', enabled: true, by: 'test' });

  hooks.failNext = 1_000;
  const before = hooks.messages.length;
  const evaluation = evaluate();
  await waitFor(
    'the alert to fire',
    async () =>
      (
        await sys.db.pool.query(
          `SELECT 1 FROM alert WHERE provider_id = $1 AND rule = 'cycle_failed' AND status = 'FIRING'`,
          [provider.id],
        )
      ).rowCount,
  );
  // Billing goes on while the alert's webhook keeps failing: a cycle completes (and clears the flag).
  const cycle = await runCycle();
  assert.ok(cycle.fetched > 0);
  const stillRunning: string[] = [];
  for await (const w of env.client.workflow.list({
    query: `WorkflowType = 'alertingWorkflow' AND ExecutionStatus = 'Running'`,
  }))
    stillRunning.push(w.workflowId);
  assert.equal(stillRunning.length, 1, 'the alerting run was still retrying its delivery');
  const run = await evaluation;
  assert.equal(run.fired, 1);
  assert.ok(run.deliveryFailures >= 1, 'the webhook delivery failed this run');
  hooks.failNext = 0;
  const next = await evaluate(); // the failed message is sent now, and the resolution
  assert.equal(next.resolved, 1);
  assert.equal(hooks.messages.length, before + 2);
  assert.deepEqual(
    hooks.messages.slice(before).map((m) => m.status),
    ['FIRING', 'RESOLVED'],
  );
  assertNoDuplicates();
});

test('csp alerts set|list: per-provider and all-provider settings, refused with the reason when wrong', () => {
  const csp = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'client/cli.ts', 'alerts', ...args], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DATABASE_URL: sys.db.url, LOG_LEVEL: 'silent' },
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const set = csp('set', 'quarantine_line_age', '--provider', provider.id, '--threshold', '3', '--by', 'alice');
  assert.equal(set.code, 0, set.err);
  assert.match(set.out, /quarantine_line_age for p-.*: enabled, threshold 3 days/);
  assert.equal(csp('set', 'no_successful_cycle', '--all-providers', '--threshold', '30', '--by', 'alice').code, 0);
  const rows = JSON.parse(csp('list', '--json').out) as Array<{
    provider: string;
    rule: string;
    threshold: number | null;
    source: string;
    firing: number;
  }>;
  const row = (rule: string) => rows.find((r) => r.provider === provider.id && r.rule === rule)!;
  assert.deepEqual([row('quarantine_line_age').threshold, row('quarantine_line_age').source], [3, 'provider']);
  assert.deepEqual([row('no_successful_cycle').threshold, row('no_successful_cycle').source], [30, 'all providers']);
  assert.deepEqual(
    [row('reconciliation_difference').threshold, row('reconciliation_difference').source],
    [0, 'default'],
  );
  assert.equal(rows.length, 6 * 1);

  const refused = [
    csp('set', 'no_such_rule', '--provider', provider.id, '--enable', '--by', 'alice'),
    csp('set', 'cycle_failed', '--provider', provider.id, '--threshold', '2', '--by', 'alice'),
    csp('set', 'quarantine_growth', '--provider', provider.id, '--threshold', 'lots', '--by', 'alice'),
    csp('set', 'quarantine_growth', '--threshold', '10', '--by', 'alice'),
  ];
  assert.deepEqual(
    refused.map((r) => r.code),
    [2, 2, 2, 2],
  );
  assert.match(refused[0]!.err, /unknown rule "no_such_rule"/);
  assert.match(refused[1]!.err, /no threshold/);
  assert.match(refused[2]!.err, /--threshold must be a number/);
  assert.match(refused[3]!.err, /--provider .* or --all-providers/);
  assert.equal(csp('set', 'quarantine_line_age', '--provider', provider.id, '--inherit', '--by', 'alice').code, 0);
  assert.equal(
    (JSON.parse(csp('list', '--provider', provider.id, '--json').out) as typeof rows).find(
      (r) => r.rule === 'quarantine_line_age',
    )!.source,
    'default',
  );
  const recent = JSON.parse(csp('recent', '--json').out) as Array<{ rule: string; status: string; deliveries: string }>;
  assert.ok(
    recent.some((a) => a.rule === 'cycle_failed' && a.status === 'RESOLVED' && /FIRING email SENT/.test(a.deliveries)),
  );
});

test('the alerting schedule: created once, updated on every worker start, every N minutes, overlap skipped', async () => {
  const starter = { temporal: env.client, taskQueue: sys.taskQueue };
  assert.equal(await ensureAlertingSchedule(starter, 5), 'created');
  assert.equal(await ensureAlertingSchedule(starter, 10), 'updated');
  const d = await env.client.schedule.getHandle(ALERTING_SCHEDULE_ID).describe();
  assert.equal(d.spec.intervals?.[0]?.every, 10 * 60_000);
  assert.equal(d.policies.overlap, 'SKIP');
  assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'alertingWorkflow');
  await env.client.schedule.getHandle(ALERTING_SCHEDULE_ID).delete();
});

test('a removed provider: its open alerts clear with a resolved message', async () => {
  await sys.db.pool.query(
    `UPDATE provider SET status = 'NEEDS_ATTENTION', attention_reason = 'credentials revoked' WHERE id = $1`,
    [provider.id],
  );
  const fired = await evaluate();
  assert.equal(fired.fired, 1);
  const before = hooks.messages.length;
  await sys.db.pool.query(`UPDATE provider SET status = 'REMOVED', removed_at = now() WHERE id = $1`, [provider.id]);
  const cleared = await evaluate();
  assert.equal(cleared.resolved, 1);
  assert.equal(cleared.open, 0);
  assert.deepEqual(
    hooks.messages.slice(before).map((m) => `${m.rule} ${m.status}`),
    ['cycle_failed RESOLVED'],
  );
  assertNoDuplicates();
});
