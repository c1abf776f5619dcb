/** A GUID as the carrier writes them (any case): the one pattern; zod schemas use it too. */
export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isGuid(value: unknown): value is string {
  // The length test first: most strings checked (names, dates) are not 36 long. Then GUID_PATTERN
  // by hand: every usage line has three or four GUIDs, and a loop costs a fraction of the regex.
  if (typeof value !== 'string' || value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45 /* - */) return false;
    } else if (!((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102))) return false;
  }
  return true;
}

/** GUIDs compare case-insensitively; this is the one normal form we store and compare. */
export function normalizeGuid(value: string): string {
  return value.toLowerCase();
}

export function sameGuid(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
