import { z } from 'zod';
import { isLosslessNumber, type LosslessNumber } from 'lossless-json';
import { GUID_PATTERN, isGuid } from '../core/guid';

/**
 * What the carrier documents, as zod schemas over losslessly parsed JSON (PascalCase; numbers
 * are LosslessNumber). Unknown fields are tolerated; a missing or mistyped field is reported
 * with its path. Usage records themselves are only checked to be objects here: mediation
 * validates each one and quarantines the bad ones rather than failing the page.
 */
export const jsonNumber = z.custom<LosslessNumber>((v) => isLosslessNumber(v), { message: 'expected a JSON number' });
const integer = jsonNumber
  .refine((n) => /^-?\d+$/.test(n.value), 'expected a whole number')
  .transform((n) => Number(n.value));
const guid = z
  .string()
  .regex(GUID_PATTERN, 'expected a GUID')
  .transform((s) => s.toLowerCase());
const text = z.string();

/**
 * An identifier (CustomerId, ContractAgreementId, SubscriptionId, InvoiceId, OrderId, …): public
 * references disagree on its JSON type, so a string or a whole JSON number is accepted and kept
 * as text. Numbers arrive as LosslessNumber, so a 19-digit id keeps every digit. GUIDs are
 * lower-cased (they compare case-insensitively); anything else is kept exactly as sent.
 */
export const identifier = z
  .union(
    [
      z.string().trim().min(1, 'expected a non-empty identifier'),
      jsonNumber
        .refine((n) => /^\d+$/.test(n.value), 'expected an identifier (text or a whole non-negative number)')
        .transform((n) => n.value),
    ],
    { message: 'expected an identifier (text or a whole number)' },
  )
  .transform((id) => (isGuid(id) ? id.toLowerCase() : id));

/** An array the carrier may send as null (or leave out) when it has no elements. */
const list = <T extends z.ZodTypeAny>(item: T) =>
  z
    .array(item)
    .nullish()
    .transform((a): Array<z.output<T>> => a ?? []);

export const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: integer.pipe(z.number().int().positive()),
});

export const customersResponse = list(
  z
    .object({
      CustomerId: identifier.nullish(),
      CustomerName: text.nullish(),
      CustomerProgramAgreements: list(
        z.object({ Id: guid, ContractAgreementId: identifier.nullish(), ProgramName: text.nullish() }),
      ),
    })
    // Contact fields (email, postal address) come under several names: kept for carrier/contact.ts.
    .passthrough(),
);

interface SubscriptionShape {
  SubscriptionId: string;
  Status: string;
  ProductId: string;
  ProductName?: string | null;
  Quantity: number;
  UnitPrice?: LosslessNumber | null;
  Unit?: string | null;
  BillingCycle?: string | null;
  FirstPurchased?: string | null;
  AddonSubscriptions?: SubscriptionShape[] | null;
}

export const subscription: z.ZodType<SubscriptionShape> = z.lazy(() =>
  z.object({
    SubscriptionId: identifier,
    Status: text,
    ProductId: guid,
    ProductName: text.nullish(),
    Quantity: integer,
    UnitPrice: jsonNumber.nullish(),
    Unit: text.nullish(),
    BillingCycle: text.nullish(),
    FirstPurchased: text.nullish(),
    AddonSubscriptions: z.array(subscription).nullish(),
  }),
);

export const tenantResponse = z.object({
  TenantId: guid,
  TenantDomain: text.nullish(),
  TenantStatus: text.nullish(),
  CustomerId: identifier.nullish(),
  CustomerName: text.nullish(),
  ContractAgreementId: identifier.nullish(),
  Subscriptions: list(subscription),
});

export const tenantsResponse = list(tenantResponse);

export const orderResponse = z.object({
  OrderId: identifier.nullish(),
  Subscriptions: list(subscription),
});

export const priceListResponse = z.object({
  ProductGroups: list(
    z.object({
      Name: text.nullish(),
      Products: list(
        z.object({
          ProductId: guid,
          ProductName: text,
          UnitPrice: jsonNumber,
          RetailUnitPrice: jsonNumber.nullish(),
          MinQty: integer.nullish(),
          MaxQty: integer.nullish(),
        }),
      ),
    }),
  ),
});

// Records must be present (a body without it is not a usage page); null is an empty page.
export const usagePageResponse = z.object({
  Records: z
    .array(z.unknown())
    .nullable()
    .transform((a) => a ?? []),
});

export const invoicesResponse = z.object({
  Records: list(
    z.object({
      InvoiceId: identifier,
      BillingPeriodStart: text.nullish(),
      UsageYear: integer,
      UsageMonth: integer.pipe(z.number().int().min(1).max(12)),
    }),
  ),
});

export type CarrierSubscription = SubscriptionShape;
export type CarrierTenant = z.infer<typeof tenantResponse>;
export type CarrierCustomer = z.infer<typeof customersResponse>[number];
export type PriceList = z.infer<typeof priceListResponse>;
export type Invoice = z.infer<typeof invoicesResponse>['Records'][number];
