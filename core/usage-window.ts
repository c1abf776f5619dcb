import { daysInMonth, plainDateProblem } from './iso-date';

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
 * `lookbackMonths` before the current one, to the last day of the current month. The carrier
 * dates a licence line by its charge period, which runs to the month's end: a window ending
 * today would leave lines dated later this month for the next day's cycle.
 */
export function usageWindow(now: Date, timeZone: string, lookbackMonths: number): UsageWindow {
  const today = localDate(now, timeZone);
  const [y, m] = today.split('-').map(Number) as [number, number];
  const start = new Date(Date.UTC(y, m - 1 - lookbackMonths, 1));
  const end = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(daysInMonth(y, m)).padStart(2, '0')}`;
  return { startDate: start.toISOString().slice(0, 10), endDate: end };
}

/** An admin's explicit window (`--from`/`--to`): real calendar dates, the start not after the end. */
export function explicitWindow(from: string, to: string): UsageWindow {
  const problem = plainDateProblem(from) ?? plainDateProblem(to);
  if (problem) throw new Error(`--from/--to: ${problem}`);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}`);
  return { startDate: from, endDate: to };
}
