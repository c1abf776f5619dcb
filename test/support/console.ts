import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { localTemporal } from './temporal';
import { startTestSystem, type TestSystem } from './system';
import { launchChromium } from './browser';
import { runUsageCycleNow } from '../../workflows/usage-cycle.api';
import { startConsole, type RunningConsole } from '../../client/console/server';
import { addUser } from '../../client/console/auth';
import type { ProviderView } from '../../db/providers';

export const CONSOLE_PASSWORDS = { alice: 'correct horse battery', victor: 'staple viewer secret' } as const;
export type ConsoleUser = keyof typeof CONSOLE_PASSWORDS;

/**
 * The web console against the real system (Temporal dev server, worker, PostgreSQL, simulator),
 * driven by Debian's Chromium: two providers onboarded and one usage cycle each, a billing user
 * `alice` and a viewer `victor`. Each console test file starts one in `before` and stops it in `after`.
 */
export interface ConsoleUnderTest {
  env: TestWorkflowEnvironment;
  sys: TestSystem;
  /** AUD; one of its customers holds a tenant the provider has no service for ("Unlisted Customer 0"). */
  provider: ProviderView;
  /** NZD. */
  second: ProviderView;
  web: RunningConsole;
  browser: Browser;
  signedIn(user: ConsoleUser): Promise<{ context: BrowserContext; page: Page }>;
  stop(): Promise<void>;
}

export async function startConsoleUnderTest(
  options: { usageRecords?: number; pageSize?: number } = {},
): Promise<ConsoleUnderTest> {
  const env = await localTemporal();
  const sys = await startTestSystem(env, {
    usageRecords: options.usageRecords ?? 300,
    pageSize: options.pageSize ?? 100,
  });
  // One customer holds a known tenant and a tenant the provider has no service for (the
  // simulator's "Unlisted Customer 0"): that group's suggested service is the known tenant's.
  sys.sim.dataset.providers[0]!.tenants.at(-1)!.customerName = 'Unlisted Customer 0';
  const provider = await sys.onboardSimProvider(0);
  const workers = { temporal: env.client, taskQueue: sys.taskQueue };
  await runUsageCycleNow(workers, { providerId: provider.id }, 'console-cycle-1');
  // A second provider (NZD) so the dashboard shows providers side by side, each in its currency.
  const second = await sys.onboardSimProvider(1);
  await runUsageCycleNow(workers, { providerId: second.id }, 'console-cycle-2');
  await addUser(sys.db.pool, 'alice', CONSOLE_PASSWORDS.alice, 'billing');
  await addUser(sys.db.pool, 'victor', CONSOLE_PASSWORDS.victor, 'viewer');
  const web = await startConsole(
    {
      pool: sys.db.pool,
      temporal: env.client,
      taskQueue: sys.taskQueue,
      namespace: env.namespace ?? 'default',
      temporalUiUrl: 'http://127.0.0.1:8233',
      log: sys.logs.logger(),
    },
    { port: 0 },
    // Every test signs in from 127.0.0.1; the limit itself is tested on a console of its own.
    { loginAttemptsPerMinute: 1000 },
  );
  const browser = await launchChromium();

  async function signedIn(user: ConsoleUser): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${web.url}/`);
    assert.match(page.url(), /\/login\?next=%2F$/, 'an anonymous visitor is sent to the sign-in page');
    await page.fill('input[name=username]', user);
    await page.fill('input[name=password]', CONSOLE_PASSWORDS[user]);
    await Promise.all([page.waitForURL(`${web.url}/`), page.click('button[type=submit]')]);
    return { context, page };
  }

  return {
    env,
    sys,
    provider,
    second,
    web,
    browser,
    signedIn,
    async stop() {
      await browser.close();
      await web.close();
      await sys.stop();
      await env.teardown();
    },
  };
}

/** The text of the page's first flash message. */
export async function flash(page: Page): Promise<string> {
  return (await page.locator('.flash').first().textContent())?.trim() ?? '';
}
