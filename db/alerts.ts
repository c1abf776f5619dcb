import type { Pool, PoolClient } from './pool';
import { inTransaction } from './pool';
import type { AlertCondition, AlertMessage, AlertRule, OpenAlert, StoredRuleSetting } from '../core/alerts';

type Queryable = Pool | PoolClient;

/** Tables alert_rule_setting, alert and alert_delivery. */

export async function listRuleSettings(
  db: Queryable,
): Promise<Array<StoredRuleSetting & { updatedBy: string; updatedAt: Date }>> {
  const r = await db.query<{
    provider_id: string;
    rule: AlertRule;
    enabled: boolean | null;
    threshold: string | null;
    updated_by: string;
    updated_at: Date;
  }>(
    'SELECT provider_id, rule, enabled, threshold::text, updated_by, updated_at FROM alert_rule_setting ORDER BY provider_id, rule',
  );
  return r.rows.map((x) => ({
    providerId: x.provider_id,
    rule: x.rule,
    updatedBy: x.updated_by,
    updatedAt: x.updated_at,
    ...(x.enabled === null ? {} : { enabled: x.enabled }),
    ...(x.threshold === null ? {} : { threshold: Number(x.threshold) }),
  }));
}

/** Sets what was given, keeps the rest; null clears a field back to the inherited value. */
export async function upsertRuleSetting(
  db: Queryable,
  s: { providerId: string; rule: AlertRule; enabled?: boolean | null; threshold?: number | null; by: string },
): Promise<void> {
  await db.query(
    `INSERT INTO alert_rule_setting (provider_id, rule, enabled, threshold, updated_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (provider_id, rule) DO UPDATE SET
       enabled = CASE WHEN $6 THEN EXCLUDED.enabled ELSE alert_rule_setting.enabled END,
       threshold = CASE WHEN $7 THEN EXCLUDED.threshold ELSE alert_rule_setting.threshold END,
       updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [
      s.providerId,
      s.rule,
      s.enabled ?? null,
      s.threshold ?? null,
      s.by,
      s.enabled !== undefined,
      s.threshold !== undefined,
    ],
  );
  // A setting with nothing left in it is no setting: the inherited one applies again.
  await db.query(
    'DELETE FROM alert_rule_setting WHERE provider_id = $1 AND rule = $2 AND enabled IS NULL AND threshold IS NULL',
    [s.providerId, s.rule],
  );
}

export async function openAlerts(db: Queryable): Promise<OpenAlert[]> {
  const r = await db.query<{ id: number; provider_id: string; rule: AlertRule; subject: string }>(
    `SELECT id, provider_id, rule, subject FROM alert WHERE status = 'FIRING' ORDER BY id`,
  );
  return r.rows.map((x) => ({ id: x.id, providerId: x.provider_id, rule: x.rule, subject: x.subject }));
}

/**
 * Starts an occurrence with one pending delivery per channel, in one transaction. An occurrence
 * already open (a retried or concurrent evaluation) starts nothing: returns null.
 */
export async function fireAlert(pool: Pool, c: AlertCondition, channels: string[]): Promise<number | null> {
  return inTransaction(pool, async (db) => {
    const r = await db.query<{ id: number }>(
      `INSERT INTO alert (provider_id, rule, subject, status, summary, details) VALUES ($1, $2, $3, 'FIRING', $4, $5)
       ON CONFLICT (provider_id, rule, subject) WHERE status = 'FIRING' DO NOTHING RETURNING id`,
      [c.providerId, c.rule, c.subject, c.summary, c.details],
    );
    const id = r.rows[0]?.id;
    if (id === undefined) return null;
    await addDeliveries(db, id, 'FIRING', channels);
    return id;
  });
}

/** Clears an open occurrence and queues its resolved message; a second call does nothing. */
export async function resolveAlert(pool: Pool, alertId: number, channels: string[]): Promise<boolean> {
  return inTransaction(pool, async (db) => {
    const r = await db.query(
      `UPDATE alert SET status = 'RESOLVED', resolved_at = now() WHERE id = $1 AND status = 'FIRING'`,
      [alertId],
    );
    if (r.rowCount === 0) return false;
    await addDeliveries(db, alertId, 'RESOLVED', channels);
    return true;
  });
}

async function addDeliveries(
  db: PoolClient,
  alertId: number,
  kind: 'FIRING' | 'RESOLVED',
  channels: string[],
): Promise<void> {
  if (channels.length === 0) return;
  await db.query(
    `INSERT INTO alert_delivery (alert_id, kind, channel) SELECT $1, $2, unnest($3::text[]) ON CONFLICT (alert_id, kind, channel) DO NOTHING`,
    [alertId, kind, channels],
  );
}

/** Deliveries still to send; those pending longer than `giveUpHours` are abandoned first. */
export async function pendingDeliveries(db: Queryable, giveUpHours: number): Promise<number[]> {
  await db.query(
    `UPDATE alert_delivery SET status = 'ABANDONED' WHERE status = 'PENDING' AND created_at < now() - make_interval(hours => $1)`,
    [giveUpHours],
  );
  const r = await db.query<{ id: number }>(
    `SELECT id FROM alert_delivery WHERE status = 'PENDING' ORDER BY id LIMIT 500`,
  );
  return r.rows.map((x) => x.id);
}

/** A message to send: the alert as messages show it, which of its messages, and on which channel. */
export interface DeliveryToSend extends Omit<AlertMessage, 'status' | 'key'> {
  id: number;
  alertId: number;
  kind: AlertMessage['status'];
  channel: string;
}

/**
 * Claims a pending delivery for `leaseSeconds`: null when it is sent already, abandoned, being
 * sent by someone else right now (whose lease has not run out), or a resolved message whose alert
 * is not yet delivered on that channel.
 */
export async function claimDelivery(db: Queryable, id: number, leaseSeconds: number): Promise<DeliveryToSend | null> {
  const r = await db.query<{
    id: number;
    alert_id: number;
    kind: 'FIRING' | 'RESOLVED';
    channel: string;
    rule: AlertRule;
    provider_id: string;
    subject: string;
    summary: string;
    fired_at: Date;
    resolved_at: Date | null;
  }>(
    `WITH claimed AS (
       UPDATE alert_delivery d SET claimed_until = now() + make_interval(secs => $2), attempts = attempts + 1
        WHERE d.id = $1 AND d.status = 'PENDING' AND (d.claimed_until IS NULL OR d.claimed_until < now())
          -- A resolved message never overtakes its alert on the same channel.
          AND (d.kind = 'FIRING' OR NOT EXISTS (
                SELECT 1 FROM alert_delivery f WHERE f.alert_id = d.alert_id AND f.channel = d.channel AND f.kind = 'FIRING' AND f.status = 'PENDING'))
        RETURNING d.id, d.alert_id, d.kind, d.channel)
     SELECT c.id, c.alert_id, c.kind, c.channel, a.rule, a.provider_id, a.subject, a.summary, a.fired_at, a.resolved_at
       FROM claimed c JOIN alert a ON a.id = c.alert_id`,
    [id, leaseSeconds],
  );
  const x = r.rows[0];
  if (!x) return null;
  return {
    id: x.id,
    alertId: x.alert_id,
    kind: x.kind,
    channel: x.channel,
    rule: x.rule,
    providerId: x.provider_id,
    subject: x.subject,
    summary: x.summary,
    firedAt: x.fired_at.toISOString(),
    resolvedAt: x.resolved_at?.toISOString() ?? null,
  };
}

export async function deliveryStatus(db: Queryable, id: number): Promise<string | null> {
  const r = await db.query<{ status: string }>('SELECT status FROM alert_delivery WHERE id = $1', [id]);
  return r.rows[0]?.status ?? null;
}

export async function markDelivered(db: Queryable, id: number): Promise<void> {
  await db.query(
    `UPDATE alert_delivery SET status = 'SENT', sent_at = now(), claimed_until = NULL, last_error = NULL WHERE id = $1`,
    [id],
  );
}

export async function markDeliveryFailed(db: Queryable, id: number, error: string): Promise<void> {
  await db.query(
    `UPDATE alert_delivery SET last_error = $2, claimed_until = NULL WHERE id = $1 AND status = 'PENDING'`,
    [id, error.slice(0, 500)],
  );
}

export interface AlertView {
  id: number;
  provider_id: string;
  rule: string;
  subject: string;
  status: string;
  summary: string;
  fired_at: Date;
  resolved_at: Date | null;
  deliveries: string;
}

export async function listAlerts(
  db: Queryable,
  opts: { providerId: string | null; includeResolved: boolean; limit: number },
): Promise<AlertView[]> {
  const r = await db.query<AlertView>(
    `SELECT a.id, a.provider_id, a.rule, a.subject, a.status, a.summary, a.fired_at, a.resolved_at,
            coalesce(string_agg(d.kind || ' ' || d.channel || ' ' || d.status, ', ' ORDER BY d.id), '') AS deliveries
       FROM alert a LEFT JOIN alert_delivery d ON d.alert_id = a.id
      WHERE ($1::text IS NULL OR a.provider_id = $1) AND ($2 OR a.status = 'FIRING')
      GROUP BY a.id ORDER BY a.id DESC LIMIT $3`,
    [opts.providerId, opts.includeResolved, opts.limit],
  );
  return r.rows;
}

/** Firing alerts per rule, for the csp_alerts_firing gauge. */
export async function firingCounts(db: Queryable): Promise<Array<{ rule: string; n: number }>> {
  const r = await db.query<{ rule: string; n: number }>(
    `SELECT rule, count(*)::int AS n FROM alert WHERE status = 'FIRING' GROUP BY rule`,
  );
  return r.rows;
}
