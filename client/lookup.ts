import type { Pool } from '../db/pool';
import { getProvider, type ProviderRow } from '../db/providers';
import { UserError } from './errors';

/** The provider an admin named (id, name or client id); a clear error when there is none. */
export async function requireProvider(db: Pool, ref: string, opts: { allowRemoved?: boolean } = {}): Promise<ProviderRow> {
  const p = await getProvider(db, ref);
  if (!p || (p.status === 'REMOVED' && !opts.allowRemoved)) throw new UserError(`no provider "${ref}"`);
  return p;
}

/** For an optional --provider filter: its id, or null when not given. */
export async function providerFilter(db: Pool, ref: string | undefined): Promise<string | null> {
  return ref ? (await requireProvider(db, ref, { allowRemoved: true })).id : null;
}
