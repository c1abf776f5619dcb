import { z } from 'zod';
import { isLosslessNumber, type LosslessNumber } from 'lossless-json';

/**
 * What the carrier documents, as zod schemas over losslessly parsed JSON (PascalCase; numbers
 * are LosslessNumber). Unknown fields are tolerated; a missing or mistyped field is reported
 * with its path. Usage records themselves are only checked to be objects here: mediation
 * validates each one and quarantines the bad ones rather than failing the page.
 */
export const jsonNumber = z.custom<LosslessNumber>((v) => isLosslessNumber(v), { message: 'expected a JSON number' });
const integer = jsonNumber.refine((n) => /^-?\d+$/.test(n.value), 'expected a whole number').transform((n) => Number(n.value));
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a GUID').transform((s) => s.toLowerCase());
const text = z.string();

export const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: integer.pipe(z.number().int().positive()),
});

export const customersResponse = z.array(
  z.object({
    CustomerId: text.nullish(),
    CustomerName: text.nullish(),
    CustomerProgramAgreements: z
      .array(z.object({ Id: guid, ContractAgreementId: text.nullish(), ProgramName: text.nullish() }))
      .nullish()
      .transform((a) => a ?? []),
  }),
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
    SubscriptionId: guid,
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
) as unknown as z.ZodType<SubscriptionShape>;

export const tenantResponse = z.object({
  TenantId: guid,
  TenantDomain: text.nullish(),
  TenantStatus: text.nullish(),
  CustomerId: text.nullish(),
  CustomerName: text.nullish(),
  ContractAgreementId: text.nullish(),
  Subscriptions: z.array(subscription).nullish().transform((s) => s ?? []),
});

export const tenantsResponse = z.array(tenantResponse);

export const orderResponse = z.object({
  OrderId: text.nullish(),
  Subscriptions: z.array(subscription).nullish().transform((s) => s ?? []),
});

export const priceListResponse = z.object({
  ProductGroups: z.array(
    z.object({
      Name: text.nullish(),
      Products: z.array(
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

export const usagePageResponse = z.object({
  Records: z.array(z.unknown()),
});

export const invoicesResponse = z.object({
  Records: z.array(
    z.object({
      InvoiceId: text,
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
