import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Dataset, currentMonth, customerContact, type SimProvider, type Subscription, type Tenant } from './dataset';
import { FaultPlan, type Endpoint, type FaultRule } from './faults';
import { exactNumber, WireShape, type ShapeProfile } from './shape';
import { buildInvoice, invoiceCsv, invoiceList, invoiceMonths, parseInvoiceId } from './invoices';

/**
 * A real HTTP server speaking the carrier's API (Rhipe PRISM/Prime, as domain.md describes it):
 * the demo's default carrier and the tests' counterpart. Admin endpoints under /sim change its
 * world as Office 365 or the carrier's portal would, and inject faults.
 */
export interface SimulatorOptions {
  seed?: number;
  usageRecords?: number;
  /** Number of providers in the simulated world (default 2). */
  providers?: number;
  usageMonth?: string;
  tokenTtlSeconds?: number;
  maxPageSize?: number;
  /** Which dialect of the carrier's JSON to speak (see shape.ts); default `documented`. */
  shape?: ShapeProfile;
}

export interface Simulator {
  app: FastifyInstance;
  dataset: Dataset;
  faults: FaultPlan;
  shape: WireShape;
  /** issuedTokens lets a secret scan look for every token the carrier ever handed out. */
  stats: { tokensIssued: number; calls: Record<string, number>; issuedTokens: string[] };
  url: string;
  close(): Promise<void>;
}

interface Session {
  provider: SimProvider;
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    endpoint?: Endpoint;
  }
  interface FastifyRequest {
    provider?: SimProvider;
    faultKind?: string;
  }
}

export async function startSimulator(
  opts: SimulatorOptions & { port?: number; host?: string } = {},
): Promise<Simulator> {
  const sim = buildSimulator(opts);
  const address = await sim.app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  sim.url = address.replace('localhost', '127.0.0.1');
  return sim;
}

export function buildSimulator(opts: SimulatorOptions = {}): Simulator {
  const dataset = new Dataset({
    seed: opts.seed ?? 42,
    usageRecords: opts.usageRecords ?? 2000,
    usageMonth: opts.usageMonth ?? currentMonth(),
    providers: opts.providers,
  });
  const faults = new FaultPlan(opts.seed ?? 42);
  const ttl = opts.tokenTtlSeconds ?? 3600;
  const maxPageSize = opts.maxPageSize ?? 10_000;
  const sessions = new Map<string, Session>();
  const stats = { tokensIssued: 0, calls: {} as Record<string, number>, issuedTokens: [] as string[] };
  const orderRefs = new Map<string, unknown>();
  const shape = new WireShape(opts.shape ?? 'documented');
  const json = (reply: FastifyReply, value: unknown) => reply.type('application/json').send(shape.render(value));
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  const message = (reply: FastifyReply, status: number, text: string) =>
    reply.code(status).type('application/json').send({ Message: text });

  // Faults first, then authentication, for every carrier endpoint (not /sim).
  app.addHook('onRequest', async (req, reply) => {
    const endpoint = req.routeOptions.config?.endpoint;
    if (!endpoint) return;
    stats.calls[endpoint] = (stats.calls[endpoint] ?? 0) + 1;
    const fault = faults.next(endpoint);
    if (fault) {
      req.faultKind = fault.kind;
      switch (fault.kind) {
        case 'http429':
          return reply
            .code(429)
            .header('Retry-After', String(fault.retryAfterSeconds ?? 1))
            .send({ Message: 'Rate limit exceeded' });
        case 'http400':
          return message(reply, 400, 'The request is invalid.');
        case 'http403':
          return message(reply, 403, 'Access to this resource is forbidden for this customer.');
        case 'http500':
          return message(reply, 500, 'An error has occurred.');
        case 'http503':
          return message(reply, 503, 'Service unavailable');
        case 'slow':
          await new Promise((r) => setTimeout(r, fault.delayMs ?? 2000));
          break;
        case 'reset':
          req.raw.socket.destroy();
          return reply;
        case 'html':
          return reply.code(200).type('text/html').send('<html><body><h1>502 Bad Gateway</h1></body></html>');
        default:
          break;
      }
    }
    if (endpoint === 'token') return;
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const session = sessions.get(token);
    if (session && req.faultKind === 'expireToken') session.expiresAt = 0;
    if (!session || session.expiresAt <= Date.now())
      return message(reply, 401, 'Authorization has been denied for this request.');
    req.provider = session.provider;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    // Usage pages are sent as bytes (see Dataset.usagePage), the rest as text.
    if (req.faultKind === 'truncated' && (typeof payload === 'string' || Buffer.isBuffer(payload)))
      return payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
    if (req.faultKind === 'malformed') {
      reply.type('application/json');
      return '{"Records": [{"RecordId": "broken", "Quantity": 1,,}';
    }
    return payload;
  });

  app.post('/core/connect/token', { config: { endpoint: 'token' } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const provider = body.client_id ? dataset.providerByClientId(body.client_id) : undefined;
    if (body.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'unsupported_grant_type' });
    if (!provider || body.client_secret !== provider.clientSecret)
      return reply.code(400).send({ error: 'invalid_client' });
    if (body.scope !== 'rhipeapi') return reply.code(400).send({ error: 'invalid_scope' });
    const token = randomBytes(24).toString('base64url');
    sessions.set(token, { provider, expiresAt: Date.now() + ttl * 1000 });
    stats.tokensIssued++;
    stats.issuedTokens.push(token);
    return { access_token: token, token_type: 'Bearer', expires_in: ttl };
  });

  /**
   * The customer's contact: the documented dialect nests the address, the numeric one sends it
   * flat under other names, a postcode as a number, and nulls where it has nothing.
   */
  const contactFields = (provider: SimProvider, t: Tenant): Record<string, unknown> => {
    const c = customerContact(provider, t);
    if (shape.numeric)
      return {
        EmailAddress: c?.email ?? null,
        AddressLine1: c?.lines[0] ?? null,
        AddressLine2: c?.lines[1] ?? null,
        Suburb: c?.city ?? null,
        Region: c?.region ?? null,
        PostalCode: c ? exactNumber(c.postCode) : null,
        CountryName: c?.country ?? null,
      };
    if (!c) return {};
    return {
      Email: c.email,
      Address: {
        AddressLine1: c.lines[0],
        AddressLine2: c.lines[1] ?? null,
        City: c.city,
        State: c.region,
        PostCode: c.postCode,
        Country: c.country,
      },
    };
  };

  app.get('/api/v1/me/customers', { config: { endpoint: 'customers' } }, async (req, reply) => {
    const customers = req.provider!.tenants.map((t) => ({
      CustomerId: shape.id(t.customerId),
      CustomerName: t.customerName,
      CustomerProgramAgreements: [
        {
          Id: t.tenantId,
          ContractAgreementId: shape.id(t.contractAgreementId),
          ProgramName: shape.optional('Microsoft CSP'),
          ...shape.extras('agreement'),
        },
      ],
      ...contactFields(req.provider!, t),
      ...shape.extras('customer'),
    }));
    // A customer without any program agreement: its agreements come as null in the numeric dialect.
    if (shape.numeric)
      customers.push({
        CustomerId: shape.id(`no-agreements-${req.provider!.index}`),
        CustomerName: 'Dormant Holdings',
        CustomerProgramAgreements: null as never,
        ...shape.extras('customer'),
      });
    return json(reply, customers);
  });

  app.get<{ Params: { id: string } }>(
    '/api/v2/contractagreements/:id/tenants',
    { config: { endpoint: 'tenants' } },
    async (req, reply) => {
      const provider = req.provider!;
      const agreement = shape.fromWire(req.params.id).toLowerCase();
      const tenants = provider.tenants.filter((t) => t.contractAgreementId === agreement);
      if (tenants.length === 0 && agreement !== provider.contractAgreementId)
        return message(reply, 404, 'Contract agreement not found');
      return json(
        reply,
        tenants.map((t) => tenantView(dataset, shape, t)),
      );
    },
  );

  app.get<{ Params: { tenantId: string } }>(
    '/api/v2/microsoftcsp/tenants/:tenantId',
    { config: { endpoint: 'tenant' } },
    async (req, reply) => {
      const tenant = req.provider!.tenants.find((t) => t.tenantId === req.params.tenantId.toLowerCase());
      if (!tenant) return message(reply, 404, `Tenant ${req.params.tenantId} not found`);
      return json(reply, tenantView(dataset, shape, tenant));
    },
  );

  app.post('/api/v2/microsoftcsp/orders', { config: { endpoint: 'orders' } }, async (req, reply) => {
    const body = req.body as {
      tenantId?: string;
      orderBillingCycle?: string;
      products?: Array<{ productId?: string; qty?: number }>;
      clientReference?: string;
    };
    const provider = req.provider!;
    const tenant = provider.tenants.find((t) => t.tenantId === String(body?.tenantId ?? '').toLowerCase());
    if (!tenant) return message(reply, 400, 'tenantId is not a tenant of this customer');
    if (!Array.isArray(body.products) || body.products.length === 0)
      return message(reply, 400, 'products must not be empty');
    if (body.clientReference && orderRefs.has(body.clientReference))
      return json(reply, orderRefs.get(body.clientReference));
    const created: Subscription[] = [];
    for (const line of body.products) {
      const product = dataset.product(String(line.productId ?? ''));
      if (!product) return message(reply, 400, `Unknown product ${line.productId}`);
      if (!Number.isInteger(line.qty) || line.qty! < product.minQty || line.qty! > product.maxQty) {
        return message(
          reply,
          400,
          `Quantity for ${product.name} must be between ${product.minQty} and ${product.maxQty}`,
        );
      }
      const sub: Subscription = {
        subscriptionId: randomGuid(),
        productId: product.productId,
        quantity: line.qty!,
        status: 'Active',
        billingCycle: body.orderBillingCycle === 'Annual' ? 'Annual' : 'Monthly',
        firstPurchased: new Date().toISOString(),
        addOns: [],
      };
      tenant.subscriptions.push(sub);
      dataset.addChangeLine(provider, tenant, sub, sub.quantity, new Date());
      created.push(sub);
    }
    const result = {
      OrderId: shape.id(randomGuid()),
      Subscriptions: created.map((s) => subscriptionView(dataset, shape, s)),
    };
    if (body.clientReference) orderRefs.set(body.clientReference, result);
    return json(reply, result);
  });

  app.post<{ Params: { subscriptionId: string; newQuantity: string } }>(
    '/api/v2/microsoftcsp/subscriptions/:subscriptionId/quantity/:newQuantity',
    { config: { endpoint: 'quantity' } },
    async (req, reply) => {
      const found = findSubscription(req.provider!, shape.fromWire(req.params.subscriptionId));
      if (!found) return message(reply, 404, `Subscription ${req.params.subscriptionId} not found`);
      const qty = Number(req.params.newQuantity);
      const product = dataset.product(found.sub.productId)!;
      if (!Number.isInteger(qty) || qty < product.minQty || qty > product.maxQty) {
        return message(reply, 400, `Quantity must be between ${product.minQty} and ${product.maxQty}`);
      }
      const delta = qty - found.sub.quantity;
      found.sub.quantity = qty;
      if (delta !== 0) dataset.addChangeLine(req.provider!, found.tenant, found.sub, delta, new Date());
      return json(reply, subscriptionView(dataset, shape, found.sub));
    },
  );

  app.get<{ Params: { id: string; y: string; m: string; d: string } }>(
    '/api/v2/me/pricing/:id/pricelist/:y/:m/:d',
    { config: { endpoint: 'pricelist' } },
    async (req, reply) => {
      const agreement = shape.fromWire(req.params.id).toLowerCase();
      if (
        agreement !== req.provider!.contractAgreementId &&
        !req.provider!.tenants.some((t) => t.contractAgreementId === agreement)
      ) {
        return message(reply, 404, 'Contract agreement not found');
      }
      return json(reply, {
        ProductGroups: [
          {
            Name: shape.optional('Microsoft 365'),
            Products: dataset.products.map((p) => ({
              ProductId: p.productId,
              ProductName: p.name,
              UnitPrice: exactNumber(p.cost),
              RetailUnitPrice: exactNumber(p.retail),
              MinQty: p.minQty,
              MaxQty: p.maxQty,
              ...shape.extras('product'),
            })),
          },
        ],
      });
    },
  );

  app.post('/api/v2/microsoftcsp/licence/usage', { config: { endpoint: 'usage' } }, async (req, reply) => {
    const body = (req.body ?? {}) as { startDate?: string; endDate?: string; page?: number; pageSize?: number };
    const dateRe = /^\d{4}-\d{2}-\d{2}/;
    if (!body.startDate || !dateRe.test(body.startDate) || !body.endDate || !dateRe.test(body.endDate)) {
      return message(reply, 400, 'startDate and endDate are required (yyyy-mm-dd)');
    }
    const page = Number(body.page ?? 1);
    const pageSize = Number(body.pageSize ?? 1000);
    if (!Number.isInteger(page) || page < 1) return message(reply, 400, 'page must be 1 or more');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize)
      return message(reply, 400, `pageSize must be between 1 and ${maxPageSize}`);
    const provider = req.provider!;
    let servedPage = page;
    if (req.faultKind === 'repeatPage' && page > 1) servedPage = page - 1;
    const [from, to] = dataset.indexRange(provider, body.startDate, body.endDate);
    const start = from + (servedPage - 1) * pageSize;
    const end = Math.min(to, start + pageSize);
    // The documented dialect's page comes straight from the precomputed pieces, as bytes.
    if (!shape.numeric) return reply.type('application/json').send(dataset.usagePage(provider.index, start, end));
    const parts: string[] = [];
    for (let i = start; i < end; i++) parts.push(shape.usageLine(dataset.usageLineJson(provider.index, i)));
    return reply.type('application/json').send(`{"Records":[${parts.join(',')}]}`);
  });

  app.get('/api/v2/invoices', { config: { endpoint: 'invoices' } }, async (req, reply) => {
    const { Records } = invoiceList(dataset, req.provider!);
    return json(reply, {
      Records: Records.map((r) => ({
        ...r,
        InvoiceId: shape.id(r.InvoiceId),
        BillingPeriodStart: shape.optional(r.BillingPeriodStart),
      })),
    });
  });

  app.get<{ Params: { invoiceId: string } }>(
    '/api/v1/me/invoice/:invoiceId/csv',
    { config: { endpoint: 'invoiceCsv' } },
    async (req, reply) => {
      const provider = req.provider!;
      const id = parseInvoiceId(shape.fromWire(req.params.invoiceId));
      if (!id || id.providerIndex !== provider.index || !invoiceMonths(dataset).includes(id.month))
        return message(reply, 404, `Invoice ${req.params.invoiceId} not found`);
      return reply.type('text/csv').send(invoiceCsv(buildInvoice(dataset, provider, id.month)));
    },
  );

  registerAdminRoutes(app, dataset, shape, faults, stats);

  const sim: Simulator = { app, dataset, faults, shape, stats, url: '', close: () => app.close() };
  return sim;
}

function registerAdminRoutes(
  app: FastifyInstance,
  dataset: Dataset,
  shape: WireShape,
  faults: FaultPlan,
  stats: Simulator['stats'],
): void {
  const bad = (reply: FastifyReply, text: string) => reply.code(400).send({ Message: text });
  app.get('/sim/providers', async () =>
    dataset.providers.map((p) => ({
      name: p.name,
      clientId: p.clientId,
      clientSecret: p.clientSecret,
      currency: p.currency,
      tenants: p.tenants.length,
      usageRecords: p.usageRecords + p.extraLines.length,
    })),
  );
  app.get('/sim/stats', async () => ({
    tokensIssued: stats.tokensIssued,
    calls: stats.calls,
    faultsFired: faults.firedLog.length,
    epoch: dataset.epoch,
  }));
  app.get('/sim/faults', async () => faults.list());
  app.put('/sim/faults', async (req, reply) => {
    try {
      faults.set((req.body as { rules?: FaultRule[] })?.rules ?? []);
      return faults.list();
    } catch (err) {
      return bad(reply, (err as Error).message);
    }
  });
  app.delete('/sim/faults', async () => {
    faults.clear();
    return [];
  });
  app.post('/sim/usage', async (req, reply) => {
    const n = Number((req.body as { records?: unknown })?.records);
    if (!Number.isInteger(n) || n < 0) return bad(reply, 'records must be a whole number');
    for (const p of dataset.providers) p.usageRecords = n;
    return { records: n };
  });
  app.post('/sim/epoch', async () => ({ epoch: ++dataset.epoch }));
  // Out-of-band change, as made in Office 365 or the carrier's portal: nothing tells the reseller.
  app.post<{ Params: { subscriptionId: string } }>('/sim/subscriptions/:subscriptionId', async (req, reply) => {
    const body = (req.body ?? {}) as { quantity?: number; status?: Subscription['status'] };
    for (const provider of dataset.providers) {
      const found = findSubscription(provider, shape.fromWire(req.params.subscriptionId));
      if (!found) continue;
      if (body.quantity !== undefined) {
        if (!Number.isInteger(body.quantity) || body.quantity < 0) return bad(reply, 'quantity must be a whole number');
        found.sub.quantity = body.quantity;
      }
      if (body.status !== undefined) {
        if (!['Active', 'Suspended', 'Deleted'].includes(body.status))
          return bad(reply, 'status must be Active, Suspended or Deleted');
        found.sub.status = body.status;
      }
      return reply.type('application/json').send(shape.render(subscriptionView(dataset, shape, found.sub)));
    }
    return reply.code(404).send({ Message: 'subscription not found' });
  });
  app.post('/sim/tenants', async (req, reply) => {
    const body = (req.body ?? {}) as { clientId?: string; customerName?: string };
    const provider = body.clientId ? dataset.providerByClientId(body.clientId) : undefined;
    if (!provider || !body.customerName) return bad(reply, 'clientId of a provider and customerName are required');
    return reply
      .type('application/json')
      .send(shape.render(tenantView(dataset, shape, dataset.addTenant(provider, body.customerName))));
  });
  app.delete<{ Params: { tenantId: string } }>('/sim/tenants/:tenantId', async (req, reply) => {
    for (const provider of dataset.providers) {
      const idx = provider.tenants.findIndex((t) => t.tenantId === req.params.tenantId.toLowerCase());
      if (idx >= 0) {
        // Removed from the customer's list, as a tenant that left the reseller would be.
        provider.tenants[idx]!.status = 'Deleted';
        provider.tenants.splice(idx, 1);
        if (idx < provider.seedTenantCount) provider.seedTenantCount--;
        return { removed: req.params.tenantId };
      }
    }
    return reply.code(404).send({ Message: 'tenant not found' });
  });
}

function findSubscription(
  provider: SimProvider,
  subscriptionId: string,
): { tenant: Tenant; sub: Subscription } | undefined {
  const id = subscriptionId.toLowerCase();
  for (const tenant of provider.tenants) {
    for (const sub of tenant.subscriptions) {
      if (sub.subscriptionId === id) return { tenant, sub };
      const addOn = sub.addOns.find((a) => a.subscriptionId === id);
      if (addOn) return { tenant, sub: addOn };
    }
  }
  return undefined;
}

function tenantView(dataset: Dataset, shape: WireShape, t: Tenant) {
  return {
    TenantId: t.tenantId,
    TenantDomain: t.domain,
    TenantStatus: t.status,
    CustomerId: shape.id(t.customerId),
    CustomerName: t.customerName,
    ContractAgreementId: shape.id(t.contractAgreementId),
    Subscriptions: shape.list(t.subscriptions.map((s) => subscriptionView(dataset, shape, s))),
    ...shape.extras('tenant'),
  };
}

function subscriptionView(dataset: Dataset, shape: WireShape, s: Subscription): Record<string, unknown> {
  const product = dataset.product(s.productId);
  const addOns = s.addOns.map((a) => subscriptionView(dataset, shape, a));
  return {
    SubscriptionId: shape.id(s.subscriptionId),
    Status: s.status,
    ProductId: s.productId,
    ProductName: product?.name ?? null,
    Quantity: s.quantity,
    UnitPrice: exactNumber(product?.cost ?? '0'),
    Unit: shape.optional('Licenses'),
    BillingCycle: s.billingCycle,
    FirstPurchased: shape.optional(s.firstPurchased),
    // Documented dialect: null when there are none; numeric dialect: an empty list.
    AddonSubscriptions: shape.numeric ? addOns : addOns.length ? addOns : null,
    ...shape.extras('subscription'),
  };
}

function randomGuid(): string {
  return crypto.randomUUID();
}
