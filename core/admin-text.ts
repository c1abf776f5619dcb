/**
 * Free text an admin writes (notes, reasons) is kept whole in the audit trail and in workflow
 * history, so it is bounded: a megabyte-long note would bloat a group's history and its page.
 */
export const MAX_ADMIN_TEXT_CHARS = 2000;

/** Why `text` (the admin's `field`) cannot be accepted, or null when it can. */
export function adminTextProblem(field: string, text: string | undefined | null): string | null {
  if (text === undefined || text === null) return null;
  if (text.length > MAX_ADMIN_TEXT_CHARS) {
    return `${field} is ${text.length} characters long; at most ${MAX_ADMIN_TEXT_CHARS} are kept`;
  }
  return null;
}
