import type { Pool } from '../db/pool';
import { getProvider, listProviders, type ProviderRow } from '../db/providers';
import { UserError } from './errors';

/** The provider an admin named (id, name or client id); a clear error when there is none. */
export async function requireProvider(
  db: Pool,
  ref: string,
  opts: { allowRemoved?: boolean } = {},
): Promise<ProviderRow> {
  const p = await getProvider(db, ref);
  if (!p || (p.status === 'REMOVED' && !opts.allowRemoved)) throw new UserError(`no provider "${ref}"`);
  return p;
}

/** For an optional --provider filter: its id, or null when not given. */
export async function providerFilter(db: Pool, ref: string | undefined): Promise<string | null> {
  return ref ? (await requireProvider(db, ref, { allowRemoved: true })).id : null;
}

export interface ProviderLabel {
  name: string;
  currency: string;
  timeZone: string;
}

/** Every provider's name, currency and zone by id: listings print names, amounts and times with them. */
export async function providerLabels(db: Pool): Promise<(id: string) => ProviderLabel> {
  const all = new Map(
    (await listProviders(db, true)).map((p) => [p.id, { name: p.name, currency: p.currency, timeZone: p.time_zone }]),
  );
  return (id: string) => all.get(id) ?? { name: id, currency: '', timeZone: 'UTC' };
}
