import { userInfo } from 'node:os';
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { countAdmins, deleteUser, DuplicateUserError, getUser, listUsers, setUserRole } from '../../db/console-users';
import { recordAudit } from '../../db/audit-events';
import { isRole, ROLES } from '../console/access';
import { addUser, changePassword, randomPassword, UserInputError } from '../console/auth';
import { printRows } from '../output';
import { UserError } from '../errors';

/** Reads a password from stdin (first line), so it never appears in shell history or `ps`. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!text) throw new UserError('--password-stdin: no password on standard input');
  return text;
}

export function userCommands(program: Command, ctx: () => CliContext): void {
  const user = program
    .command('user')
    .description('people who sign in to the web console, with a role: viewer, billing or admin');
  const audit = async (kind: string, subject: string, detail: string) =>
    recordAudit(await ctx().db(), { actor: userInfo().username, source: 'cli', kind, subject, detail });
  const mistakes = (err: unknown) =>
    err instanceof UserInputError || err instanceof DuplicateUserError ? new UserError(err.message) : err;

  user
    .command('add <username>')
    .description('add a user; without --password-stdin a random password is generated and printed once')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o) => {
      if (!isRole(o.role)) throw new UserError(`--role must be one of ${ROLES.join(', ')}`);
      const password = o.passwordStdin ? await passwordFromStdin() : randomPassword();
      await addUser(await ctx().db(), username, password, o.role).catch((err) => {
        throw mistakes(err);
      });
      await audit('user.add', username, `added with role ${o.role}`);
      process.stdout.write(`user ${username} added (${o.role})\n`);
      if (!o.passwordStdin) process.stdout.write(`password (shown once): ${password}\n`);
    });

  user
    .command('list')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const users = await listUsers(await ctx().db());
      printRows(
        users.map((u) => ({
          username: u.username,
          role: u.role,
          created: u.created_at.toISOString(),
          passwordChanged: u.password_changed_at.toISOString(),
        })),
        !!o.json,
      );
    });

  user
    .command('remove <username>')
    .description('remove a user; their sessions end at once')
    .action(async (username: string) => {
      const db = await ctx().db();
      const target = await getUser(db, username);
      if (!target) throw new UserError(`no user "${username}"`);
      if (target.role === 'admin' && (await countAdmins(db)) <= 1)
        throw new UserError('the last admin cannot be removed: add another admin first');
      await deleteUser(db, username);
      await audit('user.remove', username, 'removed; their sessions ended');
      process.stdout.write(`user ${username} removed\n`);
    });

  user
    .command('set-password <username>')
    .description(
      "set a user's password (their sessions end); without --password-stdin a random one is generated and printed once",
    )
    .option('--password-stdin', 'read the password from standard input')
    .action(async (username: string, o) => {
      const password = o.passwordStdin ? await passwordFromStdin() : randomPassword();
      const done = await changePassword(await ctx().db(), username, password).catch((err) => {
        throw mistakes(err);
      });
      if (!done) throw new UserError(`no user "${username}"`);
      await audit('user.password', username, 'password set; sessions ended');
      process.stdout.write(`password of ${username} set; their sessions ended\n`);
      if (!o.passwordStdin) process.stdout.write(`password (shown once): ${password}\n`);
    });

  user.command('set-role <username> <role>').action(async (username: string, role: string) => {
    if (!isRole(role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`);
    const db = await ctx().db();
    const target = await getUser(db, username);
    if (!target) throw new UserError(`no user "${username}"`);
    if (target.role === 'admin' && role !== 'admin' && (await countAdmins(db)) <= 1)
      throw new UserError('the last admin cannot be demoted: add another admin first');
    await setUserRole(db, username, role);
    await audit('user.role', username, `role ${target.role} → ${role}`);
    process.stdout.write(`${username} is now ${role}\n`);
  });
}
