import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from '@commander-js/extra-typings';
import type { CliContext } from '../context';
import { requireProvider } from '../lookup';
import { userInfo } from 'node:os';
import { getRateCard, importRateCard, rateCardJson } from '../../db/rates';
import { parseRateCard } from '../../core/rate-card';
import {
  RateEditError,
  checkMarkupInput,
  checkRuleInput,
  removeRate,
  negativeMarkupProblem,
  setDefaultMarkup,
  setRate,
  type RateEditDeps,
  type RateEditor,
} from '../rate-changes';
import { parseLosslessJson } from '../../lib/lossless';
import { autoCleanse } from '../../activities/quarantine-notify';
import { rerateHint } from '../../activities/rerate';
import { printRows } from '../output';
import { isGuid } from '../../core/guid';
import { UserError } from '../errors';
import { productCatalogue } from '../../db/product-catalogue';
import { pricedCardJson, pricedRules } from '../rate-catalogue';
import { displayMoney } from '../display';
import type { Decimal } from '../../core/money';

/** Stands in for a product given by name while the rest of a rule is checked. */
const ANY_PRODUCT = '00000000-0000-0000-0000-000000000000';

export function rateCommands(program: Command, ctx: () => CliContext): void {
  const rates = program
    .command('rates')
    .description("a provider's rate card: rules by product GUID (price, rrp or markup), optionally for one service");

  const providerOf = async (ref: string) => requireProvider(await ctx().db(), ref);
  async function cleanse(providerId: string, productId: string | null) {
    const c = ctx();
    const groups = await autoCleanse(
      { pool: await c.db(), temporal: await c.temporal(), taskQueue: c.cfg.TASK_QUEUE },
      providerId,
      { kind: 'rateAdded', productId },
    );
    if (groups.length) process.stdout.write(`${groups.length} quarantine group(s) asked to cleanse themselves\n`);
  }

  rates
    .command('list <provider>')
    .description("the provider's rules, default markup and currency")
    .option('--json', 'print JSON')
    .action(async (ref: string, o) => {
      const p = await providerOf(ref);
      const db = await ctx().db();
      const card = await getRateCard(db, p.id);
      const rules = pricedRules(card, await productCatalogue(db, p.id));
      if (o.json) {
        process.stdout.write(pricedCardJson(card, p.currency, rules));
        return;
      }
      const currency = card?.currency ?? p.currency;
      process.stdout.write(
        `currency ${currency}; default markup ${card?.defaultMarkupPercent ? `${card.defaultMarkupPercent.toFixed()}%` : 'none (unrated products are quarantined)'}; cost, RRP and sell price per licence per full period\n`,
      );
      const money = (d: Decimal | null) => (d ? displayMoney(d, currency) : '');
      printRows(
        rules.map((r) => ({
          product: r.productId,
          productName: r.productName ?? '(name not known yet)',
          service: r.serviceId ?? '(all)',
          kind: r.kind,
          value: r.value?.toFixed() ?? '',
          cost: money(r.unitCost),
          rrp: money(r.unitRrp),
          sellPrice: money(r.sellPrice),
        })),
        false,
      );
    });

  // Rate changes are audited (who, old, new); from the CLI "who" is --by, else the OS user.
  const editor = (by: string | undefined): RateEditor => ({ actor: by?.trim() || userInfo().username, source: 'cli' });
  const edits = async (): Promise<RateEditDeps> => ({
    pool: await ctx().db(),
    temporal: await ctx().temporal(),
    taskQueue: ctx().cfg.TASK_QUEUE,
  });
  const cliMessage = (err: unknown) => {
    if (err instanceof RateEditError)
      return new UserError(
        err.message
          .replace('rule.productId', '--product')
          .replace('rule.value', '--value')
          .replace('rule.kind', '--kind')
          .replace('rule.serviceId', '--service'),
      );
    return err;
  };

  rates
    .command('set <provider>')
    .description('set one rule (replaces the rule for the same product and service)')
    .requiredOption(
      '--product <name|guid>',
      "the product's name (as `rates list` and the price list show it) or its GUID (Rhipe ProductId)",
    )
    .option('--service <id>', 'only for this service')
    .requiredOption('--kind <kind>', 'price | rrp | markup')
    .option('--value <decimal>', 'price per licence per full period, or markup percent')
    .option('--by <name>', 'who changes it, for the audit trail (default: your OS user)')
    .action(async (ref: string, o) => {
      const input = { productId: o.product, serviceId: o.service, kind: o.kind, value: o.value };
      // Refused before anything is looked up (a value whose charges could not be stored, …): exit 2.
      // A product given by name is looked up in the provider's catalogue later; the rest is checked now.
      try {
        checkRuleInput(isGuid(o.product) ? input : { ...input, productId: ANY_PRODUCT });
      } catch (err) {
        throw cliMessage(err);
      }
      const p = await providerOf(ref);
      const r = await setRate(await edits(), p, input, editor(o.by)).catch((err) => {
        throw cliMessage(err);
      });
      const name = (await productCatalogue(await ctx().db(), p.id)).find((x) => x.productId === r.new!.productId)?.name;
      process.stdout.write(
        `${p.id}: ${r.new!.kind} rule set for ${name ? `${name} (${r.new!.productId})` : r.new!.productId}${r.new!.serviceId ? ` on ${r.new!.serviceId}` : ''}\n`,
      );
      if (r.cleansing) process.stdout.write(`${r.cleansing} quarantine group(s) asked to cleanse themselves\n`);
      if (r.repriced.length) process.stdout.write(`${rerateHint(p.id, r.repriced, r.new!.productId)}\n`);
    });

  rates
    .command('default-markup <provider> <percent>')
    .description('the markup for products without a rule ("none" to quarantine them instead)')
    .option('--by <name>', 'who changes it, for the audit trail (default: your OS user)')
    .option('--allow-negative', 'accept a markup below 0 (every unrated product billed below cost)')
    .action(async (ref: string, percent: string, o) => {
      try {
        checkMarkupInput(percent);
      } catch (err) {
        throw cliMessage(err);
      }
      const p = await providerOf(ref);
      const allowNegative = !!o.allowNegative;
      const r = await setDefaultMarkup(await edits(), p, percent, editor(o.by), { allowNegative }).catch((err) => {
        throw cliMessage(err);
      });
      process.stdout.write(`${p.id}: default markup ${r.new === null ? 'none' : `${r.new}%`}\n`);
      if (r.cleansing) process.stdout.write(`${r.cleansing} quarantine group(s) asked to cleanse themselves\n`);
      if (r.repriced.length) process.stdout.write(`${rerateHint(p.id, r.repriced, null)}\n`);
    });

  rates
    .command('remove <provider>')
    .description('remove one rule (its products then fall back to a less specific rule or quarantine)')
    .requiredOption('--product <name|guid>', "the product's name or GUID")
    .option('--service <id>', 'the service of a service rule')
    .option('--by <name>', 'who removes it, for the audit trail (default: your OS user)')
    .action(async (ref: string, o) => {
      const p = await providerOf(ref);
      const r = await removeRate(await edits(), p, o.product, o.service, editor(o.by)).catch((err) => {
        throw cliMessage(err);
      });
      process.stdout.write(`${p.id}: rule removed\n`);
      if (r.repriced.length) process.stdout.write(`${rerateHint(p.id, r.repriced, r.old!.productId)}\n`);
    });

  rates
    .command('import <provider>')
    .description('replace the whole card with a JSON file in the rating command format; a bad file changes nothing')
    .requiredOption('--file <path>', 'card JSON')
    .option('--allow-negative', 'accept a negative defaultMarkupPercent (every unrated product billed below cost)')
    .action(async (ref: string, o) => {
      // The file is checked (shape, and the bounds of core/rate-card.ts) before anything is looked up.
      let card;
      try {
        card = parseRateCard(parseLosslessJson(readFileSync(o.file, 'utf8')));
      } catch (err) {
        throw new UserError(`rate card file ${o.file}: ${(err as Error).message}`);
      }
      const markup = card.defaultMarkupPercent
        ? negativeMarkupProblem(card.defaultMarkupPercent.toFixed(), !!o.allowNegative)
        : null;
      if (markup) throw new UserError(`rate card file ${o.file}: ${markup}`);
      const p = await providerOf(ref);
      if (card.currency !== p.currency)
        throw new UserError(
          `rate card file ${o.file}: currency ${card.currency} differs from the provider's ${p.currency}`,
        );
      await importRateCard(await ctx().db(), p.id, card);
      process.stdout.write(`${p.id}: ${card.rules.length} rule(s) imported\n`);
      await cleanse(p.id, null);
    });

  rates
    .command('export <provider>')
    .description('the whole card as JSON, in the rating command format')
    .option('--file <path>', 'write to a file instead of stdout')
    .action(async (ref: string, o) => {
      const p = await providerOf(ref);
      const card = await getRateCard(await ctx().db(), p.id);
      if (!card) throw new UserError(`${p.id} has no rate card yet`);
      if (o.file) writeFileSync(o.file, rateCardJson(card));
      else process.stdout.write(rateCardJson(card));
    });
}
