/**
 * Which summary a quarantine group shows, and when it must read its lines again. Two sources:
 * its own reads (loadGroupSummary), and summaries a cycle sends with new lines. Each summary is
 * stamped by the database (`asOf`, fixed-width UTC text, so text order is time order).
 */
export interface StampedSummary {
  groupKey: string;
  lines: number;
  asOf?: string;
}

/** What a group holds: its summary, and whether it must read its lines before it may complete. */
export interface SummaryHeld<S extends StampedSummary> {
  summary: S | null;
  readDue: boolean;
}

/** Whether `a` was read after `b`; an unstamped summary is never newer or older than another. */
export function isNewer(a: StampedSummary, b: StampedSummary): boolean {
  return a.asOf !== undefined && b.asOf !== undefined && a.asOf > b.asOf;
}

/**
 * New lines reached the group, with the sender's summary or not. A usable summary (this group's,
 * with lines) spares a read when the group has none yet, or replaces the one held when read later;
 * anything else makes the group read its lines again.
 */
export function afterLinesAdded<S extends StampedSummary>(
  held: SummaryHeld<S>,
  groupKey: string,
  sent: S | undefined,
): SummaryHeld<S> {
  const usable = sent && sent.groupKey === groupKey && sent.lines > 0 ? sent : undefined;
  if (!usable) return { summary: held.summary, readDue: true };
  if (held.summary === null) return { summary: usable, readDue: false };
  // A read due anyway settles it; two summaries that cannot be compared are settled by one too.
  if (held.readDue || usable.asOf === undefined || held.summary.asOf === undefined)
    return { summary: held.summary, readDue: true };
  return { summary: isNewer(usable, held.summary) ? usable : held.summary, readDue: false };
}

/**
 * The group read its lines. A read counts every line told before it was scheduled, so it is the
 * truth unless lines were told while it was under way: then a summary sent with them and read
 * later is kept for showing, and a zero is read again before the group may complete (completion
 * never rests on comparing stamps).
 */
export function afterRead<S extends StampedSummary>(
  held: SummaryHeld<S>,
  read: S,
  linesToldDuringRead: boolean,
): SummaryHeld<S> {
  const keepHeld = held.summary !== null && linesToldDuringRead && isNewer(held.summary, read);
  return {
    summary: keepHeld ? held.summary : read,
    readDue: held.readDue || (read.lines === 0 && linesToldDuringRead),
  };
}
