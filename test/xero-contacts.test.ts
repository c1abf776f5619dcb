import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseCsv } from 'csv-parse/sync';
import { LosslessNumber } from 'lossless-json';
import type { TestSystem } from './support/system';
import { startOneProviderSystem, type OneProviderSystem } from './support/one-provider';
import { customerContact } from '../carrier/simulator/dataset';
import { startSimulator } from '../carrier/simulator/server';
import { SHAPE_PROFILES } from '../carrier/simulator/shape';
import { RhipeClient, clearTokenCache } from '../carrier/client';
import { carrierCustomerContact } from '../carrier/contact';
import type { ProviderView } from '../db/providers';

// Xero's contact columns: each customer's email and postal address from the carrier, or from
// `tenant set-contact` (checked first, audited), which wins.
let one: OneProviderSystem;
let sys: TestSystem;
let provider: ProviderView;
let period: string;

before(async () => {
  one = await startOneProviderSystem({ usageRecords: 300, cycleId: 'contacts-1' });
  ({ sys, provider, period } = one);
});
after(() => one?.stop());

const csp = (...args: string[]) => one.csp(...args);
const simProvider = () => sys.sim.dataset.providers[0]!;

async function xeroInvoices(): Promise<Map<string, Record<string, string>>> {
  const r = await csp('billing', 'export', '--provider', provider.id, '--period', period, '--format', 'xero');
  assert.equal(r.code, 0, r.err);
  const rows = parseCsv<Record<string, string>>(r.out, { columns: true });
  // One invoice per customer: its lines all carry the same contact.
  return new Map(rows.map((row) => [row['*ContactName']!, row]));
}

test("the Xero export carries each customer's email and postal address as the carrier gives them", async () => {
  const invoices = await xeroInvoices();
  const [withContact, without] = [simProvider().tenants[0]!, simProvider().tenants[1]!];
  const expected = customerContact(simProvider(), withContact)!;
  const row = invoices.get(withContact.customerName) ?? assert.fail(`no invoice for ${withContact.customerName}`);
  assert.equal(row.EmailAddress, expected.email);
  assert.equal(row.POAddressLine1, expected.lines[0]);
  assert.equal(row.POAddressLine2, expected.lines[1] ?? '');
  assert.deepEqual(
    [row.POCity, row.PORegion, row.POPostalCode, row.POCountry],
    [expected.city, expected.region, expected.postCode, 'Australia'],
  );
  // The carrier lists no contact for this customer: the columns stay empty.
  const bare = invoices.get(without.customerName) ?? assert.fail(`no invoice for ${without.customerName}`);
  assert.equal(customerContact(simProvider(), without), null);
  assert.deepEqual([bare.EmailAddress, bare.POAddressLine1, bare.POCity], ['', '', '']);
  // The admin is told which customers Xero cannot email, by name.
  const r = await csp('billing', 'export', '--provider', provider.id, '--period', period, '--format', 'xero');
  const note =
    /note: (\d+) customer\(s\) have no email address, so Xero cannot email their invoices: (.*); set one/.exec(r.err);
  assert.ok(note, r.err);
  const named = note[2]!.split(', ');
  assert.ok(named.includes(without.customerName), note[2]);
  assert.ok(!named.includes(withContact.customerName), note[2]);
  assert.equal(Number(note[1]), named.length);
});

test('tenant set-contact refuses a bad email or address with the reason, before anything changes', async () => {
  const domain = simProvider().tenants[1]!.domain;
  const refusals: Array<[string[], RegExp]> = [
    [['--email', 'accounts@'], /"accounts@" is not an email address/],
    [['--email', 'accounts at example.com'], /is not an email address/],
    [['--email', 'a@b'], /is not an email address/],
    [['--email', `${'x'.repeat(250)}@example.com`], /longer than 254 characters/],
    [['--address', '12 George Street'], /needs street lines, then the locality with its postcode/],
    [['--address', '1 A St, 2 B St, 3 C St, 4 D St, 5 E St, Sydney NSW 2000'], /at most 4 street lines/],
    [['--address', `${'x'.repeat(120)}, Sydney NSW 2000`], /street line 1 is longer than 100 characters/],
    [['--address', '12 George Street, Sydney NSW 2000, Australia, Earth'], /only the country may follow/],
    [['--clear', '--email', 'a@example.com'], /--clear takes no --email/],
    [[], /give --email, --address or both/],
  ];
  for (const [args, reason] of refusals) {
    const r = await csp('tenant', 'set-contact', domain, ...args, '--by', 'alice');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}${r.out}`);
    assert.match(r.err, reason, args.join(' '));
  }
  const unknown = await csp('tenant', 'set-contact', 'nobody.onmicrosoft.com', '--email', 'a@example.com', '--by', 'a');
  assert.equal(unknown.code, 2);
  const stored = await sys.db.pool.query(`SELECT 1 FROM customer_contact WHERE admin_updated_by IS NOT NULL`);
  assert.equal(stored.rowCount, 0, 'nothing was set');
  const audited = await sys.db.pool.query(`SELECT 1 FROM audit_event WHERE kind = 'contact.set'`);
  assert.equal(audited.rowCount, 0);
});

test("an admin's contact wins over the carrier's in the export, is audited, and --clear restores the carrier's", async () => {
  const [first, second] = [simProvider().tenants[0]!, simProvider().tenants[1]!];
  const set = await csp(
    'tenant',
    'set-contact',
    second.domain,
    '--email',
    'billing@fabrikam.example.com.au',
    '--address',
    'Unit 4, 18 Dock Road, Port Melbourne VIC 3207, Australia',
    '--by',
    'alice',
  );
  assert.equal(set.code, 0, set.err);
  assert.match(set.out, /email: billing@fabrikam\.example\.com\.au \(set by alice\)/);
  assert.match(set.out, /address: Unit 4, 18 Dock Road, Port Melbourne VIC 3207, Australia \(set by alice\)/);
  // Only the email for the first customer: its address stays the carrier's.
  const emailOnly = await csp(
    'tenant',
    'set-contact',
    first.domain,
    '--email',
    'ap@contoso.example.com',
    '--by',
    'bob',
  );
  assert.equal(emailOnly.code, 0, emailOnly.err);
  assert.match(emailOnly.out, /address: .* \(carrier\)/);

  let invoices = await xeroInvoices();
  const b = invoices.get(second.customerName)!;
  assert.deepEqual(
    [b.EmailAddress, b.POAddressLine1, b.POAddressLine2, b.POCity, b.PORegion, b.POPostalCode, b.POCountry],
    ['billing@fabrikam.example.com.au', 'Unit 4', '18 Dock Road', 'Port Melbourne', 'VIC', '3207', 'Australia'],
  );
  const a = invoices.get(first.customerName)!;
  const carrier = customerContact(simProvider(), first)!;
  assert.deepEqual([a.EmailAddress, a.POCity], ['ap@contoso.example.com', carrier.city]);

  const shown = await csp('tenant', 'show', second.domain);
  assert.match(shown.out, /invoice contact:\n\s+email: billing@fabrikam\.example\.com\.au \(set by alice\)/);
  const audit = await sys.db.pool.query<{ actor: string; new_value: { email: string } }>(
    `SELECT actor, new_value FROM audit_event WHERE kind = 'contact.set' ORDER BY id`,
  );
  assert.deepEqual(
    audit.rows.map((r) => [r.actor, r.new_value.email]),
    [
      ['alice', 'billing@fabrikam.example.com.au'],
      ['bob', 'ap@contoso.example.com'],
    ],
  );

  const cleared = await csp('tenant', 'set-contact', first.domain, '--clear', '--by', 'bob');
  assert.equal(cleared.code, 0, cleared.err);
  invoices = await xeroInvoices();
  assert.equal(invoices.get(first.customerName)!.EmailAddress, carrier.email);
});

test('tenant show prints the licences as a table (--json unchanged)', async () => {
  const t = simProvider().tenants[0]!;
  const text = await csp('tenant', 'show', t.domain);
  assert.equal(text.code, 0, text.err);
  const table = text.out.slice(text.out.indexOf('licences:\n'));
  assert.match(
    table,
    /^licences:\nproduct\s+productId\s+quantity\s+status\s+billingCycle\s+subscription\s+addOnOf\n-+/,
  );
  assert.doesNotMatch(text.out, /\{"subscriptionId"/, 'no raw JSON');
  const json = JSON.parse((await csp('tenant', 'show', t.domain, '--json')).out) as {
    licences: Array<{ subscriptionId: string; productName: string }>;
  };
  assert.ok(json.licences.length > 0);
  const line = (name: string, id: string) => table.split('\n').some((row) => row.startsWith(name) && row.includes(id));
  for (const l of json.licences)
    assert.ok(line(l.productName, l.subscriptionId), `${l.productName} ${l.subscriptionId}`);
});

test("the carrier's contact is read liberally: either dialect's names, nested or flat; a bad value is left out", () => {
  assert.deepEqual(
    carrierCustomerContact({
      Email: 'accounts@contoso.com.au',
      Address: {
        AddressLine1: '1 George Street',
        City: 'Sydney',
        State: 'NSW',
        PostCode: '2000',
        Country: 'Australia',
      },
    }),
    {
      email: 'accounts@contoso.com.au',
      address: { lines: ['1 George Street'], city: 'Sydney', region: 'NSW', postalCode: '2000', country: 'Australia' },
    },
  );
  assert.deepEqual(
    carrierCustomerContact({
      emailAddress: ' ap@kiwi.co.nz ',
      addressLine1: 'Level 2',
      ADDRESSLINE2: '5 Queen Street',
      Suburb: 'Auckland',
      Region: null,
      PostalCode: new LosslessNumber('1010'),
      CountryName: 'New Zealand',
    }),
    {
      email: 'ap@kiwi.co.nz',
      address: {
        lines: ['Level 2', '5 Queen Street'],
        city: 'Auckland',
        region: null,
        postalCode: '1010',
        country: 'New Zealand',
      },
    },
  );
  assert.equal(carrierCustomerContact({ Email: 'not an email', Address: null }), null);
  assert.deepEqual(carrierCustomerContact({ Email: 'a@b.com.au', Address: { City: 'Sydney' } }), {
    email: 'a@b.com.au',
    address: null,
  });
});

test("the client reads each customer's contact from either dialect of the carrier", async () => {
  for (const shape of SHAPE_PROFILES) {
    clearTokenCache();
    const sim = await startSimulator({ usageRecords: 10, shape });
    try {
      const p = sim.dataset.providers[1]!;
      const client = new RhipeClient(
        { identityUrl: sim.url, apiUrl: sim.url, timeoutMs: 5000 },
        { clientId: p.clientId, clientSecret: p.clientSecret },
      );
      const customers = await client.listCustomers();
      for (const t of p.tenants) {
        const listed = customers.find((c) => c.CustomerName === t.customerName) ?? assert.fail(t.customerName);
        const expected = customerContact(p, t);
        assert.deepEqual(
          carrierCustomerContact(listed),
          expected && {
            email: expected.email,
            address: {
              lines: expected.lines,
              city: expected.city,
              region: expected.region,
              postalCode: expected.postCode,
              country: expected.country,
            },
          },
          `${shape}: ${t.customerName}`,
        );
      }
    } finally {
      await sim.close();
    }
  }
});
