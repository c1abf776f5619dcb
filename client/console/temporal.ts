import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { groupWorkflowId, parseGroupKey, tenantWorkflowId, usageScheduleId } from '../../workflows/ids';
import { quarantineGroupWorkflow, resolveUpdate } from '../../workflows/quarantine-group';
import { progressQuery, type CycleProgress } from '../../workflows/usage-cycle';
import {
  cancelServiceUpdate, orderProductUpdate, reactivateServiceUpdate, setQuantityUpdate, tenantStateQuery, type TenantState,
} from '../../workflows/tenant';
import { CARRIER_LABEL, CSP_CARRIER, CSP_PROVIDER_ID, CSP_QUARANTINE_REASON, CSP_TENANT_ID } from '../../workflows/search-attributes';
import type { ChangeResult } from '../../activities/tenant';
import type { ActionOutcome, ResolveRequest } from '../../workflows/types';

/**
 * The console's calls into Temporal: the same Updates the CLI sends (the group's `resolve`, the
 * tenant's `setQuantity`/`orderProduct`/`cancelService`/`reactivateService`), so a validator's
 * refusal reaches the page with its reason, and the queries that show live state.
 */
export class Refused extends Error {
  override name = 'Refused';
}

export interface TemporalDeps {
  temporal: Client;
  taskQueue: string;
}

function refusal(err: unknown): never {
  if (err instanceof WorkflowUpdateFailedError) throw new Refused((err.cause as Error | undefined)?.message ?? err.message);
  if (err instanceof WorkflowNotFoundError) throw new Refused('no running workflow for this item (was its provider removed?)');
  throw err;
}

/**
 * Allocate, cleanse or write off a quarantine group through its `resolve` Update. Update-with-start:
 * a group whose workflow has ended (the lines are in the database) is started again for the action.
 * The request id comes from the form, so a form sent twice acts once.
 */
export async function resolveGroup(deps: TemporalDeps, groupKey: string, req: ResolveRequest & { requestId?: string }): Promise<ActionOutcome> {
  const { providerId, reason, tenantRef } = parseGroupKey(groupKey);
  const start = new WithStartWorkflowOperation(quarantineGroupWorkflow, {
    workflowId: groupWorkflowId(groupKey),
    taskQueue: deps.taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [{ groupKey, providerId, reason, tenantRef }],
    typedSearchAttributes: [
      { key: CSP_PROVIDER_ID, value: providerId },
      { key: CSP_QUARANTINE_REASON, value: reason },
      { key: CSP_TENANT_ID, value: tenantRef },
      { key: CSP_CARRIER, value: CARRIER_LABEL },
    ],
  });
  let outcome: ActionOutcome;
  try {
    outcome = await deps.temporal.workflow.executeUpdateWithStart(resolveUpdate, { args: [{ ...req, requestId: req.requestId ?? randomUUID() }], startWorkflowOperation: start });
  } catch (err) {
    refusal(err);
  }
  if (outcome.outcome === 'REJECTED') throw new Refused(outcome.rejection ?? 'refused');
  return outcome;
}

export type TenantChange =
  | { kind: 'setQuantity'; subscriptionId: string; quantity: number; by: string }
  | { kind: 'order'; productId: string; quantity: number; billingCycle: 'Monthly' | 'Annual'; by: string }
  | { kind: 'cancel'; effectiveDate?: string; by: string }
  | { kind: 'reactivate'; by: string };

export async function changeTenant(deps: TemporalDeps, providerId: string, tenantId: string, c: TenantChange): Promise<ChangeResult> {
  const handle = deps.temporal.workflow.getHandle(tenantWorkflowId(providerId, tenantId));
  try {
    switch (c.kind) {
      case 'setQuantity':
        return await handle.executeUpdate(setQuantityUpdate, { args: [{ subscriptionId: c.subscriptionId, quantity: c.quantity, by: c.by }] });
      case 'order':
        return await handle.executeUpdate(orderProductUpdate, { args: [{ productId: c.productId, quantity: c.quantity, billingCycle: c.billingCycle, by: c.by }] });
      case 'cancel':
        return await handle.executeUpdate(cancelServiceUpdate, { args: [{ by: c.by, effectiveDate: c.effectiveDate }] });
      case 'reactivate':
        return await handle.executeUpdate(reactivateServiceUpdate, { args: [{ by: c.by }] });
    }
  } catch (err) {
    refusal(err);
  }
}

/** Live state answers quickly or not at all: a page never waits long on a busy worker. */
async function within<T>(ms: number, work: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([work.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function tenantState(deps: TemporalDeps, providerId: string, tenantId: string): Promise<TenantState | null> {
  return within(3000, deps.temporal.workflow.getHandle(tenantWorkflowId(providerId, tenantId)).query(tenantStateQuery));
}

export async function cycleProgress(deps: TemporalDeps, cycleId: string): Promise<CycleProgress | null> {
  return within(2000, deps.temporal.workflow.getHandle(cycleId).query(progressQuery));
}

export async function nextCycleAt(deps: TemporalDeps, providerId: string): Promise<{ next: Date | null; paused: boolean } | null> {
  return within(2000, deps.temporal.schedule.getHandle(usageScheduleId(providerId)).describe().then((d) => ({ next: d.info.nextActionTimes[0] ?? null, paused: d.state.paused })));
}
