import { Decimal } from './money';

/**
 * How the console shows things to people: amounts rounded to cents with their currency (the
 * exact 4-place values stay in the database and exports), instants in the provider's time zone
 * with the zone named, and tables in pages.
 */
export function moneyText(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined || amount === '') return `${currency} 0.00`;
  const cents = new Decimal(amount).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
  const [whole, frac] = cents.abs().toFixed(2).split('.') as [string, string];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${currency} ${cents.isNegative() && !cents.isZero() ? '-' : ''}${grouped}.${frac}`;
}

/** "2026-11-26 11:05 AEDT": the provider's wall clock, with the zone's abbreviation. */
export function timeText(at: Date | string | null | undefined, timeZone: string): string {
  if (at === null || at === undefined) return '';
  const date = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(date.getTime())) return String(at);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-AU', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    }).formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** The calendar month (YYYY-MM) an instant falls in, in a time zone: "this month" for a provider. */
export function monthIn(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}`;
}

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
  const n = typeof requested === 'string' && /^\d{1,9}$/.test(requested) ? Number(requested) : typeof requested === 'number' ? requested : 1;
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
  if (p.lastCycleStatus === 'FAILED') reasons.push(`last usage cycle failed${p.lastCycleError ? `: ${p.lastCycleError}` : ''}`);
  if (p.quarantinedLines > 0) reasons.push(`${p.quarantinedLines} usage line${p.quarantinedLines === 1 ? '' : 's'} in quarantine`);
  return reasons;
}

/** Providers needing attention first (credentials or failures before quarantine), then by name. */
export function byAttention<T extends ProviderHealth & { name: string }>(providers: T[]): T[] {
  const weight = (p: T) => (p.status === 'NEEDS_ATTENTION' || p.lastCycleStatus === 'FAILED' ? 0 : p.quarantinedLines > 0 ? 1 : 2);
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
  if (typeof p.percent === 'number' && Number.isFinite(p.percent)) return Math.max(0, Math.min(100, Math.round(p.percent)));
  if (p.expectedLines && p.expectedLines > 0) return Math.min(99, Math.floor((100 * p.linesMediated) / p.expectedLines));
  if (p.phase === 'mediating' && p.linesFetched > 0) return Math.min(99, Math.floor((100 * p.linesMediated) / p.linesFetched));
  if (p.phase === 'notifying') return 99;
  return null;
}
