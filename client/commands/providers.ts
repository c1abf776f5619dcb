import { Option, type Command, type OptionValues } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import {
  checkNewProvider,
  removeProvider,
  rotateSecrets,
  runOnboarding,
  startAddProvider,
  updateCredentials,
} from '../providers';
import { listProviders, updateProviderSchedule } from '../../db/providers';
import { latestDiscovery } from '../../db/discovery';
import { readClientSecret, DEFAULT_SECRET_ENV } from '../secret-input';
import { waitForWorkflow } from '../workflow-failure';
import {
  onboardingProgress,
  onboardingState,
  onboardingWorkflowId,
  type OnboardingHandle,
  type OnboardingProgress,
} from '../../workflows/onboarding.api';
import { checkCredentialShape } from '../../core/credentials';
import { requireProvider } from '../lookup';
import { ensureUsageSchedule } from '../../workflows/usage-cycle.api';
import { printObject, printRows } from '../output';
import { UserError } from '../errors';
import { configSchema } from '../../config';
import { userInfo } from 'node:os';
import { RateEditError, setDefaultMarkup } from '../rate-changes';
import { askDefaultMarkup, checkProviderMarkup } from '../markup-input';
import { providerCoverage } from '../rate-catalogue';
import { coverageSummary, coverageText } from '../../core/product-catalogue';

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
  const provider = program
    .command('provider')
    .description('onboard and manage providers (resellers) and their Rhipe credentials');

  const secretOptions = <Args extends unknown[], Opts extends OptionValues, Globals extends OptionValues>(
    c: Command<Args, Opts, Globals>,
  ) =>
    c
      .option(
        '--client-secret-env <var>',
        `read the client secret from this environment variable (default: ${DEFAULT_SECRET_ENV})`,
      )
      .option('--client-secret-stdin', 'read the client secret from standard input')
      // Refused with a reason rather than "unknown option": the command line leaks (npm banner, process list).
      .addOption(new Option('--client-secret <value>').hideHelp());
  const refuseSecretOnCommandLine = (o: { clientSecret?: string }) => {
    if (o.clientSecret !== undefined) {
      throw new UserError(
        `--client-secret is not accepted: a secret on the command line is shown by npm and in the process list. Use ${DEFAULT_SECRET_ENV}, --client-secret-env VAR, --client-secret-stdin or the prompt`,
      );
    }
  };

  secretOptions(
    provider
      .command('add')
      .description(
        `onboard a provider: check and verify its Rhipe credentials, store them encrypted, discover its tenants (the secret from ${DEFAULT_SECRET_ENV}, --client-secret-env, --client-secret-stdin or a hidden prompt). Run again to continue an unfinished onboarding.`,
      )
      .requiredOption('--name <name>', 'provider name')
      .requiredOption('--client-id <guid>', 'Rhipe client_id (a GUID, 36 characters with dashes)'),
  )
    .option('--currency <code>', 'the provider billing currency', 'AUD')
    .option('--time-zone <tz>', 'time zone of the usage schedule')
    .option('--cycle-times <list>', 'usage cycle times of day, comma-separated HH:MM')
    .option(
      '--default-markup <percent|none>',
      'markup % over the carrier cost for products without a rate rule; "none" quarantines them as NO_RATE_CARD (asked for on a terminal when absent)',
    )
    .option('--json', 'print JSON')
    .action(async (o) => {
      refuseSecretOnCommandLine(o);
      // Checked before anything else; negative markups are set afterwards, confirmed (rates default-markup --allow-negative).
      if (o.defaultMarkup !== undefined) checkProviderMarkup(o.defaultMarkup);
      const c = ctx();
      const details = {
        name: o.name,
        clientId: o.clientId,
        clientSecret: await readClientSecret(o),
        currency: o.currency.toUpperCase(),
        timeZone: timeZone(o.timeZone ?? c.cfg.DEFAULT_TIME_ZONE),
        cycleTimes: o.cycleTimes ? cycleTimes(o.cycleTimes) : c.cfg.CYCLE_TIMES,
      };
      // Everything that needs no connection first: swapped or malformed credentials are said even with nothing running.
      checkNewProvider(details);
      const markup =
        o.defaultMarkup ??
        (process.stdin.isTTY && !o.json ? await askDefaultMarkup(process.stdin, process.stderr) : undefined);
      if (markup === undefined)
        process.stderr.write(
          'no --default-markup given: the rate card keeps its default markup (none for a new provider: products without a rule quarantine as NO_RATE_CARD)\n',
        );
      const { provider: p, resumed, handle } = await startAddProvider(await c.providerContext(), details);
      // Set before the first cycle, so it bills what no rule covers.
      const defaultMarkup =
        markup === undefined
          ? undefined
          : (
              await setDefaultMarkup(
                { pool: await c.db(), temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
                p,
                markup,
                { actor: userInfo().username, source: 'cli' },
              ).catch((err) => {
                throw err instanceof RateEditError ? new UserError(`--default-markup: ${err.message}`) : err;
              })
            ).new;
      const onboarding = await watchOnboarding(
        handle,
        p.id,
        o.json
          ? null
          : `${resumed ? 'continuing the unfinished onboarding of' : 'onboarding'} ${p.id} (${p.name}); Ctrl-C stops watching, not the onboarding`,
      );
      const coverage = await providerCoverage(await c.db(), p.id);
      printObject(
        {
          provider: p.id,
          name: p.name,
          currency: p.currency,
          resumed,
          tenants: onboarding.tenants,
          servicesCreated: onboarding.servicesCreated,
          flaggedGone: onboarding.flaggedGone,
          schedule: onboarding.schedule,
          ...(defaultMarkup === undefined
            ? {}
            : { defaultMarkup: defaultMarkup === null ? 'none' : `${defaultMarkup}%` }),
          // In text, the line below says it.
          ...(o.json ? { rateCardCoverage: coverage } : {}),
        },
        !!o.json,
      );
      if (!o.json) process.stdout.write(`${coverageText(coverage)}\n`);
    });

  provider
    .command('show <provider>')
    .description('a provider, its onboarding and the progress of its latest discovery')
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const db = await ctx().db();
      const p = await requireProvider(db, ref, { allowRemoved: true });
      const d = await latestDiscovery(db, p.id);
      // The workflow's own view, when Temporal answers: a running onboarding says which phase it is in
      // (after the last tenant is read, it still starts the tenants' workflows and the schedule).
      // At most a few seconds: a query waits for a worker, and none may be running.
      let timer: NodeJS.Timeout | undefined;
      const live = await Promise.race([
        ctx()
          .temporal()
          .then((client) => onboardingState(client, p.id)),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 5_000))),
      ])
        .catch(() => undefined)
        .finally(() => clearTimeout(timer));
      const running = live?.status === 'RUNNING' ? live.progress : null;
      printObject(
        {
          id: p.id,
          name: p.name,
          client_id: p.client_id,
          currency: p.currency,
          time_zone: p.time_zone,
          cycle_times: p.cycle_times.join(','),
          status: p.status,
          attention: p.attention_reason,
          onboarded:
            p.onboarded_at ??
            (running
              ? `not yet (running: ${running.phase}${running.tenantWorkflows ? `, ${running.tenantWorkflows.done}/${running.tenantWorkflows.total} tenant workflows` : ''})`
              : 'not yet (run the same "provider add" again to continue)'),
          rateCard: coverageSummary(await providerCoverage(db, p.id)),
          onboardingWorkflow: onboardingWorkflowId(p.id),
          onboardingStatus: live === undefined ? 'not known (Temporal did not answer)' : (live?.status ?? 'none'),
          discovery: d
            ? {
                id: d.discoveryId,
                status: d.status,
                tenants: `${d.tenantsDone}/${d.tenants}`,
                contractAgreements: `${d.agreementsDone}/${d.agreements}`,
                servicesCreated: d.servicesCreated,
                flaggedGone: d.flaggedGone,
                error: d.error,
                startedAt: d.startedAt,
                updatedAt: d.updatedAt,
                finishedAt: d.finishedAt,
              }
            : null,
        },
        !!o.json,
        p.time_zone,
      );
    });

  provider
    .command('list')
    .description('list providers')
    .option('--all', 'include removed providers')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const rows = await listProviders(await ctx().db(), !!o.all);
      printRows(
        rows.map((p) => ({
          id: p.id,
          name: p.name,
          client_id: p.client_id,
          currency: p.currency,
          time_zone: p.time_zone,
          cycle_times: p.cycle_times.join(','),
          status: p.status,
          attention: p.attention_reason,
          invoice: p.invoice_attention,
        })),
        !!o.json,
      );
    });

  secretOptions(
    provider
      .command('update-credentials <provider>')
      .description('replace the Rhipe credentials (verified with the carrier before they are stored)')
      .requiredOption('--client-id <guid>', 'Rhipe client_id'),
  ).action(async (ref: string, o) => {
    refuseSecretOnCommandLine(o);
    const secret = await readClientSecret(o);
    const shape = checkCredentialShape(o.clientId, secret);
    if (shape) throw new UserError(shape);
    const p = await updateCredentials(await ctx().providerContext(), ref, o.clientId, secret);
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
      await ensureUsageSchedule(
        { temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
        { ...p, time_zone: tz, cycle_times: times },
      );
      process.stdout.write(`${p.id}: usage cycles at ${times.join(', ')} ${tz}\n`);
    });

  provider
    .command('discover <provider>')
    .description(
      'read the provider’s tenants at the carrier again: new tenants become services, vanished ones are flagged',
    )
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

/**
 * Waits for the onboarding, showing its progress on a terminal. Ctrl-C stops the watching only:
 * the workflow runs on in Temporal, and `provider show` or the Web UI show how far it got.
 * `announce` (what is being watched, and that Ctrl-C leaves it running) is printed once the Ctrl-C
 * handler is in place: printed first, a Ctrl-C right after it (a busy machine may not run this
 * process again for a while) found no handler and killed the CLI (seen twice in CI).
 */
async function watchOnboarding(handle: OnboardingHandle, providerId: string, announce: string | null) {
  const tty = process.stderr.isTTY === true;
  const onInterrupt = () => {
    process.stderr.write(
      `\nstopped watching; the onboarding of ${providerId} goes on (npm run csp -- provider show ${providerId}; workflow ${handle.workflowId} in the Web UI)\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  if (announce !== null) process.stderr.write(`${announce}\n`);
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    const line = (p: OnboardingProgress) => {
      const width = 24;
      const filled = p.tenants ? Math.round((p.tenantsDone / p.tenants) * width) : 0;
      const workflows = p.tenantWorkflows
        ? `, ${p.tenantWorkflows.done}/${p.tenantWorkflows.total} tenant workflows`
        : '';
      return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.phase}: ${p.tenantsDone}/${p.tenants} tenants, ${p.agreementsDone}/${p.agreements} agreements${workflows}\x1b[K`;
    };
    const tick = () =>
      void onboardingProgress(handle).then(
        (p) => process.stderr.write(line(p)),
        () => undefined,
      );
    timer = setInterval(tick, 500);
  }
  try {
    return await waitForWorkflow(handle);
  } finally {
    if (timer) clearInterval(timer);
    if (tty) process.stderr.write('\n');
    process.off('SIGINT', onInterrupt);
  }
}
