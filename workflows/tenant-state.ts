import type { ChangeResult, LicenceChange, TenantState, CarrierTenantView } from './tenant.messages';

/** Changes kept in the tenant's state for people to see (the full trail is licence_change). */
const RECENT_CHANGES_KEPT = 20;

/**
 * A tenant's state as its workflow holds it: what it knows of the licences, and what changes,
 * reconciles and failures did to it. The rules that refuse a change are in core/licence-changes.ts.
 */
export class TenantEntityState {
  readonly state: TenantState;

  constructor(carried?: TenantState) {
    this.state = carried ?? {
      licences: [],
      products: [],
      cancelledOn: null,
      goneAtCarrier: false,
      lastReconciledAt: null,
      lastReconcileFailure: null,
      outOfBandEvents: 0,
      recentChanges: [],
    };
  }

  get neverReconciled(): boolean {
    return this.state.lastReconciledAt === null;
  }

  get lastReconcileFailed(): boolean {
    return this.state.lastReconcileFailure !== null;
  }

  quantityOf(subscriptionId: string): number | undefined {
    return this.state.licences.find((x) => x.subscriptionId === subscriptionId)?.quantity;
  }

  /** A change the carrier made: the licences it touched replace those known. */
  recordChange(change: LicenceChange, result: ChangeResult, by: string, at: string): void {
    for (const l of result.licences) {
      const i = this.state.licences.findIndex((x) => x.subscriptionId === l.subscriptionId);
      if (i >= 0) this.state.licences[i] = l;
      else this.state.licences.push(l);
    }
    if (change.kind === 'cancelService') this.state.cancelledOn = result.cancelledOn;
    if (change.kind === 'reactivateService') this.state.cancelledOn = null;
    this.state.recentChanges.push({ changeId: result.changeId, kind: change.kind, by, at });
    if (this.state.recentChanges.length > RECENT_CHANGES_KEPT) this.state.recentChanges.shift();
  }

  /** The carrier's view, read by a reconcile; a tenant gone at the carrier keeps its last licences. */
  recordReconcile(view: CarrierTenantView & { events: number }, at: string): void {
    this.state.goneAtCarrier = view.gone;
    if (!view.gone) this.state.licences = view.licences;
    if (view.products.length > 0) this.state.products = view.products;
    this.state.outOfBandEvents += view.events;
    this.state.lastReconciledAt = at;
    this.state.lastReconcileFailure = null;
  }

  recordReconcileFailure(reason: string, at: string): void {
    this.state.lastReconcileFailure = { at, reason };
  }
}

/** Why an activity failed for good: its cause's message (the activity's own error), else its own. */
export function failureReason(err: unknown): string {
  const e = err as { cause?: Error; message?: string };
  return e.cause?.message ?? e.message ?? String(err);
}
