import { displayTime } from './display';

const timeText = (at: Date, timeZone: string | undefined) => (timeZone ? displayTime(at, timeZone) : at.toISOString());

/** Widest a free-text column is printed (ids and group keys are never cut). */
const FREE_TEXT_WIDTH = 80;

/**
 * Listings print as an aligned table, or with --json as one JSON document on stdout. With a time
 * zone, times print in it as people read them ("2026-11-26 06:00 AEDT"); --json keeps ISO.
 */
export function printRows(
  rows: Array<Record<string, unknown>>,
  json: boolean,
  columns?: string[],
  timeZone?: string,
): void {
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cols = columns ?? Object.keys(rows[0]!);
  const text = (v: unknown) =>
    v === null || v === undefined
      ? ''
      : v instanceof Date
        ? timeText(v, timeZone)
        : typeof v === 'object'
          ? JSON.stringify(v)
          : `${v as string | number | boolean}`;
  // Ids are never cut (admins copy them); free text is, at 80 characters (a reason with a GUID in
  // it fits), and a cut cell ends in "…" so nobody copies a shortened GUID as if it were whole.
  const widths = cols.map((c) =>
    Math.min(
      c === 'group' || c === 'id' ? 200 : FREE_TEXT_WIDTH,
      Math.max(c.length, ...rows.map((r) => text(r[c]).length)),
    ),
  );
  let cut = false;
  const fit = (c: string, width: number) => {
    if (c.length <= width) return c.padEnd(width);
    cut = true;
    return `${c.slice(0, width - 1)}…`;
  };
  const line = (cells: string[]) =>
    cells
      .map((c, i) => fit(c, widths[i]!))
      .join('  ')
      .trimEnd();
  const body = [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => text(r[c])))),
  ];
  if (cut) body.push('(a cell ending in … is cut; --json has it whole)');
  process.stdout.write(body.join('\n') + '\n');
}

/** Widest a value of a single object's view is printed (a carrier's name or an admin's note, whole in --json). */
const OBJECT_TEXT_WIDTH = 200;

export function printObject(value: unknown, json: boolean, timeZone?: string): void {
  if (json) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  let cut = false;
  const shown = (x: unknown) => {
    const text = x instanceof Date ? timeText(x, timeZone) : String(x);
    if (text.length <= OBJECT_TEXT_WIDTH) return text;
    cut = true;
    return `${text.slice(0, OBJECT_TEXT_WIDTH - 1)}…`;
  };
  const walk = (v: unknown, indent: string): string =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
      ? Object.entries(v as Record<string, unknown>)
          .map(([k, x]) =>
            x && typeof x === 'object' && !(x instanceof Date)
              ? `${indent}${k}:\n${walk(x, indent + '  ')}`
              : `${indent}${k}: ${shown(x)}`,
          )
          .join('\n')
      : Array.isArray(v)
        ? v.map((x) => `${indent}- ${typeof x === 'object' ? JSON.stringify(x) : shown(x)}`).join('\n')
        : `${indent}${shown(v)}`;
  const text = walk(value, '');
  process.stdout.write(text + '\n' + (cut ? '(a value ending in … is cut; --json has it whole)\n' : ''));
}
