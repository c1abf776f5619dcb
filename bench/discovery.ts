/**
 * `npm run bench:discovery -- --tenants 5000`: a provider with that many tenants at the carrier
 * (one contract agreement per customer by default, `--per-agreement` to group them) onboarded
 * the way an admin does it (`addProvider`: credentials checked, provider stored, the onboarding
 * workflow started and waited for), with the worker as its own process, against the dev server.
 *
 * Reported: the wall time of the onboarding (discovery, services, one entity workflow per tenant,
 * the schedule), its workflow runs (continue-as-new) and the most events in one run, how often the
 * progress `provider show` prints (the discovery row) and the Web UI's current details moved on
 * while it ran, and the CPU seconds of the dev server, the worker, PostgreSQL and this process.
 */
import { Command } from '@commander-js/extra-typings';
import { onboardSimulatorProvider } from '../client/demo-provider';
import { getProvider } from '../db/providers';
import { latestDiscovery } from '../db/discovery';
import { listServices } from '../db/services';
import {
  onboardingCurrentDetails,
  onboardingHandle,
  onboardingProgress,
  onboardingWorkflowId,
} from '../workflows/onboarding.api';
import { cpuSeconds, postgresCpuSeconds, startStack, workflowHistories } from './harness';

async function main(): Promise<void> {
  const o = new Command('bench:discovery')
    .option('--tenants <n>', 'tenants of the provider at the carrier', '5000')
    .option('--per-agreement <n>', 'tenants per contract agreement', '1')
    .parse()
    .opts();
  const tenants = Number(o.tenants);
  const stack = await startStack('bench-discovery', 0, { pg: 54403, temporal: 7403, sim: 9403 });
  const worker = stack.startWorker();
  try {
    const p = stack.sim.dataset.providers[0]!;
    stack.sim.dataset.addCustomers(p, Math.max(0, tenants - p.tenants.length), Number(o.perAgreement));
    const agreements = new Set(p.tenants.map((t) => t.contractAgreementId)).size;

    // Progress as an admin sees it while it runs: `provider show` (the discovery row) and the
    // Web UI's "Current details" (the workflow's metadata query), sampled every second.
    const shown = { discovery: new Set<string>(), details: new Set<string>() };
    const phases: Record<string, number> = {};
    let providerId: string | null = null;
    let polling: Promise<void> = Promise.resolve();
    const poll = async () => {
      providerId ??= (await getProvider(stack.pool, p.clientId))?.id ?? null;
      if (!providerId) return;
      const d = await latestDiscovery(stack.pool, providerId);
      if (d) shown.discovery.add(`${d.status} ${d.tenantsDone}/${d.tenants} ${d.agreementsDone}/${d.agreements}`);
      const details = await onboardingCurrentDetails(stack.client, providerId);
      if (details) shown.details.add(details);
      const { phase } = await onboardingProgress(onboardingHandle(stack.client, providerId));
      phases[phase] ??= Date.now();
    };
    const watch = setInterval(() => {
      polling = polling.then(poll).catch(() => undefined);
    }, 1000);

    const cpu0 = {
      temporal: stack.temporalPid ? cpuSeconds(stack.temporalPid) : 0,
      worker: cpuSeconds(worker.pid!),
      postgres: postgresCpuSeconds(stack.pgDataDir),
      bench: process.cpuUsage(),
    };
    const started = Date.now();
    const { provider, onboarding } = await onboardSimulatorProvider(stack.ctx, stack.sim.dataset, 0, {
      timeZone: 'Australia/Sydney',
      cycleTimes: ['06:00', '18:00'],
    });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(watch);
    await polling;
    const b = process.cpuUsage(cpu0.bench);
    const round = (n: number) => Math.round(n * 10) / 10;
    const cpu = {
      temporal: round((stack.temporalPid ? cpuSeconds(stack.temporalPid) : 0) - cpu0.temporal),
      worker: round(cpuSeconds(worker.pid!) - cpu0.worker),
      postgres: round(postgresCpuSeconds(stack.pgDataDir) - cpu0.postgres),
      bench: round((b.user + b.system) / 1e6),
    };

    const runs = (await workflowHistories(stack.client, onboardingWorkflowId(provider.id))).map(
      (events) => events.length,
    );
    const services = (await listServices(stack.pool, provider.id)).length;
    if (onboarding.tenants !== p.tenants.length || services !== p.tenants.length)
      throw new Error(`discovered ${onboarding.tenants} tenants, ${services} services, of ${p.tenants.length}`);
    const result = {
      tenants: onboarding.tenants,
      agreements,
      seconds: Number(seconds.toFixed(1)),
      runs: runs.length,
      maxEventsPerRun: Math.max(...runs),
      tenantWorkflowsStarted: onboarding.tenantWorkflowsStarted,
      // When each phase was first seen (seconds from the start; sampled every second).
      phasesFrom: Object.fromEntries(Object.entries(phases).map(([k, t]) => [k, Math.round((t - started) / 1000)])),
      progressSteps: { providerShow: shown.discovery.size, webUiDetails: shown.details.size },
      cpuSeconds: cpu,
      load: (await import('node:os'))
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    };
    process.stderr.write(
      `discovery: ${result.tenants} tenants in ${result.agreements} contract agreements onboarded in ${result.seconds} s; ${result.runs} workflow runs, at most ${result.maxEventsPerRun} events in one; ` +
        `progress moved ${result.progressSteps.providerShow} times in provider show, ${result.progressSteps.webUiDetails} in the Web UI's details; phases from (s) ${JSON.stringify(result.phasesFrom)}; ` +
        `CPU seconds: Temporal ${cpu.temporal}, worker ${cpu.worker}, PostgreSQL ${cpu.postgres}, bench+simulator ${cpu.bench}; load ${result.load}\n`,
    );
    process.stdout.write(JSON.stringify({ discovery: result }) + '\n');
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => (worker.exitCode === null ? worker.once('exit', r) : r(null)));
    await stack.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
