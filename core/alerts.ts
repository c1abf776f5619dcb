/**
 * Alert rules, evaluated without I/O: given what the database says about each provider (its
 * readings), the rule settings and the alerts already open, which alerts start and which clear.
 * One alert is open per (provider, rule, subject) at a time; it is one occurrence, delivered once
 * when it starts and once when it clears.
 */

export const ALERT_RULES = [
  'cycle_failed',
  'no_successful_cycle',
  'quarantine_growth',
  'quarantine_line_age',
  'reconciliation_difference',
  'licence_change_failed',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export interface RuleDefinition {
  rule: AlertRule;
  description: string;
  /** What the threshold means, or null when the rule has none. */
  thresholdUnit: 'hours' | 'percent' | 'days' | 'cents' | null;
  defaultThreshold: number | null;
}

export const RULE_DEFINITIONS: Record<AlertRule, RuleDefinition> = {
  cycle_failed: {
    rule: 'cycle_failed',
    description: "the provider's latest usage cycle failed or the provider needs attention",
    thresholdUnit: null,
    defaultThreshold: null,
  },
  no_successful_cycle: {
    rule: 'no_successful_cycle',
    description: 'no usage cycle completed for longer than the threshold',
    thresholdUnit: 'hours',
    defaultThreshold: 26,
  },
  quarantine_growth: {
    rule: 'quarantine_growth',
    description: 'quarantined lines or amount grew by more than the threshold since the previous cycle',
    thresholdUnit: 'percent',
    defaultThreshold: 50,
  },
  quarantine_line_age: {
    rule: 'quarantine_line_age',
    description: 'a line has waited in quarantine longer than the threshold',
    thresholdUnit: 'days',
    defaultThreshold: 7,
  },
  reconciliation_difference: {
    rule: 'reconciliation_difference',
    description: "an invoice reconciliation's difference exceeds the threshold (default: any difference)",
    thresholdUnit: 'cents',
    defaultThreshold: 0,
  },
  licence_change_failed: {
    rule: 'licence_change_failed',
    description: 'a licence change sent to the carrier failed',
    thresholdUnit: null,
    defaultThreshold: null,
  },
};

export function isAlertRule(name: string): name is AlertRule {
  return (ALERT_RULES as readonly string[]).includes(name);
}

export interface RuleSetting {
  enabled: boolean;
  threshold: number | null;
}

/** A setting as stored: for one provider, or for every provider ('*'). */
export interface StoredRuleSetting extends Partial<RuleSetting> {
  providerId: string;
  rule: AlertRule;
}

export const ALL_PROVIDERS = '*';

/** The setting in force: the provider's own, else the all-providers one, else the default; field by field. */
export function effectiveSetting(
  rule: AlertRule,
  providerId: string,
  stored: StoredRuleSetting[],
): RuleSetting & { source: 'default' | 'all providers' | 'provider' } {
  const own = stored.find((s) => s.rule === rule && s.providerId === providerId);
  const all = stored.find((s) => s.rule === rule && s.providerId === ALL_PROVIDERS);
  const def = RULE_DEFINITIONS[rule];
  const enabled = own?.enabled ?? all?.enabled ?? true;
  const threshold = def.thresholdUnit === null ? null : (own?.threshold ?? all?.threshold ?? def.defaultThreshold);
  return { enabled, threshold, source: own ? 'provider' : all ? 'all providers' : 'default' };
}

/** A threshold an admin typed, checked against what the rule measures. */
export function validateThreshold(rule: AlertRule, value: number): string | null {
  const unit = RULE_DEFINITIONS[rule].thresholdUnit;
  if (unit === null) return `rule ${rule} has no threshold (only --enabled)`;
  if (!Number.isFinite(value) || value < 0) return `threshold for ${rule} must be a number ≥ 0 (${unit})`;
  if ((unit === 'hours' || unit === 'days') && value === 0) return `threshold for ${rule} must be more than 0 ${unit}`;
  if (unit === 'cents' && !Number.isInteger(value)) return `threshold for ${rule} is whole cents`;
  return null;
}

export interface CycleReading {
  cycleId: string;
  status: 'COMPLETED' | 'FAILED';
  finishedAt: string;
  error: string | null;
}

/** Quarantine waiting right after a cycle completed. */
export interface QuarantineSnapshot {
  cycleId: string;
  lines: number;
  /** Carrier charge of the waiting lines, exact decimal text. */
  amount: string;
}

export interface ProviderReadings {
  providerId: string;
  providerName: string;
  /** When the provider was onboarded: "no successful cycle" counts from here when it never had one. */
  createdAt: string;
  needsAttention: string | null;
  /** The latest finished cycle (completed or failed). */
  latestCycle: CycleReading | null;
  latestSuccessAt: string | null;
  /** The latest two snapshots, newest first. */
  snapshots: QuarantineSnapshot[];
  oldestQuarantinedAt: string | null;
  quarantinedOlderThanThreshold: number;
  /** Invoice reconciliations with a difference, per invoice (subject). */
  reconciliations: Array<{ subject: string; differenceCents: number; detail: string }>;
  /** Tenants whose latest licence change failed. */
  failedLicenceChanges: Array<{ tenantId: string; changeId: string; kind: string; error: string | null; at: string }>;
}

export interface AlertCondition {
  providerId: string;
  rule: AlertRule;
  /** What the occurrence is about: the provider itself, an invoice, a tenant. */
  subject: string;
  summary: string;
  details: Record<string, unknown>;
}

export interface OpenAlert {
  id: number;
  providerId: string;
  rule: AlertRule;
  subject: string;
}

const hoursBetween = (from: string, to: Date) => (to.getTime() - new Date(from).getTime()) / 3_600_000;

/** Growth in percent from `before` to `after`; growth from nothing is infinite. */
export function growthPercent(before: number, after: number): number {
  if (after <= before) return 0;
  if (before <= 0) return Number.POSITIVE_INFINITY;
  return ((after - before) / before) * 100;
}

/** Every condition true now for one provider, under its settings. */
export function conditionsFor(r: ProviderReadings, stored: StoredRuleSetting[], now: Date): AlertCondition[] {
  const out: AlertCondition[] = [];
  const setting = (rule: AlertRule) => effectiveSetting(rule, r.providerId, stored);
  const add = (rule: AlertRule, subject: string, summary: string, details: Record<string, unknown>) => {
    if (setting(rule).enabled)
      out.push({ providerId: r.providerId, rule, subject, summary: `${r.providerName}: ${summary}`, details });
  };

  if (r.needsAttention !== null) {
    add('cycle_failed', 'provider', `needs attention: ${r.needsAttention}`, {
      needsAttention: r.needsAttention,
      cycleId: r.latestCycle?.cycleId ?? null,
    });
  } else if (r.latestCycle?.status === 'FAILED') {
    add(
      'cycle_failed',
      'provider',
      `usage cycle ${r.latestCycle.cycleId} failed: ${r.latestCycle.error ?? 'no reason recorded'}`,
      { cycleId: r.latestCycle.cycleId, error: r.latestCycle.error },
    );
  }

  const hours = setting('no_successful_cycle').threshold!;
  const since = r.latestSuccessAt ?? r.createdAt;
  const waited = hoursBetween(since, now);
  if (waited > hours) {
    add(
      'no_successful_cycle',
      'provider',
      r.latestSuccessAt
        ? `no successful usage cycle for ${Math.floor(waited)} hours (since ${r.latestSuccessAt})`
        : `no successful usage cycle since onboarding ${Math.floor(waited)} hours ago`,
      {
        lastSuccessAt: r.latestSuccessAt,
        thresholdHours: hours,
      },
    );
  }

  const [latest, previous] = r.snapshots;
  if (latest && previous) {
    const limit = setting('quarantine_growth').threshold!;
    const lines = growthPercent(previous.lines, latest.lines);
    const amount = growthPercent(Number(previous.amount), Number(latest.amount));
    if (lines > limit || amount > limit) {
      const pct = (g: number) => (Number.isFinite(g) ? `${g.toFixed(1)} %` : 'from none');
      add(
        'quarantine_growth',
        'provider',
        `quarantine grew since the previous cycle: lines ${previous.lines} → ${latest.lines} (${pct(lines)}), amount ${previous.amount} → ${latest.amount} (${pct(amount)}); threshold ${limit} %`,
        {
          cycleId: latest.cycleId,
          previousCycleId: previous.cycleId,
          linesBefore: previous.lines,
          linesAfter: latest.lines,
          amountBefore: previous.amount,
          amountAfter: latest.amount,
          thresholdPercent: limit,
        },
      );
    }
  }

  if (r.quarantinedOlderThanThreshold > 0 && r.oldestQuarantinedAt) {
    const days = setting('quarantine_line_age').threshold!;
    add(
      'quarantine_line_age',
      'provider',
      `${r.quarantinedOlderThanThreshold} quarantined line(s) waiting longer than ${days} days (oldest since ${r.oldestQuarantinedAt})`,
      {
        lines: r.quarantinedOlderThanThreshold,
        oldestSince: r.oldestQuarantinedAt,
        thresholdDays: days,
      },
    );
  }

  const cents = setting('reconciliation_difference').threshold!;
  for (const rec of r.reconciliations) {
    if (Math.abs(rec.differenceCents) > cents) {
      add('reconciliation_difference', rec.subject, `invoice reconciliation differs: ${rec.detail}`, {
        differenceCents: rec.differenceCents,
        thresholdCents: cents,
      });
    }
  }

  for (const f of r.failedLicenceChanges) {
    add(
      'licence_change_failed',
      `tenant:${f.tenantId}`,
      `licence change ${f.kind} (${f.changeId}) for tenant ${f.tenantId} failed: ${f.error ?? 'no answer from the carrier'}`,
      {
        tenantId: f.tenantId,
        changeId: f.changeId,
        kind: f.kind,
        error: f.error,
        at: f.at,
      },
    );
  }
  return out;
}

export interface AlertPlan {
  fire: AlertCondition[];
  resolve: OpenAlert[];
  /** Open alerts whose condition still holds: nothing to send. */
  unchanged: number;
}

/**
 * Compares what is true now with what is open: a condition without an open alert starts one, an
 * open alert without its condition clears. Open alerts of providers not evaluated this time
 * (removed, say) are left as they are.
 */
export function planAlerts(
  conditions: AlertCondition[],
  open: OpenAlert[],
  evaluatedProviders: ReadonlySet<string>,
): AlertPlan {
  const key = (a: { providerId: string; rule: string; subject: string }) =>
    `${a.providerId}\u0000${a.rule}\u0000${a.subject}`;
  const openKeys = new Set(open.map(key));
  const nowKeys = new Set(conditions.map(key));
  const fire = conditions.filter(
    (c, i) => !openKeys.has(key(c)) && conditions.findIndex((d) => key(d) === key(c)) === i,
  );
  const resolve = open.filter((a) => evaluatedProviders.has(a.providerId) && !nowKeys.has(key(a)));
  return { fire, resolve, unchanged: open.length - resolve.length };
}

export interface AlertMessage {
  status: 'FIRING' | 'RESOLVED';
  key: string;
  rule: AlertRule;
  providerId: string;
  subject: string;
  summary: string;
  firedAt: string;
  resolvedAt: string | null;
}

/** One line of text for chat and the email subject. */
export function messageTitle(m: AlertMessage): string {
  return m.status === 'FIRING' ? `[ALERT] ${m.summary}` : `[RESOLVED] ${m.summary}`;
}

/**
 * The webhook body. Slack incoming webhooks read `text`; Microsoft Teams incoming webhooks
 * (Office 365 connector) read a MessageCard. Both carry the same `alert` object for machines.
 */
export function webhookBody(m: AlertMessage, format: 'slack' | 'teams'): Record<string, unknown> {
  const text = `${messageTitle(m)}\nrule: ${m.rule} · provider: ${m.providerId} · since ${m.firedAt}${m.resolvedAt ? ` · resolved ${m.resolvedAt}` : ''}`;
  const alert = { ...m };
  if (format === 'teams') {
    return {
      '@type': 'MessageCard',
      '@context': 'https://schema.org/extensions',
      summary: messageTitle(m),
      themeColor: m.status === 'FIRING' ? 'D13438' : '2EB886',
      title: messageTitle(m),
      text,
      alert,
    };
  }
  return { text, alert };
}
