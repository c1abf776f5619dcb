import { stringify } from 'csv-stringify/sync';

/**
 * Every CSV the system writes goes through here (the billing report, the month's export, Xero's
 * import). A spreadsheet opening it runs any cell that starts with `=`, `+`, `-` or `@` (or a tab
 * or carriage return before one) as a formula: `=HYPERLINK("http://evil/","x")` from a customer's
 * name at the carrier, or from a setting, would become a live link or worse. Such a cell gets a
 * leading single quote, which spreadsheets show as text (OWASP's CSV-injection rule). A number
 * (`-12.50`, a credit) is left as it is, so it stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function neutralizeCell(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : value === null || value === undefined
          ? ''
          : JSON.stringify(value);
  return FORMULA_START.test(text) && !NUMBER.test(text) ? `'${text}` : text;
}

/** Rows as CSV (header first, CRLF line ends), every cell neutralised. */
export function toCsv(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  const safe = rows.map((row) => Object.fromEntries(columns.map((c) => [c, neutralizeCell(row[c])])));
  return stringify(safe, {
    header: true,
    columns: columns.map((c) => ({ key: c, header: neutralizeCell(c) })),
    record_delimiter: '\r\n',
  });
}
