import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateStage,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { tenantWorkflow } from './tenant';
import {
  cancelServiceUpdate,
  orderProductUpdate,
  reactivateServiceUpdate,
  reconcileSignal,
  setQuantityUpdate,
  tenantStateQuery,
  TENANT_WORKFLOW_DETAILS,
  type CancelRequest,
  type ChangeResult,
  type OrderRequest,
  type ReactivateRequest,
  type SetQuantityRequest,
  type TenantInput,
  type TenantState,
} from './tenant.messages';
import { answerWithin } from './admin-wait';
import { CSP_PROVIDER_ID, CSP_SERVICE_ID, CSP_TENANT_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/**
 * The tenant workflow's contract: its messages and types, its id, and the operations callers use
 * to start, change, reconcile, read and stop a tenant's entity workflow.
 */
export * from './tenant.messages';
export { ActionNotAccepted, ActionStillRunning } from './admin-wait';

export const tenantWorkflowId = (providerId: string, tenantId: string) =>
  `tenant:${providerId}:${tenantId.toLowerCase()}`;

/** Which tenant, and (for admin changes) how long to wait on its answer. */
export interface TenantRef {
  providerId: string;
  tenantId: string;
}
export interface AdminWait {
  /** Past it the change is reported accepted-and-running or not accepted (admin-wait.ts). */
  deadlineMs?: number;
  /** Called once the workflow has accepted the change (its validator passed), before its result. */
  onAccepted?: () => void;
}

/** Starts the tenant's workflow unless one is running; true when this call started it. */
export async function ensureTenantWorkflow(t: WorkflowStarter, input: TenantInput): Promise<boolean> {
  try {
    await t.temporal.workflow.start(tenantWorkflow, {
      taskQueue: t.taskQueue,
      workflowId: tenantWorkflowId(input.providerId, input.tenantId),
      args: [input],
      staticSummary: `Tenant ${input.tenantId} (service ${input.serviceId}), provider ${input.providerId}`,
      staticDetails: TENANT_WORKFLOW_DETAILS,
      typedSearchAttributes: [
        { key: CSP_PROVIDER_ID, value: input.providerId },
        { key: CSP_TENANT_ID, value: input.tenantId },
        { key: CSP_SERVICE_ID, value: input.serviceId },
      ],
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

function tenantHandle(client: Client, t: TenantRef): WorkflowHandle<typeof tenantWorkflow> {
  return client.workflow.getHandle<typeof tenantWorkflow>(tenantWorkflowId(t.providerId, t.tenantId));
}

/** An admin's change, answered by the workflow within the deadline (admin-wait.ts). */
function adminChange<R>(update: UpdateDefinition<ChangeResult, [R]>) {
  return async (client: Client, t: TenantRef, req: R, wait: AdminWait = {}): Promise<ChangeResult> => {
    const handle = tenantHandle(client, t);
    return answerWithin(
      client,
      handle.workflowId,
      () => handle.startUpdate(update, { args: [req], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      wait.deadlineMs,
      wait.onAccepted,
    );
  };
}

export const orderProduct = adminChange<OrderRequest>(orderProductUpdate);
export const setQuantity = adminChange<SetQuantityRequest>(setQuantityUpdate);
export const cancelService = adminChange<CancelRequest>(cancelServiceUpdate);
export const reactivateService = adminChange<ReactivateRequest>(reactivateServiceUpdate);

/** Asks for a reconcile with the carrier now (answered at once: the workflow runs it in turn). */
export async function requestReconcile(client: Client, t: TenantRef): Promise<void> {
  await tenantHandle(client, t).signal(reconcileSignal);
}

/** The tenant's state as its workflow holds it. */
export async function tenantState(client: Client, t: TenantRef): Promise<TenantState> {
  return tenantHandle(client, t).query(tenantStateQuery);
}

/** Ends the tenant's workflow (its provider was removed); one already gone is fine. */
export async function stopTenantWorkflow(client: Client, t: TenantRef, reason: string): Promise<void> {
  await tenantHandle(client, t)
    .terminate(reason)
    .catch(() => undefined);
}
