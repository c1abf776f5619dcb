import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { inTransaction } from '../db/pool';
import { flagTenantsGone, upsertTenantService } from '../db/services';
import { getProvider } from '../db/providers';
import { replaceLicences } from '../db/licences';
import { autoCleanse } from './quarantine-notify';
import { ensureUsageSchedule } from '../workflows/usage-cycle.api';
import { ensureInvoiceReconciliationSchedule } from '../workflows/invoice-reconciliation.api';
import type { CarrierTenant } from '../carrier/schemas';
import type { DiscoveryResult } from '../workflows/types';

export function onboardingActivities(deps: ActivityDeps) {
  return {
    /**
     * Reads the provider's customers and tenants at the carrier; each tenant becomes (or stays)
     * one service, type 5315 "Microsoft CSP - Rhipe". Tenants no longer listed are flagged, not deleted.
     */
    async discoverTenants(input: { providerId: string }): Promise<DiscoveryResult> {
      return classified(async () => {
        const client = await carrierFor(deps, input.providerId);
        const customers = await client.listCustomers();
        const agreements = new Map<string, { tenantId: string; customerId: string | null; customerName: string | null; contractAgreementId: string | null }>();
        for (const c of customers) {
          for (const a of c.CustomerProgramAgreements) {
            agreements.set(a.Id, { tenantId: a.Id, customerId: c.CustomerId ?? null, customerName: c.CustomerName ?? null, contractAgreementId: a.ContractAgreementId ?? null });
          }
        }
        const details = new Map<string, CarrierTenant>();
        for (const contract of new Set([...agreements.values()].map((a) => a.contractAgreementId).filter((x): x is string => !!x))) {
          for (const t of await client.listTenants(contract)) details.set(t.TenantId, t);
        }
        for (const a of agreements.values()) if (!details.has(a.tenantId)) details.set(a.tenantId, await client.getTenant(a.tenantId));

        const created: Array<{ serviceId: string; tenantId: string }> = [];
        const flaggedGone = await inTransaction(deps.pool, async (db) => {
          for (const a of agreements.values()) {
            const t = details.get(a.tenantId)!;
            const { service, created: isNew } = await upsertTenantService(db, input.providerId, {
              tenantId: a.tenantId,
              domain: t.TenantDomain ?? null,
              customerId: t.CustomerId ?? a.customerId,
              customerName: t.CustomerName ?? a.customerName,
              clientRef: a.customerId,
              contractAgreementId: a.contractAgreementId,
              carrierStatus: t.TenantStatus ?? null,
            });
            await replaceLicences(db, input.providerId, a.tenantId, t.Subscriptions);
            if (isNew) created.push({ serviceId: service.id, tenantId: a.tenantId });
          }
          return flagTenantsGone(db, input.providerId, [...agreements.keys()]);
        });
        for (const c of created) await autoCleanse(deps, input.providerId, { kind: 'serviceCreated', tenantId: c.tenantId });
        return { tenants: agreements.size, createdServices: created.map((c) => c.serviceId), flaggedGone };
      });
    },

    async ensureProviderSchedule(input: { providerId: string }): Promise<'created' | 'updated' | 'removed'> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider || provider.status === 'REMOVED') return 'removed';
      await ensureInvoiceReconciliationSchedule(deps, provider, deps.invoiceReconciliation ?? { dayOfMonth: 7, time: '09:00' });
      return ensureUsageSchedule(deps, provider);
    },
  };
}
