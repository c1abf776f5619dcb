import type { Pool, PoolClient } from './pool';
import type { ProviderReadings } from '../core/alerts';
import { reconciliationSummary, type ReconciliationReport } from '../core/reconciliation-report';

type Queryable = Pool | PoolClient;

/**
 * Read-only queries across provider, cycle_run, usage_line and licence_change that alerting and
 * the metrics gauges need; plus quarantine_snapshot, written here as each cycle completes.
 */

/** Records the quarantine waiting now as the snapshot of a completed cycle (once per cycle). */
export async function takeQuarantineSnapshot(db: Queryable, providerId: string, cycleId: string): Promise<void> {
  await db.query(
    `INSERT INTO quarantine_snapshot (cycle_id, provider_id, lines, amount)
     SELECT $2, $1, count(*), coalesce(sum(sub_total), 0) FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED'
     ON CONFLICT (cycle_id) DO NOTHING`,
    [providerId, cycleId],
  );
}

/** A licence change still SENT this long after it was requested has outlived its activity's retries. */
export const LICENCE_CHANGE_GIVE_UP_MINUTES = 35;

/** What alert rules need to know about one provider, as of now. */
export async function providerReadings(
  db: Queryable,
  providerId: string,
  quarantineAgeDays: number,
): Promise<ProviderReadings | null> {
  const p = await db.query<{
    id: string;
    name: string;
    created_at: Date;
    status: string;
    attention_reason: string | null;
  }>(`SELECT id, name, created_at, status, attention_reason FROM provider WHERE id = $1 AND status <> 'REMOVED'`, [
    providerId,
  ]);
  const provider = p.rows[0];
  if (!provider) return null;
  const [latest, success, snapshots, quarantine, licences, reconciliations] = await Promise.all([
    db.query<{ id: string; status: 'COMPLETED' | 'FAILED'; finished_at: Date; error: string | null }>(
      `SELECT id, status, finished_at, error FROM cycle_run WHERE provider_id = $1 AND status IN ('COMPLETED', 'FAILED') AND finished_at IS NOT NULL
        ORDER BY finished_at DESC LIMIT 1`,
      [providerId],
    ),
    db.query<{ at: Date | null }>(
      `SELECT max(finished_at) AS at FROM cycle_run WHERE provider_id = $1 AND status = 'COMPLETED'`,
      [providerId],
    ),
    db.query<{ cycle_id: string; lines: number; amount: string }>(
      `SELECT cycle_id, lines, amount::text FROM quarantine_snapshot WHERE provider_id = $1 ORDER BY taken_at DESC, cycle_id DESC LIMIT 2`,
      [providerId],
    ),
    db.query<{ oldest: Date | null; old: number }>(
      `SELECT min(received_at) AS oldest, count(*) FILTER (WHERE received_at < now() - make_interval(secs => $2 * 86400))::int AS old
         FROM usage_line WHERE provider_id = $1 AND status = 'QUARANTINED'`,
      [providerId, quarantineAgeDays],
    ),
    db.query<{
      tenant_id: string;
      change_id: string;
      kind: string;
      status: string;
      failure: string | null;
      created_at: Date;
    }>(
      `SELECT * FROM (
         SELECT DISTINCT ON (tenant_id) tenant_id, change_id, kind, status, failure, created_at
           FROM licence_change WHERE provider_id = $1 ORDER BY tenant_id, created_at DESC, change_id) latest
        WHERE status = 'FAILED' OR (status = 'SENT' AND created_at < now() - make_interval(mins => $2))
        ORDER BY tenant_id`,
      [providerId, LICENCE_CHANGE_GIVE_UP_MINUTES],
    ),
    // The latest reconciliation of each invoice (a revised invoice is reconciled again).
    db.query<{ invoice_id: string; difference_cents: number; report: ReconciliationReport }>(
      `SELECT * FROM (
         SELECT DISTINCT ON (invoice_id) invoice_id, difference_cents, report
           FROM invoice_reconciliation WHERE provider_id = $1 ORDER BY invoice_id, id DESC) latest
        WHERE difference_cents <> 0 ORDER BY invoice_id`,
      [providerId],
    ),
  ]);
  const cycle = latest.rows[0];
  return {
    providerId: provider.id,
    providerName: provider.name,
    createdAt: provider.created_at.toISOString(),
    needsAttention: provider.status === 'NEEDS_ATTENTION' ? (provider.attention_reason ?? 'needs attention') : null,
    latestCycle: cycle
      ? { cycleId: cycle.id, status: cycle.status, finishedAt: cycle.finished_at.toISOString(), error: cycle.error }
      : null,
    latestSuccessAt: success.rows[0]?.at?.toISOString() ?? null,
    snapshots: snapshots.rows.map((s) => ({ cycleId: s.cycle_id, lines: Number(s.lines), amount: s.amount })),
    oldestQuarantinedAt: quarantine.rows[0]?.oldest?.toISOString() ?? null,
    quarantinedOlderThanThreshold: quarantine.rows[0]?.old ?? 0,
    reconciliations: reconciliations.rows.map((r) => ({
      subject: `invoice:${r.invoice_id}`,
      differenceCents: Number(r.difference_cents),
      detail: reconciliationSummary(r.report),
    })),
    failedLicenceChanges: licences.rows.map((l) => ({
      tenantId: l.tenant_id,
      changeId: l.change_id,
      kind: l.kind,
      at: l.created_at.toISOString(),
      error:
        l.status === 'FAILED' ? l.failure : `no result ${LICENCE_CHANGE_GIVE_UP_MINUTES} minutes after it was sent`,
    })),
  };
}

export interface QuarantineGaugeRow {
  provider_id: string;
  reason: string;
  age: string;
  /** The records' own currency (a CURRENCY_MISMATCH line's is not its provider's); else the provider's. */
  currency: string;
  lines: number;
  amount: string;
}

/**
 * Quarantine waiting now, by provider, reason, age band and the records' currency (bounded label
 * values: amounts in different currencies are never added together).
 */
export async function quarantineWaiting(
  db: Queryable,
): Promise<{ lines: QuarantineGaugeRow[]; groups: Array<{ provider_id: string; reason: string; groups: number }> }> {
  const [lines, groups] = await Promise.all([
    db.query<QuarantineGaugeRow>(
      `SELECT l.provider_id, l.reason,
              CASE WHEN l.received_at > now() - interval '1 day' THEN 'under_1d'
                   WHEN l.received_at > now() - interval '7 days' THEN '1d_to_7d'
                   WHEN l.received_at > now() - interval '30 days' THEN '7d_to_30d'
                   ELSE 'over_30d' END AS age,
              coalesce(CASE WHEN upper(l.raw::json ->> 'Currency') ~ '^[A-Z]{3}$' THEN upper(l.raw::json ->> 'Currency') END, p.currency, 'unknown') AS currency,
              count(*)::int AS lines, coalesce(sum(l.sub_total), 0)::text AS amount
         FROM usage_line l LEFT JOIN provider p ON p.id = l.provider_id
        WHERE l.status = 'QUARANTINED' GROUP BY 1, 2, 3, 4`,
    ),
    db.query<{ provider_id: string; reason: string; groups: number }>(
      `SELECT provider_id, reason, count(DISTINCT group_key)::int AS groups FROM usage_line WHERE status = 'QUARANTINED' GROUP BY 1, 2`,
    ),
  ]);
  return { lines: lines.rows, groups: groups.rows };
}

/** The difference of each provider's most recent invoice reconciliation, in cents. */
export async function latestReconciliationDifferences(
  db: Queryable,
): Promise<Array<{ provider_id: string; difference_cents: number }>> {
  const r = await db.query<{ provider_id: string; difference_cents: number }>(
    `SELECT DISTINCT ON (provider_id) provider_id, difference_cents::float8 AS difference_cents FROM invoice_reconciliation ORDER BY provider_id, id DESC`,
  );
  return r.rows;
}

/** Every provider not removed, for the evaluation loop. */
export async function activeProviderIds(db: Queryable): Promise<string[]> {
  const r = await db.query<{ id: string }>(`SELECT id FROM provider WHERE status <> 'REMOVED' ORDER BY id`);
  return r.rows.map((x) => x.id);
}

/** The stored summary of a cycle and when it started and finished (for the duration histogram). */
export async function cycleTiming(
  db: Queryable,
  cycleId: string,
): Promise<{ seconds: number; currency: string } | null> {
  const r = await db.query<{ seconds: number; currency: string }>(
    `SELECT extract(epoch FROM (coalesce(c.finished_at, now()) - c.started_at))::float8 AS seconds, p.currency
       FROM cycle_run c JOIN provider p ON p.id = c.provider_id WHERE c.id = $1`,
    [cycleId],
  );
  return r.rows[0] ?? null;
}
