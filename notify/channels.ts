import { createHash } from 'node:crypto';
import type { EmailSettings } from './email';

/** Where alerts go (config: ALERT_WEBHOOK_URLS, ALERT_SMTP_URL, ALERT_EMAIL_TO …). */
export interface AlertChannels {
  webhookUrls: string[];
  webhookFormat: 'slack' | 'teams';
  email: EmailSettings | null;
  /** A message still not delivered after this long is abandoned (recorded, no more retries). */
  giveUpHours: number;
}

export const NO_CHANNELS: AlertChannels = { webhookUrls: [], webhookFormat: 'slack', email: null, giveUpHours: 24 };

/** A webhook's channel name: a digest of its URL (the URL itself is a secret). */
export function webhookChannel(url: string): string {
  return `webhook:${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

/** The channel names an alert's messages are queued for. */
export function channelNames(c: AlertChannels): string[] {
  return [...c.webhookUrls.map(webhookChannel), ...(c.email && c.email.to.length > 0 ? ['email'] : [])];
}
