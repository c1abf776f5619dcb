import { Decimal } from '../core/money';

/**
 * How amounts and times read for people (CLI listings, the Web UI's summaries). Exact values stay
 * in --json, exports and the database; these are for reading only.
 */

/** 2 decimals (half away from zero), thousands separated, with the currency code: "1,234.57 AUD". */
export function displayMoney(value: string | Decimal | null | undefined, currency: string): string {
  const d = new Decimal(value === null || value === undefined || value === '' ? 0 : value).toDecimalPlaces(
    2,
    Decimal.ROUND_HALF_UP,
  );
  const [whole, fraction] = d.abs().toFixed(2).split('.') as [string, string];
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${d.isNegative() && !d.isZero() ? '-' : ''}${grouped}.${fraction} ${currency}`;
}

/** A moment in a provider's time zone, with the zone shown: "2026-11-26 06:00 AEDT". */
export function displayTime(at: Date | string | null | undefined, timeZone: string): string {
  if (at === null || at === undefined || at === '') return '';
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-AU', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** Schedule calendar entries as the admin set them: "06:00, 18:00 (Australia/Sydney)". */
export function displayCycleTimes(
  calendars: Array<{ hour?: unknown; minute?: unknown }>,
  timeZone: string | undefined,
): string {
  const hhmm = (v: unknown): number[] => {
    // The client describes each field as a list of ranges ({ start, end, step }); a created spec as plain numbers.
    if (typeof v === 'number') return [v];
    if (Array.isArray(v)) {
      return v.flatMap((r: { start?: number; end?: number; step?: number } | number) => {
        if (typeof r === 'number') return [r];
        const start = r.start ?? 0,
          end = r.end ?? start,
          step = r.step || 1;
        const out: number[] = [];
        for (let x = start; x <= end; x += step) out.push(x);
        return out;
      });
    }
    return [0];
  };
  const times = calendars.flatMap((c) =>
    hhmm(c.hour).flatMap((h) =>
      hhmm(c.minute).map((m) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
    ),
  );
  return `${[...new Set(times)].sort().join(', ')}${timeZone ? ` (${timeZone})` : ''}`;
}

/**
 * The currency a quarantined group's carrier amounts are in: the provider's, unless its records
 * carry another (CURRENCY_MISMATCH lines are in theirs); several different ones cannot be summed
 * under one label.
 */
export function amountsCurrency(
  providerCurrency: string,
  recordCurrencies: ReadonlyArray<string | null | undefined> = [],
): string {
  const distinct = [...new Set(recordCurrencies.filter((c): c is string => !!c).map((c) => c.toUpperCase()))];
  if (distinct.length === 0) return providerCurrency;
  return distinct.length === 1 ? distinct[0]! : `in ${distinct.sort().join(' and ')} together`;
}
