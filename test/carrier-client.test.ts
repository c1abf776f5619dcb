import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RhipeClient, clearTokenCache } from '../carrier/client';
import { CarrierError } from '../carrier/errors';
import { startSimulator, type Simulator } from '../carrier/simulator/server';
import { SHAPE_PROFILES, numericIdFor, type ShapeProfile } from '../carrier/simulator/shape';
import { CapturedLogs } from './support/system';

/**
 * The carrier contract, against both dialects of the simulator (shape.ts): every test runs against
 * the documented shape and against numeric identifiers, nulls and reordered fields.
 */
for (const profile of SHAPE_PROFILES) describe(`carrier contract, ${profile} shape`, () => contract(profile));

function contract(profile: ShapeProfile): void {
  let sim: Simulator;
  let client: RhipeClient;
  let secret: string;
  const window = { startDate: '2026-10-01', endDate: '2026-11-30' };

  before(async () => {
    sim = await startSimulator({ usageRecords: 230, usageMonth: '2026-11', tokenTtlSeconds: 3600, shape: profile });
    const p = sim.dataset.providers[0]!;
    secret = p.clientSecret;
    client = new RhipeClient(
      { identityUrl: sim.url, apiUrl: sim.url, timeoutMs: 1500 },
      { clientId: p.clientId, clientSecret: p.clientSecret },
    );
  });
  after(() => sim.close());
  beforeEach(() => {
    clearTokenCache();
    sim.faults.clear();
  });

  async function collect(fromPage = 1, pageSize = 50, fingerprint?: string) {
    const records: unknown[] = [];
    let last = { page: fromPage - 1, fingerprint };
    for await (const page of client.usagePages(window, pageSize, fromPage, fingerprint)) {
      records.push(...page.records);
      last = { page: page.page, fingerprint: page.fingerprint };
    }
    return { records, last };
  }

  const ids = (records: unknown[]) => records.map((r) => (r as { RecordId: string }).RecordId);
  /** Every line the simulator serves for provider 0, from its own data (orders add lines). */
  const expectedIds = () => {
    const p = sim.dataset.providers[0]!;
    return Array.from(
      { length: p.usageRecords + p.extraLines.length },
      (_, i) => JSON.parse(sim.dataset.usageLineJson(0, i)).RecordId as string,
    );
  };

  test('token: fetched once and reused until shortly before expiry', async () => {
    const before = sim.stats.tokensIssued;
    await client.listCustomers();
    await client.listCustomers();
    await client.getTenant(sim.dataset.providers[0]!.tenants[0]!.tenantId);
    assert.equal(sim.stats.tokensIssued - before, 1);
  });

  test('token: expiry mid-paging gets one refresh and the paging completes', async () => {
    const before = sim.stats.tokensIssued;
    sim.faults.add({ endpoint: 'usage', kind: 'expireToken', afterCalls: 2 });
    const { records } = await collect();
    assert.deepEqual(ids(records), expectedIds());
    assert.equal(sim.stats.tokensIssued - before, 2);
  });

  test('token: a short-lived token is refreshed before it expires', async () => {
    const shortSim = await startSimulator({ usageRecords: 10, tokenTtlSeconds: 30, shape: profile });
    try {
      const p = shortSim.dataset.providers[0]!;
      const c = new RhipeClient(
        { identityUrl: shortSim.url, apiUrl: shortSim.url, timeoutMs: 1500 },
        { clientId: p.clientId, clientSecret: p.clientSecret },
      );
      await c.listCustomers();
      await c.listCustomers();
      // 30 s lifetime is inside the 60 s safety margin: every call asks for a fresh one.
      assert.equal(shortSim.stats.tokensIssued, 2);
    } finally {
      await shortSim.close();
    }
  });

  test('token: wrong credentials are INVALID_CLIENT, not retryable, and name no secret', async () => {
    const bad = new RhipeClient(
      { identityUrl: sim.url, apiUrl: sim.url, timeoutMs: 1500 },
      { clientId: sim.dataset.providers[0]!.clientId, clientSecret: '0'.repeat(32) },
    );
    await assert.rejects(
      bad.listCustomers(),
      (e: CarrierError) => e.code === 'INVALID_CLIENT' && !e.retryable && !e.message.includes('0'.repeat(32)),
    );
  });

  test('every endpoint: customers, tenants, tenant, price list, orders, quantity, usage, invoices, invoice CSV', async () => {
    const p = sim.dataset.providers[0]!;
    const customers = await client.listCustomers();
    const withAgreements = customers.filter((c) => c.CustomerProgramAgreements.length > 0);
    assert.equal(withAgreements.length, p.tenants.length);
    const tenantId = withAgreements[0]!.CustomerProgramAgreements[0]!.Id;
    const contractId = withAgreements[0]!.CustomerProgramAgreements[0]!.ContractAgreementId!;
    const tenants = await client.listTenants(contractId);
    assert.equal(tenants.length, p.tenants.length);
    const tenant = await client.getTenant(tenantId);
    assert.equal(tenant.TenantId, tenantId);
    assert.ok(tenant.Subscriptions.length >= 2);
    const prices = await client.getPriceList(contractId, new Date());
    const product = prices.ProductGroups[0]!.Products[0]!;
    assert.equal(product.UnitPrice.value, sim.dataset.products[0]!.cost);
    const order = await client.placeOrder({
      tenantId,
      orderBillingCycle: 'Monthly',
      products: [{ productId: product.ProductId, qty: 3 }],
      clientReference: 'order-1',
    });
    assert.equal(order.Subscriptions[0]!.Quantity, 3);
    const again = await client.placeOrder({
      tenantId,
      orderBillingCycle: 'Monthly',
      products: [{ productId: product.ProductId, qty: 3 }],
      clientReference: 'order-1',
    });
    assert.equal(
      again.Subscriptions[0]!.SubscriptionId,
      order.Subscriptions[0]!.SubscriptionId,
      'a retried order is recognised',
    );
    const changed = await client.setSubscriptionQuantity(order.Subscriptions[0]!.SubscriptionId, 5);
    assert.equal(changed.Quantity, 5);
    assert.equal(
      (await client.getTenant(tenantId)).Subscriptions.find((s) => s.SubscriptionId === changed.SubscriptionId)!
        .Quantity,
      5,
    );
    await assert.rejects(
      client.setSubscriptionQuantity(changed.SubscriptionId, 100000),
      (e: CarrierError) => e.code === 'BAD_REQUEST' && !e.retryable,
    );
    const invoices = await client.listInvoices();
    assert.ok(invoices.length > 0);
    const csv = await client.getInvoiceCsv(invoices[0]!.InvoiceId);
    assert.ok(csv.length > 0 && 'RecordId' in csv[0]!);
    await assert.rejects(
      client.getTenant('99999999-9999-4999-8999-999999999999'),
      (e: CarrierError) => e.code === 'NOT_FOUND' && !e.retryable,
    );
  });

  test('identifiers are text with every digit; nulls, empty lists and unknown fields are tolerated', async () => {
    const p = sim.dataset.providers[0]!;
    const t = p.tenants[0]!;
    const wire = (id: string) => (profile === 'numeric' ? numericIdFor(id) : id);
    const customers = await client.listCustomers();
    const customer = customers.find((c) => c.CustomerProgramAgreements[0]?.Id === t.tenantId)!;
    assert.equal(customer.CustomerId, wire(t.customerId));
    assert.equal(customer.CustomerProgramAgreements[0]!.ContractAgreementId, wire(t.contractAgreementId));
    if (profile === 'numeric') {
      assert.match(customer.CustomerId, /^\d{19}$/);
      assert.ok(BigInt(customer.CustomerId) > BigInt(Number.MAX_SAFE_INTEGER), 'beyond a double');
      assert.ok(
        customers.some((c) => c.CustomerProgramAgreements.length === 0),
        'a customer whose agreements are null',
      );
    }
    // A tenant without subscriptions (null in the numeric dialect) and add-ons absent or empty.
    const bare = sim.dataset.addTenant(p, 'Empty Shelf Pty');
    bare.subscriptions = [];
    try {
      const got = await client.getTenant(bare.tenantId);
      assert.deepEqual(got.Subscriptions, []);
      const full = await client.getTenant(t.tenantId);
      const sub = full.Subscriptions[0]!;
      assert.equal(sub.SubscriptionId, wire(t.subscriptions[0]!.subscriptionId));
      for (const s of full.Subscriptions)
        assert.ok(s.AddonSubscriptions === null || Array.isArray(s.AddonSubscriptions));
      // The id read back is the id the carrier understands in a URL.
      const changed = await client.setSubscriptionQuantity(sub.SubscriptionId, sub.Quantity + 1);
      assert.equal(changed.SubscriptionId, sub.SubscriptionId);
      assert.equal(t.subscriptions[0]!.quantity, sub.Quantity + 1);
    } finally {
      p.tenants.splice(p.tenants.indexOf(bare), 1);
    }
    const invoices = await client.listInvoices();
    assert.equal(invoices[0]!.InvoiceId, wire(`INV-0-${'2026-10'}`));
  });

  test('usage: paging until an empty Records, 28-digit numbers exact', async () => {
    const { records } = await collect(1, 37);
    assert.deepEqual(ids(records), expectedIds());
    const ratio = (records[0] as { BillableRatio: { value: string } }).BillableRatio.value;
    assert.equal(ratio, /"BillableRatio":([-0-9.]+)/.exec(sim.dataset.usageLineJson(0, 0))![1]);
    assert.ok(
      records.some((r) => /^-?0\.\d{28}$/.test((r as { BillableRatio: { value: string } }).BillableRatio.value)),
      'some ratio has 28 places',
    );
  });

  test('usage: a page that fails mid-way resumes from that page, nothing skipped or repeated', async () => {
    sim.faults.add({ endpoint: 'usage', kind: 'http500', afterCalls: 2 });
    const got: unknown[] = [];
    let resume = 1;
    let fingerprint: string | undefined;
    await assert.rejects(
      async () => {
        for await (const page of client.usagePages(window, 50, 1)) {
          got.push(...page.records);
          resume = page.page + 1;
          fingerprint = page.fingerprint;
        }
      },
      (e: CarrierError) => e instanceof CarrierError && e.code === 'SERVER_ERROR' && e.retryable,
    );
    const rest = await collect(resume, 50, fingerprint);
    assert.deepEqual(ids([...got, ...rest.records]), expectedIds());
  });

  test('usage: a page that repeats the one before is refused as retryable', async () => {
    sim.faults.add({ endpoint: 'usage', kind: 'repeatPage', afterCalls: 1 });
    await assert.rejects(collect(), (e: CarrierError) => e.code === 'REPEATED_PAGE' && e.retryable);
  });

  const faultCases: Array<[string, object, string, boolean]> = [
    ['429 with Retry-After', { kind: 'http429', retryAfterSeconds: 7 }, 'RATE_LIMITED', true],
    ['500', { kind: 'http500' }, 'SERVER_ERROR', true],
    ['503', { kind: 'http503' }, 'SERVER_ERROR', true],
    ['truncated JSON', { kind: 'truncated' }, 'MALFORMED_BODY', true],
    ['malformed JSON', { kind: 'malformed' }, 'MALFORMED_BODY', true],
    ['HTML error page with 200', { kind: 'html' }, 'MALFORMED_BODY', true],
    ['connection reset', { kind: 'reset' }, 'NETWORK', true],
    ['slow response beyond the timeout', { kind: 'slow', delayMs: 3000 }, 'TIMEOUT', true],
  ];

  for (const [name, fault, code, retryable] of faultCases) {
    test(`fault: ${name} → ${code}, ${retryable ? 'retryable' : 'not retryable'}`, async () => {
      await client.token();
      sim.faults.add({ endpoint: 'usage', ...(fault as { kind: 'http500' }) });
      await assert.rejects(client.usagePage(window, 1, 10), (e: CarrierError) => {
        assert.equal(e.code, code, e.message);
        assert.equal(e.retryable, retryable);
        assert.match(e.message, /licence\/usage/);
        if (code === 'RATE_LIMITED') assert.equal(e.retryAfterMs, 7000);
        return true;
      });
      // The next call goes through: the fault was one-off.
      assert.equal((await client.usagePage(window, 1, 10)).records.length, 10);
    });
  }

  test('fault: 403 is not retryable and says what to fix', async () => {
    await client.token();
    sim.faults.add({ endpoint: 'customers', kind: 'http403' });
    await assert.rejects(
      client.listCustomers(),
      (e: CarrierError) =>
        e.code === 'FORBIDDEN' && !e.retryable && /check its Rhipe program membership/.test(e.message),
    );
  });

  test('fault: 400 is not retryable and carries the carrier message', async () => {
    await client.token();
    sim.faults.add({ endpoint: 'usage', kind: 'http400' });
    await assert.rejects(
      client.usagePage(window, 1, 10),
      (e: CarrierError) => e.code === 'BAD_REQUEST' && !e.retryable && /HTTP 400/.test(e.message),
    );
  });

  test('malformed body: an undocumented shape names the endpoint and the field', async () => {
    const p = sim.dataset.providers[0]!;
    p.tenants[0]!.subscriptions[0]!.quantity = 'many' as unknown as number;
    try {
      await assert.rejects(
        client.getTenant(p.tenants[0]!.tenantId),
        (e: CarrierError) =>
          e.code === 'UNEXPECTED_SHAPE' && /Subscriptions\.0\.Quantity/.test(e.message) && !e.retryable,
      );
    } finally {
      p.tenants[0]!.subscriptions[0]!.quantity = 5;
    }
  });

  test('no secret or token in any log line, whatever fails', async () => {
    const logs = new CapturedLogs();
    const log = logs.logger();
    sim.faults.set([
      { endpoint: 'usage', kind: 'http500', times: 1 },
      { endpoint: 'usage', kind: 'malformed', times: 1, afterCalls: 1 },
      { endpoint: 'usage', kind: 'expireToken', times: 1, afterCalls: 2 },
    ]);
    const token = await client.token();
    for (let i = 0; i < 4; i++) {
      try {
        await client.usagePage(window, 1, 5);
        log.info({ page: 1 }, 'page fetched');
      } catch (err) {
        log.error(
          { err, access_token: token, client_secret: secret, headers: { authorization: `Bearer ${token}` } },
          'carrier call failed',
        );
      }
    }
    const text = logs.text();
    const entries = logs.lines.map(
      (l) =>
        JSON.parse(l) as {
          msg: string;
          err?: { message: string };
          access_token?: string;
          client_secret?: string;
          headers?: { authorization?: string };
        },
    );
    // The 500 and the malformed page fail; the expired token is refreshed and the call repeated.
    const failures = entries.filter((e) => e.msg === 'carrier call failed');
    assert.equal(failures.length, 2, text);
    assert.equal(entries.filter((e) => e.msg === 'page fetched').length, 2, text);
    for (const f of failures) {
      assert.match(f.err?.message ?? '', /licence\/usage/, 'the carrier error itself is logged');
      assert.equal(f.access_token, '[REDACTED]');
      assert.equal(f.client_secret, '[REDACTED]');
      assert.equal(f.headers?.authorization, '[REDACTED]');
    }
    assert.ok(!text.includes(secret), 'client secret in logs');
    assert.ok(!text.includes(token), 'access token in logs');
    assert.match(text, /\[REDACTED\]/);
  });
}
