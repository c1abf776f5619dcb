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
