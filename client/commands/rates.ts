import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { ensureRateCard, getRateCard, importRateCard, rateCardJson, removeRateRule, setRateRule } from '../../db/rates';
import { parseRateCard, parseRateRule, InputError } from '../../core/rate-card';
import { parseLosslessJson } from '../../core/lossless';
import { autoCleanse } from '../../activities/quarantine-notify';
import { serviceOwner } from '../../db/services';
import { printRows } from '../output';
import { UserError } from '../errors';

export function rateCommands(program: Command, ctx: () => CliContext): void {
  const rates = program.command('rates').description("a provider's rate card: rules by product GUID (price, rrp or markup), optionally for one service");

  const providerOf = async (ref: string) => requireProvider(await ctx().db(), ref);
  async function cleanse(providerId: string, productId: string | null) {
    const c = ctx();
    const groups = await autoCleanse({ pool: await c.db(), temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE }, providerId, { kind: 'rateAdded', productId });
    if (groups.length) process.stdout.write(`${groups.length} quarantine group(s) asked to cleanse themselves\n`);
  }

  rates.command('list <provider>').description("the provider's rules, default markup and currency").option('--json', 'print JSON').action(async (ref: string, o) => {
    const p = await providerOf(ref);
    const card = await getRateCard(await ctx().db(), p.id);
    if (o.json) {
      process.stdout.write(card ? rateCardJson(card) : 'null\n');
      return;
    }
    process.stdout.write(`currency ${card?.currency ?? p.currency}; default markup ${card?.defaultMarkupPercent ? `${card.defaultMarkupPercent.toFixed()}%` : 'none (unrated products are quarantined)'}\n`);
    printRows((card?.rules ?? []).map((r) => ({ product: r.productId, service: r.serviceId ?? '(all)', kind: r.kind, value: r.value?.toFixed() ?? '' })), false);
  });

  rates
    .command('set <provider>')
    .description('set one rule (replaces the rule for the same product and service)')
    .requiredOption('--product <guid>', 'product GUID (Rhipe ProductId)')
    .option('--service <id>', 'only for this service')
    .requiredOption('--kind <kind>', 'price | rrp | markup')
    .option('--value <decimal>', 'price per licence per full period, or markup percent')
    .action(async (ref: string, o) => {
      const p = await providerOf(ref);
      const db = await ctx().db();
      let rule;
      try {
        rule = parseRateRule({ productId: o.product, serviceId: o.service, kind: o.kind, value: o.value }, 'rule');
      } catch (err) {
        if (err instanceof InputError) throw new UserError(err.message.replace('rule.productId', '--product').replace('rule.value', '--value').replace('rule.kind', '--kind'));
        throw err;
      }
      if (rule.serviceId) {
        if ((await serviceOwner(db, rule.serviceId)) !== p.id) throw new UserError(`service ${rule.serviceId} is not a service of ${p.id}`);
      }
      await ensureRateCard(db, p.id, p.currency);
      await setRateRule(db, p.id, rule);
      process.stdout.write(`${p.id}: ${rule.kind} rule set for ${rule.productId}${rule.serviceId ? ` on ${rule.serviceId}` : ''}\n`);
      await cleanse(p.id, rule.productId);
    });

  rates
    .command('default-markup <provider> <percent>')
    .description('the markup for products without a rule ("none" to quarantine them instead)')
    .action(async (ref: string, percent: string) => {
      const p = await providerOf(ref);
      if (percent !== 'none' && !/^-?\d+(\.\d+)?$/.test(percent)) throw new UserError('percent must be a decimal number or "none"');
      await ensureRateCard(await ctx().db(), p.id, p.currency, percent === 'none' ? null : percent);
      process.stdout.write(`${p.id}: default markup ${percent === 'none' ? 'none' : `${percent}%`}\n`);
      if (percent !== 'none') await cleanse(p.id, null);
    });

  rates.command('remove <provider>').description('remove one rule (its products then fall back to a less specific rule or quarantine)').requiredOption('--product <guid>', 'product GUID').option('--service <id>', 'the service of a service rule').action(async (ref: string, o) => {
    const p = await providerOf(ref);
    const removed = await removeRateRule(await ctx().db(), p.id, o.product, o.service ?? null);
    if (!removed) throw new UserError(`no rule for product ${o.product}${o.service ? ` and service ${o.service}` : ''}`);
    process.stdout.write(`${p.id}: rule removed\n`);
  });

  rates
    .command('import <provider>')
    .description('replace the whole card with a JSON file in the rating command format; a bad file changes nothing')
    .requiredOption('--file <path>', 'card JSON')
    .action(async (ref: string, o) => {
      const p = await providerOf(ref);
      let card;
      try {
        card = parseRateCard(parseLosslessJson(readFileSync(o.file, 'utf8')));
      } catch (err) {
        throw new UserError(`rate card file ${o.file}: ${(err as Error).message}`);
      }
      if (card.currency !== p.currency) throw new UserError(`rate card file ${o.file}: currency ${card.currency} differs from the provider's ${p.currency}`);
      await importRateCard(await ctx().db(), p.id, card);
      process.stdout.write(`${p.id}: ${card.rules.length} rule(s) imported\n`);
      await cleanse(p.id, null);
    });

  rates.command('export <provider>').description('the whole card as JSON, in the rating command format').option('--file <path>', 'write to a file instead of stdout').action(async (ref: string, o) => {
    const p = await providerOf(ref);
    const card = await getRateCard(await ctx().db(), p.id);
    if (!card) throw new UserError(`${p.id} has no rate card yet`);
    if (o.file) writeFileSync(o.file, rateCardJson(card));
    else process.stdout.write(rateCardJson(card));
  });
}
