/** Stable workflow and schedule ids: admins type these, so they read as what they are. */
export const usageScheduleId = (providerId: string) => `usage-cycle-schedule:${providerId}`;
export const usageCycleWorkflowId = (providerId: string) => `usage-cycle:${providerId}`;
export const onboardingWorkflowId = (providerId: string) => `onboarding:${providerId}`;
export const tenantWorkflowId = (providerId: string, tenantId: string) => `tenant:${providerId}:${tenantId.toLowerCase()}`;

/** A quarantine group is provider + reason + tenant identifier; its key and workflow id say so. */
export function groupWorkflowId(groupKey: string): string {
  return `quarantine:${groupKey.split('|').join(':')}`;
}

export function parseGroupKey(groupKey: string): { providerId: string; reason: string; tenantRef: string } {
  const [providerId, reason, ...rest] = groupKey.split('|');
  if (!providerId || !reason || rest.length === 0) throw new Error(`"${groupKey}" is not a quarantine group key (provider|reason|tenant)`);
  return { providerId, reason, tenantRef: rest.join('|') };
}

export function groupKeyFromWorkflowId(workflowId: string): string {
  if (!workflowId.startsWith('quarantine:')) throw new Error(`"${workflowId}" is not a quarantine group workflow id`);
  return workflowId.slice('quarantine:'.length).split(':').join('|');
}
