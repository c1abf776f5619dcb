/**
 * A tenant's licences, and how a change to them is described. Licences change in three places
 * (Office 365, the carrier's portal, this system); the first two reach us only as differences
 * between what we knew and what the carrier shows, so the difference is the rule.
 */
export interface LicenceView {
  subscriptionId: string;
  parentSubscriptionId: string | null;
  productId: string;
  productName: string | null;
  quantity: number;
  status: string;
  billingCycle: string | null;
}

export type LicenceChange =
  | { kind: 'order'; productId: string; quantity: number; billingCycle: 'Monthly' | 'Annual' }
  | {
      kind: 'setQuantity';
      subscriptionId: string;
      quantity: number;
      /** As the workflow knew it: the event's old value. */ oldQuantity?: number;
    }
  | { kind: 'cancelService'; effectiveDate: string }
  | { kind: 'reactivateService' };

/** One licence event: what changed on which subscription, from what to what. */
export interface LicenceDifference {
  kind: string;
  subscriptionId: string | null;
  oldValue: string | null;
  newValue: string | null;
}

const describe = (l: LicenceView) => `${l.productName ?? l.productId} x ${l.quantity}`;

/** Every difference between two views of a tenant's licences, subscription by subscription. */
export function diffLicences(known: LicenceView[], now: LicenceView[]): LicenceDifference[] {
  const out: LicenceDifference[] = [];
  const before = new Map(known.map((l) => [l.subscriptionId, l]));
  const after = new Map(now.map((l) => [l.subscriptionId, l]));
  for (const [id, l] of after) {
    const old = before.get(id);
    if (!old) {
      out.push({ kind: 'added', subscriptionId: id, oldValue: null, newValue: describe(l) });
      continue;
    }
    if (old.quantity !== l.quantity)
      out.push({ kind: 'quantity', subscriptionId: id, oldValue: String(old.quantity), newValue: String(l.quantity) });
    if (old.status !== l.status)
      out.push({ kind: 'status', subscriptionId: id, oldValue: old.status, newValue: l.status });
    if ((old.billingCycle ?? '') !== (l.billingCycle ?? ''))
      out.push({ kind: 'billingCycle', subscriptionId: id, oldValue: old.billingCycle, newValue: l.billingCycle });
  }
  for (const [id, l] of before) {
    if (!after.has(id)) out.push({ kind: 'removed', subscriptionId: id, oldValue: describe(l), newValue: null });
  }
  return out;
}

/** The licence event a change made here records; `createdSubscriptionId` is the subscription an order created. */
export function changeEvent(change: LicenceChange, createdSubscriptionId: string | null): LicenceDifference {
  switch (change.kind) {
    case 'order':
      return {
        kind: 'ordered',
        subscriptionId: createdSubscriptionId,
        oldValue: null,
        newValue: `${change.productId} x ${change.quantity}`,
      };
    case 'setQuantity':
      return {
        kind: 'quantity',
        subscriptionId: change.subscriptionId,
        oldValue: change.oldQuantity === undefined ? null : String(change.oldQuantity),
        newValue: String(change.quantity),
      };
    case 'cancelService':
      return { kind: 'serviceCancelled', subscriptionId: null, oldValue: null, newValue: change.effectiveDate };
    case 'reactivateService':
      return { kind: 'serviceReactivated', subscriptionId: null, oldValue: null, newValue: null };
  }
}
