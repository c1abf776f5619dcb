import { createHash } from 'node:crypto';
import { request, errors as undiciErrors } from 'undici';
import { parse as parseCsvText } from 'csv-parse/sync';
import type { z } from 'zod';
import { parseLosslessJson } from '../lib/lossless';
import type { UsageWindow } from '../core/usage-window';
import { parseNumberPreserving } from '../lib/fast-json';
import { CarrierError, classifyStatus, parseRetryAfter } from './errors';
import * as s from './schemas';
import { observed } from './observer';

export interface CarrierEndpoints {
  identityUrl: string;
  apiUrl: string;
  timeoutMs: number;
}

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

export interface UsagePage {
  page: number;
  records: unknown[];
  /** Each record's text exactly as the carrier sent it (stored as received, hashed as received). */
  texts: string[];
  /** Hash of the page's content: a page identical to the one before it is a carrier fault. */
  fingerprint: string;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/**
 * Tokens are cached per provider (identity URL + client id + secret digest) until shortly
 * before they expire. The cache lives in the worker process only; tokens are never persisted,
 * logged or returned to workflows.
 */
const tokenCache = new Map<string, CachedToken>();
const inflight = new Map<string, Promise<CachedToken>>();
const EXPIRY_MARGIN_MS = 60_000;

export function clearTokenCache(): void {
  tokenCache.clear();
}

export class RhipeClient {
  private readonly cacheKey: string;

  constructor(
    private readonly endpoints: CarrierEndpoints,
    private readonly credentials: Credentials,
  ) {
    const digest = createHash('sha256').update(credentials.clientSecret).digest('hex').slice(0, 16);
    this.cacheKey = `${endpoints.identityUrl}|${credentials.clientId.toLowerCase()}|${digest}`;
  }

  /** Requests a token (or returns the cached one). invalid_client is a non-retryable CarrierError. */
  async token(forceRefresh = false): Promise<string> {
    const cached = tokenCache.get(this.cacheKey);
    if (!forceRefresh && cached && cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.token;
    let pending = inflight.get(this.cacheKey);
    if (!pending) {
      pending = this.fetchToken().finally(() => inflight.delete(this.cacheKey));
      inflight.set(this.cacheKey, pending);
    }
    return (await pending).token;
  }

  private async fetchToken(): Promise<CachedToken> {
    const endpoint = 'POST /core/connect/token';
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.credentials.clientId,
      client_secret: this.credentials.clientSecret,
      scope: 'rhipeapi',
    }).toString();
    const res = await this.send(endpoint, `${trimSlash(this.endpoints.identityUrl)}/core/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
    });
    if (res.status === 400 || res.status === 401) {
      const error = safeJson(res.text) as { error?: string } | undefined;
      if (error?.error === 'invalid_client') {
        throw new CarrierError(
          'INVALID_CLIENT',
          endpoint,
          'the carrier rejected the client_id/client_secret (invalid_client): check the provider credentials',
          res.status,
        );
      }
      throw new CarrierError(
        'BAD_REQUEST',
        endpoint,
        `token request refused (HTTP ${res.status}${error?.error ? `: ${error.error}` : ''})`,
        res.status,
      );
    }
    this.throwForStatus(endpoint, res);
    const body = this.decode(endpoint, res, s.tokenResponse);
    const entry = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    tokenCache.set(this.cacheKey, entry);
    return entry;
  }

  listCustomers(): Promise<s.CarrierCustomer[]> {
    return this.call('GET /api/v1/me/customers', 'GET', '/api/v1/me/customers', undefined, s.customersResponse);
  }

  listTenants(contractAgreementId: string): Promise<s.CarrierTenant[]> {
    const path = `/api/v2/contractagreements/${encodeURIComponent(contractAgreementId)}/tenants`;
    return this.call('GET /api/v2/contractagreements/{id}/tenants', 'GET', path, undefined, s.tenantsResponse);
  }

  getTenant(tenantId: string): Promise<s.CarrierTenant> {
    const path = `/api/v2/microsoftcsp/tenants/${encodeURIComponent(tenantId)}`;
    return this.call('GET /api/v2/microsoftcsp/tenants/{tenantId}', 'GET', path, undefined, s.tenantResponse);
  }

  /** clientReference lets a retried order be recognised by the carrier instead of placed twice. */
  placeOrder(order: {
    tenantId: string;
    orderBillingCycle: string;
    products: Array<{ productId: string; qty: number }>;
    clientReference?: string;
  }) {
    return this.call('POST /api/v2/microsoftcsp/orders', 'POST', '/api/v2/microsoftcsp/orders', order, s.orderResponse);
  }

  setSubscriptionQuantity(subscriptionId: string, quantity: number): Promise<s.CarrierSubscription> {
    const path = `/api/v2/microsoftcsp/subscriptions/${encodeURIComponent(subscriptionId)}/quantity/${quantity}`;
    return this.call(
      'POST /api/v2/microsoftcsp/subscriptions/{id}/quantity/{n}',
      'POST',
      path,
      undefined,
      s.subscription,
    );
  }

  getPriceList(contractAgreementId: string, date: Date): Promise<s.PriceList> {
    const path = `/api/v2/me/pricing/${encodeURIComponent(contractAgreementId)}/pricelist/${date.getUTCFullYear()}/${date.getUTCMonth() + 1}/${date.getUTCDate()}`;
    return this.call('GET /api/v2/me/pricing/{id}/pricelist', 'GET', path, undefined, s.priceListResponse);
  }

  async usagePage(window: UsageWindow, page: number, pageSize: number): Promise<UsagePage> {
    const endpoint = `POST /api/v2/microsoftcsp/licence/usage page ${page}`;
    const res = await this.authorized(
      endpoint,
      'POST',
      '/api/v2/microsoftcsp/licence/usage',
      { ...window, page, pageSize },
      'application/json',
    );
    this.throwForStatus(endpoint, res);
    // The hot path: a number-preserving parse close to JSON.parse's speed, keeping each record's text.
    let texts: string[] | null = null;
    const body = this.decode(endpoint, res, s.usagePageResponse, (text) => {
      const parsed = parseNumberPreserving(text, 'Records');
      texts = parsed.elementTexts;
      return parsed.value;
    });
    return {
      page,
      records: body.Records,
      texts: texts ?? [],
      fingerprint: createHash('sha256').update(res.text).digest('hex'),
    };
  }

  /**
   * Pages through a usage window from `fromPage` until an empty `Records`. A page identical to
   * the one before it (a carrier fault) is refused as retryable rather than taken as new data.
   */
  async *usagePages(
    window: UsageWindow,
    pageSize: number,
    fromPage = 1,
    previousFingerprint?: string,
  ): AsyncGenerator<UsagePage> {
    let previous = previousFingerprint;
    for (let page = fromPage; ; page++) {
      const result = await this.usagePage(window, page, pageSize);
      if (result.records.length === 0) return;
      if (previous !== undefined && result.fingerprint === previous) {
        throw new CarrierError(
          'REPEATED_PAGE',
          `POST /api/v2/microsoftcsp/licence/usage page ${page}`,
          `page ${page} repeats page ${page - 1} exactly`,
        );
      }
      previous = result.fingerprint;
      yield result;
    }
  }

  listInvoices(): Promise<s.Invoice[]> {
    return this.call('GET /api/v2/invoices', 'GET', '/api/v2/invoices', undefined, s.invoicesResponse).then(
      (r) => r.Records,
    );
  }

  /** The month's invoice lines as CSV rows (header names as keys). */
  async getInvoiceCsv(invoiceId: string): Promise<Array<Record<string, string>>> {
    const endpoint = 'GET /api/v1/me/invoice/{id}/csv';
    const res = await this.authorized(
      endpoint,
      'GET',
      `/api/v1/me/invoice/${encodeURIComponent(invoiceId)}/csv`,
      undefined,
      'text/csv',
    );
    this.throwForStatus(endpoint, res);
    if (!/text\/csv|text\/plain|application\/octet-stream/.test(res.contentType)) {
      throw new CarrierError(
        'MALFORMED_BODY',
        endpoint,
        `expected text/csv, got ${res.contentType || 'no content type'}`,
        res.status,
      );
    }
    return parseCsv(res.text, endpoint);
  }

  private async call<T extends z.ZodTypeAny>(
    endpoint: string,
    method: string,
    path: string,
    body: unknown,
    schema: T,
  ): Promise<z.output<T>> {
    return (await this.callRaw(endpoint, method, path, body, schema)).body;
  }

  private async callRaw<T extends z.ZodTypeAny>(
    endpoint: string,
    method: string,
    path: string,
    body: unknown,
    schema: T,
  ) {
    const res = await this.authorized(endpoint, method, path, body, 'application/json');
    this.throwForStatus(endpoint, res);
    return { body: this.decode(endpoint, res, schema), text: res.text };
  }

  /** Sends with the bearer token; on a 401 the token is refreshed once and the call repeated. */
  private async authorized(
    endpoint: string,
    method: string,
    path: string,
    body: unknown,
    accept: string,
  ): Promise<RawResponse> {
    const url = `${trimSlash(this.endpoints.apiUrl)}${path}`;
    const attempt = async (token: string) =>
      this.send(endpoint, url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    let res = await attempt(await this.token());
    if (res.status === 401) res = await attempt(await this.token(true));
    return res;
  }

  private async send(
    endpoint: string,
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<RawResponse> {
    const started = performance.now();
    try {
      const res = await request(url, {
        method: init.method as 'GET',
        headers: init.headers,
        body: init.body,
        headersTimeout: this.endpoints.timeoutMs,
        bodyTimeout: this.endpoints.timeoutMs,
      });
      const text = await res.body.text();
      const contentType = String(res.headers['content-type'] ?? '');
      observed(endpoint, res.statusCode, started);
      return { status: res.statusCode, text, contentType, retryAfter: res.headers['retry-after'] };
    } catch (err) {
      const timedOut = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError;
      observed(endpoint, timedOut ? 'timeout' : 'network', started);
      if (timedOut) {
        throw new CarrierError('TIMEOUT', endpoint, `no answer within ${this.endpoints.timeoutMs} ms`);
      }
      const code = (err as { code?: string }).code ?? (err as Error).name;
      throw new CarrierError('NETWORK', endpoint, `connection failed (${code})`);
    }
  }

  private throwForStatus(endpoint: string, res: RawResponse): void {
    if (res.status >= 200 && res.status < 300) return;
    const code = classifyStatus(res.status);
    const detail = (safeJson(res.text) as { Message?: unknown } | undefined)?.Message;
    const reason = typeof detail === 'string' ? `: ${detail.slice(0, 200)}` : '';
    const advice =
      code === 'FORBIDDEN'
        ? ' (the provider is not permitted this call: check its Rhipe program membership)'
        : code === 'UNAUTHORIZED'
          ? ' (token refused even after a refresh)'
          : '';
    throw new CarrierError(
      code,
      endpoint,
      `HTTP ${res.status}${reason}${advice}`,
      res.status,
      code === 'RATE_LIMITED' ? parseRetryAfter(res.retryAfter) : undefined,
    );
  }

  private decode<T extends z.ZodTypeAny>(
    endpoint: string,
    res: RawResponse,
    schema: T,
    parse: (text: string) => unknown = parseLosslessJson,
  ): z.output<T> {
    if (!/application\/(.+\+)?json/.test(res.contentType)) {
      throw new CarrierError(
        'MALFORMED_BODY',
        endpoint,
        `expected JSON, got ${res.contentType || 'no content type'} (${res.text.length} bytes)`,
        res.status,
      );
    }
    let json: unknown;
    try {
      json = parse(res.text);
    } catch (err) {
      throw new CarrierError(
        'MALFORMED_BODY',
        endpoint,
        `body is not valid JSON (${(err as Error).message.slice(0, 120)}; ${res.text.length} bytes)`,
        res.status,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.length ? issue.path.join('.') : '(body)';
      throw new CarrierError('UNEXPECTED_SHAPE', endpoint, `field ${path}: ${issue.message}`, res.status);
    }
    return parsed.data;
  }
}

interface RawResponse {
  status: number;
  text: string;
  contentType: string;
  retryAfter?: string | string[];
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * RFC 4180 CSV via csv-parse: header row as keys, every cell kept as its text (amounts stay exact;
 * nothing is cast to a number). A ragged row or an unterminated quote is a malformed body.
 */
export function parseCsv(text: string, endpoint = 'csv'): Array<Record<string, string>> {
  try {
    return parseCsvText<Record<string, string>>(text, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
    });
  } catch (err) {
    throw new CarrierError('MALFORMED_BODY', endpoint, `invalid CSV: ${(err as Error).message.slice(0, 200)}`);
  }
}
