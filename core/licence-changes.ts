import type { LicenceView } from './licences';
import { plainDateProblem } from './iso-date';

/**
 * What a licence change requires of the tenant as it stands: each function returns why the
 * change is refused, or null. The tenant's workflow runs them when it accepts a change and again
 * when the change's turn comes (changes accepted before it may have run since).
 */

/** The price list's bounds of one product. */
export interface ProductLimits {
  productId: string;
  name: string;
  minQty: number;
  maxQty: number;
}

/** What the checks read of a tenant. */
export interface TenantLicences {
  licences: LicenceView[];
  products: ProductLimits[];
  /** The first day not billed; a date after `today` leaves the service active until then. */
  cancelledOn: string | null;
}

/** Who asks for a change (free text, required for the audit trail). */
interface Requester {
  by?: unknown;
}

/** A licence not in the price list (any more) can still be changed, within these bounds. */
const UNLISTED_PRODUCT_MIN_QTY = 1;
const UNLISTED_PRODUCT_MAX_QTY = 10_000;
export const BILLING_CYCLES = ['Monthly', 'Annual'] as const;

/** The calendar date (YYYY-MM-DD) at `now` in `timeZone`; UTC when the zone is unknown. */
export function calendarDate(now: Date, timeZone = 'UTC'): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
      now,
    );
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

function requesterProblem(req: Requester | undefined): string | null {
  return typeof req?.by !== 'string' || req.by.trim() === '' ? 'by (the admin making the change) is required' : null;
}

function activeProblem(t: TenantLicences, today: string): string | null {
  return t.cancelledOn && t.cancelledOn <= today
    ? `the service was cancelled on ${t.cancelledOn}: no licence changes`
    : null;
}

function quantityProblem(q: unknown, p: ProductLimits): string | null {
  if (typeof q !== 'number' || !Number.isInteger(q)) return 'quantity must be a whole number';
  if (q < p.minQty || q > p.maxQty)
    return `quantity for ${p.name} must be between ${p.minQty} and ${p.maxQty} (price list); got ${q}`;
  return null;
}

export function limitsOf(t: TenantLicences, productId: string): ProductLimits | undefined {
  return t.products.find((p) => p.productId === String(productId).toLowerCase());
}

export function orderProblem(
  t: TenantLicences,
  req: Requester & { productId: string; quantity: unknown; billingCycle?: string },
  today: string,
): string | null {
  const first = requesterProblem(req) ?? activeProblem(t, today);
  if (first) return first;
  const p = limitsOf(t, req.productId);
  if (!p) return `unknown product ${req.productId}: not in the provider's price list`;
  const quantity = quantityProblem(req.quantity, p);
  if (quantity) return quantity;
  if (req.billingCycle !== undefined && !(BILLING_CYCLES as readonly string[]).includes(req.billingCycle))
    return 'billingCycle must be Monthly or Annual';
  return null;
}

export function setQuantityProblem(
  t: TenantLicences,
  req: Requester & { subscriptionId: string; quantity: unknown },
  today: string,
): string | null {
  const first = requesterProblem(req) ?? activeProblem(t, today);
  if (first) return first;
  const l = t.licences.find((x) => x.subscriptionId === String(req.subscriptionId).toLowerCase());
  if (!l) return `subscription ${req.subscriptionId} is not a licence of this tenant`;
  const p = limitsOf(t, l.productId) ?? {
    productId: l.productId,
    name: l.productName ?? l.productId,
    minQty: UNLISTED_PRODUCT_MIN_QTY,
    maxQty: UNLISTED_PRODUCT_MAX_QTY,
  };
  const quantity = quantityProblem(req.quantity, p);
  if (quantity) return quantity;
  if (req.quantity === l.quantity) return `subscription ${req.subscriptionId} already has quantity ${l.quantity}`;
  return null;
}

export function cancelProblem(
  t: TenantLicences,
  req: Requester & { effectiveDate?: string },
  today: string,
): string | null {
  const first = requesterProblem(req);
  if (first) return first;
  if (t.cancelledOn) {
    return t.cancelledOn <= today
      ? `the service is already cancelled: billing stopped from ${t.cancelledOn}`
      : `the service is already being cancelled: billing stops from ${t.cancelledOn} (reactivate first to change the date)`;
  }
  if (req.effectiveDate !== undefined) {
    const date = plainDateProblem(req.effectiveDate);
    if (date) return `effectiveDate: ${date}`;
  }
  return null;
}

export function reactivateProblem(t: TenantLicences, req: Requester): string | null {
  return requesterProblem(req) ?? (t.cancelledOn ? null : 'the service is not cancelled');
}
