import { WithStartWorkflowOperation, WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import { quarantineGroupWorkflow } from './quarantine-group';
import {
  acceptRevisionSignal,
  allocateSignal,
  cleanseSignal,
  groupStateQuery,
  linesAddedSignal,
  resolveUpdate,
  signalsQuery,
  writeOffSignal,
  type ActionOutcome,
  type AdminAction,
  type GroupState,
  type LinesAdded,
  type ResolveRequest,
} from './quarantine-group.messages';
import { groupStaticDetails } from './quarantine-group.help';
import { answerWithin } from './admin-wait';
import { CARRIER_LABEL, CSP_CARRIER, CSP_PROVIDER_ID, CSP_QUARANTINE_REASON, CSP_TENANT_ID } from './search-attributes';
import { parseGroupKey } from '../core/quarantine-group';
import type { WorkflowStarter } from './starter';

/**
 * The quarantine group workflow's contract: its messages and types, its id, and the operations
 * callers use. It is started from here only, always with the same options and search attributes,
 * by whichever message reaches it first: new lines (signal-with-start), an auto-cleanse
 * (signal-with-start) or an admin's action (update-with-start).
 */
export * from './quarantine-group.messages';
export { GROUP_SIGNALS, signalsHelp } from './quarantine-group.help';
export { ActionNotAccepted, ActionStillRunning } from './admin-wait';

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
    args: [{ groupKey, providerId, reason, tenantRef }] as Parameters<typeof quarantineGroupWorkflow>,
    // Temporal user metadata: the Web UI shows these on the workflow's page (current details come from the workflow).
    staticSummary: `Quarantine group: ${reason}, tenant ${tenantRef}, provider ${providerId}`,
    staticDetails: groupStaticDetails(providerId, reason, tenantRef, CARRIER_LABEL),
    typedSearchAttributes: [
      { key: CSP_PROVIDER_ID, value: providerId },
      { key: CSP_QUARANTINE_REASON, value: reason },
      { key: CSP_TENANT_ID, value: tenantRef },
      { key: CSP_CARRIER, value: CARRIER_LABEL },
    ],
  };
}

function groupHandle(client: Client, groupKey: string): WorkflowHandle<typeof quarantineGroupWorkflow> {
  return client.workflow.getHandle<typeof quarantineGroupWorkflow>(groupWorkflowId(groupKey));
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
 * An admin's action sent as a signal, as the Web UI's "Send signal" does: not answered, and a
 * request that makes no sense is recorded as rejected.
 */
export async function signalAction(client: Client, groupKey: string, request: ResolveRequest): Promise<void> {
  const handle = groupHandle(client, groupKey);
  const { action, ...req } = request;
  if (action === 'allocate')
    await handle.signal(allocateSignal, req as Extract<ResolveRequest, { action: 'allocate' }>);
  else if (action === 'writeOff')
    await handle.signal(writeOffSignal, req as Extract<ResolveRequest, { action: 'writeOff' }>);
  else if (action === 'acceptRevision') await handle.signal(acceptRevisionSignal, req);
  else await handle.signal(cleanseSignal, req);
}

/**
 * An admin's allocate, cleanse, write-off or revision accepted, answered within the deadline (an
 * Update; admin-wait.ts says what happens past it); a group whose workflow is not running is
 * started first, with the same options as above.
 */
export async function resolveGroup(
  t: WorkflowStarter,
  groupKey: string,
  request: ResolveRequest,
  wait: { deadlineMs?: number; onAccepted?: () => void } = {},
): Promise<ActionOutcome> {
  const startWorkflowOperation = new WithStartWorkflowOperation(quarantineGroupWorkflow, {
    ...groupStartOptions(t, groupKey),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return answerWithin(
    t.temporal,
    groupWorkflowId(groupKey),
    () =>
      t.temporal.workflow.startUpdateWithStart(resolveUpdate, {
        args: [request],
        startWorkflowOperation,
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      }),
    wait.deadlineMs,
    wait.onAccepted,
  );
}

/** What the group holds now (its `state` query). */
export async function groupState(client: Client, groupKey: string): Promise<GroupState> {
  return groupHandle(client, groupKey).query(groupStateQuery);
}

/** The messages the group takes (its `signals` query), as the Web UI lists them. */
export async function groupMessages(client: Client, groupKey: string) {
  return groupHandle(client, groupKey).query(signalsQuery);
}

/** What the group ended with, once no line is left (its workflow's result). */
export async function groupResult(client: Client, groupKey: string): Promise<GroupState> {
  return groupHandle(client, groupKey).result();
}

/** The group's workflow, for its status and result (what it was started with, what it ended with). */
export async function describeGroup(client: Client, groupKey: string) {
  return groupHandle(client, groupKey).describe();
}
