import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  cleanseSignal,
  linesAddedSignal,
  quarantineGroupWorkflow,
  resolveUpdate,
  signalsHelp,
  type LinesAdded,
} from './quarantine-group';
import { CARRIER_LABEL, CSP_CARRIER, CSP_PROVIDER_ID, CSP_QUARANTINE_REASON, CSP_TENANT_ID } from './search-attributes';
import { parseGroupKey } from '../core/quarantine-group';
import type { ActionOutcome, AdminAction, ResolveRequest } from './types';
import type { WorkflowStarter } from './starter';

/**
 * How a quarantine group's workflow is started and reached. It is started from here only, always
 * with the same options and search attributes, by whichever message reaches it first: new lines
 * (signal-with-start), an auto-cleanse (signal-with-start) or an admin's action (update-with-start).
 */

/** The workflow id says what the group is: quarantine:provider:REASON:tenant. */
export function groupWorkflowId(groupKey: string): string {
  return `quarantine:${groupKey.split('|').join(':')}`;
}

export function groupKeyFromWorkflowId(workflowId: string): string {
  if (!workflowId.startsWith('quarantine:')) throw new Error(`"${workflowId}" is not a quarantine group workflow id`);
  return workflowId.slice('quarantine:'.length).split(':').join('|');
}

function groupStartOptions(t: WorkflowStarter, groupKey: string) {
  const { providerId, reason, tenantRef } = parseGroupKey(groupKey);
  return {
    taskQueue: t.taskQueue,
    workflowId: groupWorkflowId(groupKey),
    args: [{ groupKey, providerId, reason, tenantRef, searchAttributesAtStart: true }] as Parameters<
      typeof quarantineGroupWorkflow
    >,
    // Temporal user metadata: the Web UI shows these on the workflow's page (current details come from the workflow).
    staticSummary: `Quarantine group: ${reason}, tenant ${tenantRef}, provider ${providerId}`,
    staticDetails: `Usage lines of provider ${providerId} that could not be billed (${reason}), for tenant ${tenantRef}, carrier ${CARRIER_LABEL}. They stay in the database; this workflow waits for an admin to resolve them.\n\n${signalsHelp()}`,
    typedSearchAttributes: [
      { key: CSP_PROVIDER_ID, value: providerId },
      { key: CSP_QUARANTINE_REASON, value: reason },
      { key: CSP_TENANT_ID, value: tenantRef },
      { key: CSP_CARRIER, value: CARRIER_LABEL },
    ],
  };
}

/**
 * New lines reached the group (by reference: where from and how many, and the group's summary
 * when the sender has it; the lines stay in the database).
 */
export async function signalLinesAdded(t: WorkflowStarter, groupKey: string, added: LinesAdded): Promise<void> {
  await t.temporal.workflow.signalWithStart(quarantineGroupWorkflow, {
    ...groupStartOptions(t, groupKey),
    signal: linesAddedSignal,
    signalArgs: [added],
  });
}

/** Asks the group to cleanse itself (what made its lines fail was fixed). */
export async function signalCleanse(t: WorkflowStarter, groupKey: string, action: AdminAction): Promise<void> {
  await t.temporal.workflow.signalWithStart(quarantineGroupWorkflow, {
    ...groupStartOptions(t, groupKey),
    signal: cleanseSignal,
    signalArgs: [action],
  });
}

/**
 * An admin's allocate, cleanse or write-off, answered at once (an Update); a group whose
 * workflow is not running is started first, with the same options as above.
 */
export async function resolveGroup(
  t: WorkflowStarter,
  groupKey: string,
  request: ResolveRequest,
): Promise<ActionOutcome> {
  const startWorkflowOperation = new WithStartWorkflowOperation(quarantineGroupWorkflow, {
    ...groupStartOptions(t, groupKey),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return t.temporal.workflow.executeUpdateWithStart(resolveUpdate, { args: [request], startWorkflowOperation });
}

export function groupHandle(client: Client, groupKey: string): WorkflowHandle<typeof quarantineGroupWorkflow> {
  return client.workflow.getHandle<typeof quarantineGroupWorkflow>(groupWorkflowId(groupKey));
}
