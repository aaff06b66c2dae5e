import { App } from '@modelcontextprotocol/ext-apps';
import { element, notice } from '../shared/dom.js';
import { readAnswer, type Answer, type ToolResult } from './answer.js';
import type { Price } from '../shared/price.js';
import { applyHostContext } from './host-style.js';
import { errorNotice, paymentNotice, workingNotice, type RetryWithToken } from './notices.js';
import { renderImages } from './result.js';

/**
 * The MCP App view `ui://imageseg/result` (src/mcp/result-view.ts): it connects to its host, follows the host's
 * theme, shows a working state while the tool runs, then draws the answer (result.ts), a payment to make or an error
 * in plain words (notices.ts). A job that outlives the call is followed with async_job_result through the host.
 */
const JOB_TOOL = 'async_job_result';
/** Jobs' results expire after 30 minutes: the view stops asking then. */
const JOB_PATIENCE_MS = 30 * 60 * 1000;
const FIRST_CHECK_MS = 2000;
const LONGEST_WAIT_MS = 15_000;

const root = document.getElementById('app')!;
const app = new App({ name: 'imageseg-result-view', version: '1.0.0' }, {}, { autoResize: true });

let toolArguments: Record<string, unknown> | undefined;
/** Bumped by every new answer, cancel and teardown: a job check or a drawing meant for an older one stops. */
let generation = 0;

const tool = () => app.getHostContext()?.toolInfo?.tool;
const toolTitle = () => tool()?.title ?? tool()?.annotations?.title ?? tool()?.name.replaceAll('_', ' ') ?? 'Image result';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The price the tool lists (`_meta.price` in tools/list), when the answer does not say it. */
function listedPrice(): Price | undefined {
  const price = tool()?._meta?.price as Partial<Price> | null | undefined;
  return price?.amount && price.currency ? { amount: price.amount, currency: price.currency, billing: price.billing, maxCallsPerPayment: price.maxCallsPerPayment } : undefined;
}

function downloadName(): string {
  const serviceId = tool()?._meta?.serviceId;
  return `${typeof serviceId === 'string' ? serviceId : (tool()?.name ?? 'imageseg')}-result`;
}

function showWorking(title = `${toolTitle()}: working…`, lines = ['Large images can take a minute.']): void {
  root.setAttribute('aria-busy', 'true');
  root.replaceChildren(workingNotice(title, lines));
}

/** Replaces what is shown, unless a newer answer came meanwhile. */
function present(mine: number, ...nodes: Node[]): void {
  if (mine !== generation) return;
  root.removeAttribute('aria-busy');
  root.replaceChildren(...nodes);
}

/** The tool again with the same arguments and a payment token, when the host lets the view call tools. */
function retryWithToken(answer: Extract<Answer, { kind: 'payment' }>): RetryWithToken | undefined {
  const name = tool()?.name ?? answer.tool;
  const args = toolArguments;
  if (!name || !args || !app.getHostCapabilities()?.serverTools) return undefined;
  return (paymentToken) => {
    const mine = ++generation;
    showWorking();
    app.callServerTool({ name, arguments: { ...args, paymentToken } }).then(
      (result) => show(result, mine),
      (error: unknown) => present(mine, notice('error', 'The call did not reach the server', [(error as Error).message, 'Try again, or ask the assistant to run the tool with the payment token.'])),
    );
  };
}

/** A job still running: asks async_job_result through the host, less often as time goes by, until it has an answer. */
async function follow(jobId: string, mine: number): Promise<void> {
  if (!app.getHostCapabilities()?.serverTools) {
    present(mine, notice('info', 'Still processing', [`Job ${jobId} is still running.`, `Ask the assistant to call ${JOB_TOOL} with JobId ${jobId} in a few seconds.`]));
    return;
  }
  const started = Date.now();
  let wait = FIRST_CHECK_MS;
  for (let checks = 0; mine === generation; checks += 1) {
    if (Date.now() - started > JOB_PATIENCE_MS) {
      present(mine, errorNotice({ kind: 'error', code: 'JOB_TIMEOUT', message: `Job ${jobId} did not finish within 30 minutes.`, retryable: false }));
      return;
    }
    showWorking(`${toolTitle()}: still working…`, [`Job ${jobId} is running.`, `${checks > 0 ? `Checked ${checks} time(s). ` : ''}Next check in ${Math.round(wait / 1000)} s.`]);
    await sleep(wait);
    if (mine !== generation) return;
    wait = Math.min(Math.round(wait * 1.5), LONGEST_WAIT_MS);
    const result = await app.callServerTool({ name: JOB_TOOL, arguments: { JobId: jobId } }).catch(() => undefined);
    if (result && readAnswer(result, jobId).kind !== 'job') return show(result, mine);
  }
}

async function show(result: ToolResult, mine = ++generation): Promise<void> {
  const jobArgument = tool()?.name === JOB_TOOL && typeof toolArguments?.JobId === 'string' ? toolArguments.JobId : undefined;
  const answer = readAnswer(result, jobArgument);
  try {
    switch (answer.kind) {
      case 'images': {
        const drawing = element('div', { className: 'answer' });
        await renderImages(app, drawing, answer, { title: toolTitle(), downloadName: downloadName() });
        present(mine, drawing);
        return;
      }
      case 'job':
        return await follow(answer.jobId, mine);
      case 'payment':
        present(mine, paymentNotice(answer, answer.price ?? listedPrice(), retryWithToken(answer)));
        return;
      case 'error':
        present(mine, errorNotice(answer));
        return;
      case 'nothing-to-draw':
        present(mine, notice('info', toolTitle(), [answer.summary || 'The tool answered without an image.', ...answer.links.map((link) => `Result: ${link}`)]));
        return;
    }
  } catch (error) {
    present(mine, notice('error', 'The result could not be shown', [(error as Error).message, 'The answer itself is in the conversation; asking for it again with deliver="inline" gives the image.']));
  }
}

/** Downloads go through the host when it offers to (a sandboxed view may not download by itself). */
root.addEventListener('click', (event) => {
  const link = (event.target as Element | null)?.closest<HTMLAnchorElement>('a[download]');
  const data = link ? /^data:([^;,]+);base64,(.*)$/.exec(link.href) : null;
  if (!link || !data || !app.getHostCapabilities()?.downloadFile) return;
  event.preventDefault();
  void app.downloadFile({ contents: [{ type: 'resource', resource: { uri: `file:///${link.download}`, mimeType: data[1], blob: data[2] } }] });
});

// Registered before connect(): the host may send these right after the handshake.
app.addEventListener('toolinputpartial', () => showWorking());
app.addEventListener('toolinput', (params) => {
  toolArguments = params.arguments;
  showWorking();
});
app.addEventListener('toolresult', (result) => void show(result));
app.addEventListener('toolcancelled', ({ reason }) => present(++generation, notice('info', 'Cancelled', [reason ?? 'The tool call was cancelled.', 'A call that did not finish is not charged.'])));
app.addEventListener('hostcontextchanged', (context) => applyHostContext(context));
app.onteardown = () => {
  generation += 1;
  return {};
};

showWorking('Waiting for the tool…', []);
app.connect().then(
  () => applyHostContext(app.getHostContext()),
  (error: unknown) =>
    present(generation, notice('info', 'imageseg result viewer', ['This page is an MCP App view: an MCP host (such as Claude Desktop) shows it with the answer of an imageseg tool.', `(${(error as Error).message})`])),
);
