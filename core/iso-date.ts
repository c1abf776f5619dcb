import { memoByText } from '../lib/memo';

/**
 * ISO 8601 date-times as the carrier sends them: always with an offset, up to 7 fraction digits
 * (.NET ticks). We keep the exact instant (as epoch milliseconds plus the sub-millisecond digits)
 * and the calendar date as written, which is what billing periods and cancellation use.
 */
export interface CarrierInstant {
  /** The text exactly as received. */
  text: string;
  /** Calendar date as written in the record, in its own offset: YYYY-MM-DD. */
  localDate: string;
  /** For ordering: epoch milliseconds and the remaining fraction digits (padded to 7 - 3 = 4). */
  epochMs: number;
  subMs: number;
}

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)$/;

export function parseCarrierInstant(text: unknown): CarrierInstant | null {
  return typeof text === 'string' ? parseInstantText(text) : null;
}

// Usage lines repeat the same few dates: each is parsed once (the result is never modified).
const parseInstantText = memoByText(parseInstantOnce, 10_000);

function parseInstantOnce(text: string): CarrierInstant | null {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '00', frac = '', offset = 'Z'] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && (minute > 0 || second > 0 || /[1-9]/.test(frac))))
    return null;
  let offsetMinutes = 0;
  if (offset !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 18 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  const fraction = (frac + '000000000').slice(0, 9);
  const ms = Number(fraction.slice(0, 3));
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms) - offsetMinutes * 60_000;
  return { text, localDate: `${y}-${mo}-${d}`, epochMs, subMs: Number(fraction.slice(3)) };
}

export function compareInstants(a: CarrierInstant, b: CarrierInstant): number {
  return a.epochMs - b.epochMs || a.subMs - b.subMs;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date (YYYY-MM-DD) such as a service's cancelledOn; null when not a real date. */
export function parsePlainDate(text: unknown): string | null {
  return plainDateProblem(text) === null ? (text as string) : null;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Why a text is not a calendar date (YYYY-MM-DD), or null when it is one. The pattern alone lets
 * 2026-02-30 and 2026-13-01 through; PostgreSQL would then refuse them deep inside an activity.
 */
export function plainDateProblem(text: unknown): string | null {
  if (typeof text !== 'string' || !PLAIN_DATE.test(text)) return `"${String(text)}" is not a date written YYYY-MM-DD`;
  const [, y, m, d] = PLAIN_DATE.exec(text)!;
  const year = Number(y),
    month = Number(m),
    day = Number(d);
  if (year < 1) return `${text} is not a calendar date: there is no year 0`;
  if (month < 1 || month > 12) return `${text} is not a calendar date: month ${m} does not exist`;
  const days = daysInMonth(year, month);
  if (day < 1 || day > days) return `${text} is not a calendar date: ${MONTHS[month - 1]} ${year} has ${days} days`;
  return null;
}

/** Throws with plainDateProblem's message: for validators that report by throwing. */
export function requirePlainDate(text: unknown, what: string): string {
  const problem = plainDateProblem(text);
  if (problem) throw new Error(`${what}: ${problem}`);
  return text as string;
}
