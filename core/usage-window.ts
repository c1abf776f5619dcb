/** The dates a usage cycle asks the carrier for (inclusive, YYYY-MM-DD, in the provider's time zone). */
export interface UsageWindow {
  startDate: string;
  endDate: string;
}

/** Today's date as a calendar in `timeZone` shows it. */
export function localDate(now: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

/**
 * The cycle's window in the provider's time zone: from the first day of the month
 * `lookbackMonths` before the current one, to today.
 */
export function usageWindow(now: Date, timeZone: string, lookbackMonths: number): UsageWindow {
  const today = localDate(now, timeZone);
  const [y, m] = today.split('-').map(Number) as [number, number];
  const start = new Date(Date.UTC(y, m - 1 - lookbackMonths, 1));
  return { startDate: start.toISOString().slice(0, 10), endDate: today };
}
