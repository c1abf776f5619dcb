import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { CarrierError } from '../carrier/errors';
import { inTransaction, type PoolClient } from '../db/pool';
import { flattenSubscriptions, replaceLicences } from '../db/licences';
import { cancelService, listServices, reactivateService } from '../db/services';
import { autoCleanse } from './quarantine-notify';
import { ensureTenantWorkflow } from '../workflows/tenant.api';
import type { CarrierTenantView, ChangeResult, LicenceChange, LicenceView, ProductLimits } from '../workflows/types';

export function tenantActivities(deps: ActivityDeps) {
  async function readCarrier(providerId: string, tenantId: string): Promise<CarrierTenantView> {
    const client = await carrierFor(deps, providerId);
    const services = await listServices(deps.pool, providerId);
    const contract = services.find((s) => s.tenant_id === tenantId.toLowerCase())?.contract_agreement_id;
    let licences: LicenceView[] = [];
    let gone = false;
    try {
      licences = flattenSubscriptions((await client.getTenant(tenantId)).Subscriptions);
    } catch (err) {
      if (!(err instanceof CarrierError && err.code === 'NOT_FOUND')) throw err;
      gone = true;
    }
    const products: ProductLimits[] = [];
    if (contract) {
      const list = await client.getPriceList(contract, new Date());
      for (const g of list.ProductGroups) {
        for (const p of g.Products) products.push({ productId: p.ProductId, name: p.ProductName, minQty: p.MinQty ?? 1, maxQty: p.MaxQty ?? 10_000 });
      }
    }
    return { gone, licences, products };
  }

  return {
    /** Starts the entity workflow of every service of the provider that has none running. */
    async ensureTenantWorkflows(input: { providerId: string }): Promise<number> {
      let started = 0;
      for (const s of await listServices(deps.pool, input.providerId)) {
        const tenant = { providerId: input.providerId, tenantId: s.tenant_id, serviceId: s.id, reconcileEveryHours: deps.reconcileIntervalHours };
        if (await ensureTenantWorkflow(deps, tenant)) started++;
      }
      return started;
    },

    /**
     * Reads the carrier's view of the tenant and records every difference from what the workflow
     * knew as a licence event: such changes were made in Office 365 or the carrier's portal.
     */
    async reconcileTenant(input: { providerId: string; tenantId: string; reconcileId: string; known: LicenceView[]; initial: boolean }): Promise<CarrierTenantView & { events: number }> {
      return classified(async () => {
        const view = await readCarrier(input.providerId, input.tenantId);
        const events = input.initial ? [] : diffLicences(input.known, view.licences);
        await inTransaction(deps.pool, async (db) => {
          if (view.gone) {
            await db.query(`UPDATE service SET gone_at_carrier_since = coalesce(gone_at_carrier_since, now()) WHERE provider_id = $1 AND tenant_id = lower($2)`, [input.providerId, input.tenantId]);
          } else {
            await replaceLicences(db, input.providerId, input.tenantId, view.licences);
          }
          for (const e of events) await recordEvent(db, input.providerId, input.tenantId, 'OFFICE365_OR_CARRIER_PORTAL', input.reconcileId, e);
        });
        return { ...view, events: events.length };
      });
    },

    /** Sends one licence change to the carrier, once per changeId, and records it. */
    async applyLicenceChange(input: { providerId: string; tenantId: string; serviceId: string; changeId: string; by: string; change: LicenceChange }): Promise<ChangeResult> {
      return classified(async () => {
        const { change, changeId } = input;
        const prior = await deps.pool.query<{ status: string; result: ChangeResult | null }>('SELECT status, result FROM licence_change WHERE change_id = $1', [changeId]);
        if (prior.rows[0]?.status === 'DONE' && prior.rows[0].result) return prior.rows[0].result;
        await deps.pool.query(
          `INSERT INTO licence_change (change_id, provider_id, tenant_id, kind, request, requested_by, status) VALUES ($1, $2, lower($3), $4, $5, $6, 'SENT')
           ON CONFLICT (change_id) DO NOTHING`,
          [changeId, input.providerId, input.tenantId, change.kind, change, input.by],
        );
        let result: ChangeResult;
        if (change.kind === 'order' || change.kind === 'setQuantity') {
          const client = await carrierFor(deps, input.providerId);
          const licences =
            change.kind === 'order'
              ? flattenSubscriptions(
                  (await client.placeOrder({ tenantId: input.tenantId, orderBillingCycle: change.billingCycle, products: [{ productId: change.productId, qty: change.quantity }], clientReference: changeId })).Subscriptions,
                )
              : flattenSubscriptions([await client.setSubscriptionQuantity(change.subscriptionId, change.quantity)]);
          result = { changeId, kind: change.kind, licences, cancelledOn: null };
        } else if (change.kind === 'cancelService') {
          // Stops billing from that date; the licence at the carrier is deliberately left alone.
          await cancelService(deps.pool, input.serviceId, change.effectiveDate);
          result = { changeId, kind: change.kind, licences: [], cancelledOn: change.effectiveDate };
        } else {
          await reactivateService(deps.pool, input.serviceId);
          result = { changeId, kind: change.kind, licences: [], cancelledOn: null };
        }
        await inTransaction(deps.pool, async (db) => {
          await db.query(`UPDATE licence_change SET status = 'DONE', result = $2, completed_at = now() WHERE change_id = $1`, [changeId, result]);
          const detail = change.kind === 'order' ? { kind: 'ordered', subscriptionId: result.licences[0]?.subscriptionId ?? null, oldValue: null, newValue: `${change.productId} x ${change.quantity}` }
            : change.kind === 'setQuantity' ? { kind: 'quantity', subscriptionId: change.subscriptionId, oldValue: null, newValue: String(change.quantity) }
            : change.kind === 'cancelService' ? { kind: 'serviceCancelled', subscriptionId: null, oldValue: null, newValue: change.effectiveDate }
            : { kind: 'serviceReactivated', subscriptionId: null, oldValue: null, newValue: null };
          await recordEvent(db, input.providerId, input.tenantId, 'THIS_SYSTEM', changeId, detail);
        });
        if (change.kind === 'reactivateService') await autoCleanse(deps, input.providerId, { kind: 'serviceReactivated', serviceId: input.serviceId });
        return result;
      });
    },
  };
}

interface LicenceDifference {
  kind: string;
  subscriptionId: string | null;
  oldValue: string | null;
  newValue: string | null;
}

/** Every difference between two views of a tenant's licences, subscription by subscription. */
export function diffLicences(known: LicenceView[], now: LicenceView[]): LicenceDifference[] {
  const out: LicenceDifference[] = [];
  const before = new Map(known.map((l) => [l.subscriptionId, l]));
  const after = new Map(now.map((l) => [l.subscriptionId, l]));
  for (const [id, l] of after) {
    const old = before.get(id);
    if (!old) {
      out.push({ kind: 'added', subscriptionId: id, oldValue: null, newValue: `${l.productName ?? l.productId} x ${l.quantity}` });
      continue;
    }
    if (old.quantity !== l.quantity) out.push({ kind: 'quantity', subscriptionId: id, oldValue: String(old.quantity), newValue: String(l.quantity) });
    if (old.status !== l.status) out.push({ kind: 'status', subscriptionId: id, oldValue: old.status, newValue: l.status });
    if ((old.billingCycle ?? '') !== (l.billingCycle ?? '')) out.push({ kind: 'billingCycle', subscriptionId: id, oldValue: old.billingCycle, newValue: l.billingCycle });
  }
  for (const [id, l] of before) {
    if (!after.has(id)) out.push({ kind: 'removed', subscriptionId: id, oldValue: `${l.productName ?? l.productId} x ${l.quantity}`, newValue: null });
  }
  return out;
}

async function recordEvent(db: PoolClient, providerId: string, tenantId: string, source: string, changeId: string, e: LicenceDifference): Promise<void> {
  await db.query(
    `INSERT INTO licence_event (provider_id, tenant_id, subscription_id, source, kind, old_value, new_value, change_id)
     VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [providerId, tenantId, e.subscriptionId, source, e.kind, e.oldValue, e.newValue, changeId],
  );
}
