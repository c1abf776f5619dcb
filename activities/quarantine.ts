import { Context } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { inTransaction } from '../db/pool';
import { mediateBatch } from './mediate';
import { getQuarantineAction, insertQuarantineAction, storeQuarantineActionResult } from '../db/quarantine-actions';
import {
  lineOutcomes,
  lockGroupLines,
  markLinesCleansed,
  requarantineCleansedLines,
  writeOffLines,
} from '../db/quarantined-lines';
import { dataErrorFailure } from './failures';
import { recordBilled } from './metrics';
import { billedByAction } from '../db/charges';
import { getProvider } from '../db/providers';
import { Decimal, formatMoney } from '../core/money';
import { rememberTenantAllocation } from '../db/tenant-allocations';
import { serviceOwner } from '../db/services';
import { acceptRevisions } from '../db/revisions';
import { notifyGroups } from './quarantine-notify';
import { groupSummaryWithDetails } from './group-summary';
import {
  allocationIdentifiesTenant,
  allocationRefusal,
  allocationTargetProblem,
  parseGroupKey,
} from '../core/quarantine-group';
import { requestIdReuseProblem } from '../core/quarantine-requests';
import {
  groupWorkflowId,
  type ActionOutcome,
  type ApplyActionInput,
  type GroupSummary,
} from '../workflows/quarantine-group.api';
import { kebabCase, recordDirectRequest } from './audit';

export function quarantineActivities(deps: ActivityDeps) {
  return {
    async loadGroupSummary(input: { groupKey: string }): Promise<GroupSummary> {
      return groupSummaryWithDetails(deps.pool, input.groupKey);
    },

    /**
     * Allocate, cleanse or write off the group's quarantined lines, once per requestId. The audit
     * row and the lines' new status commit together; re-mediation then runs in batches and can be
     * resumed after a crash (lines wait as CLEANSED), so nothing is billed twice or lost.
     */
    async applyQuarantineAction(input: ApplyActionInput): Promise<ActionOutcome> {
      const { request } = input;
      const what = `${request.action} of ${input.groupKey}`;
      const earlier = await getQuarantineAction(deps.pool, input.groupKey, request.requestId);
      const reused = earlier && requestIdReuseProblem(request, [{ ...earlier, requestId: earlier.request_id }]);
      if (reused) return refuseReusedRequestId(deps, input, reused);
      if (!earlier) {
        // A data error here (a charge that cannot be stored, a constraint) rolls the whole
        // transaction back: the lines stay QUARANTINED, and no retry would fare better.
        await applyOnce(deps, input).catch((err) => {
          throw dataErrorFailure(err, what) ?? err;
        });
      }
      const row = (await getQuarantineAction(deps.pool, input.groupKey, request.requestId))!;
      if (row.outcome === 'APPLIED' && row.action !== 'writeOff') {
        // Re-mediate: lines billed now, or back to quarantine with their current reason.
        const mediatedBy = actionTag(input.groupKey, request.requestId);
        try {
          for (;;) {
            const r = await mediateBatch(deps.pool, {
              providerId: input.providerId,
              mediatedBy,
              limit: 5000,
              source: { kind: 'group', groupKey: input.groupKey },
              forceServiceId: row.action === 'allocate' ? row.params.serviceId : undefined,
            });
            Context.current().heartbeat();
            if (r.processed === 0) break;
          }
        } catch (err) {
          const failure = dataErrorFailure(err, what);
          if (!failure) throw err;
          // The failed batch was rolled back: its lines (and any not reached yet) wait as CLEANSED.
          // They return to quarantine, never left half-way, and the action fails now with why.
          await requarantineCleansedLines(deps.pool, row.line_ids.map(Number), `not billed: ${failure.message}`);
          await recordOutcome(deps, input.groupKey, request.requestId);
          throw failure;
        }
        await notifyGroups(deps, input.providerId, mediatedBy, input.groupKey);
        // Billing outside a cycle counts in the billed metrics too (lines, charge, cost, margin).
        const currency = (await getProvider(deps.pool, input.providerId))?.currency ?? 'unknown';
        recordBilled(mediatedBy, {
          providerId: input.providerId,
          currency,
          ...(await billedByAction(deps.pool, input.providerId, mediatedBy, row.line_ids.map(Number))),
        });
      }
      return recordOutcome(deps, input.groupKey, request.requestId);
    },
  };
}

/**
 * Records the action (its audit row) and moves the group's quarantined lines in one transaction:
 * written off, revisions accepted, or CLEANSED for re-mediation.
 */
async function applyOnce(deps: ActivityDeps, input: ApplyActionInput): Promise<void> {
  const { request } = input;
  const rejection = input.rejection ?? (await checkAgainstDatabase(deps, input));
  await inTransaction(deps.pool, async (db) => {
    const ids = rejection ? [] : await lockGroupLines(db, input.groupKey);
    const noLines = !rejection && ids.length === 0 ? 'the group has no quarantined lines (already resolved)' : null;
    const finalRejection = rejection ?? noLines;
    await insertQuarantineAction(db, {
      requestId: request.requestId,
      providerId: input.providerId,
      groupKey: input.groupKey,
      action: request.action,
      actor: String(request.by ?? '').trim() || '(unknown)',
      note: request.note ?? null,
      params:
        request.action === 'allocate'
          ? { serviceId: request.serviceId }
          : request.action === 'writeOff'
            ? { reason: request.reason }
            : {},
      rejection: finalRejection,
      lineIds: ids,
      osUser: textOrNull(request.osUser),
      principal: textOrNull(request.principal),
    });
    await recordDirectRequest(db, request, {
      ...auditFields(input),
      outcome: finalRejection ? 'REFUSED' : 'APPLIED',
      reason: finalRejection,
    });
    if (finalRejection) return;
    if (request.action === 'acceptRevision') {
      await acceptRevisions(db, input.providerId, ids, actionTag(input.groupKey, request.requestId), request.by);
      return;
    }
    if (request.action === 'writeOff') {
      await writeOffLines(
        db,
        ids,
        `written off by ${request.by}: ${request.reason}`,
        actionTag(input.groupKey, request.requestId),
      );
      return;
    }
    if (request.action === 'allocate') {
      const group = parseGroupKey(input.groupKey);
      if (allocationIdentifiesTenant(group))
        await rememberTenantAllocation(db, input.providerId, group.tenantRef, request.serviceId, request.by);
    }
    await markLinesCleansed(db, ids);
  });
}

/** What an action's audit row says of it (when the activity records it: see activities/audit.ts). */
function auditFields({ request, groupKey, providerId }: ApplyActionInput) {
  const { action, by: _by, osUser: _osUser, principal: _principal, requestId, ...given } = request;
  // An id the workflow made up (the sender gave none) says nothing to a reader.
  const details = requestId.startsWith(`${groupWorkflowId(groupKey)}/`) ? given : { ...given, requestId };
  return { action: `quarantine.${kebabCase(action)}`, target: groupKey, providerId, details };
}

/**
 * A request id the group used for another action: nothing is done or stored in the group's trail
 * (the id is taken), the sender is told, and a request sent straight to Temporal is audited.
 */
async function refuseReusedRequestId(deps: ActivityDeps, input: ApplyActionInput, problem: string) {
  await recordDirectRequest(deps.pool, input.request, { ...auditFields(input), outcome: 'REFUSED', reason: problem });
  const none = formatMoney(new Decimal('0'));
  return {
    requestId: input.request.requestId,
    action: input.request.action,
    by: String(input.request.by ?? ''),
    outcome: 'REJECTED',
    rejection: problem,
    lines: 0,
    billed: 0,
    requarantined: 0,
    writtenOff: 0,
    amount: none,
    at: new Date().toISOString(),
  } satisfies ActionOutcome;
}

/** The checks a workflow cannot make: does the service exist, and is it the same provider's? */
async function checkAgainstDatabase(deps: ActivityDeps, input: ApplyActionInput): Promise<string | null> {
  if (input.request.action === 'acceptRevision') {
    const { reason } = parseGroupKey(input.groupKey);
    return reason === 'DUPLICATE_USAGE'
      ? null
      : `only revised lines (DUPLICATE_USAGE) can be accepted as revisions; this group is ${reason}`;
  }
  if (input.request.action !== 'allocate') return null;
  const refused = allocationRefusal(parseGroupKey(input.groupKey).reason);
  if (refused) return refused;
  return allocationTargetProblem(
    input.request.serviceId,
    await serviceOwner(deps.pool, input.request.serviceId),
    input.providerId,
  );
}

/** Signals come from anyone with a Temporal client: keep only a short string. */
function textOrNull(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 200) : null;
}

/** What lines touched by an action are tagged with (mediated_cycle_id): unique per group and request. */
function actionTag(groupKey: string, requestId: string): string {
  return `action:${groupKey}:${requestId}`;
}

async function recordOutcome(deps: ActivityDeps, groupKey: string, requestId: string): Promise<ActionOutcome> {
  const a = (await getQuarantineAction(deps.pool, groupKey, requestId))!;
  const c = await lineOutcomes(deps.pool, a.line_ids);
  // A write-off's amount is what the written-off lines were worth (their carrier charge, in the
  // records' currency), not what was billed (nothing); other actions' is what they billed.
  const amount = formatMoney(new Decimal((a.action === 'writeOff' ? c.writtenOffAmount : c.amount) ?? '0'));
  await storeQuarantineActionResult(deps.pool, groupKey, requestId, {
    billed: c.billed,
    requarantined: c.requarantined,
    writtenOff: c.writtenOff,
    amount,
  });
  return {
    requestId,
    action: a.action,
    by: a.actor,
    outcome: a.outcome,
    rejection: a.rejection,
    lines: a.line_ids.length,
    billed: c.billed,
    requarantined: c.requarantined,
    writtenOff: c.writtenOff,
    amount,
    at: a.created_at.toISOString(),
  };
}
