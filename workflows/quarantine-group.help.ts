/**
 * What the Web UI shows on a quarantine group's page: the signals an admin can send (Temporal
 * accepts a misspelled signal name silently, so they are listed here, by the `signals` query and
 * on the page), the static details, and the current details the workflow keeps up to date.
 * Workflow-safe: used by the workflow and by quarantine-group.api.ts.
 */
import type { ActionOutcome, GroupSummary, QuarantineGroupInput, SignalHelp } from './quarantine-group.messages';

export const GROUP_SIGNALS: readonly SignalHelp[] = [
  {
    name: 'allocate',
    does: 'bill the lines to a service of the same provider',
    example: { serviceId: 'S-1001', by: 'alice', note: 'new tenant of the customer' },
  },
  {
    name: 'cleanse',
    does: 'process the lines again after the cause was fixed',
    example: { by: 'alice', note: 'rate added' },
  },
  {
    name: 'writeOff',
    does: 'never bill the lines (a reason is required)',
    example: { by: 'alice', reason: 'billed by the NZ entity' },
  },
  {
    name: 'acceptRevision',
    does: 'DUPLICATE_USAGE only: credit the billed version, charge the revision',
    example: { by: 'alice' },
  },
];

export const GROUP_QUERIES = ['state', 'signals'];
export const GROUP_UPDATE = 'resolve';

/** The signal list as the Web UI shows it (markdown). */
export function signalsHelp(): string {
  return [
    'Signals ("Send signal"; the name must be exact, a misspelled one is accepted and ignored):',
    ...GROUP_SIGNALS.map((x) => `- \`${x.name}\` ${JSON.stringify(x.example)}: ${x.does}`),
    `Queries: ${GROUP_QUERIES.map((q) => `\`${q}\``).join(', ')}. The csp CLI uses the \`${GROUP_UPDATE}\` Update.`,
  ].join('\n');
}

/** The static details of a group's page (set when it starts). */
export function groupStaticDetails(providerId: string, reason: string, tenantRef: string, carrier: string): string {
  return `Usage lines of provider ${providerId} that could not be billed (${reason}), for tenant ${tenantRef}, carrier ${carrier}. They stay in the database; this workflow waits for an admin to resolve them.\n\n${signalsHelp()}`;
}

/** The current details: what the group holds now, its last action, and what to send it. */
export function groupCurrentDetails(
  input: QuarantineGroupInput,
  summary: GroupSummary | null,
  last: ActionOutcome | undefined,
): string {
  return [
    summary?.details ?? `${input.reason} · tenant ${input.tenantRef} · provider ${input.providerId}`,
    last
      ? `Last action: ${last.action} by ${last.by}, ${last.outcome}${last.rejection ? ` (${last.rejection})` : ''}`
      : 'No action yet.',
    '',
    signalsHelp(),
  ].join('\n');
}
