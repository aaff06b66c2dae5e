import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { artifactPath, launchBrowser } from './support/browser.js';
import { discOnWhite } from './support/images.js';
import { spawnHttpServer, type ServerProcess } from './support/processes.js';
import { ADMIN_TOKEN, admin, mintToken } from './support/rest.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { startAlibabaEmulator, startOpenPlatformEmulator, startOssEmulator, type AlibabaEmulator, type OpenPlatformEmulator, type OssEmulator } from './emulator/index.js';
import { createLogger } from '../src/logger.js';
import { createAlibabaProvider } from '../src/providers/alibaba/index.js';

const PRODUCT = 'product-background-removal';

/** What a person picks in the file dialog: a red disc on white, the embedded model's easy case. */
async function photo() {
  return { name: 'disc.png', mimeType: 'image/png', buffer: await discOnWhite(320, 240) };
}

/** The sample photo README's first call uses: a mug on a table. */
const samplePhoto = () => ({ name: 'product.jpg', mimeType: 'image/jpeg', buffer: readFileSync('examples/product.jpg') });

/** What the page's console says: a CSP refusal or a script error shows here. */
function recordConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Every request the page makes, so a test can say what left the browser (and what did not). */
function recordRequests(page: Page): Array<{ url: string; headers: Record<string, string> }> {
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];
  page.on('request', (request) => seen.push({ url: request.url(), headers: request.headers() }));
  return seen;
}

/** A table's body rows, cell by cell, found by its region's name. */
const tableRows = (page: Page, name: string) =>
  page
    .getByRole('region', { name, exact: true })
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent?.trim() ?? '')));

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describe('the web console on the embedded model, as `npm start` serves it', () => {
  let server: ServerProcess;
  let log = '';
  let directory: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'imageseg-console-'));
    // The real command, payments on, its whole log (debug) kept: a token typed into the page must never reach it.
    server = await spawnHttpServer({ DATABASE_URL: path.join(directory, 'imageseg.db'), ADMIN_TOKEN, LOG_LEVEL: 'debug' });
    server.child.stderr?.on('data', (chunk: Buffer) => void (log += chunk.toString()));
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('answers JSON at / to clients that do not ask for HTML, and browsers the console under a strict CSP', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.headers.get('content-type')).toContain('application/json');
    expect(await index.json()).toMatchObject({ name: 'imageseg-mcp', mcp: '/mcp' });
    expect((await fetch(`${server.url}/`, { headers: { accept: 'application/json' } })).headers.get('content-type')).toContain('application/json');

    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"]) {
      expect(csp).toContain(directive);
    }
    const html = await page.text();
    // Readable without the script: every tool is listed, with its price.
    expect(html).toContain('href="/services/product-background-removal"');
    expect(html).toContain('USD 0.20 per call');
    expect(html).not.toMatch(/<script(?![^>]*(type="module" src="\/assets\/console\.js|type="application\/json"))/);
    expect(html).not.toMatch(/style="/);

    const script = html.match(/src="(\/assets\/console\.js\?v=[0-9a-f]+)"/)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const etag = asset.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    // (node:http: fetch adds Cache-Control: no-cache to a request with If-None-Match, which asks for a full answer)
    const revalidated = await new Promise<number>((resolve, reject) => {
      http.get(`${server.url}${script}`, { headers: { 'if-none-match': etag } }, (answer) => resolve(answer.resume().statusCode ?? 0)).on('error', reject);
    });
    expect(revalidated).toBe(304);

    // What a visitor puts in the address bar is text on the page, never markup.
    const hostile = await (await fetch(`${server.url}/?q=${encodeURIComponent('"><img src=x onerror=alert(1)>')}`, { headers: { accept: 'text/html' } })).text();
    expect(hostile).not.toContain('<img src=x');
    expect(hostile).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');

    // Unknown tools: JSON 404 to programs, a page to people.
    expect((await fetch(`${server.url}/services/nope`)).status).toBe(404);
    const missing = await fetch(`${server.url}/services/nope`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No such tool');
  });

  it('finds a tool as you type in the search box, ranked as /api/catalog/search ranks, and filters by kind', async () => {
    const page = await context.newPage();
    const errors = recordConsoleErrors(page);
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('.card').count()).toBe(22);
    await page.getByRole('searchbox').fill('replace the sky');
    const api = (await (await fetch(`${server.url}/api/catalog/search?q=${encodeURIComponent('replace the sky')}`)).json()) as { results: Array<{ title: string }> };
    await expect.poll(() => page.locator('.card-title').allTextContents()).toEqual(api.results.map((entry) => entry.title));
    expect(api.results[0].title).toBe('Sky replacement');
    expect(page.url()).toContain('q=replace+the+sky');

    await page.getByRole('searchbox').fill('');
    await page.getByRole('radio', { name: 'People' }).check();
    await expect.poll(() => page.locator('.card .fact-kind').allTextContents()).not.toHaveLength(22);
    const kinds = await page.locator('.card .fact-kind').allTextContents();
    expect(kinds.length).toBeGreaterThan(3);
    expect(new Set(kinds)).toEqual(new Set(['People']));
    expect(await page.locator('.card-title').allTextContents()).toContain('Body segmentation');

    // A search the server renders (a shared link) shows the same as one typed in.
    await page.goto(`${server.url}/?q=background&kind=products`);
    const titles = await page.locator('.card-title').allTextContents();
    expect(titles[0]).toBe('Product background removal');
    await page.getByRole('radio', { name: 'All' }).check();
    await expect.poll(() => page.locator('.card').count()).toBeGreaterThan(titles.length);
    await page.screenshot({ path: artifactPath('console-catalog.png'), fullPage: false });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('checks the form before sending anything, with errors a screen reader announces', async () => {
    const page = await context.newPage();
    const requests = recordRequests(page);
    await page.goto(`${server.url}/services/${PRODUCT}`);
    await page.getByRole('button', { name: 'Run' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Choose an image file or give its URL (ImageURL)');
    const picker = page.locator('input[type=file]');
    expect(await picker.getAttribute('aria-invalid')).toBe('true');
    expect(await picker.evaluate((input) => input === document.activeElement)).toBe(true);
    const described = (await picker.getAttribute('aria-describedby'))!.split(' ');
    const errorText = await page.locator(`#${described.at(-1)!}`).textContent();
    expect(errorText).toContain('Choose an image file');

    // Bounds and patterns from the JSON Schema: cropMargin 0..2000, background transparent|white|black|#rrggbb.
    await page.locator('input[type=url]').fill('not a url');
    await page.getByText('Output options').click();
    await page.getByLabel('cropMargin, optional').fill('5000');
    await page.getByLabel('background, optional').fill('pink');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => alert.textContent()).toContain('Fix these 3 fields');
    const summary = await alert.textContent();
    expect(summary).toContain('http(s) URL');
    expect(summary).toContain('cropMargin must be at most 2000');
    expect(summary).toContain('background is not in the expected form');
    expect(await page.getByLabel('ReturnForm, optional').evaluate((select) => [...(select as HTMLSelectElement).options].map((option) => option.value))).toEqual(['', 'mask', 'whiteBK']);
    expect(requests.filter((request) => request.url.includes('/api/tools/'))).toHaveLength(0);
    await page.close();
  });

  it('answers an unpaid run with the price and both ways to pay', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/services/${PRODUCT}`);
    await page.locator('input[type=file]').setInputFiles(await photo());
    await page.getByRole('button', { name: 'Run' }).click();
    const help = page.locator('.payment-help');
    await help.waitFor();
    const text = (await help.textContent()) ?? '';
    expect(text).toContain('Payment required: USD 0.20 per call');
    expect(text).toContain(`imageseg-mcp tokens mint --service ${PRODUCT}`);
    expect(text).toContain('@x402/fetch');
    expect(text).toContain('wrapFetchWithPayment');
    expect(text).toContain('X402_PAY_TO');
    await page.close();
  });

  it('runs with a minted token: the cutout beside the photo, a divider the keyboard moves, downloads; the token stays in the tab', async () => {
    const token = await mintToken(server.url, PRODUCT);
    const page = await context.newPage();
    const requests = recordRequests(page);
    const errors = recordConsoleErrors(page);
    await page.goto(`${server.url}/services/${PRODUCT}`);
    await page.locator('input[type=file]').setInputFiles(samplePhoto());
    await page.getByLabel('Payment token, optional').fill(token);
    await page.getByRole('button', { name: 'Run' }).click();
    const slider = page.getByRole('slider');
    await slider.waitFor({ timeout: 20_000 });
    expect(await page.locator('.run-facts').textContent()).toMatch(/Done in .* on embedded model · paid: one call used/);
    expect(await page.locator('img.compare-after').getAttribute('src')).toMatch(/^blob:/);
    expect(await page.locator('img.compare-before').getAttribute('src')).toMatch(/^blob:/);
    // The cutout is transparent around the mug: its corner pixel's alpha is (next to) 0.
    const cornerAlpha = await page.locator('img.compare-after').evaluate(async (image) => {
      const picture = image as HTMLImageElement;
      await picture.decode();
      const canvas = document.createElement('canvas');
      canvas.width = picture.naturalWidth;
      canvas.height = picture.naturalHeight;
      const context2d = canvas.getContext('2d')!;
      context2d.drawImage(picture, 0, 0);
      return context2d.getImageData(2, 2, 1, 1).data[3];
    });
    expect(cornerAlpha).toBeLessThan(16);

    expect(await slider.getAttribute('aria-valuenow')).toBe('50');
    await slider.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await slider.getAttribute('aria-valuenow')).toBe('60');
    await page.keyboard.press('Home');
    expect(await slider.getAttribute('aria-valuenow')).toBe('0');
    await page.keyboard.press('PageUp');
    await page.keyboard.press('PageUp');
    await page.keyboard.press('ArrowRight');
    expect(await slider.getAttribute('aria-valuenow')).toBe('45');
    expect(await page.getByRole('link', { name: 'Download PNG' }).getAttribute('download')).toBe(`${PRODUCT}-result.png`);
    expect(await page.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await slider.blur();
    await page.locator('.try-it').screenshot({ path: artifactPath('console-run.png') });
    // README's picture of the console (docs/images/console.png is a copy of this one): small enough to commit.
    const small = await sharp(artifactPath('console-run.png')).resize({ width: 560 }).png({ palette: true, colours: 48, compressionLevel: 9 }).toBuffer();
    writeFileSync(artifactPath('console-readme.png'), small);
    expect(small.length).toBeLessThan(80 * 1024);

    // The token went out once, as a header of the call; never in a URL, and the server's log never has it.
    const call = requests.filter((request) => request.url.includes(`/api/tools/${PRODUCT}`));
    expect(call).toHaveLength(1);
    expect(call[0].headers['x-payment-token']).toBe(token);
    expect(requests.filter((request) => request.url.includes(token))).toHaveLength(0);
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(token);
    expect(await page.evaluate(() => Object.values(localStorage))).toHaveLength(0);
    expect(await page.content()).not.toContain(token.slice(6));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log).toContain('call succeeded');
    expect(log).not.toContain(token);
    expect(log).not.toContain(token.slice(6));

    // Reloaded, the tab still has it; the token's one call is spent, so the next run explains why it is refused.
    await page.reload();
    expect(await page.getByLabel('Payment token, optional').inputValue()).toBe(token);
    await page.locator('input[type=file]').setInputFiles(await photo());
    await page.getByRole('button', { name: 'Run' }).click();
    await page.locator('.payment-help').waitFor();
    expect(await page.locator('.payment-help').textContent()).toContain('the token has no calls left');
    await page.close();
  });

  it('gives the operator a page over the operator routes: the token after its call, revenue, calls by provider', async () => {
    const page = await context.newPage();
    const requests = recordRequests(page);
    await page.goto(`${server.url}/operator`);
    const field = page.getByLabel('Admin token');
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    const tokens = page.getByRole('region', { name: 'Tokens', exact: true });
    await tokens.waitFor();
    // ID, Service, Source, Used, Left, In progress, Expires, Created, Status
    const spent = (await tableRows(page, 'Tokens')).find((row) => row[1] === PRODUCT && row[3] === '1 of 1');
    expect(spent).toMatchObject({ 2: 'operator', 4: '0', 8: 'used up' });
    // Provider, Runs, OK, Failed, Skipped, Failures
    const local = (await tableRows(page, 'Calls by provider')).find((row) => row[0] === 'embedded model (local)');
    expect(Number(local?.[2])).toBeGreaterThanOrEqual(1);
    expect(local?.[3]).toBe('0');
    // Tool, Calls, OK, Failed, Outcomes: the unpaid runs are there too
    const product = (await tableRows(page, 'Calls by tool')).find((row) => row[0] === 'product_background_removal');
    expect(Number(product?.[2])).toBeGreaterThanOrEqual(1);
    expect(product?.[4]).toMatch(/PAYMENT_REQUIRED ×[1-9]/);
    const revenue = (await tableRows(page, 'Revenue per service and day')).find((row) => row[1] === PRODUCT);
    expect(revenue?.[3]).toBe('0.20');

    // Minting from the page: the token is shown once and can be kept for its tool in this tab.
    await page.getByLabel('Service', { exact: true }).selectOption(PRODUCT);
    await page.getByLabel('Calls', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Mint' }).click();
    const minted = await page.getByLabel('The new token').inputValue();
    expect(minted).toMatch(/^imgseg_/);
    await expect.poll(async () => (await tableRows(page, 'Tokens')).some((row) => row[3] === '0 of 3')).toBe(true);

    expect(requests.filter((request) => request.url.includes(ADMIN_TOKEN) || request.url.includes(minted))).toHaveLength(0);
    expect(requests.filter((request) => request.url.includes('/api/admin/')).every((request) => request.headers.authorization === `Bearer ${ADMIN_TOKEN}`)).toBe(true);
    await page.reload();
    await tokens.waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate(() => Object.values(sessionStorage))).not.toContain(ADMIN_TOKEN);
    expect(log).not.toContain(ADMIN_TOKEN);
    await page.close();
  });

  it('counts calls by tool and provider at /api/admin/stats, the same numbers /metrics has', async () => {
    expect((await fetch(`${server.url}/api/admin/stats`)).status).toBe(401);
    const stats = (await (await fetch(`${server.url}/api/admin/stats`, { headers: admin })).json()) as {
      byTool: Array<{ tool: string; calls: number; ok: number; failed: number; outcomes: Array<{ outcome: string; count: number }> }>;
      byProvider: Array<{ provider: string; calls: number; ok: number; failed: number }>;
    };
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: admin })).text();
    const counter = (labels: string) => Number(new RegExp(`^imageseg_calls_total\\{${labels}\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    const product = stats.byTool.find((row) => row.tool === 'product_background_removal')!;
    expect(product.ok).toBe(counter('tool="product_background_removal",provider="local",outcome="ok"'));
    expect(product.ok).toBeGreaterThanOrEqual(1);
    expect(product.outcomes.find((row) => row.outcome === 'PAYMENT_REQUIRED')?.count).toBe(counter('tool="product_background_removal",provider="local",outcome="PAYMENT_REQUIRED"'));
    const runs = Number(/^imageseg_provider_duration_seconds_count\{provider="local",action="SegmentCommodity",outcome="ok"\} (\d+)/m.exec(metrics)?.[1]);
    expect(stats.byProvider.find((row) => row.provider === 'local')).toMatchObject({ ok: runs, failed: 0 });
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(openapi.paths).toHaveProperty(['/api/admin/stats']);
  });

  it('fits a phone: 375 px wide, no sideways scrolling, and a run works there', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    for (const route of ['/', `/services/${PRODUCT}`, '/services/mask-refinement', '/operator']) {
      await page.goto(`${server.url}${route}`);
      expect(await noHorizontalScroll(page), route).toBe(true);
    }
    const token = await mintToken(server.url, PRODUCT);
    await page.goto(`${server.url}/services/${PRODUCT}`);
    await page.locator('input[type=file]').setInputFiles(await photo());
    await page.getByLabel('Payment token, optional').fill(token);
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('slider').waitFor({ timeout: 20_000 });
    expect(await noHorizontalScroll(page)).toBe(true);
    const stage = await page.locator('.compare-stage').boundingBox();
    expect(stage!.width).toBeLessThanOrEqual(375);
    await page.screenshot({ path: artifactPath('console-phone.png'), fullPage: true });
    await phone.close();
  });
});

describe('the web console with an asynchronous tool on the Alibaba emulator', () => {
  let emulator: AlibabaEmulator;
  let oss: OssEmulator;
  let openPlatform: OpenPlatformEmulator;
  let server: TestServer;
  let ossAgent: https.Agent;
  let browser: Browser;

  beforeAll(async () => {
    // Long enough a job to watch: about 2.5 s queued and processing.
    emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 1000, processingMs: 1500 } });
    oss = await startOssEmulator();
    openPlatform = await startOpenPlatformEmulator({ oss, accessKeyId: emulator.accessKeyId, accessKeySecret: emulator.accessKeySecret });
    emulator.addDownloadRoute((url) => oss.loopbackUrl(url));
    server = await startTestServer({ ...emulatorEnvironment(emulator), IMAGESEG_OPENPLATFORM_ENDPOINT: openPlatform.endpoint }, { jobPollingMs: 200 });
    // A picked file is uploaded the way the SDK's Advance calls do, to the OSS emulator: an agent that trusts its
    // certificate and resolves its bucket names is the one thing the production wiring needs here (as in upload.test.ts).
    ossAgent = oss.createAgent();
    const provider = createAlibabaProvider(server.context.config, createLogger('silent'), { ossAgent });
    server.context.providers.select = () => provider;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    ossAgent?.destroy();
    await openPlatform?.close();
    await oss?.close();
    await emulator?.close();
  });

  it('shows an async job in progress, with its elapsed time, and then the result', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${server.url}/services/hd-general-segmentation`);
    // PAYMENTS=off: no token field, and the page says the run is free.
    expect(await page.locator('.free-note').textContent()).toContain('PAYMENTS=off');
    expect(await page.locator('#payment-token').count()).toBe(0);
    await page.locator('input[type=file]').setInputFiles(await photo());
    await page.getByRole('button', { name: 'Run' }).click();
    const progress = page.locator('.run-progress');
    await expect.poll(() => progress.locator('.phase').textContent()).toContain('asynchronous job on Alibaba Cloud');
    expect(await progress.isVisible()).toBe(true);
    expect(await progress.locator('progress').getAttribute('value')).toBeNull();
    const first = await progress.locator('.elapsed').textContent();
    await expect.poll(() => progress.locator('.elapsed').textContent(), { timeout: 3000 }).not.toBe(first);
    expect(await page.getByRole('button', { name: 'Cancel' }).isVisible()).toBe(true);

    await page.locator('.run-facts, .run-result .notice').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.run-result').textContent()).toContain('Done in');
    await page.getByRole('slider').waitFor();
    expect(await progress.isVisible()).toBe(false);
    expect(await page.locator('.run-facts').textContent()).toContain('on Alibaba Cloud');
    const actions = emulator.calls.map((call) => call.action);
    expect(actions).toContain('SegmentHDCommonImage');
    expect(actions).toContain('GetAsyncJobResult');
    await page.close();
  });
});
