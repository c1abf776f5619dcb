import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { tenantWorkflow, type TenantInput } from './tenant';
import { CSP_PROVIDER_ID, CSP_SERVICE_ID, CSP_TENANT_ID } from './search-attributes';
import type { WorkflowStarter } from './starter';

/** How a tenant's entity workflow is started, reached (updates, signal, query) and stopped. */

export const tenantWorkflowId = (providerId: string, tenantId: string) =>
  `tenant:${providerId}:${tenantId.toLowerCase()}`;

/** Starts the tenant's workflow unless one is running; true when this call started it. */
export async function ensureTenantWorkflow(t: WorkflowStarter, input: TenantInput): Promise<boolean> {
  try {
    await t.temporal.workflow.start(tenantWorkflow, {
      taskQueue: t.taskQueue,
      workflowId: tenantWorkflowId(input.providerId, input.tenantId),
      args: [input],
      staticSummary: `Tenant ${input.tenantId} (service ${input.serviceId}), provider ${input.providerId}`,
      staticDetails:
        "Holds the tenant's licences. Updates: orderProduct, setQuantity, cancelService, reactivateService (validated first). Signal `reconcile` reads the carrier now. Query `licences`.",
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

export function tenantHandle(
  client: Client,
  providerId: string,
  tenantId: string,
): WorkflowHandle<typeof tenantWorkflow> {
  return client.workflow.getHandle<typeof tenantWorkflow>(tenantWorkflowId(providerId, tenantId));
}

/** Ends the tenant's workflow (its provider was removed); one already gone is fine. */
export async function stopTenantWorkflow(
  client: Client,
  providerId: string,
  tenantId: string,
  reason: string,
): Promise<void> {
  await tenantHandle(client, providerId, tenantId)
    .terminate(reason)
    .catch(() => undefined);
}
