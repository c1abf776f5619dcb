import { ApplicationFailure } from '@temporalio/activity';
import type { ActivityDeps } from './deps';
import type { AlertingActivities } from '../workflows/alerting.api';
import { metrics } from './metrics';
import {
  conditionsFor,
  effectiveSetting,
  messageTitle,
  planAlerts,
  webhookBody,
  type AlertCondition,
  type AlertMessage,
} from '../core/alerts';
import {
  claimDelivery,
  deliveryStatus,
  fireAlert,
  listRuleSettings,
  markDeliveryFailed,
  markDelivered,
  openAlerts,
  pendingDeliveries,
  resolveAlert,
} from '../db/alerts';
import { activeProviderIds, providerReadings } from '../db/health-readings';
import { postWebhook } from '../notify/webhook';
import { sendEmail } from '../notify/email';
import { NO_CHANNELS, channelNames, webhookChannel } from '../notify/channels';

export interface EvaluationResult {
  providers: number;
  fired: number;
  resolved: number;
  open: number;
  /** Deliveries to send now (new ones and earlier failures still within the give-up window). */
  pending: number[];
}

export function alertingActivities(deps: ActivityDeps): AlertingActivities {
  const channels = () => deps.alerts ?? NO_CHANNELS;
  return {
    /**
     * Evaluates every rule for every provider against the database and records what started
     * and what cleared, each with its messages queued, in one transaction per alert. Running it
     * twice changes nothing the second time.
     */
    async evaluateAlerts(): Promise<EvaluationResult> {
      const stored = await listRuleSettings(deps.pool);
      const providers = await activeProviderIds(deps.pool);
      const conditions: AlertCondition[] = [];
      const evaluated = new Set<string>();
      const now = new Date();
      for (const providerId of providers) {
        const ageDays = effectiveSetting('quarantine_line_age', providerId, stored).threshold!;
        const readings = await providerReadings(deps.pool, providerId, ageDays);
        if (!readings) continue;
        evaluated.add(providerId);
        conditions.push(...conditionsFor(readings, stored, now));
      }
      const open = await openAlerts(deps.pool);
      // A removed provider has no conditions any more: its open alerts clear.
      for (const a of open) if (!providers.includes(a.providerId)) evaluated.add(a.providerId);
      const plan = planAlerts(conditions, open, evaluated);
      const names = channelNames(channels());
      let fired = 0;
      let resolved = 0;
      for (const c of plan.fire) {
        if ((await fireAlert(deps.pool, c, names)) !== null) {
          fired++;
          metrics.alertsFired.inc({ rule: c.rule });
          deps.log.warn({ alert: c.rule, provider: c.providerId, subject: c.subject }, c.summary);
        }
      }
      for (const a of plan.resolve) {
        if (await resolveAlert(deps.pool, a.id, names)) {
          resolved++;
          metrics.alertsResolved.inc({ rule: a.rule });
          deps.log.info({ alert: a.rule, provider: a.providerId, subject: a.subject }, 'alert resolved');
        }
      }
      const pending = await pendingDeliveries(deps.pool, channels().giveUpHours);
      return { providers: providers.length, fired, resolved, open: open.length + fired - resolved, pending };
    },

    /**
     * Sends one message once. The row is claimed first (a lease, so two runs never send it at
     * the same time) and marked SENT right after the receiver accepted it; a retry or a restarted
     * worker finds it SENT and sends nothing. Receivers also get a stable idempotency key
     * (Idempotency-Key header, Message-ID) for the narrow window between accepting and marking.
     */
    async deliverAlert(input: { deliveryId: number }): Promise<{ sent: boolean }> {
      const d = await claimDelivery(deps.pool, input.deliveryId, 60);
      if (!d) {
        const status = await deliveryStatus(deps.pool, input.deliveryId);
        if (status === 'PENDING')
          throw ApplicationFailure.retryable(
            `alert delivery ${input.deliveryId} waits: being sent by another run, or its alert is not delivered yet`,
            'DELIVERY_WAITING',
          );
        return { sent: false };
      }
      const c = channels();
      const message: AlertMessage = {
        status: d.kind,
        key: `csp-alert-${d.alertId}`,
        rule: d.rule,
        providerId: d.providerId,
        subject: d.subject,
        summary: d.summary,
        firedAt: d.firedAt,
        resolvedAt: d.resolvedAt,
      };
      const channelType = d.channel === 'email' ? 'email' : 'webhook';
      try {
        if (d.channel === 'email') {
          if (!c.email)
            throw ApplicationFailure.nonRetryable('email is no longer configured (ALERT_SMTP_URL)', 'CHANNEL_GONE');
          await sendEmail(c.email, {
            subject: messageTitle(message),
            text: emailText(message),
            messageId: `<${message.key}-${d.kind.toLowerCase()}@csp-billing>`,
            inReplyTo: d.kind === 'RESOLVED' ? `<${message.key}-firing@csp-billing>` : undefined,
          });
        } else {
          const url = c.webhookUrls.find((u) => webhookChannel(u) === d.channel);
          if (!url)
            throw ApplicationFailure.nonRetryable(
              `webhook ${d.channel} is no longer configured (ALERT_WEBHOOK_URLS)`,
              'CHANNEL_GONE',
            );
          await postWebhook(url, webhookBody(message, c.webhookFormat), {
            idempotencyKey: `${message.key}-${d.kind.toLowerCase()}`,
          });
        }
      } catch (err) {
        await markDeliveryFailed(deps.pool, d.id, (err as Error).message);
        metrics.alertDeliveries.inc({ channel: channelType, outcome: 'failed' });
        deps.log.warn(
          { delivery: d.id, channel: d.channel, error: (err as Error).message },
          'alert delivery failed; will retry',
        );
        throw err;
      }
      await markDelivered(deps.pool, d.id);
      metrics.alertDeliveries.inc({ channel: channelType, outcome: 'sent' });
      return { sent: true };
    },
  };
}

function emailText(m: AlertMessage): string {
  return [
    m.status === 'FIRING' ? 'An alert started:' : 'This alert has cleared:',
    '',
    m.summary,
    '',
    `rule:      ${m.rule}`,
    `provider:  ${m.providerId}`,
    `subject:   ${m.subject}`,
    `since:     ${m.firedAt}`,
    ...(m.resolvedAt ? [`resolved:  ${m.resolvedAt}`] : []),
    `alert key: ${m.key}`,
    '',
    'Rules and thresholds: npm run csp -- alerts list',
  ].join('\n');
}
