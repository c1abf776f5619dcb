import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Worker } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './support/temporal';
import { waitFor } from './support/wait';
import { startTestSystem, type TestSystem } from './support/system';
import { runUsageCycleNow } from '../workflows/usage-cycle.api';
import {
  describeGroup,
  groupMessages,
  groupResult,
  groupState,
  groupWorkflowId,
  resolveGroup,
  signalAction,
} from '../workflows/quarantine-group.api';
import { currentDetails } from '../workflows/web-ui.api';
import { osUserName } from '../client/actor';
import { PROJECT_ROOT } from '../config';
import { workflowBundle } from '../workers/worker';
import { cycleProgress } from '../workflows/usage-cycle.api';
import type { CycleSummary } from '../workflows/usage-cycle.api';

// The admin's side of the quarantine: what the CLI and signals leave in the audit trail.
let env: TestWorkflowEnvironment;
let sys: TestSystem;
let providerId: string;

before(async () => {
  env = await localTemporal();
  sys = await startTestSystem(env, { usageRecords: 400, pageSize: 100 });
  providerId = (await sys.onboardSimProvider(0)).id;
  firstCycle = await runUsageCycleNow({ temporal: env.client, taskQueue: sys.taskQueue }, { providerId }, 'qa-cycle-1');
});
let firstCycle: CycleSummary;
after(async () => {
  await sys?.stop();
  await env?.teardown();
});

/**
 * The admin CLI as a user runs it, against this test's database and Temporal. Asynchronous: the
 * worker runs in this process, and a blocking spawn would stall it while the CLI waits on it.
 */
function csp(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return cspWith({}, ...args);
}

/** The CLI with some settings of its environment changed (another task queue, a shorter wait). */
function cspWith(
  settings: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'client/cli.ts', ...args],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          DATABASE_URL: sys.db.url,
          TEMPORAL_ADDRESS: env.address,
          TASK_QUEUE: sys.taskQueue,
          LOG_LEVEL: 'warn',
          ...settings,
        },
        encoding: 'utf8',
        timeout: 120_000,
      },
      (err, out, errText) => {
        if (err && typeof err.code !== 'number') return reject(new Error(err.message, { cause: err }));
        resolve({ code: err ? (err.code as number) : 0, out, err: errText });
      },
    );
  });
}

async function groups(reason: string) {
  const r = await sys.db.pool.query<{ group_key: string; n: number }>(
    `SELECT group_key, count(*)::int AS n FROM usage_line WHERE provider_id = $1 AND reason = $2 AND status = 'QUARANTINED' GROUP BY 1 ORDER BY 1`,
    [providerId, reason],
  );
  return r.rows;
}

async function audit(groupKey: string) {
  return (
    await sys.db.pool.query<{
      request_id: string;
      action: string;
      actor: string;
      os_user: string | null;
      outcome: string;
      rejection: string | null;
      written_off: number;
    }>(
      'SELECT request_id, action, actor, os_user, outcome, rejection, written_off FROM quarantine_action WHERE group_key = $1 ORDER BY id',
      [groupKey],
    )
  ).rows;
}

test('refusals through the CLI are in the audit trail, with the OS user beside the name given', async () => {
  const [group] = await groups('NON_EXISTENT_SERVICE');
  assert.ok(group);
  const unknown = await csp('quarantine', 'allocate', group.group_key, '--service', 'S-999999', '--by', 'alice');
  assert.equal(unknown.code, 2, unknown.err);
  assert.match(unknown.err, /refused: service S-999999 does not exist/);
  const other = await sys.onboardSimProvider(1, { withRateCard: false });
  const foreign = (
    await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 LIMIT 1', [other.id])
  ).rows[0]!.id;
  const elsewhere = await csp('quarantine', 'allocate', group.group_key, '--service', foreign, '--by', 'alice');
  assert.equal(elsewhere.code, 2);
  assert.match(elsewhere.err, /belongs to another provider/);
  const noReason = await csp('quarantine', 'write-off', group.group_key, '--reason', ' ', '--by', 'mallory');
  assert.equal(noReason.code, 2);
  assert.match(noReason.err, /needs a reason/);
  const trail = await audit(group.group_key);
  assert.deepEqual(
    trail.map((a) => [a.action, a.actor, a.outcome, a.os_user]),
    [
      ['allocate', 'alice', 'REJECTED', osUserName()],
      ['allocate', 'alice', 'REJECTED', osUserName()],
      ['writeOff', 'mallory', 'REJECTED', osUserName()],
    ],
  );
  // A typo in the group key is not an action on a group: exit 2, nothing recorded anywhere.
  const typo = await csp('quarantine', 'cleanse', `${providerId}|NO_RATE_CARD|nope`, '--by', 'alice');
  assert.equal(typo.code, 2);
  assert.match(typo.err, /no quarantine group/);
});

test("a request id is scoped to its group: group A's id sent to group B is B's own action, audited and shown in B's state", async () => {
  const [a, b] = await groups('NO_RATE_CARD').then((g) => (g.length >= 2 ? g : groups('NON_EXISTENT_SERVICE')));
  assert.ok(a && b, 'two groups');
  const requestId = 'shared-request-1';
  const first = await resolveGroup(sys.deps, a.group_key, { action: 'cleanse', by: 'alice', requestId });
  assert.equal(first.outcome, 'APPLIED');
  await signalAction(env.client, b.group_key, {
    action: 'writeOff',
    by: 'bob',
    reason: 'duplicate of a credit note',
    requestId,
  });
  const trailB = await waitFor('B audit row', async () => {
    const t = await audit(b.group_key);
    return t.length > 0 ? t : undefined;
  });
  assert.deepEqual(
    trailB.map((x) => [x.request_id, x.action, x.actor, x.outcome, x.written_off]),
    [[requestId, 'writeOff', 'bob', 'APPLIED', b.n]],
  );
  const state = await groupResult(env.client, b.group_key);
  assert.deepEqual(
    state.actions.map((x) => [x.action, x.by]),
    [['writeOff', 'bob']],
  );
  assert.deepEqual(
    (await audit(a.group_key)).map((x) => [x.action, x.actor]),
    [['cleanse', 'alice']],
    "A's trail unchanged",
  );
  // Sent to the same group again, the id still makes it act once.
  await assert.doesNotReject(groupState(env.client, a.group_key));
});

test('an unknown carrier label is a mistake to fix: exit 2, naming the known labels', async () => {
  const r = await csp('quarantine', 'list', '--carrier', 'Rhipe');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown carrier label "Rhipe".*known: "Rhipe - Microsoft"/);
  const ok = await csp('quarantine', 'list', '--carrier', 'Rhipe - Microsoft', '--json');
  assert.equal(ok.code, 0, ok.err);
  assert.ok((JSON.parse(ok.out) as { groups: unknown[] }).groups.length > 0);
});

test('listings read for people: amounts with 2 decimals and the currency, names beside ids, times in the provider zone', async () => {
  const provider = (
    await sys.db.pool.query<{ name: string; currency: string; time_zone: string }>(
      'SELECT name, currency, time_zone FROM provider WHERE id = $1',
      [providerId],
    )
  ).rows[0]!;
  const list = await csp('quarantine', 'list', '--provider', providerId);
  assert.equal(list.code, 0, list.err);
  assert.match(list.out, new RegExp(`${provider.name}.*\\d\\.\\d\\d ${provider.currency}`));
  assert.doesNotMatch(list.out, /\d\.\d{3,}/, 'no long decimals for people');
  const json = (
    JSON.parse((await csp('quarantine', 'list', '--provider', providerId, '--json')).out) as {
      groups: Array<{ group: string; carrierCharge: string; currency: string; providerName: string }>;
    }
  ).groups;
  // Every group but a CURRENCY_MISMATCH one is in the provider's currency (that one: the next test).
  const inProviderCurrency = json.find((g) => !g.group.includes('|CURRENCY_MISMATCH|'))!;
  assert.equal(inProviderCurrency.currency, provider.currency);
  assert.equal(inProviderCurrency.providerName, provider.name);
  const exact = json.find((g) => /\.\d{3,}/.test(g.carrierCharge));
  assert.ok(exact, 'exact amounts stay in --json');

  const show = await csp('quarantine', 'show', inProviderCurrency.group);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, new RegExp(`provider: ${provider.name} \\(${providerId}\\)`));
  assert.match(show.out, new RegExp(`carrierCharge: [\\d,]+\\.\\d\\d ${provider.currency}`));
  assert.doesNotMatch(show.out, /\d\.\d{5,}/);

  const cycles = await csp('cycle', 'list', '--provider', providerId);
  assert.equal(cycles.code, 0, cycles.err);
  assert.match(cycles.out, new RegExp(`${provider.name}.*\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d A[EC][DS]T`));
  assert.match(cycles.out, new RegExp(`[\\d,]+\\.\\d\\d ${provider.currency}`));

  const schedule = await csp('schedule', 'describe', providerId);
  assert.equal(schedule.code, 0, schedule.err);
  assert.match(schedule.out, new RegExp(`runsAt: 06:00, 18:00 \\(${provider.time_zone}\\)`));
  assert.doesNotMatch(schedule.out, /"hour"|start:/, 'no raw calendar JSON');

  const tenants = await csp('tenant', 'list', '--provider', providerId);
  assert.match(tenants.out, new RegExp(provider.name));
});

test("a CURRENCY_MISMATCH group's amounts carry its records' currency, not the provider's: list, --json and show", async () => {
  const provider = (
    await sys.db.pool.query<{ currency: string }>('SELECT currency FROM provider WHERE id = $1', [providerId])
  ).rows[0]!;
  const [group] = await groups('CURRENCY_MISMATCH');
  assert.ok(group, 'a CURRENCY_MISMATCH group');
  const recordCurrency = (
    await sys.db.pool.query<{ c: string }>(
      `SELECT DISTINCT upper(raw::jsonb ->> 'Currency') AS c FROM usage_line WHERE group_key = $1`,
      [group.group_key],
    )
  ).rows.map((r) => r.c);
  assert.equal(recordCurrency.length, 1);
  assert.notEqual(recordCurrency[0], provider.currency);
  const json = (
    JSON.parse(
      (await csp('quarantine', 'list', '--provider', providerId, '--reason', 'CURRENCY_MISMATCH', '--json')).out,
    ) as { groups: Array<{ group: string; currency: string }> }
  ).groups;
  assert.deepEqual(
    json.map((g) => [g.group, g.currency]).find(([g]) => g === group.group_key),
    [group.group_key, recordCurrency[0]],
  );
  const list = await csp('quarantine', 'list', '--provider', providerId, '--reason', 'CURRENCY_MISMATCH');
  assert.match(list.out, new RegExp(`\\d\\.\\d\\d ${recordCurrency[0]}`));
  assert.doesNotMatch(list.out, new RegExp(`\\d\\.\\d\\d ${provider.currency}`));
  const show = await csp('quarantine', 'show', group.group_key);
  assert.match(show.out, new RegExp(`carrierCharge: [\\d,]+\\.\\d\\d ${recordCurrency[0]}`));
  assert.doesNotMatch(
    show.out,
    new RegExp(`\\d\\.\\d\\d ${provider.currency}`),
    'no line labelled with the provider currency',
  );
});

test('an action on a group whose lines were all billed is refused as resolved, not as a group that does not exist', async () => {
  const [group] = await groups('NON_EXISTENT_SERVICE');
  assert.ok(group);
  const service = (
    await sys.db.pool.query<{ id: string }>('SELECT id FROM service WHERE provider_id = $1 ORDER BY id LIMIT 1', [
      providerId,
    ])
  ).rows[0]!.id;
  const first = await csp('quarantine', 'allocate', group.group_key, '--service', service, '--by', 'alice');
  assert.equal(first.code, 0, first.err);
  const again = await csp('quarantine', 'allocate', group.group_key, '--service', service, '--by', 'alice');
  assert.equal(again.code, 2);
  assert.doesNotMatch(again.err, /no quarantine group/);
  assert.match(again.err, /refused: /);
});

test('every command says what it does; --version works', async () => {
  const version = await csp('--version');
  assert.equal(version.code, 0);
  assert.match(version.out.trim(), /^\d+\.\d+\.\d+$/);
  for (const group of ['provider', 'tenant', 'rates', 'schedule', 'cycle', 'quarantine']) {
    const help = await csp(group, '--help');
    const commands = help.out.split('Commands:')[1] ?? '';
    for (const line of commands.split('\n').filter((l) => /^ {2}\S/.test(l) && !l.trim().startsWith('help'))) {
      assert.match(
        line,
        /^ {2}\S+(?: \[options\])?(?: <[^>]+>| \[[^\]]+\])* {2,}\S/,
        `${group}: "${line.trim()}" has a description`,
      );
    }
  }
});

test("a cycle's progress counts the lines mediated page by page during the fetch, with the total and a percentage once known", async () => {
  const progress = await cycleProgress(env.client, 'qa-cycle-1');
  assert.ok(firstCycle.billed > 0 && firstCycle.quarantined > 0);
  assert.equal(progress.phase, 'completed');
  assert.equal(progress.billed, firstCycle.billed);
  assert.equal(progress.quarantined, firstCycle.quarantined);
  assert.equal(progress.linesMediated, firstCycle.billed + firstCycle.quarantined);
  assert.equal(progress.expectedLines, progress.linesMediated);
  assert.equal(progress.percent, 100);
  assert.ok(progress.pagesFetched >= 4, `${progress.pagesFetched} pages of 100`);
});

test('the Web UI page of a group and a cycle: static summary and details, current details with customer, amount, suggestion and the signals it takes', async () => {
  const [group] = await groups('NON_EXISTENT_SERVICE');
  assert.ok(group);
  const handle = env.client.workflow.getHandle(groupWorkflowId(group.group_key));
  const described = await handle.describe();
  assert.match((await described.staticSummary()) ?? '', /^Quarantine group: NON_EXISTENT_SERVICE, tenant /);
  assert.match((await described.staticDetails()) ?? '', /`allocate` \{"serviceId":"S-1001","by":"alice"/);
  const current = await waitFor(
    'current details',
    async () => (await currentDetails(env.client, handle.workflowId)) || undefined,
  );
  const currency = (
    await sys.db.pool.query<{ currency: string }>('SELECT currency FROM provider WHERE id = $1', [providerId])
  ).rows[0]!.currency;
  assert.match(
    current,
    new RegExp(`\\*\\*NON_EXISTENT_SERVICE\\*\\*: ${group.n} line\\(s\\), carrier charge [\\d,]+\\.\\d\\d ${currency}`),
  );
  assert.match(current, /customer \S+/);
  assert.match(current, /Suggested service: S-\d+|No similar service/);
  assert.match(current, /`writeOff` \{"by":"alice","reason":/);
  // A misspelled signal is accepted by Temporal silently; the group lists the names it takes.
  const signals = await groupMessages(env.client, group.group_key);
  assert.deepEqual(
    signals.signals.map((x) => x.name),
    ['allocate', 'cleanse', 'writeOff', 'acceptRevision'],
  );

  const cycle = await currentDetails(env.client, 'qa-cycle-1');
  assert.match(cycle ?? '', /^Phase: completed\. .*mediated \d+ \(100%\): billed \d+/);
});

test('an admin action past its wait: accepted and still running is said and exits 0; not accepted is a service unavailable, exit 3', async () => {
  const left = await sys.db.pool.query<{ group_key: string; n: number }>(
    `SELECT group_key, count(*)::int AS n FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED' GROUP BY 1 ORDER BY 1`,
    [providerId],
  );
  const [held, unanswered] = left.rows;
  assert.ok(held && unanswered, `two groups with lines left: ${JSON.stringify(left.rows)}`);
  // Each group's workflow is gone, so the CLI's update-with-start starts it on the task queue it is given.
  for (const g of [held, unanswered])
    await env.client.workflow.getHandle(groupWorkflowId(g.group_key)).terminate('test: started again elsewhere');

  // A worker whose action activity the test holds: the action is accepted, and its result waits.
  const heldQueue = `held-${randomUUID()}`;
  const release: Array<() => void> = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: heldQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      loadGroupSummary: async ({ groupKey }: { groupKey: string }) => ({
        groupKey,
        providerId,
        reason: 'NON_EXISTENT_SERVICE',
        tenantRef: groupKey.split('|')[2]!,
        lines: held.n,
        carrierCharge: '1',
        periodFrom: null,
        periodTo: null,
      }),
      // Until released, or cancelled by the worker's shutdown.
      applyQuarantineAction: () =>
        Promise.race([
          new Promise<never>((_, reject) => release.push(() => reject(new Error('released')))),
          Context.current().cancelled,
        ]),
    },
  });
  const running = worker.run();
  try {
    const accepted = await cspWith(
      { TASK_QUEUE: heldQueue, ADMIN_WAIT_SECONDS: '3' },
      'quarantine',
      'cleanse',
      held.group_key,
      '--by',
      'alice',
    );
    assert.equal(accepted.code, 0, accepted.err);
    assert.match(accepted.out, /accepted: still running after 3 s/);
  } finally {
    for (const r of release.splice(0)) r();
    await env.client.workflow.getHandle(groupWorkflowId(held.group_key)).terminate('test done');
    for (const r of release.splice(0)) r();
    worker.shutdown();
    await running;
  }

  // No worker polls this queue: the action is never accepted, and the CLI says so in time.
  const started = Date.now();
  const refused = await cspWith(
    { TASK_QUEUE: `nobody-${randomUUID()}`, ADMIN_WAIT_SECONDS: '3' },
    'quarantine',
    'cleanse',
    unanswered.group_key,
    '--by',
    'alice',
  );
  assert.equal(refused.code, 3, refused.err);
  assert.match(refused.err, /service unavailable: .* did not accept the action within 3 s/);
  assert.ok(Date.now() - started < 60_000, 'no hang');
  assert.equal((await describeGroup(env.client, unanswered.group_key)).status.name, 'RUNNING');
  await env.client.workflow.getHandle(groupWorkflowId(unanswered.group_key)).terminate('test done');
});
