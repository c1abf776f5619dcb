import { adminTextProblem, MAX_ADMIN_TEXT_CHARS } from './admin-text';

/** What an admin can do with a quarantine group's lines. */
export const QUARANTINE_ACTIONS = ['allocate', 'cleanse', 'writeOff', 'acceptRevision'] as const;
export type QuarantineAction = (typeof QUARANTINE_ACTIONS)[number];

/** An admin's request as it arrives (a signal's payload is whatever the sender typed). */
interface RequestFields {
  action?: unknown;
  by?: unknown;
  serviceId?: unknown;
  reason?: unknown;
  note?: unknown;
}

function actionProblem(req: RequestFields | undefined): string | null {
  if (!req || typeof req !== 'object') return 'request must be an object';
  if (!(QUARANTINE_ACTIONS as readonly unknown[]).includes(req.action)) return `unknown action "${String(req.action)}"`;
  return null;
}

/** A note or reason over the cap for admin text. */
export function adminTextOf(req: RequestFields): string | null {
  const text = (field: 'note' | 'reason') => (typeof req[field] === 'string' ? req[field] : undefined);
  return adminTextProblem('note', text('note')) ?? adminTextProblem('reason', text('reason'));
}

/**
 * What a group's `resolve` Update refuses outright (a refused Update leaves no trace, so only what
 * could not be recorded, or should not be: an unknown action, text over the cap).
 */
export function unrecordableProblem(req: RequestFields | undefined): string | null {
  return actionProblem(req) ?? adminTextOf(req!);
}

/** Why a request is rejected (recorded in the audit trail as REJECTED), from what needs no I/O; null when none. */
export function requestProblem(req: RequestFields | undefined): string | null {
  if (!req || typeof req !== 'object') return 'request must be an object';
  if (typeof req.by !== 'string' || req.by.trim() === '') return 'by (the admin taking the action) is required';
  if (req.action === 'allocate' && (typeof req.serviceId !== 'string' || req.serviceId.trim() === ''))
    return 'allocate needs a serviceId';
  if (req.action === 'writeOff' && (typeof req.reason !== 'string' || req.reason.trim() === ''))
    return 'a write-off needs a reason';
  return actionProblem(req) ?? adminTextOf(req);
}

/** The request with its note and reason cut to the cap: what a group keeps of an over-long one. */
export function withAdminTextCut<R extends RequestFields>(req: R): R {
  const cut = (text: unknown) =>
    typeof text === 'string' && text.length > MAX_ADMIN_TEXT_CHARS ? text.slice(0, MAX_ADMIN_TEXT_CHARS) : text;
  return {
    ...req,
    ...('note' in req ? { note: cut(req.note) } : {}),
    ...('reason' in req ? { reason: cut(req.reason) } : {}),
  };
}

/**
 * A request id names one action in its group: sent again with the same action it is a retry (and
 * acts once), with another action it is a mistake, refused with why (it would otherwise look like
 * the earlier action's outcome). `earlier` is what the group has seen.
 */
export function requestIdReuseProblem(
  req: { requestId?: unknown; action?: unknown } | undefined,
  earlier: Iterable<{ requestId?: string; action: string }>,
): string | null {
  if (!req || typeof req.requestId !== 'string' || req.requestId === '') return null;
  for (const e of earlier)
    if (e.requestId === req.requestId && e.action !== req.action)
      return `request id "${req.requestId}" was already used in this group for ${e.action}: send the ${String(req.action)} with a new request id`;
  return null;
}
