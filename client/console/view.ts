/**
 * What the console shows people beyond client/display.ts (amounts and times, shared with the CLI)
 * and core/period.ts ("this month" in a provider's zone): tables in pages, who needs attention,
 * a cycle's progress.
 */
export interface Page {
  page: number;
  pages: number;
  size: number;
  offset: number;
  total: number;
}

export const PAGE_SIZE = 25;

/** The page asked for, clamped to the pages there are (page 1 of 1 when there is nothing). */
export function pageOf(total: number, requested: unknown, size = PAGE_SIZE): Page {
  const pages = Math.max(1, Math.ceil(total / size));
  const n =
    typeof requested === 'string' && /^\d{1,9}$/.test(requested)
      ? Number(requested)
      : typeof requested === 'number'
        ? requested
        : 1;
  const page = Math.min(Math.max(1, Math.trunc(n)), pages);
  return { page, pages, size, offset: (page - 1) * size, total };
}

export interface ProviderHealth {
  status: string;
  attentionReason: string | null;
  lastCycleStatus: string | null;
  lastCycleError: string | null;
  quarantinedLines: number;
}

/** Why a provider needs a person now; empty when it does not. Most urgent first. */
export function attentionReasons(p: ProviderHealth): string[] {
  const reasons: string[] = [];
  if (p.status === 'NEEDS_ATTENTION') reasons.push(p.attentionReason ?? 'marked as needing attention');
  if (p.lastCycleStatus === 'FAILED')
    reasons.push(`last usage cycle failed${p.lastCycleError ? `: ${p.lastCycleError}` : ''}`);
  if (p.quarantinedLines > 0)
    reasons.push(`${p.quarantinedLines} usage line${p.quarantinedLines === 1 ? '' : 's'} in quarantine`);
  return reasons;
}

/** Providers needing attention first (credentials or failures before quarantine), then by name. */
export function byAttention<T extends ProviderHealth & { name: string }>(providers: T[]): T[] {
  const weight = (p: T) =>
    p.status === 'NEEDS_ATTENTION' || p.lastCycleStatus === 'FAILED' ? 0 : p.quarantinedLines > 0 ? 1 : 2;
  return [...providers].sort((a, b) => weight(a) - weight(b) || a.name.localeCompare(b.name));
}

export interface ProgressFacts {
  phase: string;
  linesFetched: number;
  linesMediated: number;
  /** Set by cycles that know their total (the carrier told it, or the pages so far). */
  percent?: number | null;
  expectedLines?: number | null;
}

/** A cycle's progress in percent, or null while it cannot be known (fetching with no total yet). */
export function progressPercent(p: ProgressFacts): number | null {
  if (p.phase === 'completed') return 100;
  if (typeof p.percent === 'number' && Number.isFinite(p.percent))
    return Math.max(0, Math.min(100, Math.round(p.percent)));
  if (p.expectedLines && p.expectedLines > 0)
    return Math.min(99, Math.floor((100 * p.linesMediated) / p.expectedLines));
  if (p.phase === 'mediating' && p.linesFetched > 0)
    return Math.min(99, Math.floor((100 * p.linesMediated) / p.linesFetched));
  if (p.phase === 'notifying') return 99;
  return null;
}
