import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressText, effectiveContact, emailProblem, parsePostalAddress, xeroContactColumns } from './contact';

test('an email must have a real shape', () => {
  for (const ok of ['accounts@contoso.com.au', 'a.b+c@x-y.co.nz', "o'brien@example.org"])
    assert.equal(emailProblem(ok), null, ok);
  for (const bad of [
    '',
    'a',
    'a@',
    '@b.com',
    'a@b',
    'a@b.c',
    'a b@c.com',
    'a@-b.com',
    'a..b@c.com',
    'a@b.com.',
    '=1+1@x.com@',
  ])
    assert.ok(emailProblem(bad), bad);
});

test('an address as written on an envelope: street lines, locality with postcode, country', () => {
  assert.deepEqual(parsePostalAddress('Level 3, 120 Harbour Street, Sydney NSW 2000, Australia'), {
    lines: ['Level 3', '120 Harbour Street'],
    city: 'Sydney',
    region: 'NSW',
    postalCode: '2000',
    country: 'Australia',
  });
  assert.deepEqual(parsePostalAddress('5 Queen Street\nWellington Central 6011'), {
    lines: ['5 Queen Street'],
    city: 'Wellington Central',
    region: null,
    postalCode: '6011',
    country: null,
  });
  assert.match(
    (parsePostalAddress('Sydney NSW 2000') as { problem: string }).problem,
    /street lines, then the locality/,
  );
  assert.equal(addressText(parsePostalAddress('1 A St,  Perth  WA 6000') as never), '1 A St, Perth WA 6000');
});

test("the admin's email and address win, each on its own; Xero's columns from the contact", () => {
  const carrier = {
    email: 'c@x.com.au',
    address: { lines: ['1 A St'], city: 'Perth', region: 'WA', postalCode: '6000', country: null },
  };
  const c = effectiveContact(carrier, { email: 'admin@x.com.au', address: null });
  assert.deepEqual(c, { email: 'admin@x.com.au', address: carrier.address });
  assert.deepEqual(xeroContactColumns(c), {
    EmailAddress: 'admin@x.com.au',
    POAddressLine1: '1 A St',
    POAddressLine2: '',
    POAddressLine3: '',
    POAddressLine4: '',
    POCity: 'Perth',
    PORegion: 'WA',
    POPostalCode: '6000',
    POCountry: '',
  });
  assert.equal(xeroContactColumns(null).EmailAddress, '');
});
