import { Decimal, roundMoney } from './money';
import { MemoByRefs } from '../lib/memo';
import type { UsageRecord } from './usage-record';
import { validateUsageRecord, contentHash } from './usage-record';

export type RuleKind = 'price' | 'rrp' | 'markup';

export interface RateRule {
  productId: string;
  serviceId?: string | null;
  kind: RuleKind;
  /** price: sell price per licence per full period; markup: percent; rrp: none. */
  value?: Decimal | null;
}

export interface RateCard {
  currency: string;
  defaultMarkupPercent?: Decimal | null;
  rules: RateRule[];
}

export interface ServiceRef {
  serviceId: string;
  tenantId: string;
  /** YYYY-MM-DD: records whose charge starts on or after this date are SERVICE_INACTIVE. */
  cancelledOn?: string | null;
}

export const QUARANTINE_REASONS = [
  'INVALID_RECORD',
  'DUPLICATE_USAGE',
  'CURRENCY_MISMATCH',
  'NON_EXISTENT_SERVICE',
  'SERVICE_INACTIVE',
  'NO_RATE_CARD',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface Charge {
  ruleKind: RuleKind | 'defaultMarkup';
  /** Rounded once, 4 places, half away from zero. */
  charge: Decimal;
  cost: Decimal;
  margin: Decimal;
}

export type Mediated =
  | { status: 'COMPLETED'; record: UsageRecord; serviceId: string; period: string; productKey: string; rated: Charge }
  | {
      status: 'QUARANTINED';
      reason: QuarantineReason;
      detail: string;
      record: UsageRecord | null;
      serviceId: string | null;
    }
  | { status: 'DUPLICATE'; record: UsageRecord };

/** What is known about a RecordId before this line: never seen, seen with this content, or with other content. */
export type Seen = 'NEW' | 'SAME' | 'REVISED';

export interface MediationContext {
  card: RateCard | null;
  /** Services of the provider (tenant ids compared case-insensitively). */
  services: readonly ServiceRef[];
  /** Tenant → service mappings an admin made by allocating quarantined lines. */
  allocatedTenants?: ReadonlyMap<string, string>;
  seen(recordId: string, hash: string): Seen;
  /** When set, the record is identified as this service regardless of its tenant (an admin's allocation). */
  forceServiceId?: string;
}

/**
 * One record through the stages of domain.md, checks in the prescribed order:
 * INVALID_RECORD, DUPLICATE_USAGE, CURRENCY_MISMATCH, NON_EXISTENT_SERVICE, SERVICE_INACTIVE, NO_RATE_CARD.
 */
export function mediate(raw: unknown, ctx: MediationContext, hash: string = contentHash(raw)): Mediated {
  const validation = validateUsageRecord(raw);
  if (!validation.ok)
    return {
      status: 'QUARANTINED',
      reason: 'INVALID_RECORD',
      detail: validation.problem,
      record: null,
      serviceId: null,
    };
  const record = validation.record;

  const seen = ctx.seen(record.recordId, hash);
  if (seen === 'SAME') return { status: 'DUPLICATE', record };
  if (seen === 'REVISED') {
    return quarantine(
      'DUPLICATE_USAGE',
      `RecordId ${record.recordId} was received before with different content`,
      record,
      null,
    );
  }

  if (ctx.card && record.currency !== ctx.card.currency.toUpperCase()) {
    return quarantine(
      'CURRENCY_MISMATCH',
      `record is in ${record.currency}, the provider bills in ${ctx.card.currency.toUpperCase()}`,
      record,
      null,
    );
  }

  const service = identifyService(record, ctx);
  if (!service) return quarantine('NON_EXISTENT_SERVICE', `no service holds tenant ${record.tenantId}`, record, null);
  if (service.cancelledOn && record.chargeStart.localDate >= service.cancelledOn) {
    return quarantine(
      'SERVICE_INACTIVE',
      `service ${service.serviceId} was cancelled on ${service.cancelledOn}`,
      record,
      service.serviceId,
    );
  }

  if (!ctx.card) return quarantine('NO_RATE_CARD', 'the provider has no rate card', record, service.serviceId);
  const rule = selectRule(ctx.card, service.serviceId, record.productId);
  if (!rule)
    return quarantine('NO_RATE_CARD', `no rate rule for product ${record.productId}`, record, service.serviceId);
  const rated = rate(record, rule);
  if (!rated)
    return quarantine(
      'NO_RATE_CARD',
      `rrp rule for product ${record.productId} but the record has no UnitPriceRrp`,
      record,
      service.serviceId,
    );

  return {
    status: 'COMPLETED',
    record,
    serviceId: service.serviceId,
    period: record.chargeStart.localDate.slice(0, 7),
    productKey: record.productId,
    rated,
  };
}

function quarantine(reason: QuarantineReason, detail: string, record: UsageRecord, serviceId: string | null): Mediated {
  return { status: 'QUARANTINED', reason, detail, record, serviceId };
}

/**
 * Identify: an admin's forced service, else a service holding the tenant, else a remembered
 * allocation. Of several services on one tenant, one still active at the charge date wins.
 */
export function identifyService(record: UsageRecord, ctx: MediationContext): ServiceRef | null {
  if (ctx.forceServiceId) return serviceById(ctx, ctx.forceServiceId);
  const holding = servicesByTenant(ctx.services).get(record.tenantId.toLowerCase()) ?? [];
  if (holding.length > 0) {
    return holding.find((s) => !s.cancelledOn || record.chargeStart.localDate < s.cancelledOn) ?? holding[0]!;
  }
  const allocated = ctx.allocatedTenants?.get(record.tenantId.toLowerCase());
  return allocated ? serviceById(ctx, allocated) : null;
}

function serviceById(ctx: MediationContext, id: string): ServiceRef | null {
  return ctx.services.find((s) => s.serviceId === id) ?? null;
}

/** Most specific rule: service+product, then product, then the card's default markup. */
export type SelectedRule = RateRule | { kind: 'defaultMarkup'; value: Decimal };

export function selectRule(card: RateCard, serviceId: string, productId: string): SelectedRule | null {
  const forProduct = rulesByProduct(card).get(productId.toLowerCase()) ?? [];
  const serviceRule = forProduct.find((r) => r.serviceId != null && r.serviceId === serviceId);
  if (serviceRule) return serviceRule;
  const productRule = forProduct.find((r) => r.serviceId == null);
  if (productRule) return productRule;
  if (card.defaultMarkupPercent != null) return { kind: 'defaultMarkup', value: card.defaultMarkupPercent };
  return null;
}

/** The charge, computed exactly and rounded once. null when an rrp rule meets a record with no RRP. */
export function rate(record: UsageRecord, rule: SelectedRule): Charge | null {
  switch (rule.kind) {
    case 'price':
    case 'rrp': {
      // price: the rule's sell price; rrp: the record's UnitPriceRrp. Either × ratio × quantity.
      const unit = rule.kind === 'price' ? requireValue(rule) : record.unitPriceRrp;
      if (!unit) return null;
      return ratings.get([rule.kind, unit, record.billableRatio, record.quantity, record.subTotal], () =>
        charged(rule.kind, unit.times(record.billableRatio).times(record.quantity), record.subTotal),
      );
    }
    case 'markup':
    case 'defaultMarkup': {
      const factor = markupFactor(requireValue(rule));
      return ratings.get([rule.kind, factor, record.subTotal], () =>
        charged(rule.kind, record.subTotal.times(factor), record.subTotal),
      );
    }
  }
}

function charged(ruleKind: Charge['ruleKind'], exact: Decimal, subTotal: Decimal): Charge {
  const charge = roundMoney(exact);
  const cost = roundMoney(subTotal);
  return { ruleKind, charge, cost, margin: charge.minus(cost) };
}

// A charge is a pure function of the rule and the record's exact numbers; the same ones recur on
// thousands of lines (and arrive as the same Decimal instances), so each combination is rated once.
// Charges are never modified after they are made.
const ratings = new MemoByRefs<Charge>();

const tenantIndex = new WeakMap<readonly ServiceRef[], Map<string, ServiceRef[]>>();
const productIndex = new WeakMap<readonly RateRule[], Map<string, RateRule[]>>();
const factors = new WeakMap<Decimal, Decimal>();

/** The provider's services by tenant (GUIDs compared case-insensitively), in their given order. */
function servicesByTenant(services: readonly ServiceRef[]): Map<string, ServiceRef[]> {
  return indexByGuid(tenantIndex, services, (s) => s.tenantId);
}

function rulesByProduct(card: RateCard): Map<string, RateRule[]> {
  return indexByGuid(productIndex, card.rules, (r) => r.productId);
}

/** Items grouped by a GUID (lower-cased), in their given order; built once per list. */
function indexByGuid<T>(
  cache: WeakMap<readonly T[], Map<string, T[]>>,
  items: readonly T[],
  guidOf: (item: T) => string,
): Map<string, T[]> {
  let index = cache.get(items);
  if (!index) {
    index = new Map();
    for (const item of items) {
      const key = guidOf(item).toLowerCase();
      const group = index.get(key);
      if (group) group.push(item);
      else index.set(key, [item]);
    }
    cache.set(items, index);
  }
  return index;
}

/** 1 + markup/100, exact. */
function markupFactor(percent: Decimal): Decimal {
  let f = factors.get(percent);
  if (!f) factors.set(percent, (f = new Decimal(1).plus(percent.dividedBy(100))));
  return f;
}

function requireValue(rule: SelectedRule): Decimal {
  if (rule.value == null) throw new Error(`a ${rule.kind} rule needs a value`);
  return rule.value;
}

/** An in-memory ledger of RecordIds and content hashes, for offline runs and tests. */
export class SeenLedger {
  private readonly hashes = new Map<string, Set<string>>();

  check(recordId: string, hash: string): Seen {
    const known = this.hashes.get(recordId);
    if (!known) {
      this.hashes.set(recordId, new Set([hash]));
      return 'NEW';
    }
    if (known.has(hash)) return 'SAME';
    known.add(hash);
    return 'REVISED';
  }
}
