import { Context, heartbeat } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { inTransaction } from '../db/pool';
import { flagTenantsGone, upsertTenantService } from '../db/services';
import { getProvider } from '../db/providers';
import { replaceLicences } from '../db/licences';
import {
  customersListed,
  discoveredTenantIds,
  failDiscovery,
  finishDiscovery,
  latestDiscovery,
  markProviderOnboarded,
  markTenantsDone,
  openDiscovery,
  pendingAgreements,
  pendingTenants,
  recordCustomerTenants,
  type DiscoveredTenant,
  type DiscoveryProgress,
} from '../db/discovery';
import { autoCleanse, cleanseServedTenants } from './quarantine-notify';
import { ensureUsageSchedule } from '../workflows/usage-cycle.api';
import { ensureInvoiceReconciliationSchedule } from '../workflows/invoice-reconciliation.api';
import type { DiscoveryResult, DiscoveryStep } from '../workflows/onboarding.api';
import { CarrierError } from '../carrier/errors';
import type { RhipeClient } from '../carrier/client';
import type { CarrierTenant } from '../carrier/schemas';
import { carrierCustomerContact } from '../carrier/contact';
import { recordCarrierContacts } from '../db/customer-contacts';
import { customerKey } from '../core/billing-report';
import { cataloguePriceList } from './product-catalogue';

/** Tenants stored per transaction: a retry after a crash redoes at most this many. */
const STORE_BATCH = 200;

/**
 * One carrier request, retried on its own: a transient fault (5xx, 429, timeout, reset, bad body)
 * costs this request a few tries with backoff, not the discovery its progress.
 */
export async function withRequestRetry<T>(what: () => Promise<T>, attempts = 5, firstDelayMs = 200): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await what();
    } catch (err) {
      if (!(err instanceof CarrierError) || !err.retryable || attempt >= attempts) throw err;
      const delay = err.retryAfterMs ?? Math.min(firstDelayMs * 2 ** (attempt - 1), 5_000);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function beat(detail: unknown): void {
  // Outside an activity (a direct call in a test) there is nothing to heartbeat.
  try {
    Context.current();
  } catch {
    return;
  }
  heartbeat(detail);
}

export function onboardingActivities(deps: ActivityDeps) {
  /** Stores tenants read at the carrier as services (with their licences) and marks them done, together. */
  async function storeTenants(
    providerId: string,
    discoveryId: string,
    tenants: Array<{ known: DiscoveredTenant; detail: CarrierTenant }>,
  ): Promise<number> {
    let created = 0;
    for (let i = 0; i < tenants.length; i += STORE_BATCH) {
      const batch = tenants.slice(i, i + STORE_BATCH);
      const createdTenants = await inTransaction(deps.pool, async (db) => {
        const fresh: string[] = [];
        for (const { known, detail } of batch) {
          const { created: isNew } = await upsertTenantService(db, providerId, {
            tenantId: known.tenantId,
            domain: detail.TenantDomain ?? null,
            customerId: detail.CustomerId ?? known.customerId,
            customerName: detail.CustomerName ?? known.customerName,
            clientRef: known.customerId,
            contractAgreementId: known.contractAgreementId,
            carrierStatus: detail.TenantStatus ?? null,
          });
          await replaceLicences(db, providerId, known.tenantId, detail.Subscriptions);
          if (isNew) fresh.push(known.tenantId);
        }
        await markTenantsDone(
          db,
          discoveryId,
          batch.map((t) => t.known.tenantId),
          fresh.length,
        );
        return fresh;
      });
      for (const tenantId of createdTenants) await autoCleanse(deps, providerId, { kind: 'serviceCreated', tenantId });
      created += createdTenants.length;
      beat({ discoveryId, stored: i + batch.length });
    }
    return created;
  }

  /**
   * The agreement's price list into the product catalogue, so the products and the rate card's
   * coverage are known before the first cycle. Not needed to discover: a failure is logged, and
   * each tenant's reconcile reads the list again.
   */
  async function catalogueAgreement(client: RhipeClient, providerId: string, agreement: string): Promise<void> {
    try {
      await cataloguePriceList(
        deps.pool,
        providerId,
        await withRequestRetry(() => client.getPriceList(agreement, new Date())),
      );
    } catch (err) {
      deps.log.warn({ providerId, agreement, error: (err as Error).message }, 'price list not read during discovery');
    }
  }

  async function readAgreement(
    client: RhipeClient,
    providerId: string,
    discoveryId: string,
    agreement: string | null,
    maxSingles: number,
  ): Promise<{ done: number; created: number }> {
    const pending = await pendingTenants(deps.pool, discoveryId, agreement);
    const listed = new Map<string, CarrierTenant>();
    if (agreement !== null) {
      for (const t of await withRequestRetry(() => client.listTenants(agreement))) listed.set(t.TenantId, t);
      await catalogueAgreement(client, providerId, agreement);
    }
    const found: Array<{ known: DiscoveredTenant; detail: CarrierTenant }> = [];
    const singles: DiscoveredTenant[] = [];
    for (const known of pending) {
      const detail = listed.get(known.tenantId);
      if (detail) found.push({ known, detail });
      else singles.push(known);
    }
    let created = await storeTenants(providerId, discoveryId, found);
    // Tenants the agreement's listing left out (or without an agreement): read one by one, stored as they come.
    const now = singles.slice(0, maxSingles);
    for (let i = 0; i < now.length; i += STORE_BATCH) {
      const batch: Array<{ known: DiscoveredTenant; detail: CarrierTenant }> = [];
      for (const known of now.slice(i, i + STORE_BATCH)) {
        batch.push({ known, detail: await withRequestRetry(() => client.getTenant(known.tenantId)) });
        beat({ discoveryId, tenant: known.tenantId });
      }
      created += await storeTenants(providerId, discoveryId, batch);
    }
    return { done: found.length + now.length, created };
  }

  const activities = {
    /** The provider's open discovery (a resumed onboarding continues it), or a new one. */
    async beginDiscovery(input: { providerId: string }): Promise<{ discoveryId: string }> {
      return { discoveryId: await openDiscovery(deps.pool, input.providerId) };
    },

    /** Lists the provider's customers once per discovery and records each tenant as to be read. */
    async listDiscoveryCustomers(input: { providerId: string; discoveryId: string }): Promise<DiscoveryProgress> {
      return classified(async () => {
        if (!(await customersListed(deps.pool, input.discoveryId))) {
          const client = await carrierFor(deps, input.providerId);
          const customers = await withRequestRetry(() => client.listCustomers());
          const tenants = new Map<string, DiscoveredTenant>();
          for (const c of customers) {
            for (const a of c.CustomerProgramAgreements) {
              tenants.set(a.Id, {
                tenantId: a.Id,
                customerId: c.CustomerId ?? null,
                customerName: c.CustomerName ?? null,
                contractAgreementId: a.ContractAgreementId ?? null,
              });
            }
          }
          await recordCustomerTenants(deps.pool, input.discoveryId, [...tenants.values()]);
          // Each customer's email and postal address, for its invoices (an admin's own stay).
          await recordCarrierContacts(
            deps.pool,
            input.providerId,
            customers.flatMap((c) =>
              c.CustomerId
                ? [
                    {
                      customerKey: customerKey({ customerId: c.CustomerId, serviceId: '' }),
                      contact: carrierCustomerContact(c),
                    },
                  ]
                : [],
            ),
          );
        }
        return (await latestDiscovery(deps.pool, input.providerId))!;
      });
    },

    /**
     * Reads up to `maxAgreements` contract agreements' tenants (one request each, retried on its
     * own) and stores them. Progress is in the database, so a retry continues where this stopped.
     */
    async discoverAgreements(input: {
      providerId: string;
      discoveryId: string;
      maxAgreements: number;
      maxSingleTenants?: number;
    }): Promise<DiscoveryStep> {
      return classified(async () => {
        const client = await carrierFor(deps, input.providerId);
        let tenantsDone = 0;
        let servicesCreated = 0;
        for (const agreement of await pendingAgreements(deps.pool, input.discoveryId, input.maxAgreements)) {
          const r = await readAgreement(
            client,
            input.providerId,
            input.discoveryId,
            agreement,
            input.maxSingleTenants ?? 500,
          );
          tenantsDone += r.done;
          servicesCreated += r.created;
          beat({ discoveryId: input.discoveryId, agreement });
        }
        const progress = (await latestDiscovery(deps.pool, input.providerId))!;
        return { tenantsDone, servicesCreated, done: progress.tenantsDone >= progress.tenants, progress };
      });
    },

    /** Flags tenants the carrier no longer lists (never deletes them) and closes the discovery. */
    async finishDiscovery(input: { providerId: string; discoveryId: string }): Promise<DiscoveryResult> {
      const present = await discoveredTenantIds(deps.pool, input.discoveryId);
      await inTransaction(deps.pool, async (db) => {
        const gone = await flagTenantsGone(db, input.providerId, present);
        await finishDiscovery(db, input.discoveryId, gone.length);
      });
      // Run again by a retry: any group a lost signal left behind while tenants were stored.
      await cleanseServedTenants(deps, input.providerId);
      // The count from the stored run: a retry after the commit finds the tenants flagged already.
      const progress = (await latestDiscovery(deps.pool, input.providerId))!;
      return {
        discoveryId: input.discoveryId,
        tenants: present.length,
        servicesCreated: progress.servicesCreated,
        flaggedGone: progress.flaggedGone,
      };
    },

    async failDiscovery(input: { discoveryId: string; reason: string }): Promise<void> {
      await failDiscovery(deps.pool, input.discoveryId, input.reason);
    },

    async markProviderOnboarded(input: { providerId: string }): Promise<void> {
      await markProviderOnboarded(deps.pool, input.providerId);
    },

    async ensureProviderSchedule(input: { providerId: string }): Promise<'created' | 'updated' | 'removed'> {
      const provider = await getProvider(deps.pool, input.providerId);
      if (!provider || provider.status === 'REMOVED') return 'removed';
      await ensureInvoiceReconciliationSchedule(
        deps,
        provider,
        deps.invoiceReconciliation ?? { dayOfMonth: 7, time: '09:00' },
      );
      return ensureUsageSchedule(deps, provider);
    },
  };
  return activities;
}
