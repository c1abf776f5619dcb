import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  conditionsFor,
  effectiveSetting,
  growthPercent,
  planAlerts,
  validateThreshold,
  webhookBody,
  type ProviderReadings,
  type StoredRuleSetting,
} from './alerts';

const now = new Date('2026-11-26T12:00:00Z');
const calm: ProviderReadings = {
  providerId: 'p-1',
  providerName: 'Harbour IT',
  createdAt: '2026-01-01T00:00:00Z',
  needsAttention: null,
  latestCycle: { cycleId: 'c-2', status: 'COMPLETED', finishedAt: '2026-11-26T07:00:00Z', error: null },
  latestSuccessAt: '2026-11-26T07:00:00Z',
  snapshots: [
    { cycleId: 'c-2', lines: 10, amount: '100.0000' },
    { cycleId: 'c-1', lines: 10, amount: '100.0000' },
  ],
  oldestQuarantinedAt: '2026-11-25T00:00:00Z',
  quarantinedOlderThanThreshold: 0,
  reconciliations: [],
  failedLicenceChanges: [],
};
const rules = (r: ProviderReadings, s: StoredRuleSetting[] = []) => conditionsFor(r, s, now).map((c) => c.rule);

test('a healthy provider raises nothing', () => {
  assert.deepEqual(rules(calm), []);
});

test('cycle_failed: a failed latest cycle, or needs attention (which names the reason)', () => {
  assert.deepEqual(
    rules({
      ...calm,
      latestCycle: { cycleId: 'c-3', status: 'FAILED', finishedAt: '2026-11-26T08:00:00Z', error: 'HTTP 500' },
    }),
    ['cycle_failed'],
  );
  const c = conditionsFor({ ...calm, needsAttention: 'invalid_client' }, [], now);
  assert.equal(c.length, 1);
  assert.match(c[0]!.summary, /Harbour IT: needs attention: invalid_client/);
});

test('no_successful_cycle: counts from the last success, or from onboarding; threshold in hours', () => {
  assert.deepEqual(rules({ ...calm, latestSuccessAt: '2026-11-25T09:59:00Z' }), ['no_successful_cycle']);
  assert.deepEqual(rules({ ...calm, latestSuccessAt: '2026-11-25T10:01:00Z' }), []);
  assert.deepEqual(rules({ ...calm, latestSuccessAt: null, latestCycle: null, createdAt: '2026-11-26T00:00:00Z' }), []);
  assert.deepEqual(rules({ ...calm, latestSuccessAt: null, latestCycle: null, createdAt: '2026-11-20T00:00:00Z' }), [
    'no_successful_cycle',
  ]);
  assert.deepEqual(
    rules({ ...calm, latestSuccessAt: '2026-11-25T09:59:00Z' }, [
      { providerId: 'p-1', rule: 'no_successful_cycle', threshold: 48 },
    ]),
    [],
  );
});

test('quarantine_growth: lines or amount beyond the threshold percent, growth from none counts', () => {
  const grow = (lines: number, amount: string, before = { lines: 10, amount: '100.0000' }) =>
    rules({
      ...calm,
      snapshots: [
        { cycleId: 'c-2', lines, amount },
        { cycleId: 'c-1', ...before },
      ],
    });
  assert.deepEqual(grow(15, '100.0000'), []); // exactly 50 %: not more than the threshold
  assert.deepEqual(grow(16, '100.0000'), ['quarantine_growth']);
  assert.deepEqual(grow(10, '150.0100'), ['quarantine_growth']);
  assert.deepEqual(grow(1, '5.0000', { lines: 0, amount: '0' }), ['quarantine_growth']);
  assert.deepEqual(
    rules({ ...calm, snapshots: [{ cycleId: 'c-2', lines: 99, amount: '1' }] }),
    [],
    'one snapshot: nothing to compare',
  );
  assert.equal(growthPercent(10, 5), 0);
  assert.deepEqual(grow(16, '100.0000').length, 1);
  assert.deepEqual(
    rules(
      {
        ...calm,
        snapshots: [
          { cycleId: 'c-2', lines: 16, amount: '1' },
          { cycleId: 'c-1', lines: 10, amount: '1' },
        ],
      },
      [{ providerId: '*', rule: 'quarantine_growth', threshold: 100 }],
    ),
    [],
  );
});

test('quarantine_line_age and licence_change_failed: one occurrence per subject', () => {
  const c = conditionsFor(
    {
      ...calm,
      quarantinedOlderThanThreshold: 3,
      failedLicenceChanges: [
        { tenantId: 't-a', changeId: 'x', kind: 'order', error: 'HTTP 400', at: '2026-11-26T00:00:00Z' },
        { tenantId: 't-b', changeId: 'y', kind: 'setQuantity', error: null, at: '2026-11-26T00:00:00Z' },
      ],
    },
    [],
    now,
  );
  assert.deepEqual(
    c.map((x) => `${x.rule}/${x.subject}`),
    ['quarantine_line_age/provider', 'licence_change_failed/tenant:t-a', 'licence_change_failed/tenant:t-b'],
  );
});

test('reconciliation_difference: any difference by default, more than the threshold when set', () => {
  const r = { ...calm, reconciliations: [{ subject: 'invoice:2026-10', differenceCents: -1, detail: '1 line' }] };
  assert.deepEqual(rules(r), ['reconciliation_difference']);
  assert.deepEqual(rules(r, [{ providerId: 'p-1', rule: 'reconciliation_difference', threshold: 1 }]), []);
  assert.deepEqual(
    rules({ ...calm, reconciliations: [{ subject: 'invoice:2026-10', differenceCents: 0, detail: '' }] }),
    [],
  );
});

test('settings: provider over all-providers over default; a disabled rule raises nothing', () => {
  const stored: StoredRuleSetting[] = [
    { providerId: '*', rule: 'quarantine_line_age', threshold: 14 },
    { providerId: 'p-1', rule: 'quarantine_line_age', enabled: false },
  ];
  assert.deepEqual(effectiveSetting('quarantine_line_age', 'p-1', stored), {
    enabled: false,
    threshold: 14,
    source: 'provider',
  });
  assert.deepEqual(effectiveSetting('quarantine_line_age', 'p-2', stored), {
    enabled: true,
    threshold: 14,
    source: 'all providers',
  });
  assert.deepEqual(effectiveSetting('cycle_failed', 'p-2', stored), {
    enabled: true,
    threshold: null,
    source: 'default',
  });
  assert.deepEqual(rules({ ...calm, quarantinedOlderThanThreshold: 1 }, stored), []);
  assert.match(validateThreshold('cycle_failed', 3)!, /no threshold/);
  assert.match(validateThreshold('no_successful_cycle', 0)!, /more than 0/);
  assert.match(validateThreshold('reconciliation_difference', 0.5)!, /whole cents/);
  assert.equal(validateThreshold('quarantine_growth', 25), null);
});

test('plan: a new condition fires once, an open one stays, a cleared one resolves; unevaluated providers untouched', () => {
  const cond = (providerId: string, rule: 'cycle_failed' | 'quarantine_line_age', subject = 'provider') => ({
    providerId,
    rule,
    subject,
    summary: '',
    details: {},
  });
  const open = [
    { id: 1, providerId: 'p-1', rule: 'cycle_failed' as const, subject: 'provider' },
    { id: 2, providerId: 'p-1', rule: 'quarantine_line_age' as const, subject: 'provider' },
    { id: 3, providerId: 'p-9', rule: 'cycle_failed' as const, subject: 'provider' },
  ];
  const plan = planAlerts(
    [cond('p-1', 'cycle_failed'), cond('p-2', 'cycle_failed'), cond('p-2', 'cycle_failed')],
    open,
    new Set(['p-1', 'p-2']),
  );
  assert.deepEqual(
    plan.fire.map((c) => c.providerId),
    ['p-2'],
  );
  assert.deepEqual(
    plan.resolve.map((a) => a.id),
    [2],
  );
  assert.equal(plan.unchanged, 2);
});

test('webhook bodies: Slack reads text, Teams a MessageCard; both carry the alert', () => {
  const m = {
    status: 'FIRING' as const,
    key: 'k',
    rule: 'cycle_failed' as const,
    providerId: 'p-1',
    subject: 'provider',
    summary: 'Harbour IT: failed',
    firedAt: 'x',
    resolvedAt: null,
  };
  const slack = webhookBody(m, 'slack');
  assert.match(String(slack.text), /^\[ALERT\] Harbour IT: failed/);
  assert.equal((slack.alert as { key: string }).key, 'k');
  const teams = webhookBody({ ...m, status: 'RESOLVED', resolvedAt: 'y' }, 'teams');
  assert.equal(teams['@type'], 'MessageCard');
  assert.match(String(teams.title), /^\[RESOLVED\]/);
});
