/**
 * Who may do what in the web console. Roles are ordered: each includes the ones before it.
 * viewer reads; billing also works the quarantine, licences, rates and the month end;
 * admin also manages users and providers.
 */
export const ROLES = ['viewer', 'billing', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Lower-case letters, digits and . _ @ - (an e-mail address fits), 1-64 characters. */
export function usernameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._@-]{0,63}$/.test(name)) {
    return 'a username is 1-64 lower-case letters, digits or . _ @ -, starting with a letter or digit';
  }
  return null;
}

export const MIN_PASSWORD_LENGTH = 12;

/** Length is what makes a password strong; no composition rules (NIST SP 800-63B). */
export function passwordProblem(password: unknown, username?: string): string | null {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
    return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'a password may have at most 1024 characters';
  if (username && password.toLowerCase().includes(username.toLowerCase()))
    return 'a password must not contain the username';
  return null;
}
