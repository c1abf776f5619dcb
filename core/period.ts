/** Billing periods are calendar months, written YYYY-MM. Pure date arithmetic, no time zones. */
const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function isPeriod(value: unknown): value is string {
  return typeof value === 'string' && PERIOD.test(value);
}

/** The period, or an error that says what a period looks like. */
export function parsePeriod(value: string): string {
  if (!isPeriod(value)) throw new Error(`"${String(value)}" is not a billing period: use YYYY-MM, e.g. 2026-10`);
  return value;
}

export function addMonths(period: string, months: number): string {
  const [y, m] = parsePeriod(period).split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + months, 1));
  return d.toISOString().slice(0, 7);
}

/** YYYY-MM-DD of the period's last day. */
export function lastDayOf(period: string): string {
  const [y, m] = parsePeriod(period).split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) throw new Error(`"${isoDate}" is not a date`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * The month before the one a timestamp falls in, on the provider's calendar (`timeZone`, UTC when
 * absent): the month an invoice issued now covers. 09:00 on the 1st in Sydney is still the last
 * day of the month before in UTC.
 */
export function previousPeriodOf(date: Date, timeZone?: string): string {
  return addMonths(timeZone === undefined ? date.toISOString().slice(0, 7) : monthIn(date, timeZone), -1);
}

/** The calendar month (YYYY-MM) an instant falls in, in a time zone: "this month" for a provider. */
export function monthIn(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}`;
}
