import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startAlibabaEmulator, type AlibabaEmulator } from './emulator/index.js';
import { emulatorEnvironment, startTestServer, type TestServer } from './support/server.js';
import { discOnWhite } from './support/images.js';
import { capabilities } from '../tools/index.js';

let emulator: AlibabaEmulator;
let server: TestServer;
let client: Client;
let imageUrl: string;

async function connect(url: string): Promise<Client> {
  const mcp = new Client({ name: 'imageseg-test', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return mcp;
}

beforeAll(async () => {
  emulator = await startAlibabaEmulator({ jobTimings: { queuingMs: 150, processingMs: 350 } });
  server = await startTestServer(emulatorEnvironment(emulator), { jobPollingMs: 100 });
  client = await connect(server.url);
  imageUrl = emulator.hostImage(await discOnWhite());
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await emulator?.close();
});

beforeEach(() => {
  emulator.calls.length = 0;
  emulator.clearFaults();
});

const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;
const errorOf = (result: CallToolResult) => (result.structuredContent as { error: { code: string; retryable: boolean; details?: Record<string, unknown> } }).error;

describe('MCP over streamable HTTP, Alibaba provider against the loopback emulator', () => {
  it('lists one tool per capability and batch_segmentation with titles, descriptions, input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(capabilities.length + 1);
    expect(tools.map((tool) => tool.name)).toContain('batch_segmentation');
    for (const tool of tools) {
      expect(tool.title).toBeTruthy();
      expect(tool.description!.length).toBeGreaterThan(40);
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.required).toEqual(expect.arrayContaining(['requestId', 'data']));
    }
    const product = tools.find((tool) => tool.name === 'product_background_removal')!;
    expect(Object.keys(product.inputSchema.properties!)).toEqual(expect.arrayContaining(['ImageURL', 'ReturnForm']));
    // This server runs with PAYMENTS=off: nothing to pay, so no payment field and no price text.
    expect(product.inputSchema.properties).not.toHaveProperty('paymentToken');
    expect(product.description).not.toContain('Price');
    expect(product.inputSchema.required).toEqual(['ImageURL']);
    expect(tools.find((tool) => tool.name === 'async_job_result')!.inputSchema.properties).not.toHaveProperty('paymentToken');
    expect(tools.find((tool) => tool.name === 'hd_general_segmentation')!.execution?.taskSupport).toBe('optional');
  });

  it('runs a synchronous Action through the official SDK and answers in the seeds\' shape', async () => {
    const result = await call('product_background_removal', { ImageURL: imageUrl });
    expect(result.isError).toBeFalsy();
    const output = result.structuredContent as { code: string; data: { Action: string; ImageURL: string }; requestId: string; message: string };
    expect(output.code).toBe('200');
    expect(output.data.Action).toBe('SegmentCommodity');
    expect(output.data.ImageURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(output.requestId).toBeTruthy();
    expect(emulator.calls.map((entry) => entry.action)).toEqual(['SegmentCommodity']);
    expect(emulator.calls[0].params.ImageURL).toBe(imageUrl);
  });

  it('submits an asynchronous Action, polls GetAsyncJobResult and reports progress', async () => {
    const progress: Array<{ progress: number; message?: string }> = [];
    const result = (await client.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } }, undefined, {
      onprogress: (update) => progress.push(update),
      timeout: 20_000,
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const output = result.structuredContent as { data: { Action: string; Status: string; ImageUrl: string; JobId: string }; requestId: string };
    expect(output.data.Action).toBe('SegmentHDCommonImage');
    expect(output.data.Status).toBe('PROCESS_SUCCESS');
    expect(output.data.ImageUrl).toMatch(/^http:/);
    expect(output.data.JobId).toBe(output.requestId);
    expect(emulator.calls[0].action).toBe('SegmentHDCommonImage');
    expect(emulator.calls.slice(1).every((entry) => entry.action === 'GetAsyncJobResult' && entry.params.JobId === output.requestId)).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)!.message).toContain('PROCESS_SUCCESS');
    for (let index = 1; index < progress.length; index++) expect(progress[index].progress).toBeGreaterThan(progress[index - 1].progress);
  });

  it('sends SegmentBody\'s Async parameter, which the SDK model lacks, and waits for the job', async () => {
    const result = await call('body_segmentation', { ImageURL: imageUrl, Async: true });
    expect(result.isError).toBeFalsy();
    expect(emulator.calls[0].params.Async).toBe('true');
    expect((result.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
  });

  it('offers asynchronous tools as MCP tasks a task-aware client can follow to the result', async () => {
    const seen: string[] = [];
    let finalResult: CallToolResult | undefined;
    const stream = client.experimental.tasks.callToolStream({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } }, undefined, { task: { ttl: 60_000 } });
    for await (const message of stream) {
      seen.push(message.type);
      if (message.type === 'result') finalResult = message.result as CallToolResult;
      if (message.type === 'error') throw message.error;
    }
    expect(seen[0]).toBe('taskCreated');
    expect(finalResult?.isError).toBeFalsy();
    expect((finalResult!.structuredContent as { data: { Status: string } }).data.Status).toBe('PROCESS_SUCCESS');
  });

  it('answers JOB_FAILED with Alibaba\'s error code when the job fails', async () => {
    emulator.failNextJob('InvalidImage.Content', 'image content is not valid');
    const result = await call('hd_general_segmentation', { ImageUrl: imageUrl });
    expect(result.isError).toBe(true);
    const error = errorOf(result);
    expect(error.code).toBe('JOB_FAILED');
    expect(error.details).toMatchObject({ alibabaCode: 'InvalidImage.Content' });
  });

  it('retries Throttling.User with backoff and succeeds when the throttle lifts', async () => {
    emulator.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 2 });
    const result = await call('product_background_removal', { ImageURL: imageUrl });
    expect(result.isError).toBeFalsy();
  });

  it('gives up on persistent throttling with a retryable UPSTREAM_THROTTLED', async () => {
    emulator.injectFault({ action: 'SegmentCommodity', code: 'Throttling.User', httpStatus: 400, times: 10 });
    const result = await call('product_background_removal', { ImageURL: imageUrl });
    const error = errorOf(result);
    expect(error.code).toBe('UPSTREAM_THROTTLED');
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ alibabaCode: 'Throttling.User' });
    expect(error.details?.requestId).toBeTruthy();
  });

  it('maps server errors to UPSTREAM_ERROR after retries, and image download errors to IMAGE_UNREACHABLE', async () => {
    emulator.injectFault({ action: 'SegmentCommodity', code: 'InternalError', httpStatus: 500, times: 10 });
    const serverError = errorOf(await call('product_background_removal', { ImageURL: imageUrl }));
    expect(serverError).toMatchObject({ code: 'UPSTREAM_ERROR', retryable: true });
    emulator.clearFaults();

    emulator.injectFault({ action: 'SegmentCommodity', code: 'InvalidImage.Download', httpStatus: 400 });
    const downloadError = errorOf(await call('product_background_removal', { ImageURL: imageUrl }));
    expect(downloadError).toMatchObject({ code: 'IMAGE_UNREACHABLE', retryable: false, details: { alibabaCode: 'InvalidImage.Download' } });
  });

  it('answers JOB_TIMEOUT with the JobId, and async_job_result says "still processing" until it delivers the job', async () => {
    const impatient = await startTestServer({ ...emulatorEnvironment(emulator), IMAGESEG_JOB_DEADLINE_SECONDS: '0.2' }, { jobPollingMs: 50 });
    const impatientClient = await connect(impatient.url);
    try {
      const timedOut = errorOf((await impatientClient.callTool({ name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl } })) as CallToolResult);
      expect(timedOut.code).toBe('JOB_TIMEOUT');
      const jobId = timedOut.details!.jobId as string;
      expect(jobId).toBeTruthy();
      let status = '';
      for (let attempt = 0; attempt < 40 && status !== 'PROCESS_SUCCESS'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const resumed = (await impatientClient.callTool({ name: 'async_job_result', arguments: { JobId: jobId } })) as CallToolResult;
        status = (resumed.structuredContent as { data: { Status: string } }).data.Status;
        const content = (resumed.structuredContent as { content: string }).content;
        if (status === 'QUEUING' || status === 'PROCESSING') expect(content).toContain('still processing');
        else expect(content).not.toContain('still processing');
        if (status === 'PROCESS_SUCCESS') expect((resumed.structuredContent as { data: { ImageUrl: string } }).data.ImageUrl).toMatch(/^http:/);
      }
      expect(status).toBe('PROCESS_SUCCESS');
    } finally {
      await impatientClient.close();
      await impatient.close();
    }
  });

  it('answers a plain tools/call as JSON, and one that asked for progress on an event stream with its notifications', async () => {
    const post = (meta: Record<string, unknown>) =>
      fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hd_general_segmentation', arguments: { ImageUrl: imageUrl }, _meta: meta } }),
      });
    const plain = await post({});
    expect(plain.headers.get('content-type')).toContain('application/json');
    const answer = (await plain.json()) as { id: number; result: CallToolResult };
    expect(answer.id).toBe(7);
    expect(answer.result.isError).toBeFalsy();
    const streamed = await post({ progressToken: 'p-1' });
    expect(streamed.headers.get('content-type')).toContain('text/event-stream');
    const events = (await streamed.text()).split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as { method?: string; id?: number; params?: { progressToken?: string } });
    expect(events.filter((event) => event.method === 'notifications/progress').length).toBeGreaterThanOrEqual(2);
    expect(events.every((event) => event.method !== 'notifications/progress' || event.params?.progressToken === 'p-1')).toBe(true);
    expect(events.at(-1)?.id).toBe(7);
  });

  it('refuses invalid arguments before calling Alibaba', async () => {
    const result = await call('product_background_removal', { ImageURL: imageUrl, ReturnForm: 'sepia' });
    expect(result.isError).toBe(true);
    expect(emulator.calls).toHaveLength(0);
  });

  it('says PROVIDER_NOT_CONFIGURED when Alibaba rejects the credentials', async () => {
    const wrong = await startTestServer({ ...emulatorEnvironment(emulator), ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    try {
      const response = await fetch(`${wrong.url}/api/tools/product-background-removal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ImageURL: imageUrl }),
      });
      const body = (await response.json()) as { error: { code: string; details: { alibabaCode: string } } };
      expect(response.status).toBe(503);
      expect(body.error.code).toBe('PROVIDER_NOT_CONFIGURED');
      expect(body.error.details.alibabaCode).toBe('SignatureDoesNotMatch');
    } finally {
      await wrong.close();
    }
  });
});
