import DecimalJs from 'decimal.js';
import { guidFor, hash3, hash32, mixWord, pick, stringCode } from './random';

/**
 * The simulator's world: providers (Rhipe's customers), their end customers and tenants with
 * subscriptions and add-ons, a price list, and usage lines generated lazily by index, so millions
 * of lines cost no memory. Every line's expected outcome is known, for independent checks.
 */

// .NET decimals: at most 28 decimal places; enough precision here to compute them exactly.
const ExactDecimal = DecimalJs.clone({
  precision: 60,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -60,
  toExpPos: 60,
});
type Dec = InstanceType<typeof ExactDecimal>;
const netDecimal = (d: Dec): string => {
  const r = d.toDecimalPlaces(28).toSignificantDigits(28);
  return r.isZero() ? '0' : r.toFixed();
};

export interface Product {
  productId: string;
  name: string;
  cost: string;
  retail: string;
  minQty: number;
  maxQty: number;
  addOn: boolean;
}

export interface Subscription {
  subscriptionId: string;
  productId: string;
  quantity: number;
  status: 'Active' | 'Suspended' | 'Deleted';
  billingCycle: 'Monthly' | 'Annual';
  firstPurchased: string;
  addOns: Subscription[];
}

export interface Tenant {
  tenantId: string;
  domain: string;
  customerId: string;
  customerName: string;
  contractAgreementId: string;
  status: 'Active' | 'Deleted';
  subscriptions: Subscription[];
}

export interface SimProvider {
  index: number;
  name: string;
  clientId: string;
  clientSecret: string;
  currency: string;
  contractAgreementId: string;
  tenants: Tenant[];
  /** Tenants present from the seed; generated usage only ever refers to these, so it never shifts. */
  seedTenantCount: number;
  usageRecords: number;
  /** Lines produced by orders and quantity changes, served after the generated ones. */
  extraLines: string[];
}

export type ExpectedOutcome =
  | 'BILLED'
  | 'REPEAT'
  | 'INVALID_RECORD'
  | 'DUPLICATE_USAGE'
  | 'CURRENCY_MISMATCH'
  | 'NON_EXISTENT_SERVICE'
  | 'NO_RATE_CARD';

const PRODUCT_DEFS: Array<[string, string, string, boolean]> = [
  ['Microsoft 365 Business Basic', '8.2', '9.8', false],
  ['Microsoft 365 Business Standard', '17.2', '20.6', false],
  ['Microsoft 365 Business Premium', '30.3', '36.3', false],
  ['Office 365 E3', '32.8', '39.3', false],
  ['Exchange Online (Plan 1)', '5.5', '6.6', false],
  ['Microsoft Teams Phone Standard', '11.8', '14.1', true],
  ['Power BI Pro', '14.9', '17.9', true],
  ['Visio Plan 2', '21.4', '25.6', false],
];

/** The product the demo rate card leaves unrated, so NO_RATE_CARD lines arise from real data. */
export const UNRATED_PRODUCT_NAME = 'Visio Plan 2';

const CUSTOMERS = [
  'Contoso Dental',
  'Fabrikam Freight',
  'Northwind Traders',
  'Tailspin Toys',
  'Wingtip Surf Co',
  'Adventure Works NZ',
  'Coho Vineyard',
  'Litware Legal',
  'Proseware Clinics',
  'Woodgrove Accounting',
  'Lucerne Publishing',
  'Margie Travel',
];

const PROVIDER_DEFS = [
  { name: 'Harbour IT Pty Ltd', currency: 'AUD', customers: 6 },
  { name: 'Kiwi Cloud Ltd', currency: 'NZD', customers: 4 },
];

export interface DatasetOptions {
  seed: number;
  /** Usage lines per provider for the two months in the window. */
  usageRecords: number;
  /** The current usage month, YYYY-MM; lines cover it and the month before. */
  usageMonth: string;
  /** How many providers (default 2); more are generated alike, for load runs. */
  providers?: number;
}

function providerDefs(count: number): typeof PROVIDER_DEFS {
  const defs = PROVIDER_DEFS.slice(0, count);
  for (let n = defs.length; n < count; n++)
    defs.push({ name: `Reseller ${n + 1} Pty Ltd`, currency: n % 2 ? 'NZD' : 'AUD', customers: 4 + (n % 3) });
  return defs;
}

export class Dataset {
  readonly seed: number;
  readonly usageMonth: string;
  readonly products: Product[];
  readonly providers: SimProvider[];
  /** Bumped by the admin endpoint: some lines then come back revised in later polls. */
  epoch = 0;
  private readonly productIndex: Map<string, Product>;
  private readonly unratedProduct: Product;
  private readonly previousMonthFacts: MonthFacts;
  private readonly currentMonthFacts: MonthFacts;

  constructor(opts: DatasetOptions) {
    this.seed = opts.seed;
    this.usageMonth = opts.usageMonth;
    this.products = PRODUCT_DEFS.map(([name, cost, retail, addOn], i) => ({
      productId: guidFor(opts.seed, 1, i),
      name,
      cost,
      retail,
      minQty: 1,
      maxQty: 300,
      addOn,
    }));
    this.productIndex = new Map(this.products.map((x) => [x.productId, x]));
    this.unratedProduct = this.products.find((x) => x.name === UNRATED_PRODUCT_NAME)!;
    this.previousMonthFacts = monthFacts(previousMonth(opts.usageMonth));
    this.currentMonthFacts = monthFacts(opts.usageMonth);
    let customerCursor = 0;
    this.providers = providerDefs(opts.providers ?? PROVIDER_DEFS.length).map((def, p) => {
      const tenants: Tenant[] = [];
      for (let c = 0; c < def.customers; c++)
        tenants.push(this.makeTenant(p, c, CUSTOMERS[customerCursor++ % CUSTOMERS.length]!));
      return {
        index: p,
        name: def.name,
        clientId: guidFor(opts.seed, 2, p),
        clientSecret: [0, 1, 2, 3].map((k) => hash32(opts.seed, 3, p, k).toString(16).padStart(8, '0')).join(''),
        currency: def.currency,
        contractAgreementId: guidFor(opts.seed, 4, p),
        tenants,
        seedTenantCount: tenants.length,
        usageRecords: opts.usageRecords,
        extraLines: [],
      };
    });
  }

  private makeTenant(p: number, c: number, customerName: string): Tenant {
    const s = this.seed;
    const slug = customerName.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const base = this.products.filter((x) => !x.addOn && x.name !== UNRATED_PRODUCT_NAME);
    const addOns = this.products.filter((x) => x.addOn);
    const subscriptions: Subscription[] = [];
    const count = 2 + (hash32(s, 5, p, c) % 2);
    for (let k = 0; k < count; k++) {
      const product = base[(hash32(s, 6, p, c) + k) % base.length]!;
      const sub: Subscription = {
        subscriptionId: guidFor(s, 7, p, c, k),
        productId: product.productId,
        quantity: 1 + (hash32(s, 8, p, c, k) % 40),
        status: 'Active',
        billingCycle: hash32(s, 9, p, c, k) % 4 === 0 ? 'Annual' : 'Monthly',
        firstPurchased: `2025-0${1 + (hash32(s, 10, p, c, k) % 9)}-15T00:00:00+10:00`,
        addOns: [],
      };
      if (k === 0 && hash32(s, 11, p, c) % 2 === 0) {
        const addOn = pick(addOns, hash32(s, 12, p, c));
        sub.addOns.push({
          ...sub,
          subscriptionId: guidFor(s, 13, p, c),
          productId: addOn.productId,
          quantity: Math.max(1, Math.floor(sub.quantity / 2)),
          addOns: [],
        });
      }
      subscriptions.push(sub);
    }
    return {
      tenantId: guidFor(s, 14, p, c),
      domain: `${slug}.onmicrosoft.com`,
      customerId: guidFor(s, 15, p, c),
      customerName,
      contractAgreementId: guidFor(s, 4, p),
      status: 'Active',
      subscriptions,
    };
  }

  providerByClientId(clientId: string): SimProvider | undefined {
    return this.providers.find((p) => p.clientId.toLowerCase() === clientId.toLowerCase());
  }

  product(productId: string): Product | undefined {
    return this.products.find((p) => p.productId === productId.toLowerCase());
  }

  /** Unknown tenants: usage arrives for them but the reseller has no service (NON_EXISTENT_SERVICE). */
  unknownTenantId(p: number, k: number): string {
    return guidFor(this.seed, 16, p, k);
  }

  /** The [from, to) index range of usage lines whose month lies in the window. */
  indexRange(provider: SimProvider, startDate: string, endDate: string): [number, number] {
    const months = [previousMonth(this.usageMonth), this.usageMonth];
    const half = Math.floor(provider.usageRecords / 2);
    const total = provider.usageRecords + provider.extraLines.length;
    const bounds: Array<[number, number]> = [
      [0, half],
      [half, total],
    ];
    const inWindow = months.map((m) => m >= startDate.slice(0, 7) && m <= endDate.slice(0, 7));
    if (inWindow[0] && inWindow[1]) return [0, total];
    if (inWindow[0]) return bounds[0]!;
    if (inWindow[1]) return bounds[1]!;
    return [0, 0];
  }

  /** What the line at this index is: drives both its content and its expected outcome. */
  lineKind(p: number, i: number): LineKind {
    // The first lines show every kind once, so even a small dataset exercises every outcome.
    const showcase = SHOWCASE[i];
    if (showcase) return showcase;
    const r = hash3(this.seed, 20, p, i) % 1000;
    if (r < 10) return 'unknownTenant';
    if (r < 15) return 'unratedProduct';
    if (r < 18) return 'otherCurrency';
    if (r < 20) return 'invalid';
    if (r < 30 && i > 0 && this.lineKind(p, i - 1) === 'normal') return 'repeat';
    if (r < 35 && i > 0 && this.lineKind(p, i - 1) === 'normal') return 'revision';
    if (r < 85) return 'credit';
    if (r < 90) return 'revisable';
    return 'normal';
  }

  expectedOutcome(p: number, i: number): ExpectedOutcome {
    if (i >= this.providers[p]!.usageRecords) return 'BILLED';
    const kind = this.lineKind(p, i);
    switch (kind) {
      case 'unknownTenant':
        return 'NON_EXISTENT_SERVICE';
      case 'unratedProduct':
        return 'NO_RATE_CARD';
      case 'otherCurrency':
        return 'CURRENCY_MISMATCH';
      case 'invalid':
        return 'INVALID_RECORD';
      case 'repeat':
        return 'REPEAT';
      case 'revision':
        return 'DUPLICATE_USAGE';
      default:
        return 'BILLED';
    }
  }

  /**
   * A line for licences bought or added today through an order or quantity change, pro rata
   * to the end of the current month, so the usage view follows the carrier's state.
   */
  addChangeLine(provider: SimProvider, tenant: Tenant, sub: Subscription, addedQuantity: number, today: Date): void {
    const [year, mon] = this.usageMonth.split('-').map(Number) as [number, number];
    const dim = new Date(Date.UTC(year, mon, 0)).getUTCDate();
    const sameMonth = today.toISOString().slice(0, 7) === this.usageMonth;
    const startDay = sameMonth ? today.getUTCDate() : 1;
    const ratio = new ExactDecimal(dim - startDay + 1).dividedBy(dim).times(addedQuantity < 0 ? -1 : 1);
    const ratioText = netDecimal(ratio);
    const product = this.product(sub.productId)!;
    const qty = Math.abs(addedQuantity);
    const mm = String(mon).padStart(2, '0');
    const recordId = guidFor(this.seed, 31, provider.index, provider.extraLines.length);
    provider.extraLines.push(
      `{"RecordId":"${recordId}","TenantId":"${tenant.tenantId}","CustomerName":${JSON.stringify(tenant.customerName)},` +
        `"PrimaryDomainName":"${tenant.domain}","SubscriptionId":"${sub.subscriptionId}","ProductId":"${product.productId}",` +
        `"OfferName":${JSON.stringify(product.name)},"ChargeStartDate":"${year}-${mm}-${String(startDay).padStart(2, '0')}T00:00:00+10:00",` +
        `"ChargeEndDate":"${year}-${mm}-${dim}T23:59:59.9999999+10:00","UnitPrice":${product.cost},"UnitPriceRrp":${product.retail},` +
        `"Quantity":${qty},"BillableRatio":${ratioText},"SubTotal":${netDecimal(new ExactDecimal(product.cost).times(qty).times(new ExactDecimal(ratioText)))},` +
        `"SubTotalRrp":${netDecimal(new ExactDecimal(product.retail).times(qty).times(new ExactDecimal(ratioText)))},"Currency":"${provider.currency}","BillingCycle":"${sub.billingCycle}"}`,
    );
  }

  /** The usage line at index i of provider p, as the carrier's JSON text (numbers exact). */
  usageLineJson(p: number, i: number): string {
    const out = new PageWriter(1024);
    this.writeLine(out, p, i);
    return out.text();
  }

  /** Lines [from, to) of provider p as the usage call's body, `{"Records":[...]}`, in UTF-8. */
  usagePage(p: number, from: number, to: number): Buffer {
    const out = new PageWriter(64 + Math.max(0, to - from) * 720);
    out.ascii('{"Records":[');
    for (let i = from; i < to; i++) {
      if (i > from) out.byte(44 /* , */);
      this.writeLine(out, p, i);
    }
    out.ascii(']}');
    return out.done();
  }

  private writeLine(out: PageWriter, p: number, i: number): void {
    const provider = this.providers[p]!;
    if (i >= provider.usageRecords) return out.utf8(provider.extraLines[i - provider.usageRecords]!);
    const kind = this.lineKind(p, i);
    if (kind === 'repeat') return this.writeLine(out, p, i - 1);
    if (kind === 'revision') return this.buildLine(out, provider, i - 1, 'normal', 1);
    this.buildLine(out, provider, i, kind, kind === 'revisable' && this.epoch > 0 ? this.epoch : 0);
  }

  /**
   * A generated line, assembled from precomputed pieces: the text between RecordId and the
   * charge dates per (tenant, subscription, product), the dates per month and day, and every
   * amount per (product, quantity, days, month length, sign), each computed exactly once with
   * decimals and kept as bytes. Serving a page is copying bytes, not arithmetic.
   */
  private buildLine(out: PageWriter, provider: SimProvider, i: number, kind: LineKind, quantityBump: number): void {
    const s = this.seed;
    const p = provider.index;
    const half = Math.floor(provider.usageRecords / 2);
    const month = i < half ? this.previousMonthFacts : this.currentMonthFacts;
    const tenantIndex = hash3(s, 21, p, i) % provider.seedTenantCount;
    const tenant = provider.tenants[tenantIndex]!;
    const subIndex = hash3(s, 22, p, i) % tenant.subscriptions.length;
    const sub = tenant.subscriptions[subIndex]!;
    const unknownTenant = kind === 'unknownTenant' ? hash3(s, 23, p, i) % 3 : -1;
    // A quantity change mid-month gives one line per quantity, each covering its own days.
    const dim = month.days;
    const startDay = 1 + (hash3(s, 24, p, i) % dim);
    const days = 1 + (hash3(s, 25, p, i) % (dim - startDay + 1));
    const endDay = startDay + days - 1;
    const quantity = 1 + (hash3(s, 26, p, i) % 25) + quantityBump;
    const product = kind === 'unratedProduct' ? this.unratedProduct : this.productIndex.get(sub.productId)!;
    const currency = kind === 'otherCurrency' ? (provider.currency === 'AUD' ? 'NZD' : 'AUD') : provider.currency;
    out.ascii('{"RecordId":"');
    out.guid(s, 30, p, i);
    out.bytes(this.lineMiddle(provider, tenant, tenantIndex, sub, subIndex, unknownTenant, kind === 'unratedProduct'));
    out.bytes(month.starts[startDay]!);
    // An invalid line as the carrier sometimes sends one: it ends a year before it starts.
    out.bytes(kind === 'invalid' ? month.invalidEnds[startDay]! : month.ends[endDay]!);
    out.bytes(this.amounts(product, quantity, days, dim, kind === 'credit'));
    out.bytes(this.tail(currency, sub.billingCycle));
  }

  private readonly middles = new Map<number, Buffer>();

  /** The fields from TenantId to OfferName, per tenant (or unknown tenant), subscription and product. */
  private lineMiddle(
    provider: SimProvider,
    tenant: Tenant,
    tenantIndex: number,
    sub: Subscription,
    subIndex: number,
    unknownTenant: number,
    unrated: boolean,
  ): Buffer {
    const key =
      (((provider.index * 100_000 + tenantIndex) * 64 + subIndex) * 4 + unknownTenant + 1) * 2 + (unrated ? 1 : 0);
    let middle = this.middles.get(key);
    if (middle === undefined) {
      const product = unrated
        ? this.products.find((x) => x.name === UNRATED_PRODUCT_NAME)!
        : this.product(sub.productId)!;
      const tenantId = unknownTenant >= 0 ? this.unknownTenantId(provider.index, unknownTenant) : tenant.tenantId;
      const domain = unknownTenant >= 0 ? `unlisted${unknownTenant}.onmicrosoft.com` : tenant.domain;
      const customerName = unknownTenant >= 0 ? `Unlisted Customer ${unknownTenant}` : tenant.customerName;
      middle = Buffer.from(
        `","TenantId":"${tenantId}","CustomerName":${JSON.stringify(customerName)},` +
          `"PrimaryDomainName":"${domain}","SubscriptionId":"${sub.subscriptionId}","ProductId":"${product.productId}",` +
          `"OfferName":${JSON.stringify(product.name)},"ChargeStartDate":"`,
      );
      this.middles.set(key, middle);
    }
    return middle;
  }

  private readonly amountTexts = new Map<number, Buffer>();

  /** UnitPrice to SubTotalRrp, exact to .NET's 28 digits, computed once per combination. */
  private amounts(product: Product, quantity: number, days: number, dim: number, credit: boolean): Buffer {
    const key = (((this.products.indexOf(product) * 4096 + quantity) * 32 + days) * 32 + dim) * 2 + (credit ? 1 : 0);
    let text = quantity < 4096 ? this.amountTexts.get(key) : undefined;
    if (text === undefined) {
      let ratio = new ExactDecimal(days).dividedBy(dim);
      if (credit) ratio = ratio.negated();
      const ratioText = netDecimal(ratio);
      const subTotal = netDecimal(new ExactDecimal(product.cost).times(quantity).times(new ExactDecimal(ratioText)));
      const subTotalRrp = netDecimal(
        new ExactDecimal(product.retail).times(quantity).times(new ExactDecimal(ratioText)),
      );
      text = Buffer.from(
        `"UnitPrice":${product.cost},"UnitPriceRrp":${product.retail},"Quantity":${quantity},"BillableRatio":${ratioText},` +
          `"SubTotal":${subTotal},"SubTotalRrp":${subTotalRrp},"Currency":"`,
      );
      if (quantity < 4096) this.amountTexts.set(key, text);
    }
    return text;
  }

  private readonly tails = new Map<string, Buffer>();

  private tail(currency: string, billingCycle: string): Buffer {
    const key = `${currency}|${billingCycle}`;
    let tail = this.tails.get(key);
    if (!tail) this.tails.set(key, (tail = Buffer.from(`${currency}","BillingCycle":"${billingCycle}"}`)));
    return tail;
  }

  findTenant(tenantId: string): { provider: SimProvider; tenant: Tenant } | undefined {
    for (const provider of this.providers) {
      const tenant = provider.tenants.find((t) => t.tenantId === tenantId.toLowerCase());
      if (tenant) return { provider, tenant };
    }
    return undefined;
  }

  /** Adds a tenant at the carrier (a new end customer), as the carrier's portal would. */
  addTenant(provider: SimProvider, customerName: string): Tenant {
    const c = 1000 + provider.tenants.length + (stringCode(customerName) % 1000);
    const tenant = this.makeTenant(provider.index, c, customerName);
    provider.tenants.push(tenant);
    return tenant;
  }

  /**
   * A large reseller: `count` more customers, `perAgreement` tenants to a contract agreement of
   * their own (Rhipe lists tenants per agreement), as a provider with thousands of tenants has.
   */
  addCustomers(provider: SimProvider, count: number, perAgreement = 1): Tenant[] {
    const added: Tenant[] = [];
    const first = provider.tenants.length;
    for (let k = 0; k < count; k++) {
      const c = 100_000 + first + k;
      const tenant = this.makeTenant(provider.index, c, `${CUSTOMERS[c % CUSTOMERS.length]} ${c}`);
      tenant.contractAgreementId = guidFor(this.seed, 4, provider.index, 1 + Math.floor((first + k) / perAgreement));
      provider.tenants.push(tenant);
      added.push(tenant);
    }
    return added;
  }
}

const SHOWCASE: readonly LineKind[] = [
  'normal',
  'unknownTenant',
  'unratedProduct',
  'otherCurrency',
  'invalid',
  'credit',
  'normal',
  'repeat',
  'normal',
  'revision',
  'revisable',
];

export type LineKind =
  | 'normal'
  | 'credit'
  | 'unknownTenant'
  | 'unratedProduct'
  | 'otherCurrency'
  | 'invalid'
  | 'repeat'
  | 'revision'
  | 'revisable';

/** A usage month's date texts by day, from the start date's value to the end date's opening quote. */
interface MonthFacts {
  days: number;
  starts: Buffer[];
  ends: Buffer[];
  /** The same day a year earlier: an invalid line's end. */
  invalidEnds: Buffer[];
}

function monthFacts(month: string): MonthFacts {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  const mm = String(mon).padStart(2, '0');
  const dd = (d: number) => String(d).padStart(2, '0');
  const byDay = (f: (d: number) => string) => Array.from({ length: 32 }, (_, d) => Buffer.from(f(d)));
  return {
    days: new Date(Date.UTC(year, mon, 0)).getUTCDate(),
    starts: byDay((d) => `${year}-${mm}-${dd(d)}T00:00:00+10:00","ChargeEndDate":"`),
    ends: byDay((d) => `${year}-${mm}-${dd(d)}T23:59:59.9999999+10:00",`),
    invalidEnds: byDay((d) => `${year - 1}-${mm}-${dd(d)}T00:00:00+10:00",`),
  };
}

// Two hex digits per byte value, as character codes.
const HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));
const HEX_HI = Uint8Array.from(HEX, (h) => h.charCodeAt(0));
const HEX_LO = Uint8Array.from(HEX, (h) => h.charCodeAt(1));

/** A growing byte buffer the page is written into. */
class PageWriter {
  private buf: Buffer;
  private at = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  ascii(text: string): void {
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
  }

  utf8(text: string): void {
    this.room(Buffer.byteLength(text));
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  /** guidFor(seed, a, b, c)'s text, written directly as bytes. */
  guid(seed: number, a: number, b: number, c: number): void {
    this.room(36);
    const h = hash3(seed, a, b, c);
    const w = [mixWord(h, 0), mixWord(h, 1), mixWord(h, 2), mixWord(h, 3)];
    const buf = this.buf;
    let at = this.at;
    // 32 hex digits with dashes after 8, 12, 16 and 20; the version nibble 4, the variant a.
    for (let k = 0; k < 16; k++) {
      const byte = (w[k >> 2]! >>> (24 - 8 * (k & 3))) & 0xff;
      if (k === 4 || k === 6 || k === 8 || k === 10) buf[at++] = 45; /* - */
      buf[at++] = k === 6 ? 52 /* 4 */ : k === 8 ? 97 /* a */ : HEX_HI[byte]!;
      buf[at++] = HEX_LO[byte]!;
    }
    this.at = at;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  text(): string {
    return this.buf.toString('utf8', 0, this.at);
  }
}

export function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

export function currentMonth(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/** A customer's contact at the carrier: its accounts email and postal address. */
export interface SimContact {
  email: string;
  lines: string[];
  city: string;
  region: string | null;
  postCode: string;
  country: string;
}

const AU_LOCALITIES: Array<[string, string, string]> = [
  ['Sydney', 'NSW', '2000'],
  ['Melbourne', 'VIC', '3000'],
  ['Brisbane', 'QLD', '4000'],
  ['Perth', 'WA', '6000'],
  ['Adelaide', 'SA', '5000'],
  ['Hobart', 'TAS', '7000'],
];
const NZ_LOCALITIES: Array<[string, string]> = [
  ['Auckland', '1010'],
  ['Wellington', '6011'],
  ['Christchurch', '8011'],
  ['Hamilton', '3204'],
];
const STREETS = ['George Street', 'Collins Street', 'Queen Street', 'Harbour Street', 'Victoria Road', 'King Street'];

/**
 * The contact the carrier lists for a tenant's customer, derived from its name, so it is stable.
 * The second customer of each provider has none (an admin sets it), as real carriers leave gaps.
 */
export function customerContact(provider: SimProvider, tenant: Tenant): SimContact | null {
  if (provider.tenants.indexOf(tenant) === 1) return null;
  const code = stringCode(tenant.customerName);
  const slug = tenant.customerName.toLowerCase().replace(/[^a-z0-9]+/g, '');
  const street = `${10 + (code % 190)} ${STREETS[code % STREETS.length]}`;
  const lines = code % 3 === 0 ? [`Level ${1 + (code % 12)}`, street] : [street];
  if (provider.currency === 'NZD') {
    const [city, postCode] = NZ_LOCALITIES[code % NZ_LOCALITIES.length]!;
    return { email: `accounts@${slug}.co.nz`, lines, city, region: null, postCode, country: 'New Zealand' };
  }
  const [city, region, postCode] = AU_LOCALITIES[code % AU_LOCALITIES.length]!;
  return { email: `accounts@${slug}.com.au`, lines, city, region, postCode, country: 'Australia' };
}
