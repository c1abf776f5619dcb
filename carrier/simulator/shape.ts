import { createHash } from 'node:crypto';

/**
 * How the simulator writes its JSON. Public references of the carrier's API disagree on details,
 * so the simulator speaks two dialects and the contract tests run against both:
 * - `documented`: identifiers as strings (GUIDs), absent add-ons as null, fields in the documented order.
 * - `numeric`: identifiers (CustomerId, ContractAgreementId, SubscriptionId, OrderId, InvoiceId) as
 *   19-digit JSON numbers (beyond a double's 2^53), null wherever the API allows it (optional
 *   texts, empty arrays such as a tenant without subscriptions), empty add-on lists as [],
 *   fields it does not document, and every object's fields in reverse order.
 */
export type ShapeProfile = 'documented' | 'numeric';
export const SHAPE_PROFILES: readonly ShapeProfile[] = ['documented', 'numeric'];

/** A number written into the JSON text exactly as these digits (never through a JS number). */
class RawDigits {
  constructor(readonly digits: string) {}
}

/** A decimal (prices from the dataset) as a JSON number with exactly these digits. */
export function exactNumber(decimal: string): unknown {
  if (!/^-?\d+(\.\d+)?$/.test(decimal)) throw new Error(`"${decimal}" is not a decimal number`);
  return new RawDigits(decimal);
}

export class WireShape {
  private readonly fromWireIds = new Map<string, string>();

  constructor(readonly profile: ShapeProfile = 'documented') {}

  get numeric(): boolean {
    return this.profile === 'numeric';
  }

  /** An identifier as this dialect sends it. */
  id(internal: string): unknown {
    if (!this.numeric) return internal;
    const digits = numericIdFor(internal);
    this.fromWireIds.set(digits, internal);
    return new RawDigits(digits);
  }

  /** The id the simulator knows, for one sent back in a URL or body (either dialect's form). */
  fromWire(id: string): string {
    return this.fromWireIds.get(id) ?? id;
  }

  /** An optional value: the numeric dialect sends null where the API allows it. */
  optional<T>(value: T): T | null {
    return this.numeric ? null : value;
  }

  /** An array that may be empty: null in the numeric dialect when empty, [] in the documented one. */
  list<T>(items: T[]): T[] | null {
    return this.numeric && items.length === 0 ? null : items;
  }

  /** Fields the carrier adds that the client does not use. */
  extras(kind: string): Record<string, unknown> {
    return this.numeric ? { ETag: `W/"${kind}-1"`, Links: [], LastModifiedUtc: '2026-01-01T00:00:00Z' } : {};
  }

  /** The usage line's SubscriptionId in this dialect (the lines are generated as JSON text). */
  usageLine(json: string): string {
    if (!this.numeric) return json;
    return json.replace(
      /"SubscriptionId":"([0-9a-f-]{36})"/,
      (_m, id: string) => `"SubscriptionId":${(this.id(id) as RawDigits).digits}`,
    );
  }

  /** The response body's text. */
  render(value: unknown): string {
    return renderJson(value, this.numeric);
  }
}

/** 19 digits, deterministic per id, always above 2^53 so a double would lose digits. */
export function numericIdFor(internal: string): string {
  const n = BigInt(`0x${createHash('sha256').update(internal).digest('hex').slice(0, 15)}`);
  return ((n % 8_000_000_000_000_000_000n) + 1_000_000_000_000_000_000n).toString();
}

function renderJson(value: unknown, reverse: boolean): string {
  if (value instanceof RawDigits) return value.digits;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => renderJson(v, reverse)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (reverse) entries.reverse();
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${renderJson(v, reverse)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
