import nodemailer, { type Transporter } from 'nodemailer';

export interface EmailSettings {
  /** smtp://user:pass@host:587 or smtps://host:465 */
  smtpUrl: string;
  from: string;
  to: string[];
}

export interface EmailMessage {
  subject: string;
  text: string;
  /** Stable per message: a re-sent copy carries the same Message-ID, so mail clients show it once. */
  messageId: string;
  /** The firing message's id on a resolved message, so both read as one thread. */
  inReplyTo?: string;
}

const transports = new Map<string, Transporter>();

/** Sends one email through the configured SMTP server. Errors never include the SMTP credentials. */
export async function sendEmail(settings: EmailSettings, m: EmailMessage): Promise<void> {
  let transport = transports.get(settings.smtpUrl);
  if (!transport) {
    transport = nodemailer.createTransport({
      url: settings.smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
    transports.set(settings.smtpUrl, transport);
  }
  try {
    await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: m.subject,
      text: m.text,
      messageId: m.messageId,
      ...(m.inReplyTo ? { inReplyTo: m.inReplyTo, references: [m.inReplyTo] } : {}),
    });
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    throw new Error(`email via SMTP: ${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}`, {
      cause: err,
    });
  }
}
