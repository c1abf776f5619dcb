import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { inTransaction } from '../db/pool';
import { mediateBatch } from '../db/usage-lines';
import { notifyGroups } from './quarantine-notify';
import { parseGroupKey } from '../core/quarantine-group';
import { isGuid } from '../core/guid';
import type { ActionOutcome, ApplyActionInput, GroupSummary } from '../workflows/types';

export function quarantineActivities(deps: ActivityDeps) {
  return {
    async loadGroupSummary(input: { groupKey: string }): Promise<GroupSummary> {
      return groupSummary(deps, input.groupKey);
    },

    /**
     * Allocate, cleanse or write off the group's quarantined lines, once per requestId. The audit
     * row and the lines' new status commit together; re-mediation then runs in batches and can be
     * resumed after a crash (lines wait as CLEANSED), so nothing is billed twice or lost.
     */
    async applyQuarantineAction(input: ApplyActionInput): Promise<ActionOutcome> {
      const { request } = input;
      const existing = await deps.pool.query<{ outcome: string }>('SELECT outcome FROM quarantine_action WHERE request_id = $1', [request.requestId]);
      if (existing.rows.length === 0) {
        const rejection = input.rejection ?? (await checkAgainstDatabase(deps, input));
        await inTransaction(deps.pool, async (db) => {
          const lines = rejection
            ? { rows: [] as Array<{ id: number }> }
            : await db.query<{ id: number }>(`SELECT id FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED' ORDER BY id FOR UPDATE`, [input.groupKey]);
          const ids = lines.rows.map((r) => r.id);
          const noLines = !rejection && ids.length === 0 ? 'the group has no quarantined lines (already resolved)' : null;
          const finalRejection = rejection ?? noLines;
          const params = request.action === 'allocate' ? { serviceId: request.serviceId } : request.action === 'writeOff' ? { reason: request.reason } : {};
          await db.query(
            `INSERT INTO quarantine_action (request_id, provider_id, group_key, action, actor, note, params, outcome, rejection, line_ids)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
            [request.requestId, input.providerId, input.groupKey, request.action, String(request.by ?? '').trim() || '(unknown)', request.note ?? null, params,
              finalRejection ? 'REJECTED' : 'APPLIED', finalRejection, finalRejection ? [] : ids],
          );
          if (finalRejection) return;
          if (request.action === 'writeOff') {
            await db.query(
              `UPDATE usage_line SET status = 'WRITTEN_OFF', reason_detail = $2, mediated_cycle_id = $3, updated_at = now() WHERE id = ANY($1::bigint[])`,
              [ids, `written off by ${request.by}: ${request.reason}`, `action:${request.requestId}`],
            );
            return;
          }
          if (request.action === 'allocate') {
            const { reason, tenantRef } = parseGroupKey(input.groupKey);
            if (reason === 'NON_EXISTENT_SERVICE' && isGuid(tenantRef)) {
              await db.query(
                `INSERT INTO tenant_allocation (provider_id, tenant_id, service_id, allocated_by) VALUES ($1, lower($2), $3, $4)
                 ON CONFLICT (provider_id, tenant_id) DO UPDATE SET service_id = EXCLUDED.service_id, allocated_by = EXCLUDED.allocated_by, allocated_at = now()`,
                [input.providerId, tenantRef, request.serviceId, request.by],
              );
            }
          }
          await db.query(`UPDATE usage_line SET status = 'CLEANSED', updated_at = now() WHERE id = ANY($1::bigint[])`, [ids]);
        });
      }
      const action = await deps.pool.query<{ outcome: string; action: string; params: { serviceId?: string } }>(
        'SELECT outcome, action, params FROM quarantine_action WHERE request_id = $1',
        [request.requestId],
      );
      const row = action.rows[0]!;
      if (row.outcome === 'APPLIED' && row.action !== 'writeOff') {
        // Re-mediate: lines billed now, or back to quarantine with their current reason.
        const mediatedBy = `action:${request.requestId}`;
        for (;;) {
          const r = await mediateBatch(deps.pool, {
            providerId: input.providerId, mediatedBy, limit: 5000, source: { kind: 'group', groupKey: input.groupKey },
            forceServiceId: row.action === 'allocate' ? row.params.serviceId : undefined,
          });
          Context.current().heartbeat();
          if (r.processed === 0) break;
        }
        await notifyGroups(deps, input.providerId, mediatedBy, input.groupKey);
      }
      return recordOutcome(deps, request.requestId);
    },
  };
}

/** The checks a workflow cannot make: does the service exist, and is it the same provider's? */
async function checkAgainstDatabase(deps: ActivityDeps, input: ApplyActionInput): Promise<string | null> {
  const { reason } = parseGroupKey(input.groupKey);
  if (input.request.action !== 'allocate') return null;
  if (reason === 'INVALID_RECORD' || reason === 'DUPLICATE_USAGE') {
    return `lines quarantined as ${reason} cannot be billed by allocation: write them off, or cleanse them once the carrier corrects them`;
  }
  const svc = await deps.pool.query<{ provider_id: string }>('SELECT provider_id FROM service WHERE id = $1', [input.request.serviceId]);
  if (svc.rows.length === 0) return `service ${input.request.serviceId} does not exist`;
  if (svc.rows[0]!.provider_id !== input.providerId) return `service ${input.request.serviceId} belongs to another provider`;
  return null;
}

async function recordOutcome(deps: ActivityDeps, requestId: string): Promise<ActionOutcome> {
  const res = await deps.pool.query<{
    action: ActionOutcome['action']; actor: string; outcome: ActionOutcome['outcome']; rejection: string | null; line_ids: number[]; created_at: Date;
  }>('SELECT action, actor, outcome, rejection, line_ids, created_at FROM quarantine_action WHERE request_id = $1', [requestId]);
  const a = res.rows[0]!;
  const counts = await deps.pool.query<{ billed: number; requarantined: number; written_off: number; amount: string | null }>(
    `SELECT count(*) FILTER (WHERE l.status = 'COMPLETED')::int AS billed,
            count(*) FILTER (WHERE l.status = 'QUARANTINED')::int AS requarantined,
            count(*) FILTER (WHERE l.status = 'WRITTEN_OFF')::int AS written_off,
            sum(c.charge)::text AS amount
       FROM usage_line l LEFT JOIN usage_charge c ON c.usage_line_id = l.id
      WHERE l.id = ANY($1::bigint[])`,
    [a.line_ids],
  );
  const c = counts.rows[0]!;
  await deps.pool.query(
    'UPDATE quarantine_action SET billed = $2, requarantined = $3, written_off = $4, amount = $5 WHERE request_id = $1',
    [requestId, c.billed, c.requarantined, c.written_off, c.amount ?? '0'],
  );
  return {
    requestId, action: a.action, by: a.actor, outcome: a.outcome, rejection: a.rejection, lines: a.line_ids.length,
    billed: c.billed, requarantined: c.requarantined, writtenOff: c.written_off, amount: c.amount ?? '0.0000', at: a.created_at.toISOString(),
  };
}

export async function groupSummary(deps: Pick<ActivityDeps, 'pool'>, groupKey: string): Promise<GroupSummary> {
  const { providerId, reason, tenantRef } = parseGroupKey(groupKey);
  const res = await deps.pool.query<{ n: number; total: string | null; from: string | null; to: string | null }>(
    `SELECT count(*)::int AS n, sum(sub_total)::text AS total, min(left(charge_start, 10)) AS from, max(left(charge_start, 10)) AS to
       FROM usage_line WHERE group_key = $1 AND status = 'QUARANTINED'`,
    [groupKey],
  );
  const r = res.rows[0]!;
  return { groupKey, providerId, reason, tenantRef, lines: r.n, carrierCharge: r.total ?? '0', periodFrom: r.from, periodTo: r.to };
}
