/**
 * `npm run csp -- <command>`: the billing admin's command line. Every listing takes --json.
 * Exit codes: 0 done; 1 unexpected failure; 2 a mistake to fix (bad argument, unknown id,
 * request refused, with the reason); 3 a service is unavailable (PostgreSQL, Temporal, carrier).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from '@commander-js/extra-typings';
import { CliContext } from './context';
import { UserError } from './errors';
import { adminTextProblem } from '../core/admin-text';
import { ConfigError, PROJECT_ROOT } from '../config';
import { providerCommands } from './commands/providers';
import { scheduleCommands } from './commands/schedules';
import { rateCommands } from './commands/rates';
import { quarantineCommands } from './commands/quarantine';
import { tenantCommands } from './commands/tenants';
import { cycleCommands } from './commands/cycles';
import { alertCommands } from './commands/alerts';
import { billingCommands } from './commands/billing';
import { invoiceCommands } from './commands/invoices';
import { periodCommands } from './commands/periods';
import { userCommands } from './commands/users';
import { closeCommandAudit, openCommandAudit } from './audit';
import { auditCommands } from './commands/audit';

let context: CliContext | undefined;
const ctx = () => (context ??= new CliContext());

const program = new Command('csp')
  .description('Microsoft CSP via Rhipe: providers, tenants, rates, usage cycles and the misc quarantine')
  .version(
    (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    '-V, --version',
    'print the version',
  )
  .showHelpAfterError()
  .exitOverride()
  // Every command that changes something lands in the audit log, applied or refused (client/audit.ts).
  .hook('preAction', (_program, command) => openCommandAudit(command))
  .hook('postAction', () => closeCommandAudit(() => ctx().db(), 'APPLIED'))
  // Notes and reasons are kept whole (audit trail, workflow history): bounded before anything runs.
  .hook('preAction', (_program, command) => {
    for (const option of ['note', 'reason']) {
      const value = command.opts()[option];
      const problem = typeof value === 'string' ? adminTextProblem(`--${option}`, value) : null;
      if (problem) throw new UserError(problem);
    }
  });
providerCommands(program, ctx);
tenantCommands(program, ctx);
rateCommands(program, ctx);
scheduleCommands(program, ctx);
cycleCommands(program, ctx);
quarantineCommands(program, ctx);
alertCommands(program, ctx);
billingCommands(program, ctx);
invoiceCommands(program, ctx);
periodCommands(program, ctx);
userCommands(program, ctx);
auditCommands(program, ctx);

program
  .parseAsync(process.argv)
  .catch(async (err: unknown) => {
    await closeCommandAudit(() => ctx().db(), 'REFUSED', err);
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof UserError) {
      process.stderr.write(`csp: ${err.message}\n`);
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`csp: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`csp: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(() => context?.close());
