import { isGuid } from './guid';

/**
 * Rhipe credentials as domain.md describes them: client_id a GUID (36 characters with dashes),
 * client_secret 32 hex characters. Checked before any network call; the secret is never echoed.
 */
export function checkCredentialShape(clientId: string, clientSecret: string): string | null {
  const id = clientId.trim();
  const secret = clientSecret.trim();
  const secretShape = /^[0-9a-f]{32}$/i;
  const idLength = id.length;
  if (isGuid(secret) && secretShape.test(id)) {
    return 'client_id and client_secret look swapped: the client_id is the longer value with dashes (a GUID), the client_secret is 32 hex characters';
  }
  if (isGuid(secret) && !isGuid(id)) {
    return 'client_id and client_secret look swapped: the value given as client_secret is a GUID, which is what a client_id looks like';
  }
  if (!isGuid(id))
    return `client_id must be a GUID (36 characters with dashes, e.g. 8db0xxxx-xxxx-xxxx-xxxx-9155086axxxx); got ${idLength} characters`;
  if (!secretShape.test(secret))
    return `client_secret must be 32 hexadecimal characters; got ${secret.length} characters (the value is not shown)`;
  return null;
}
