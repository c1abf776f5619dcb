import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { addProvider, removeProvider, rotateSecrets, updateCredentials } from '../providers';
import { runOnboarding } from '../../workflows/onboarding.api';
import { listProviders, updateProviderSchedule } from '../../db/providers';
import { requireProvider } from '../lookup';
import { ensureUsageSchedule } from '../../workflows/usage-cycle.api';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { configSchema } from '../../config';

/** The secret from exactly one place: --client-secret, --client-secret-env VAR, or --client-secret-stdin. */
function readSecret(o: { clientSecret?: string; clientSecretEnv?: string; clientSecretStdin?: boolean }): string {
  const given = [o.clientSecret !== undefined, o.clientSecretEnv !== undefined, o.clientSecretStdin === true].filter(Boolean).length;
  if (given !== 1) throw new UserError('give the client secret once: --client-secret, --client-secret-env VAR or --client-secret-stdin (keeps it out of shell history)');
  if (o.clientSecretEnv !== undefined) {
    const v = process.env[o.clientSecretEnv];
    if (!v) throw new UserError(`environment variable ${o.clientSecretEnv} is not set`);
    return v;
  }
  if (o.clientSecretStdin) return readFileSync(0, 'utf8').trim();
  return o.clientSecret!;
}

function cycleTimes(v: string): string[] {
  const parsed = configSchema.shape.CYCLE_TIMES.safeParse(v);
  if (!parsed.success) throw new UserError('--cycle-times must be a comma-separated list of HH:MM, e.g. 06:00,18:00');
  return parsed.data;
}

function timeZone(v: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: v });
    return v;
  } catch {
    throw new UserError(`--time-zone "${v}" is not an IANA time zone such as Australia/Sydney`);
  }
}

export function providerCommands(program: Command, ctx: () => CliContext): void {
  const provider = program.command('provider').description('onboard and manage providers (resellers) and their Rhipe credentials');

  provider
    .command('add')
    .description('onboard a provider: check and verify its Rhipe credentials, store them encrypted, discover its tenants')
    .requiredOption('--name <name>', 'provider name')
    .requiredOption('--client-id <guid>', 'Rhipe client_id (a GUID, 36 characters with dashes)')
    .option('--client-secret <hex>', 'Rhipe client_secret (32 hex characters); prefer --client-secret-env or --client-secret-stdin')
    .option('--client-secret-env <var>', 'read the client secret from this environment variable')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .option('--currency <code>', 'the provider billing currency', 'AUD')
    .option('--time-zone <tz>', 'time zone of the usage schedule')
    .option('--cycle-times <list>', 'usage cycle times of day, comma-separated HH:MM')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = ctx();
      const { provider: p, onboarding } = await addProvider(await c.providerContext(), {
        name: o.name, clientId: o.clientId, clientSecret: readSecret(o), currency: o.currency.toUpperCase(),
        timeZone: timeZone(o.timeZone ?? c.cfg.DEFAULT_TIME_ZONE), cycleTimes: o.cycleTimes ? cycleTimes(o.cycleTimes) : c.cfg.CYCLE_TIMES,
      });
      printObject({ provider: p.id, name: p.name, currency: p.currency, tenants: onboarding.tenants, servicesCreated: onboarding.createdServices.length, schedule: onboarding.schedule }, !!o.json);
    });

  provider
    .command('list')
    .description('list providers')
    .option('--all', 'include removed providers')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const rows = await listProviders(await ctx().db(), !!o.all);
      printRows(rows.map((p) => ({ id: p.id, name: p.name, client_id: p.client_id, currency: p.currency, time_zone: p.time_zone, cycle_times: p.cycle_times.join(','), status: p.status, attention: p.attention_reason, invoice: p.invoice_attention })), !!o.json);
    });

  provider
    .command('update-credentials <provider>')
    .description('replace the Rhipe credentials (verified with the carrier before they are stored)')
    .requiredOption('--client-id <guid>', 'Rhipe client_id')
    .option('--client-secret <hex>', 'Rhipe client_secret')
    .option('--client-secret-env <var>', 'read the client secret from this environment variable')
    .option('--client-secret-stdin', 'read the client secret from standard input')
    .action(async (ref: string, o) => {
      const p = await updateCredentials(await ctx().providerContext(), ref, o.clientId, readSecret(o));
      process.stdout.write(`credentials of ${p.id} (${p.name}) updated; status ${p.status}\n`);
    });

  provider
    .command('set-schedule <provider>')
    .description("change when the provider's usage cycles run (updates its Temporal schedule)")
    .option('--time-zone <tz>', 'IANA time zone')
    .option('--cycle-times <list>', 'comma-separated HH:MM')
    .action(async (ref: string, o) => {
      const c = ctx();
      const db = await c.db();
      const p = await requireProvider(db, ref);
      const tz = o.timeZone ? timeZone(o.timeZone) : p.time_zone;
      const times = o.cycleTimes ? cycleTimes(o.cycleTimes) : p.cycle_times;
      await updateProviderSchedule(db, p.id, tz, times);
      await ensureUsageSchedule({ temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE }, { ...p, time_zone: tz, cycle_times: times });
      process.stdout.write(`${p.id}: usage cycles at ${times.join(', ')} ${tz}\n`);
    });

  provider
    .command('discover <provider>')
    .description('read the provider’s tenants at the carrier again: new tenants become services, vanished ones are flagged')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const c = ctx();
      const p = await requireProvider(await c.db(), ref);
      printObject(await runOnboarding(await c.providerContext(), p.id), !!o.json);
    });

  provider
    .command('remove <provider>')
    .description('stop the provider’s schedule and tenant workflows; its services, usage and audit trail are kept')
    .action(async (ref: string) => {
      const p = await removeProvider(await ctx().providerContext(), ref);
      process.stdout.write(`${p.id} (${p.name}) removed; history kept\n`);
    });

  provider
    .command('rotate-key')
    .description('re-encrypt every stored client secret with the current ENCRYPTION_KEY')
    .action(async () => {
      const n = await rotateSecrets(await ctx().providerContext());
      process.stdout.write(`${n} secret(s) re-encrypted\n`);
    });
}
