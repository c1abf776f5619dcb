import type { ActivityDeps } from './deps';
import { carrierFor } from './deps';
import { classified } from './failures';
import { CarrierError } from '../carrier/errors';
import { inTransaction, type PoolClient } from '../db/pool';
import { flattenSubscriptions, replaceLicences } from '../db/licences';
import { cancelService, flagTenantGone, listServices, reactivateService, tenantService } from '../db/services';
import {
  licenceChangeStatus,
  recordLicenceChangeDone,
  recordLicenceChangeFailed,
  recordLicenceChangeSent,
} from '../db/licence-changes';
import { getProvider } from '../db/providers';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { recordLicenceEvent } from '../db/licence-events';
import { changeEvent, diffLicences, type LicenceChange } from '../core/licences';
import { autoCleanse, notifyGroups } from './quarantine-notify';
import { recordDirectRequest } from './audit';
import { creditCancelledService } from '../db/corrections';
import { ensureTenantWorkflow } from '../workflows/tenant.api';
import { forEachConcurrently } from '../lib/concurrency';
import type {
  CarrierTenantView,
  ChangeResult,
  LicenceChangeInput,
  LicenceView,
  ProductLimits,
} from '../workflows/tenant.api';
import type { TenantWorkflowsStep } from '../workflows/onboarding.api';
import { cataloguePriceList } from './product-catalogue';

/** Tenant workflows started at once by ensureTenantWorkflowsStep (one start after another took minutes for thousands). */
export const TENANT_START_CONCURRENCY = 16;

/** Tries of the activity that signal a reactivation's auto-cleanse before it is given up. */
export const AUTO_CLEANSE_ATTEMPTS = 5;

/** A licence change as the CLI's command that asks for it is named (for the audit log). */
const LICENCE_CHANGE_COMMANDS: Record<LicenceChange['kind'], string> = {
  order: 'order',
  setQuantity: 'set-quantity',
  cancelService: 'cancel',
  reactivateService: 'reactivate',
};

/** The tag a cancel's credits and re-quarantined lines carry: what their groups are told by. */
export function cancelCreditTag(changeId: string): string {
  return `cancel-credit:${changeId}`;
}

/** This activity's attempt (1 outside an activity: a direct call). */
function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

function beat(detail: unknown): void {
  try {
    Context.current().heartbeat(detail);
  } catch {
    // not inside an activity (a direct call)
  }
}

export function tenantActivities(deps: ActivityDeps) {
  async function readCarrier(providerId: string, tenantId: string): Promise<CarrierTenantView> {
    const client = await carrierFor(deps, providerId);
    // This tenant's service only: reading all the provider's services here made 5,000 tenants' first reconciles read 25 million rows.
    const contract = (await tenantService(deps.pool, providerId, tenantId))?.contract_agreement_id;
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
      await cataloguePriceList(deps.pool, providerId, list);
      for (const g of list.ProductGroups) {
        for (const p of g.Products)
          products.push({
            productId: p.ProductId,
            name: p.ProductName,
            minQty: p.MinQty ?? 1,
            maxQty: p.MaxQty ?? 10_000,
          });
      }
    }
    return { gone, licences, products };
  }

  /** The carrier call or database change itself, classified (non-retryable failures marked). */
  function sendChange(input: LicenceChangeInput): Promise<ChangeResult> {
    return classified(async () => {
      const { change, changeId } = input;
      let result: ChangeResult;
      if (change.kind === 'order' || change.kind === 'setQuantity') {
        const client = await carrierFor(deps, input.providerId);
        const licences =
          change.kind === 'order'
            ? flattenSubscriptions(
                (
                  await client.placeOrder({
                    tenantId: input.tenantId,
                    orderBillingCycle: change.billingCycle,
                    products: [{ productId: change.productId, qty: change.quantity }],
                    clientReference: changeId,
                  })
                ).Subscriptions,
              )
            : flattenSubscriptions([await client.setSubscriptionQuantity(change.subscriptionId, change.quantity)]);
        result = { changeId, kind: change.kind, licences, cancelledOn: null };
      } else if (change.kind === 'cancelService') {
        // Stops billing from that date; the licence at the carrier is deliberately left alone.
        // Lines billed already from that date on are credited and quarantined again.
        return changedHere(async (db) => {
          await cancelService(db, input.serviceId, change.effectiveDate);
          const credited = await creditCancelledService(
            db,
            input.providerId,
            input.serviceId,
            change.effectiveDate,
            cancelCreditTag(changeId),
            input.by,
          );
          return { changeId, kind: change.kind, licences: [], cancelledOn: change.effectiveDate, credited };
        });
      } else {
        return changedHere(async (db) => {
          await reactivateService(db, input.serviceId);
          return { changeId, kind: change.kind, licences: [], cancelledOn: null };
        });
      }
      await inTransaction(deps.pool, (db) => recordDone(db, result));
      return result;

      /** The change's record and licence event, beside whatever the change wrote. */
      async function recordDone(db: PoolClient, done: ChangeResult): Promise<ChangeResult> {
        await recordLicenceChangeDone(db, changeId, done);
        await recordLicenceEvent(
          db,
          input.providerId,
          input.tenantId,
          'THIS_SYSTEM',
          changeId,
          changeEvent(change, done.licences[0]?.subscriptionId ?? null),
        );
        return done;
      }

      /**
       * A change made in this system's database, in one transaction with its record: a retry
       * finds the change done (a cancel's credits included) rather than making it twice.
       */
      function changedHere(make: (db: PoolClient) => Promise<ChangeResult>): Promise<ChangeResult> {
        return inTransaction(deps.pool, async (db) => recordDone(db, await make(db)));
      }
    });
  }

  /**
   * Starts the entity workflows of the provider's services after `after` (by id), at most `max`,
   * TENANT_START_CONCURRENCY at a time, heartbeating as it goes (thousands take longer than the
   * heartbeat timeout; a retry skips the ones already running).
   */
  async function startTenantWorkflows(
    providerId: string,
    after: string | undefined,
    max: number,
  ): Promise<TenantWorkflowsStep> {
    let started = 0;
    let done = 0;
    const timeZone = (await getProvider(deps.pool, providerId))?.time_zone;
    const all = await listServices(deps.pool, providerId);
    // Services are never deleted (only flagged), so the previous step's last one is still listed;
    // should it not be, starting over is safe (running workflows are skipped).
    const from = after === undefined ? 0 : all.findIndex((s) => s.id === after) + 1;
    const services = all.slice(from, from + max);
    await forEachConcurrently(services, TENANT_START_CONCURRENCY, async (s) => {
      const tenant = {
        providerId,
        tenantId: s.tenant_id,
        serviceId: s.id,
        reconcileEveryHours: deps.reconcileIntervalHours,
        timeZone,
      };
      if (await ensureTenantWorkflow(deps, tenant)) started++;
      if (++done % 50 === 0) beat({ providerId, tenantWorkflows: done, of: services.length });
    });
    const last = services[services.length - 1];
    const reached = from + services.length;
    return { started, done: reached, total: all.length, next: last && reached < all.length ? last.id : null };
  }

  return {
    /**
     * Starts the entity workflow of each service of the provider that has none running, one step
     * of at most `max` services (by id, after `after`), so the onboarding workflow can show how far it got; `next` is where the following step starts (null: done).
     */
    async ensureTenantWorkflowsStep(input: {
      providerId: string;
      after?: string;
      max: number;
    }): Promise<TenantWorkflowsStep> {
      return startTenantWorkflows(input.providerId, input.after, input.max);
    },

    /**
     * Reads the carrier's view of the tenant and records every difference from what the workflow
     * knew as a licence event: such changes were made in Office 365 or the carrier's portal.
     */
    async reconcileTenant(input: {
      providerId: string;
      tenantId: string;
      reconcileId: string;
      known: LicenceView[];
      initial: boolean;
    }): Promise<CarrierTenantView & { events: number }> {
      return classified(async () => {
        const view = await readCarrier(input.providerId, input.tenantId);
        const events = input.initial ? [] : diffLicences(input.known, view.licences);
        await inTransaction(deps.pool, async (db) => {
          if (view.gone) {
            await flagTenantGone(db, input.providerId, input.tenantId);
          } else {
            await replaceLicences(db, input.providerId, input.tenantId, view.licences);
          }
          for (const e of events)
            await recordLicenceEvent(
              db,
              input.providerId,
              input.tenantId,
              'OFFICE365_OR_CARRIER_PORTAL',
              input.reconcileId,
              e,
            );
        });
        return { ...view, events: events.length };
      });
    },

    /** Sends one licence change to the carrier, once per changeId, and records it. */
    async applyLicenceChange(input: LicenceChangeInput): Promise<ChangeResult> {
      const prior = await licenceChangeStatus(deps.pool, input.changeId);
      if (prior?.status === 'FAILED')
        throw ApplicationFailure.nonRetryable(
          `change ${input.changeId} failed: ${prior.failure ?? 'no reason recorded'}`,
          'LICENCE_CHANGE_FAILED',
        );
      let result: ChangeResult;
      if (prior?.status === 'DONE' && prior.result) {
        result = prior.result;
      } else {
        await recordLicenceChangeSent(deps.pool, {
          changeId: input.changeId,
          providerId: input.providerId,
          tenantId: input.tenantId,
          change: input.change,
          by: input.by,
          osUser: input.actor?.osUser,
          principal: input.actor?.principal,
        });
        const audit = {
          action: `tenant.${LICENCE_CHANGE_COMMANDS[input.change.kind]}`,
          target: input.serviceId,
          providerId: input.providerId,
          details: { tenantId: input.tenantId, ...input.change },
        };
        try {
          result = await sendChange(input);
        } catch (err) {
          // A change that cannot succeed is closed now with its reason, so the tenant's later changes do not wait behind it.
          if (err instanceof ApplicationFailure && err.nonRetryable) {
            await recordLicenceChangeFailed(deps.pool, input.changeId, err.message);
            await recordDirectRequest(deps.pool, input.actor ?? input, {
              ...audit,
              outcome: 'REFUSED',
              reason: err.message,
            });
          }
          throw err;
        }
        await recordDirectRequest(deps.pool, input.actor ?? input, audit);
      }
      // The tenant's quarantined lines are told once the change is recorded, and again by a retry
      // that finds it recorded: a signal that failed (or a worker lost) after the commit must not
      // leave them waiting for an admin. Cleansing twice bills nothing twice. The change itself is
      // done, though: after a few tries the signal is given up (logged), so the workflow still
      // learns the change was made rather than failing it.
      if (input.change.kind === 'reactivateService' || (result.credited?.lines ?? 0) > 0) {
        try {
          if (input.change.kind === 'reactivateService')
            await autoCleanse(deps, input.providerId, { kind: 'serviceReactivated', serviceId: input.serviceId });
          // The credited lines' SERVICE_INACTIVE groups learn of them, as a cycle's groups do.
          else await notifyGroups(deps, input.providerId, cancelCreditTag(input.changeId));
        } catch (err) {
          if (attempt() < AUTO_CLEANSE_ATTEMPTS) throw err;
          deps.log.warn(
            {
              providerId: input.providerId,
              serviceId: input.serviceId,
              changeId: input.changeId,
              error: (err as Error).message,
            },
            input.change.kind === 'reactivateService'
              ? 'service reactivated, but its quarantined lines could not be told to cleanse: cleanse them from the quarantine'
              : 'service cancelled and its billed lines credited, but their quarantine groups could not be told: they show at the next cycle',
          );
        }
      }
      return result;
    },

    /** The workflow gave up on a change (its retries ran out): recorded, so nobody waits for it. */
    async markLicenceChangeFailed(input: { changeId: string; reason: string }): Promise<void> {
      await recordLicenceChangeFailed(deps.pool, input.changeId, input.reason);
    },
  };
}
