import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import sharp from 'sharp';
import type { Browser, Frame, Page } from 'playwright-core';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { startTestServer, type TestServer } from './support/server.js';
import { call2026 } from './support/mcp-2026.js';
import { artifactPath, launchBrowser } from './support/browser.js';
import { capabilities } from '../tools/index.js';

const VIEW = 'ui://imageseg/result';
const APP_MIME = 'text/html;profile=mcp-app';
const APPS = 'io.modelcontextprotocol/ui';
const TOOL = 'product_background_removal';
const SERVICE = 'product-background-removal';
/** The spec's default CSP for a view that declares no domains (SEP-1865, "Host Behavior"). */
const DEFAULT_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'";

let server: TestServer;
let mcpUrl: string;
/** A 2025-11-25 host over stateless HTTP that lists the Apps extension at initialize. */
let apps: Client;
/** A 2026-07-28 host that shows Apps: it says so in every request. */
let modernApps: ModernClient;
let browser: Browser;
let hostScript: string;
const photo = readFileSync('examples/product.jpg').toString('base64');

const mint = async () => (await server.context.payments.mintToken({ serviceId: SERVICE, calls: 1 })).paymentToken;
const imageTools = () => capabilities.map((capability) => capability.tool);

/**
 * The host side of MCP Apps as a page: ext-apps' AppBridge and PostMessageTransport, the view in a sandboxed srcdoc
 * iframe under the spec's default CSP (no outside origin, no eval), tools/call and resources/read passed to the real server (through `mcpRequest`,
 * which the test exposes), downloads recorded.
 */
const HOST = `
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
window.downloads = [];
window.openView = async ({ html, csp, tool, input, result, theme, width }) => {
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.title = 'imageseg result';
  iframe.style.cssText = 'width: ' + width + 'px; height: 200px; border: 1px solid #ccc; display: block';
  document.body.replaceChildren(iframe);
  const bridge = new AppBridge(null, { name: 'test-host', version: '1.0.0' }, { serverTools: {}, serverResources: {}, downloadFile: {} }, {
    hostContext: { theme, platform: 'web', toolInfo: { tool }, containerDimensions: { width, maxHeight: 900 } },
  });
  bridge.oncalltool = (params) => window.mcpRequest('tools/call', params);
  bridge.onreadresource = (params) => window.mcpRequest('resources/read', params);
  bridge.ondownloadfile = async (params) => (window.downloads.push(params), {});
  bridge.onsizechange = ({ height }) => { if (height) iframe.style.height = height + 'px'; };
  const initialized = new Promise((resolve) => (bridge.oninitialized = resolve));
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  // As a sandbox proxy loads a view: its HTML under the CSP its resource declares (here: no domains, the default).
  iframe.srcdoc = html.replace(/<head>/i, '<head><meta http-equiv="Content-Security-Policy" content="' + csp + '">');
  await initialized;
  await bridge.sendToolInput({ arguments: input });
  window.sendResult = (answer) => bridge.sendToolResult(answer);
  if (result) await bridge.sendToolResult(result);
};
`;

beforeAll(async () => {
  server = await startTestServer({ IMAGESEG_PROVIDER: 'local' });
  mcpUrl = `${server.url}/mcp`;
  apps = new Client({ name: 'apps-host', version: '1.0.0' }, { capabilities: { extensions: { [APPS]: { mimeTypes: [APP_MIME] } } } });
  await apps.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  modernApps = new ModernClient({ name: 'apps-host-2026', version: '1.0.0' }, { capabilities: { extensions: { [APPS]: { mimeTypes: [APP_MIME] } } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await modernApps.connect(new ModernTransport(new URL(mcpUrl)));
  const bundled = await build({ stdin: { contents: HOST, resolveDir: process.cwd(), loader: 'js' }, bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  hostScript = bundled.outputFiles[0].text;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await apps?.close();
  await modernApps?.close();
  await server?.close();
});

const viewMetaOf = (result: { _meta?: Record<string, unknown> }) => result._meta?.['imageseg/view'] as { input?: { uri: string; mimeType: string }; results: Array<{ field: string; uri?: string; content?: number }> } | undefined;

describe('the MCP App view ui://imageseg/result', () => {
  it('is declared by every image tool, in tools/list of both generations (modern and legacy key)', async () => {
    const legacy = (await apps.listTools()).tools;
    const modern = (await call2026(mcpUrl, 'tools/list')).message.result!.tools as Tool[];
    for (const tools of [legacy, modern]) {
      const declared = tools.filter((tool) => (tool._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri === VIEW && tool._meta?.['ui/resourceUri'] === VIEW);
      expect(declared.map((tool) => tool.name).sort()).toEqual(imageTools().filter((name) => tools.some((tool) => tool.name === name)).sort());
      expect(declared.length).toBeGreaterThanOrEqual(9);
    }
    expect(apps.getServerCapabilities()?.extensions?.[APPS]).toEqual({ mimeTypes: [APP_MIME] });
  });

  it('is listed and read, in both generations, as one self-contained HTML file with the App MIME type and no outside origin', async () => {
    const legacyList = (await apps.listResources()).resources;
    const modernList = (await call2026(mcpUrl, 'resources/list')).message.result!.resources as Array<{ uri: string; mimeType: string; name: string }>;
    for (const resources of [legacyList, modernList]) expect(resources).toContainEqual(expect.objectContaining({ uri: VIEW, mimeType: APP_MIME, name: 'result-view', title: 'Result viewer' }));

    const legacy = (await apps.readResource({ uri: VIEW })).contents[0];
    const modern = ((await call2026(mcpUrl, 'resources/read', { uri: VIEW })).message.result!.contents as Array<typeof legacy>)[0];
    for (const content of [legacy, modern]) {
      expect(content).toMatchObject({ uri: VIEW, mimeType: APP_MIME });
      const html = (content as { text: string }).text;
      expect(html).toMatch(/^<!doctype html>/i);
      expect(html.length).toBeGreaterThan(10_000); // the script is inside
      expect(html).not.toMatch(/<(script|img|iframe)[^>]*\bsrc\s*=|<link[^>]*\bhref\s*=|@import\s+url|url\(\s*['"]?https?:/i);
      const csp = (content._meta as { ui: { csp: Record<string, string[]>; prefersBorder: boolean } }).ui.csp;
      expect(Object.values(csp).flat()).toEqual([]);
    }
  });

  it('leaves a host without Apps the answer it had: the JSON text and the image; what the view needs rides in _meta', async () => {
    const answer = await call2026(mcpUrl, 'tools/call', { name: TOOL, arguments: { ImageURL: photo, paymentToken: await mint() } });
    const result = answer.message.result as unknown as CallToolResult;
    expect(result.isError).toBeFalsy();
    // The model's answer: the output as JSON text, the cutout inline, the stored result linked (the embedded model keeps it).
    expect(result.content.map((block) => block.type)).toEqual(['text', 'image', 'resource_link']);
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(result.structuredContent);
    expect(result.content[1]).toMatchObject({ type: 'image', mimeType: 'image/png' });
    const link = result.content[2] as { uri: string };
    expect(link).toMatchObject({ type: 'resource_link', name: 'ImageURL', mimeType: 'image/png', uri: (result.structuredContent as { data: { ImageURL: string } }).data.ImageURL });
    expect(link.uri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/results\/[a-f0-9]{32}\.png$/);
    // Only in _meta: where the view finds each image. A client that did not list the Apps extension gets no input preview.
    expect(viewMetaOf(result)).toEqual({ results: [{ field: 'ImageURL', mimeType: 'image/png', uri: `imageseg://local/results/${link.uri.split('/').pop()}`, content: 1 }] });
  }, 90_000);

  it('hands an Apps host the input preview as a result resource it reads through resources/read; no preview where the host is unknown', async () => {
    // A 2026-07-28 host says it shows Apps in each request's client capabilities.
    const result = (await modernApps.callTool({ name: TOOL, arguments: { ImageURL: photo, paymentToken: await mint() } })) as CallToolResult;
    expect(result.content.map((block) => block.type)).toEqual(['text', 'image', 'resource_link']);
    const view = viewMetaOf(result)!;
    expect(view.input?.uri).toMatch(/^imageseg:\/\/local\/results\/[a-f0-9]{32}\.webp$/);
    const read = (await modernApps.readResource({ uri: view.input!.uri })).contents[0] as { blob: string; mimeType: string };
    expect(read.mimeType).toBe('image/webp');
    const { width, height } = await sharp(Buffer.from(read.blob, 'base64')).metadata();
    expect([width, height]).toEqual([640, 480]);
    // The preview is a stored result like any other: a 2025-11-25 client reads it too.
    expect(((await apps.readResource({ uri: view.input!.uri })).contents[0] as { blob: string }).blob).toBe(read.blob);

    // A stateless 2025-11-25 POST never sees the initialize that listed the extension: no preview (it costs an
    // image encode and a stored file on every call), the view shows the result alone.
    const legacy = (await apps.callTool({ name: TOOL, arguments: { ImageURL: photo, paymentToken: await mint() } })) as CallToolResult;
    expect(viewMetaOf(legacy)?.input).toBeUndefined();
    expect(viewMetaOf(legacy)?.results.length).toBeGreaterThan(0);
  }, 90_000);
});

describe('a 2025-11-25 host over stdio', () => {
  it('gets the input preview when it listed the Apps extension at initialize, and none when it did not', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'imageseg-app-stdio-'));
    const connect = async (extensions: Record<string, object>) => {
      const client = new Client({ name: 'stdio-host', version: '1.0.0' }, { capabilities: { extensions } });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [path.resolve('dist/cli.js'), 'stdio'], env: { PATH: process.env.PATH ?? '', HOME: home, PAYMENTS: 'off' }, stderr: 'ignore' }));
      return client;
    };
    const [withApps, without] = [await connect({ [APPS]: { mimeTypes: [APP_MIME] } }), await connect({})];
    try {
      const call = (client: Client) => client.callTool({ name: TOOL, arguments: { ImageURL: `data:image/jpeg;base64,${photo}` } }, undefined, { timeout: 120_000 }) as Promise<CallToolResult>;
      const shown = viewMetaOf(await call(withApps))?.input;
      expect(shown?.uri).toMatch(/^imageseg:\/\/local\/results\//);
      expect((await withApps.readResource({ uri: shown!.uri })).contents[0]).toMatchObject({ mimeType: 'image/webp' });
      expect(viewMetaOf(await call(without))?.input).toBeUndefined();
    } finally {
      await withApps.close();
      await without.close();
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the view in Chromium, inside the ext-apps host side (AppBridge)', () => {
  let page: Page;
  let tool: Tool;
  let html: string;
  /** What the host answers for a tools/call, instead of the real server, while a test sets it. */
  let toolCallOverride: ((params: { name: string; arguments: Record<string, unknown> }) => unknown) | undefined;

  beforeAll(async () => {
    html = ((await modernApps.readResource({ uri: VIEW })).contents[0] as { text: string }).text;
    tool = (await apps.listTools()).tools.find((candidate) => candidate.name === TOOL)!;
  });

  async function openView(options: { input: Record<string, unknown>; result?: CallToolResult; theme?: 'light' | 'dark'; width?: number }): Promise<Frame> {
    const width = options.width ?? 720;
    page = await browser.newPage({ viewport: { width: width + 40, height: 900 } });
    page.on('pageerror', (error) => console.error('page error:', error));
    page.on('console', (message) => void (message.type() === 'error' && console.error('console:', message.text())));
    await page.exposeFunction('mcpRequest', async (method: string, params: { name: string; arguments: Record<string, unknown> } & { uri: string }) => {
      if (method === 'resources/read') return modernApps.readResource(params);
      return toolCallOverride?.(params) ?? modernApps.callTool(params);
    });
    await page.setContent('<!doctype html><html><head></head><body></body></html>');
    await page.addScriptTag({ content: hostScript });
    await page.evaluate((view) => (window as unknown as { openView(view: unknown): Promise<void> }).openView(view), { html, csp: DEFAULT_CSP, tool, input: options.input, result: options.result, theme: options.theme ?? 'light', width });
    return page.frames().find((frame) => frame !== page.mainFrame())!;
  }

  const naturalWidth = (frame: Frame, selector: string) => frame.locator(selector).evaluate((image: HTMLImageElement) => image.naturalWidth);

  it('draws a real cutout over its input: the divider is a slider moved with the arrow keys; mask, backgrounds and downloads work', async () => {
    const input = { ImageURL: photo, paymentToken: await mint() };
    const frame = await openView({ input });
    await expect.poll(() => frame.getByRole('status').textContent()).toMatch(/working/i);

    const result = (await modernApps.callTool({ name: TOOL, arguments: input })) as CallToolResult;
    await page.evaluate((answer) => (window as unknown as { sendResult(answer: unknown): Promise<void> }).sendResult(answer), result);
    const slider = frame.getByRole('slider', { name: 'Before and after divider' });
    await slider.waitFor();
    expect(await naturalWidth(frame, 'img.compare-after')).toBe(640);
    expect(await naturalWidth(frame, 'img.compare-before')).toBe(640);
    await expect.poll(() => frame.getByRole('heading').textContent()).toBe('Product background removal');

    expect(await slider.getAttribute('aria-valuenow')).toBe('50');
    await slider.focus();
    await slider.press('ArrowLeft');
    expect(await slider.getAttribute('aria-valuenow')).toBe('45');
    await slider.press('ArrowRight');
    await slider.press('ArrowRight');
    expect(await slider.getAttribute('aria-valuenow')).toBe('55');
    await slider.press('Home');
    expect(await slider.getAttribute('aria-valuenow')).toBe('0');
    await slider.press('PageUp');
    await slider.press('PageUp');
    expect(await slider.getAttribute('aria-valuetext')).toBe('40% input, 60% result');

    const cutout = await frame.locator('img.compare-after').getAttribute('src');
    const mask = frame.getByRole('checkbox', { name: 'Show mask' });
    await mask.check();
    const maskSource = await frame.locator('img.compare-after').getAttribute('src');
    expect(maskSource).not.toBe(cutout);
    const maskPixels = await sharp(Buffer.from(maskSource!.split(',')[1], 'base64')).raw().toBuffer({ resolveWithObject: true });
    expect(maskPixels.info.channels).toBe(4);
    const stage = frame.locator('.compare-stage');
    expect(await stage.getAttribute('class')).not.toContain('checkerboard');
    await mask.uncheck();
    expect(await frame.locator('img.compare-after').getAttribute('src')).toBe(cutout);

    const backgrounds = frame.getByRole('radiogroup', { name: 'Background' });
    await backgrounds.getByRole('radio', { name: 'Black' }).check();
    expect(await stage.evaluate((element: HTMLElement) => getComputedStyle(element).backgroundColor)).toBe('rgb(0, 0, 0)');
    await backgrounds.getByRole('radio', { name: 'White' }).check();
    expect(await stage.evaluate((element: HTMLElement) => getComputedStyle(element).backgroundColor)).toBe('rgb(255, 255, 255)');
    expect(await frame.getByLabel('Custom background colour').getAttribute('type')).toBe('color');
    expect(await frame.locator('.compare-facts').textContent()).toMatch(/^640 × 480 · PNG · \d+ KB$/);

    await frame.getByRole('link', { name: 'Download with background' }).click();
    await frame.getByRole('link', { name: 'Download PNG' }).click();
    const downloads = await page.evaluate(() => (window as unknown as { downloads: Array<{ contents: Array<{ resource: { uri: string; mimeType: string; blob: string } }> }> }).downloads);
    expect(downloads.map((download) => download.contents[0].resource.uri)).toEqual([`file:///${SERVICE}-result-background.png`, `file:///${SERVICE}-result.png`]);
    const flattened = await sharp(Buffer.from(downloads[0].contents[0].resource.blob, 'base64')).stats();
    expect(flattened.isOpaque).toBe(true);

    await backgrounds.getByRole('radio', { name: 'Transparent' }).check();
    await slider.press('End');
    await slider.press('PageDown');
    await slider.press('PageDown');
    await slider.press('PageDown');
    await page.locator('iframe').screenshot({ path: artifactPath('mcp-app.png') });
    await page.close();

    const dark = await openView({ input, result, theme: 'dark' });
    await dark.getByRole('slider').waitFor();
    expect(await dark.locator('html').getAttribute('data-theme')).toBe('dark');
    expect(await dark.locator('body').evaluate((body) => getComputedStyle(body).backgroundColor)).toBe('rgb(22, 24, 28)');
    await page.locator('iframe').screenshot({ path: artifactPath('mcp-app-dark.png') });
    await page.close();

    // A host's side panel at phone width: everything fits, nothing scrolls sideways.
    const narrow = await openView({ input, result, width: 340 });
    await narrow.getByRole('slider').waitFor();
    expect(await narrow.locator('html').evaluate((root) => root.scrollWidth - root.clientWidth)).toBe(0);
    expect(await narrow.getByRole('link', { name: 'Download PNG' }).isVisible()).toBe(true);
    await page.locator('iframe').screenshot({ path: artifactPath('mcp-app-narrow.png') });
    await page.close();
  }, 120_000);

  it('shows a payment-required answer in plain words, USD 0.20 per call and how to pay, and runs again with a pasted token', async () => {
    const input = { ImageURL: photo };
    const unpaid = (await modernApps.callTool({ name: TOOL, arguments: input })) as CallToolResult;
    expect(unpaid.isError).toBe(true);
    const frame = await openView({ input, result: unpaid });
    const alert = frame.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('USD 0.20 per call');
    const text = (await alert.textContent())!;
    expect(text).toContain('Payment required');
    expect(text).toContain('Nothing was charged');
    expect(text).toContain(`imageseg-mcp tokens mint --service ${SERVICE}`);
    expect(text).toContain('paymentToken');
    expect(text).toContain('x402');
    await page.locator('iframe').screenshot({ path: artifactPath('mcp-app-payment.png') });

    await frame.getByRole('textbox', { name: 'Payment token' }).fill(await mint());
    await frame.getByRole('button', { name: 'Pay and run again' }).click();
    await frame.getByRole('slider').waitFor({ timeout: 60_000 });
    expect(await naturalWidth(frame, 'img.compare-after')).toBe(640);
    await page.close();
  }, 120_000);

  it('follows a job that outlived the call with async_job_result through the host until it has the image', async () => {
    const done = (await modernApps.callTool({ name: TOOL, arguments: { ImageURL: photo, paymentToken: await mint() } })) as CallToolResult;
    const timedOut: CallToolResult = {
      isError: true,
      content: [{ type: 'text', text: 'JOB_TIMEOUT: still running' }],
      structuredContent: { code: '504', content: 'JOB_TIMEOUT', data: { Action: 'SegmentHDBody' }, message: 'still running', requestId: 'R1', error: { code: 'JOB_TIMEOUT', message: 'job J-1 still PROCESSING', retryable: true, details: { jobId: 'J-1', payment: 'held', charged: false } } },
    };
    // The job's answers as async_job_result gives them: still processing once, then the image.
    const asked: unknown[] = [];
    const processing = { content: [{ type: 'text', text: '{}' }], structuredContent: { code: '200', content: 'still processing', data: { Action: 'GetAsyncJobResult', JobId: 'J-1', Status: 'PROCESSING' }, message: 'success', requestId: 'R2' } };
    toolCallOverride = (params) => (params.name === 'async_job_result' ? (asked.push(params), asked.length === 1 ? processing : done) : undefined);
    const frame = await openView({ input: { ImageURL: photo }, result: timedOut });
    await expect.poll(() => frame.getByRole('status').textContent()).toMatch(/still working/i);
    await frame.getByRole('slider').waitFor({ timeout: 30_000 });
    expect(asked).toHaveLength(2);
    for (const request of asked) expect(request).toMatchObject({ name: 'async_job_result', arguments: { JobId: 'J-1' } });
    toolCallOverride = undefined;
    await page.close();
  }, 60_000);
});
