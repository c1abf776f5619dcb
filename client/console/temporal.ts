import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import {
  ActionNotAccepted,
  ActionStillRunning,
  resolveGroup as resolveGroupUpdate,
  type ActionOutcome,
  type ResolveRequest,
} from '../../workflows/quarantine-group.api';
import {
  cancelService,
  orderProduct,
  reactivateService,
  setQuantity,
  tenantState as queryTenantState,
  type ChangeResult,
  type TenantState,
} from '../../workflows/tenant.api';
import {
  cycleProgress as queryCycleProgress,
  usageScheduleHandle,
  type CycleProgress,
} from '../../workflows/usage-cycle.api';
import type { WorkflowStarter } from '../../workflows/starter';

/**
 * The console's calls into Temporal, through each workflow's .api.ts module: the same Updates the
 * CLI sends (the group's `resolve`, the tenant's `setQuantity`/`orderProduct`/`cancelService`/
 * `reactivateService`), so a validator's refusal reaches the page with its reason, and the
 * queries that show live state.
 */
export class Refused extends Error {
  override name = 'Refused';
}

/** The workflow accepted the action and was still carrying it out when the page stopped waiting. */
export class StillRunning extends Error {
  override name = 'StillRunning';
}

export type TemporalDeps = WorkflowStarter;

function refusal(err: unknown): never {
  if (err instanceof ActionStillRunning) throw new StillRunning(err.message);
  if (err instanceof ActionNotAccepted) throw new Refused(err.message);
  if (err instanceof WorkflowUpdateFailedError) throw new Refused(err.cause?.message ?? err.message);
  if (err instanceof WorkflowNotFoundError)
    throw new Refused('no running workflow for this item (was its provider removed?)');
  throw err;
}

/**
 * Allocate, cleanse or write off a quarantine group (update-with-start, as the CLI does). The
 * request id comes from the form, so a form sent twice acts once.
 */
export async function resolveGroup(deps: TemporalDeps, groupKey: string, req: ResolveRequest): Promise<ActionOutcome> {
  let outcome: ActionOutcome;
  try {
    outcome = await resolveGroupUpdate(deps, groupKey, { ...req, requestId: req.requestId ?? randomUUID() });
  } catch (err) {
    refusal(err);
  }
  if (outcome.outcome === 'REJECTED') throw new Refused(outcome.rejection ?? 'refused');
  return outcome;
}

/** Changes from the console carry the signed-in user as `by` and as the authenticated principal. */
export type TenantChange =
  | { kind: 'setQuantity'; subscriptionId: string; quantity: number; by: string }
  | { kind: 'order'; productId: string; quantity: number; billingCycle: 'Monthly' | 'Annual'; by: string }
  | { kind: 'cancel'; effectiveDate?: string; by: string }
  | { kind: 'reactivate'; by: string };

export async function changeTenant(
  deps: TemporalDeps,
  providerId: string,
  tenantId: string,
  c: TenantChange,
): Promise<ChangeResult> {
  const tenant = { providerId, tenantId };
  try {
    switch (c.kind) {
      case 'setQuantity':
        return await setQuantity(deps.temporal, tenant, {
          subscriptionId: c.subscriptionId,
          quantity: c.quantity,
          by: c.by,
          principal: c.by,
        });
      case 'order':
        return await orderProduct(deps.temporal, tenant, {
          productId: c.productId,
          quantity: c.quantity,
          billingCycle: c.billingCycle,
          by: c.by,
          principal: c.by,
        });
      case 'cancel':
        return await cancelService(deps.temporal, tenant, {
          by: c.by,
          principal: c.by,
          effectiveDate: c.effectiveDate,
        });
      case 'reactivate':
        return await reactivateService(deps.temporal, tenant, { by: c.by, principal: c.by });
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

export async function tenantState(
  deps: TemporalDeps,
  providerId: string,
  tenantId: string,
): Promise<TenantState | null> {
  return within(3000, queryTenantState(deps.temporal, { providerId, tenantId }));
}

export async function cycleProgress(deps: TemporalDeps, cycleId: string): Promise<CycleProgress | null> {
  return within(2000, queryCycleProgress(deps.temporal, cycleId));
}

export async function nextCycleAt(
  deps: TemporalDeps,
  providerId: string,
): Promise<{ next: Date | null; paused: boolean } | null> {
  return within(
    2000,
    usageScheduleHandle(deps.temporal, providerId)
      .describe()
      .then((d) => ({ next: d.info.nextActionTimes[0] ?? null, paused: d.state.paused })),
  );
}
