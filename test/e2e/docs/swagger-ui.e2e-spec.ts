import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, chromium, type Page } from 'playwright-core';
import { call, loginAdmin, onboardTenant, type OnboardedTenant } from '../../support/auth';
import { createTestBackends, type RunningApi, startTestApi, type TestBackends } from '../../support/harness';

// What an ops engineer does in Swagger UI at /docs, in a real browser: authorize with an API key, try
// GET /api/v1/workflows, and read the tenant's workflows in the response panel.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = '/tmp/conflux-swagger-ui.png';
const haveBrowser = existsSync(CHROMIUM);
const maybe = haveBrowser ? it : it.skip;
if (!haveBrowser) {
  console.warn(
    `Swagger UI browser test SKIPPED: no Chromium at ${CHROMIUM} ` +
      '(Debian/Ubuntu: apt-get install chromium; elsewhere set CHROMIUM_PATH)',
  );
}

let backends: TestBackends;
let api: RunningApi;
let acme: OnboardedTenant;
let browser: Browser | undefined;
const WORKFLOW_NAME = 'swagger ui shows me';

beforeAll(async () => {
  if (!haveBrowser) return;
  backends = await createTestBackends();
  api = await startTestApi(backends.env);
  acme = await onboardTenant(api.url, await loginAdmin(api.url), 'swaggerui');
  const created = await call(api.url, 'POST', '/api/v1/workflows', {
    credentials: acme.ownerKey,
    body: { name: WORKFLOW_NAME },
  });
  expect(created.status).toBe(201);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await backends?.cleanup();
});

describe('Swagger UI at /docs', () => {
  maybe('authorizes with an API key and executes GET /api/v1/workflows', async () => {
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 1800 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    try {
      await page.goto(`${api.url}/docs`);
      await page.locator('.swagger-ui .info .title').waitFor();
      expect(await page.locator('.swagger-ui .info .title').innerText()).toContain('Conflux API');

      await authorizeWithApiKey(page, acme.ownerKey.headers['x-api-key']);

      const operation = page.locator('#operations-workflows-WorkflowsController_list');
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('button.execute').click();

      const response = operation.locator('.live-responses-table .response').first();
      await response.waitFor({ timeout: 15_000 });
      await operation.screenshot({ path: SCREENSHOT });
      // The code cell: `200`, with an "Undocumented" badge under jest, whose swc transform does not run the
      // Swagger CLI plugin that documents the 200 body in the built app.
      expect(await response.locator('.response-col_status').innerText()).toMatch(/^\s*200\b/);
      const body = await response.locator('.response-col_description .highlight-code').innerText();
      expect(body).toContain('"items"');
      expect(body).toContain(`"name": "${WORKFLOW_NAME}"`);
      expect(body).toContain('"total": 1');
      // The request Swagger UI shows (and sent) carries the key the user entered.
      expect(await operation.locator('.curl-command').innerText()).toContain(
        `X-API-Key: ${acme.ownerKey.headers['x-api-key']}`,
      );
      expect(problems).toEqual([]);
    } catch (error) {
      await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch(() => undefined);
      throw new Error(
        `${(error as Error).message}\n(screenshot: ${SCREENSHOT}; browser problems: ${problems.join('; ') || 'none'})`,
        { cause: error },
      );
    } finally {
      await page.close();
    }
  });
});

/** Authorize -> the `api-key` scheme's value -> its Authorize button -> Close. */
async function authorizeWithApiKey(page: Page, key: string): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
  const modal = page.locator('.dialog-ux .modal-ux');
  await modal.waitFor();
  const scheme = modal
    .locator('.auth-container')
    .filter({ has: page.locator('h4 code', { hasText: /^api-key$/ }) });
  await scheme.locator('input#api_key_value').fill(key);
  await scheme.locator('button.authorize', { hasText: 'Authorize' }).click();
  // Authorized: the form now offers Logout instead of Authorize.
  await scheme.locator('button', { hasText: 'Logout' }).waitFor();
  await scheme.locator('button.btn-done', { hasText: 'Close' }).click();
  await modal.waitFor({ state: 'detached' });
}
