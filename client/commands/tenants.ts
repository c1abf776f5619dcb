import type { Command } from '@commander-js/extra-typings';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { CliContext } from '../context';
import { getService, listServices } from '../../db/services';
import { providerFilter, providerLabels } from '../lookup';
import { displayMoney, displayTime } from '../display';
import { listLicences } from '../../db/licences';
import { recentLicenceEvents } from '../../db/licence-events';
import {
  ActionStillRunning,
  cancelService,
  orderProduct,
  reactivateService,
  requestReconcile,
  setQuantity,
  tenantState,
  type TenantRef,
} from '../../workflows/tenant.api';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { cliActor } from '../actor';
import { plainDateProblem } from '../../core/iso-date';
import { failedLicenceChanges } from '../../db/licence-changes';
import { cliUpdateFailure } from '../workflow-failure';
import { getProvider } from '../../db/providers';
import { previewCancelCredits } from '../../db/corrections';
import { localDate } from '../../core/usage-window';
import type { CreditSummary } from '../../core/corrections';
import { addressText, parsePostalAddress } from '../../core/contact';
import { ContactRefused, setTenantContact, tenantContact, type TenantContact } from '../contacts';
import { osUserName } from '../actor';

/** A cancel's credit for people: lines, the amount to the cent, the months it lands in. */
function creditText(c: CreditSummary): string {
  if (c.lines === 0) return 'nothing: no line of the service was billed from that date on';
  return `${c.lines} billed line(s): ${displayMoney(c.amount, c.currency)} in ${c.periods.join(', ')}; they are back in quarantine as SERVICE_INACTIVE (tenant reactivate bills them again)`;
}

/** A tenant's invoice contact for people: each part with where it comes from. */
function contactView(c: TenantContact): Record<string, string> {
  const from = (f: string | null) =>
    f === 'admin' ? ` (set by ${c.adminUpdatedBy ?? 'an admin'})` : f ? ' (carrier)' : '';
  return {
    email: (c.contact.email ?? 'none') + from(c.emailFrom),
    address: (addressText(c.contact.address) || 'none') + from(c.addressFrom),
  };
}

export function tenantCommands(program: Command, ctx: () => CliContext): void {
  const tenant = program
    .command('tenant')
    .description('end customers’ Microsoft tenants: one service each, with its licences');

  async function serviceOf(ref: string) {
    const s = await getService(await ctx().db(), ref);
    if (!s) throw new UserError(`no service or tenant "${ref}" (give a service id, tenant GUID or tenant domain)`);
    return s;
  }
  async function tenantOf(ref: string) {
    const s = await serviceOf(ref);
    const tenant: TenantRef = { providerId: s.provider_id, tenantId: s.tenant_id };
    return { s, tenant, temporal: await ctx().temporal() };
  }
  /** The change's result; null when it was accepted and still runs past the wait (said on stdout). */
  async function update<T>(run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof ActionStillRunning) {
        process.stdout.write(`${err.message}\n`);
        return null;
      }
      if (err instanceof WorkflowNotFoundError)
        throw new UserError('this tenant has no running workflow (its provider was removed?)');
      throw cliUpdateFailure(err);
    }
  }
  const quantity = (v: string) => {
    if (!/^\d+$/.test(v)) throw new UserError('--quantity must be a whole number');
    return Number(v);
  };

  tenant
    .command('list')
    .description('every service (one per tenant), with its customer, domain and provider')
    .option('--provider <provider>', 'provider id or name')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const db = await ctx().db();
      const providerId = await providerFilter(db, o.provider);
      const label = await providerLabels(db);
      const rows = (await listServices(db, providerId ?? undefined)).map((s) => ({
        service: s.id,
        provider: o.json ? s.provider_id : label(s.provider_id).name,
        tenant: s.tenant_id,
        domain: s.tenant_domain,
        customer: s.customer_name,
        type: s.service_type_id,
        cancelledOn: s.cancelled_on,
        goneAtCarrier: s.gone_at_carrier_since ? 'yes' : '',
      }));
      printRows(rows, !!o.json);
    });

  tenant
    .command('show <tenant>')
    .description('a tenant: its service, licences, licence events (old → new, who) and failed changes')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const { s, tenant, temporal } = await tenantOf(ref);
      const db = await ctx().db();
      const state = await tenantState(temporal, tenant).catch(() => null);
      const events = await recentLicenceEvents(db, s.provider_id, s.tenant_id);
      const failed = await failedLicenceChanges(db, s.provider_id, s.tenant_id);
      const licences = state?.licences ?? (await listLicences(db, s.provider_id, s.tenant_id));
      if (o.json) {
        printObject(
          {
            service: s,
            licences,
            lastReconciledAt: state?.lastReconciledAt ?? null,
            lastReconcileFailure: state?.lastReconcileFailure ?? null,
            recentEvents: events,
            failedChanges: failed,
          },
          true,
        );
        return;
      }
      const failure = state?.lastReconcileFailure;
      printObject(
        {
          service: s,
          lastReconciledAt: state?.lastReconciledAt ?? null,
          ...(failure ? { lastReconcileFailed: `${failure.at}: ${failure.reason}` } : {}),
          'invoice contact': contactView(await tenantContact(db, s)),
        },
        false,
        (await providerLabels(db))(s.provider_id).timeZone,
      );
      // Licences as a table: an add-on names the subscription it belongs to.
      process.stdout.write('licences:\n');
      printRows(
        licences.map((l) => ({
          product: l.productName ?? '',
          productId: l.productId,
          quantity: l.quantity,
          status: l.status,
          billingCycle: l.billingCycle ?? '',
          subscription: l.subscriptionId,
          addOnOf: l.parentSubscriptionId ?? '',
        })),
        false,
      );
      const tz = (await providerLabels(db))(s.provider_id).timeZone;
      process.stdout.write(`licence events (newest first, times in ${tz}):\n`);
      printRows(
        events.map((e) => ({
          at: displayTime(e.observed_at, tz),
          source: e.source,
          kind: e.kind,
          licence: e.product_name ?? e.subscription_id ?? '',
          old: e.old_value ?? '',
          new: e.new_value ?? '',
          // Changes made here name who asked; out-of-band ones were made in Office 365 or the carrier's portal.
          who: e.by
            ? `${e.by}${e.principal ? ` (login ${e.principal})` : ''}${e.os_user ? ` (os user ${e.os_user})` : ''}`
            : '',
        })),
        false,
      );
      if (failed.length > 0) {
        process.stdout.write('failed changes:\n');
        printRows(
          failed.map((f) => ({
            at: displayTime(f.created_at, tz),
            kind: f.kind,
            by: f.requested_by,
            reason: f.failure ?? '',
          })),
          false,
        );
      }
    });

  tenant
    .command('set-contact <tenant>')
    .description(
      "the email and postal address on the invoices of the tenant's customer (Xero export); wins over the carrier's",
    )
    .option('--email <address>', 'where Xero emails the invoices')
    .option(
      '--address <text>',
      'postal address, parts separated by commas: street lines, "City STATE POSTCODE", country (e.g. "Level 3, 120 Harbour Street, Sydney NSW 2000, Australia")',
    )
    .option('--clear', "drop the email and address set here: the carrier's apply again")
    .requiredOption('--by <name>', 'who makes the change (audited)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      if (o.clear && (o.email !== undefined || o.address !== undefined))
        throw new UserError('--clear takes no --email or --address');
      if (!o.clear && o.email === undefined && o.address === undefined)
        throw new UserError('give --email, --address or both (or --clear)');
      let address;
      if (o.address !== undefined) {
        const parsed = parsePostalAddress(o.address);
        if ('problem' in parsed) throw new UserError(parsed.problem);
        address = parsed;
      }
      const s = await serviceOf(ref);
      let contact: TenantContact;
      try {
        contact = await setTenantContact(
          await ctx().db(),
          s,
          o.clear ? { email: null, address: null } : { email: o.email, address },
          { by: o.by, source: 'cli', detail: `os user ${osUserName()}` },
        );
      } catch (err) {
        if (err instanceof ContactRefused) throw new UserError(err.message);
        throw err;
      }
      if (o.json) return printObject(contact, true);
      process.stdout.write(
        `invoice contact of ${s.customer_name ?? s.tenant_domain ?? s.id} ${o.clear ? 'cleared' : 'set'} by ${o.by} (every tenant of the customer shares it):\n`,
      );
      printObject(contactView(contact), false);
    });

  tenant
    .command('order <tenant>')
    .description('order a product for the tenant at Rhipe (checked against the price list first)')
    .requiredOption('--product <guid>', 'product GUID')
    .requiredOption('--quantity <n>', 'licences')
    .option('--billing-cycle <cycle>', 'Monthly | Annual', 'Monthly')
    .requiredOption('--by <name>', 'who orders')
    .action(async (ref: string, o) => {
      const { tenant, temporal } = await tenantOf(ref);
      const r = await update(() =>
        orderProduct(temporal, tenant, {
          productId: o.product,
          quantity: quantity(o.quantity), // The tenant's Update validator refuses any other cycle, with the reason.
          billingCycle: o.billingCycle as 'Monthly' | 'Annual',
          ...cliActor(o.by),
        }),
      );
      if (!r) return;
      process.stdout.write(
        `ordered (change ${r.changeId}): ${r.licences.map((l) => `${l.subscriptionId} ${l.productName ?? l.productId} x ${l.quantity}`).join('; ')}\n`,
      );
    });

  tenant
    .command('set-quantity <tenant>')
    .description("change a licence's quantity at Rhipe (checked against the price list's min/max first)")
    .requiredOption('--subscription <id>', 'subscription id')
    .requiredOption('--quantity <n>', 'new quantity')
    .requiredOption('--by <name>', 'who changes it')
    .action(async (ref: string, o) => {
      const { tenant, temporal } = await tenantOf(ref);
      const r = await update(() =>
        setQuantity(temporal, tenant, {
          subscriptionId: o.subscription,
          quantity: quantity(o.quantity),
          ...cliActor(o.by),
        }),
      );
      if (!r) return;
      process.stdout.write(
        `quantity set (change ${r.changeId}): ${r.licences.map((l) => `${l.subscriptionId} x ${l.quantity}`).join('; ')}\n`,
      );
    });

  tenant
    .command('cancel <tenant>')
    .description(
      'stop billing the service from a date (lines billed from then on are credited); the licence at Rhipe is NOT cancelled',
    )
    .option('--date <yyyy-mm-dd>', "effective date (default the provider's today)")
    .option('--preview', 'show what the cancel would credit, changing nothing')
    .option('--json', 'print JSON')
    .option('--by <name>', 'who cancels (required unless --preview)')
    .action(async (ref: string, o) => {
      if (o.date !== undefined) {
        const problem = plainDateProblem(o.date);
        if (problem) throw new UserError(`--date: ${problem}`);
      }
      if (o.preview) {
        const s = await serviceOf(ref);
        const db = await ctx().db();
        const timeZone = (await getProvider(db, s.provider_id))?.time_zone ?? 'UTC';
        const cancelledOn = o.date ?? localDate(new Date(), timeZone);
        const credited = await previewCancelCredits(db, s.provider_id, s.id, cancelledOn);
        if (o.json) printObject({ serviceId: s.id, cancelledOn, preview: true, credited }, true);
        else process.stdout.write(`${s.id} cancelled from ${cancelledOn} would credit ${creditText(credited)}\n`);
        return;
      }
      if (!o.by) throw new UserError('--by is required: who cancels');
      const by = o.by;
      const { s, tenant, temporal } = await tenantOf(ref);
      const r = await update(() => cancelService(temporal, tenant, { ...cliActor(by), effectiveDate: o.date }));
      if (!r) return;
      const credited = r.credited ?? { lines: 0, amount: '0', currency: '', periods: [] };
      if (o.json) printObject({ serviceId: s.id, cancelledOn: r.cancelledOn, credited }, true);
      else
        process.stdout.write(
          `${s.id} billing stops from ${r.cancelledOn}; the licence at Rhipe is unchanged (cancel it there if intended)\n` +
            `credited ${creditText(credited)}\n`,
        );
    });

  tenant
    .command('reactivate <tenant>')
    .description(
      'bill a cancelled service again (or withdraw a future cancellation); its SERVICE_INACTIVE lines are cleansed',
    )
    .requiredOption('--by <name>', 'who reactivates')
    .action(async (ref: string, o) => {
      const { s, tenant, temporal } = await tenantOf(ref);
      if (!(await update(() => reactivateService(temporal, tenant, cliActor(o.by))))) return;
      process.stdout.write(`${s.id} billing active again; quarantined SERVICE_INACTIVE lines are being cleansed\n`);
    });

  tenant
    .command('reconcile <tenant>')
    .description("read the carrier's view now and record what changed elsewhere")
    .action(async (ref: string) => {
      const { s, tenant, temporal } = await tenantOf(ref);
      await update(() => requestReconcile(temporal, tenant));
      process.stdout.write(`${s.id}: reconcile requested\n`);
    });
}
