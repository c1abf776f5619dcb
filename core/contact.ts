/**
 * A customer's contact on its invoices (Xero's EmailAddress and postal address columns): what
 * the carrier gives for the customer, or what an admin set, which wins field by field (the email,
 * the address as a whole). The checks every way in shares (CLI, console): a real email shape and a
 * bounded address.
 */
export interface PostalAddress {
  /** Street lines, 1 to 4 (Xero's POAddressLine1..4). */
  lines: string[];
  city: string | null;
  region: string | null;
  postalCode: string | null;
  country: string | null;
}

export interface CustomerContact {
  email: string | null;
  address: PostalAddress | null;
}

export const ADDRESS_LINES_MAX = 4;
export const ADDRESS_LINE_MAX = 100;
export const ADDRESS_PART_MAX = 60;
const EMAIL_MAX = 254;

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL = /^[A-Za-z]{2,63}$/;
const POSTCODE = /^[A-Za-z0-9][A-Za-z0-9 -]{1,10}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with an email address, or null when it has a real address's shape. */
export function emailProblem(email: string): string | null {
  const shape = `"${email.length > 80 ? email.slice(0, 80) + '…' : email}" is not an email address (name@example.com.au)`;
  if (email.length > EMAIL_MAX) return `the email is longer than ${EMAIL_MAX} characters`;
  const at = email.lastIndexOf('@');
  if (at <= 0) return shape;
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  if (local.length > 64 || !LOCAL.test(local)) return shape;
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l)) || !TOP_LEVEL.test(labels.at(-1)!)) return shape;
  return null;
}

/** What is wrong with an address (its bounds), or null. */
export function addressProblem(a: PostalAddress): string | null {
  if (a.lines.length === 0) return 'the address needs a street line';
  if (a.lines.length > ADDRESS_LINES_MAX) return `the address has at most ${ADDRESS_LINES_MAX} street lines`;
  const parts: Array<[string, string | null, number]> = [
    ...a.lines.map((l, n): [string, string, number] => [`street line ${n + 1}`, l, ADDRESS_LINE_MAX]),
    ['city', a.city, ADDRESS_PART_MAX],
    ['region', a.region, ADDRESS_PART_MAX],
    ['postcode', a.postalCode, 12],
    ['country', a.country, ADDRESS_PART_MAX],
  ];
  for (const [what, value, max] of parts) {
    if (value === null) continue;
    if (value.trim() === '') return `the address's ${what} is empty`;
    if (value.length > max) return `the address's ${what} is longer than ${max} characters`;
    if (CONTROL.test(value)) return `the address's ${what} holds a control character`;
  }
  if (a.postalCode !== null && !POSTCODE.test(a.postalCode))
    return `the postcode "${a.postalCode}" is not a postcode (letters, digits, spaces)`;
  return null;
}

// "Sydney NSW 2000", "Auckland 1010": the locality, an optional state in capitals, the postcode.
const LOCALITY = /^(.+?)\s+(?:([A-Z]{2,3})\s+)?(\d{4,5})$/;

/**
 * An address as written on an envelope, its parts separated by commas or new lines: street lines,
 * then the locality with its postcode ("Sydney NSW 2000", "Auckland 1010"), then the country if
 * any. Returns the address, or what is wrong with it.
 */
export function parsePostalAddress(text: string): PostalAddress | { problem: string } {
  if (text.length > ADDRESS_LINES_MAX * ADDRESS_LINE_MAX + 4 * ADDRESS_PART_MAX)
    return { problem: 'the address is too long' };
  const parts = text
    .split(/[,\n]/)
    .map((p) => p.trim().replace(/\s+/g, ' '))
    .filter(Boolean);
  let at = -1;
  for (let k = parts.length - 1; k > 0 && at < 0; k--) if (LOCALITY.test(parts[k]!)) at = k;
  if (at < 0)
    return {
      problem:
        'the address needs street lines, then the locality with its postcode, then the country, separated by commas (e.g. "Level 3, 120 Harbour Street, Sydney NSW 2000, Australia")',
    };
  if (parts.length - at > 2) return { problem: `after the locality "${parts[at]}" only the country may follow` };
  const [, city, region, postalCode] = LOCALITY.exec(parts[at]!)!;
  const address: PostalAddress = {
    lines: parts.slice(0, at),
    city: city!,
    region: region ?? null,
    postalCode: postalCode!,
    country: parts[at + 1] ?? null,
  };
  const problem = addressProblem(address);
  return problem ? { problem } : address;
}

/** The address on one line, for people. */
export function addressText(a: PostalAddress | null): string {
  if (!a) return '';
  const locality = [a.city, a.region, a.postalCode].filter(Boolean).join(' ');
  return [...a.lines, locality, a.country].filter(Boolean).join(', ');
}

/** The contact an invoice carries: the admin's email and address where set, else the carrier's. */
export function effectiveContact(carrier: CustomerContact | null, admin: CustomerContact | null): CustomerContact {
  return {
    email: admin?.email ?? carrier?.email ?? null,
    address: admin?.address ?? carrier?.address ?? null,
  };
}

/** Xero's contact columns of a sales invoice row, from a contact (empty where unknown). */
export function xeroContactColumns(c: CustomerContact | null | undefined) {
  const a = c?.address;
  return {
    EmailAddress: c?.email ?? '',
    POAddressLine1: a?.lines[0] ?? '',
    POAddressLine2: a?.lines[1] ?? '',
    POAddressLine3: a?.lines[2] ?? '',
    POAddressLine4: a?.lines[3] ?? '',
    POCity: a?.city ?? '',
    PORegion: a?.region ?? '',
    POPostalCode: a?.postalCode ?? '',
    POCountry: a?.country ?? '',
  };
}
