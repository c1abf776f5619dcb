import { userInfo } from 'node:os';

/**
 * The operating-system user running this CLI. `--by` is free text anyone can type; this is what
 * the machine says, recorded beside it on every audit row.
 */
export function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry for the uid (some containers): the uid is still a fact.
    return process.env.USER ?? process.env.LOGNAME ?? `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The actor fields every CLI request carries: the given name and the OS user. */
export function cliActor(by: string): { by: string; osUser: string } {
  return { by, osUser: osUserName() };
}
