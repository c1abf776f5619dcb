import type { PoolClient } from './pool';
import { loadBillingContext } from './mediation-context';
import { quarantineGroupKey } from '../core/quarantine-group';
import { parseLosslessJson } from '../lib/lossless';
import { decimalText, formatMoney } from '../core/money';
import { mediate } from '../core/rating';
import { creditCharges } from './corrections';

export interface RevisionOutcome {
  /** Revisions now charged (the version billed before, if any, credited). */
  accepted: number;
  /** Credits written for versions billed before. */
  credited: number;
  /** Revisions that failed another check when rated (back in quarantine with that reason). */
  requarantined: number;
  /** Older revisions of a RecordId superseded by a later one accepted in the same action. */
  superseded: number;
}

interface LineRow {
  id: number;
  record_key: string;
  content_hash: string;
  raw: string;
  tenant_ref: string | null;
}

/**
 * Accepts revised lines (DUPLICATE_USAGE): for each RecordId the latest revision is rated as a
 * new line; the version billed before is credited (a CREDIT entry reversing its charge, in its
 * own month or, when that month is closed, in the next open one) and superseded; the revision is
 * charged (in its month, or likewise the next open one). Both entries carry the RecordId and
 * link to each other. The unique index on live charges keeps one live charge per RecordId.
 * Runs inside the caller's transaction, with the lines locked.
 */
export async function acceptRevisions(
  db: PoolClient,
  providerId: string,
  lineIds: number[],
  actionTag: string,
  by: string,
): Promise<RevisionOutcome> {
  const out: RevisionOutcome = { accepted: 0, credited: 0, requarantined: 0, superseded: 0 };
  const lines = await db.query<LineRow>(
    'SELECT id, record_key, content_hash, raw, tenant_ref FROM usage_line WHERE id = ANY($1::bigint[]) ORDER BY id',
    [lineIds],
  );
  const latest = new Map<string, LineRow>();
  for (const l of lines.rows) latest.set(l.record_key, l);
  const ctx = await loadBillingContext(db, providerId);

  for (const line of lines.rows) {
    const newest = latest.get(line.record_key)!;
    if (newest.id !== line.id) {
      await db.query(
        `UPDATE usage_line SET status = 'WRITTEN_OFF', reason_detail = $2, mediated_cycle_id = $3, updated_at = now() WHERE id = $1`,
        [line.id, `superseded by line ${newest.id} (a later revision) accepted by ${by}`, actionTag],
      );
      out.superseded++;
      continue;
    }
    const outcome = mediate(
      parseLosslessJson(line.raw),
      { card: ctx.card, services: ctx.services, allocatedTenants: ctx.allocatedTenants, seen: () => 'NEW' },
      line.content_hash,
    );
    if (outcome.status === 'QUARANTINED') {
      await db.query(
        `UPDATE usage_line SET status = 'QUARANTINED', reason = $2, reason_detail = $3, service_id = $4, group_key = $5, mediated_cycle_id = $6, updated_at = now() WHERE id = $1`,
        [
          line.id,
          outcome.reason,
          outcome.detail,
          outcome.serviceId,
          quarantineGroupKey(providerId, outcome.reason, outcome.record?.tenantId ?? line.tenant_ref),
          actionTag,
        ],
      );
      out.requarantined++;
      continue;
    }
    if (outcome.status !== 'COMPLETED')
      throw new Error(`line ${line.id}: unexpected mediation outcome ${outcome.status}`);

    const billed = await db.query<{ id: number }>(
      `SELECT id FROM usage_charge WHERE provider_id = $1 AND record_key = $2 AND live FOR UPDATE`,
      [providerId, line.record_key],
    );
    const previous = billed.rows[0]?.id ?? null;
    if (previous !== null) {
      await creditCharges(db, [previous], actionTag);
      out.credited++;
    }
    await db.query(
      `INSERT INTO usage_charge (usage_line_id, provider_id, record_key, service_id, billing_period, product_key, units, unit_rate, billable_ratio,
                                 carrier_cost, charge, margin, rule_kind, cycle_id, charge_start, charge_end, entry, live, replaces_charge_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'CHARGE', true, $17)`,
      [
        line.id,
        providerId,
        line.record_key,
        outcome.serviceId,
        outcome.period,
        outcome.productKey,
        decimalText(outcome.record.quantity),
        decimalText(outcome.record.unitPrice),
        decimalText(outcome.record.billableRatio),
        formatMoney(outcome.rated.cost),
        formatMoney(outcome.rated.charge),
        formatMoney(outcome.rated.margin),
        outcome.rated.ruleKind,
        actionTag,
        outcome.record.chargeStart.text,
        outcome.record.chargeEnd.text,
        previous,
      ],
    );
    await db.query(
      `UPDATE usage_line SET status = 'COMPLETED', reason = NULL, reason_detail = $2, service_id = $3, group_key = NULL, mediated_cycle_id = $4, updated_at = now() WHERE id = $1`,
      [line.id, `revision accepted by ${by}`, outcome.serviceId, actionTag],
    );
    out.accepted++;
  }
  return out;
}
