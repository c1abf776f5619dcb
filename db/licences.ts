import type { Pool, PoolClient } from './pool';
import type { CarrierSubscription } from '../carrier/schemas';
import type { LicenceView } from '../core/licences';

type Queryable = Pool | PoolClient;

/** Flattens subscriptions and their add-ons (an add-on keeps its parent's id). */
export function flattenSubscriptions(subs: CarrierSubscription[], parent: string | null = null): LicenceView[] {
  return subs.flatMap((s) => [
    {
      subscriptionId: s.SubscriptionId,
      parentSubscriptionId: parent,
      productId: s.ProductId,
      productName: s.ProductName ?? null,
      quantity: s.Quantity,
      status: s.Status,
      billingCycle: s.BillingCycle ?? null,
    },
    ...flattenSubscriptions(s.AddonSubscriptions ?? [], s.SubscriptionId),
  ]);
}

/** The tenant's licences as last seen at the carrier (a read model for the CLI). */
export async function replaceLicences(
  db: Queryable,
  providerId: string,
  tenantId: string,
  subs: CarrierSubscription[] | LicenceView[],
): Promise<void> {
  const flat =
    subs.length > 0 && 'SubscriptionId' in subs[0]!
      ? flattenSubscriptions(subs as CarrierSubscription[])
      : (subs as LicenceView[]);
  await db.query('DELETE FROM licence WHERE provider_id = $1 AND tenant_id = lower($2)', [providerId, tenantId]);
  for (const l of flat) {
    await db.query(
      `INSERT INTO licence (provider_id, tenant_id, subscription_id, parent_subscription_id, product_id, product_name, quantity, status, billing_cycle)
       VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (provider_id, subscription_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, quantity = EXCLUDED.quantity,
         status = EXCLUDED.status, billing_cycle = EXCLUDED.billing_cycle, product_name = EXCLUDED.product_name, updated_at = now()`,
      [
        providerId,
        tenantId,
        l.subscriptionId,
        l.parentSubscriptionId,
        l.productId,
        l.productName,
        l.quantity,
        l.status,
        l.billingCycle,
      ],
    );
  }
}

export async function listLicences(db: Queryable, providerId: string, tenantId: string): Promise<LicenceView[]> {
  const res = await db.query<{
    subscription_id: string;
    parent_subscription_id: string | null;
    product_id: string;
    product_name: string | null;
    quantity: number;
    status: string;
    billing_cycle: string | null;
  }>(
    'SELECT * FROM licence WHERE provider_id = $1 AND tenant_id = lower($2) ORDER BY parent_subscription_id NULLS FIRST, product_name',
    [providerId, tenantId],
  );
  return res.rows.map((r) => ({
    subscriptionId: r.subscription_id,
    parentSubscriptionId: r.parent_subscription_id,
    productId: r.product_id,
    productName: r.product_name,
    quantity: r.quantity,
    status: r.status,
    billingCycle: r.billing_cycle,
  }));
}
