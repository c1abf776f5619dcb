import { request } from 'undici';

/**
 * Posts one JSON message to an incoming-webhook URL (Slack, Microsoft Teams or anything that
 * takes JSON). Such URLs carry their own secret: errors name the host only, never the URL.
 */
export async function postWebhook(
  url: string,
  body: unknown,
  opts: { idempotencyKey: string; timeoutMs?: number },
): Promise<void> {
  const host = safeHost(url);
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': opts.idempotencyKey },
      body: JSON.stringify(body),
      headersTimeout: opts.timeoutMs ?? 10_000,
      bodyTimeout: opts.timeoutMs ?? 10_000,
    });
    status = res.statusCode;
    text = (await res.body.text()).slice(0, 200);
  } catch (err) {
    throw new Error(`webhook ${host}: ${(err as { code?: string }).code ?? (err as Error).name}`, { cause: err });
  }
  if (status < 200 || status >= 300)
    throw new Error(`webhook ${host}: HTTP ${status}${text ? ` (${text.replace(/\s+/g, ' ')})` : ''}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
