import { isLosslessNumber } from 'lossless-json';
import { addressProblem, emailProblem, type CustomerContact, type PostalAddress } from '../core/contact';

/**
 * A customer's contact as the carrier gives it, read liberally: the email and the postal address
 * under the names carriers use (`Email`, `EmailAddress`, `BillingEmail`…; an `Address`,
 * `PostalAddress` or `BillingAddress` object, or the same fields on the customer itself), any
 * letter case, a postcode as text or number. A value that is not a real email or a bounded
 * address is left out, never fatal: the admin can set one (`tenant set-contact`).
 */
const EMAIL_KEYS = ['email', 'emailaddress', 'contactemail', 'billingemail', 'primaryemail'];
const ADDRESS_KEYS = ['address', 'postaladdress', 'billingaddress', 'mailingaddress'];
const LINE_KEYS = [
  ['addressline1', 'line1', 'street', 'street1', 'streetaddress'],
  ['addressline2', 'line2', 'street2'],
  ['addressline3', 'line3', 'street3'],
  ['addressline4', 'line4', 'street4'],
];
const CITY_KEYS = ['city', 'suburb', 'town', 'locality'];
const REGION_KEYS = ['state', 'region', 'province', 'statecode'];
const POSTCODE_KEYS = ['postcode', 'postalcode', 'zip', 'zipcode'];
const COUNTRY_KEYS = ['country', 'countryname', 'countrycode'];

type Fields = Record<string, unknown>;

function lowerKeys(o: Fields): Fields {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));
}

function textOf(fields: Fields, keys: readonly string[]): string | null {
  for (const k of keys) {
    const v = fields[k];
    const t = typeof v === 'string' ? v.trim() : typeof v === 'number' || isLosslessNumber(v) ? String(v) : '';
    if (t) return t.replace(/\s+/g, ' ');
  }
  return null;
}

function addressOf(fields: Fields): PostalAddress | null {
  const nested = ADDRESS_KEYS.map((k) => fields[k]).find((v) => v !== null && typeof v === 'object');
  const f = nested ? lowerKeys(nested as Fields) : fields;
  const lines = LINE_KEYS.map((keys) => textOf(f, keys)).filter((l): l is string => l !== null);
  if (lines.length === 0) return null;
  const address: PostalAddress = {
    lines,
    city: textOf(f, CITY_KEYS),
    region: textOf(f, REGION_KEYS),
    postalCode: textOf(f, POSTCODE_KEYS),
    country: textOf(f, COUNTRY_KEYS),
  };
  return addressProblem(address) ? null : address;
}

export function carrierCustomerContact(customer: Fields): CustomerContact | null {
  const fields = lowerKeys(customer);
  const email = textOf(fields, EMAIL_KEYS);
  const contact: CustomerContact = {
    email: email && !emailProblem(email) ? email : null,
    address: addressOf(fields),
  };
  return contact.email || contact.address ? contact : null;
}
