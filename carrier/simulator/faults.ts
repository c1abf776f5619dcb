import { hash32 } from './random';

export const ENDPOINTS = [
  'token',
  'customers',
  'tenants',
  'tenant',
  'orders',
  'quantity',
  'pricelist',
  'usage',
  'invoices',
  'invoiceCsv',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const FAULT_KINDS = [
  'http400',
  'http403',
  'http429',
  'http500',
  'http503',
  'slow',
  'expireToken',
  'truncated',
  'malformed',
  'html',
  'repeatPage',
  'reset',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  endpoint: Endpoint | '*';
  kind: FaultKind;
  /** How many times it fires (default 1); with `probability`, the most it fires. */
  times?: number;
  /** Fire on this share of matching calls (deterministic for a given seed). */
  probability?: number;
  /** Let this many matching calls through first. */
  afterCalls?: number;
  delayMs?: number;
  retryAfterSeconds?: number;
}

interface ActiveRule extends FaultRule {
  seen: number;
  fired: number;
}

/** Faults on demand, per endpoint: the simulator asks before answering each call. */
export class FaultPlan {
  private rules: ActiveRule[] = [];
  private draws = 0;
  readonly firedLog: Array<{ endpoint: Endpoint; kind: FaultKind; at: string }> = [];

  constructor(private readonly seed = 7) {}

  set(rules: FaultRule[]): void {
    for (const r of rules) validateRule(r);
    this.rules = rules.map((r) => ({ ...r, seen: 0, fired: 0 }));
  }

  add(rule: FaultRule): void {
    validateRule(rule);
    this.rules.push({ ...rule, seen: 0, fired: 0 });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map(({ seen: _s, fired: _f, ...r }) => r);
  }

  /** The fault to apply to this call, if any; each rule counts its own matching calls. */
  next(endpoint: Endpoint): ActiveRule | null {
    for (const rule of this.rules) {
      if (rule.endpoint !== '*' && rule.endpoint !== endpoint) continue;
      rule.seen++;
      if (rule.seen <= (rule.afterCalls ?? 0)) continue;
      const limit = rule.times ?? (rule.probability !== undefined ? Infinity : 1);
      if (rule.fired >= limit) continue;
      if (rule.probability !== undefined && hash32(this.seed, ++this.draws) / 0xffffffff >= rule.probability) continue;
      rule.fired++;
      this.firedLog.push({ endpoint, kind: rule.kind, at: new Date().toISOString() });
      return rule;
    }
    return null;
  }
}

function validateRule(r: FaultRule): void {
  if (r.endpoint !== '*' && !ENDPOINTS.includes(r.endpoint))
    throw new Error(`unknown endpoint "${r.endpoint}"; one of * ${ENDPOINTS.join(' ')}`);
  if (!FAULT_KINDS.includes(r.kind)) throw new Error(`unknown fault kind "${r.kind}"; one of ${FAULT_KINDS.join(' ')}`);
  if (r.probability !== undefined && !(r.probability >= 0 && r.probability <= 1))
    throw new Error('probability must be between 0 and 1');
}
