import type { LicenceView } from '../../workflows/tenant.api';

/** The one licence of the tenant-workflow tests' tenant (Microsoft 365 E3, subscription sub-1). */
export const licence = (quantity: number): LicenceView => ({
  subscriptionId: 'sub-1',
  parentSubscriptionId: null,
  productId: 'prod-1',
  productName: 'Microsoft 365 E3',
  quantity,
  status: 'Active',
  billingCycle: 'Monthly',
});

/** Its price-list limits. */
export const E3_LIMITS = { productId: 'prod-1', name: 'Microsoft 365 E3', minQty: 1, maxQty: 300 };
