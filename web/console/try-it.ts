import { renderCompare, type CompareView } from '../shared/compare.js';
import { element, notice } from '../shared/dom.js';
import { errorMessage, PROVIDER_NAMES, type ErrorAnswer, type PaymentRequired, type ServicePageData, type ToolAnswer } from './api.js';
import { paymentHelp } from './payment-help.js';
import { describeBytes, schemaForm, type FormValues } from './schema-form.js';
import { paymentToken } from './session.js';

const BACKGROUNDS = ['transparent', 'white', 'black', '#1f5fd1'] as const;

interface Answer {
  status: number;
  body: unknown;
}

/** Where the call stands, for the progress line. */
type Phase = { kind: 'uploading'; loaded: number; total: number } | { kind: 'running' };

/**
 * POST /api/tools/<serviceId> as a multipart upload, asking for JSON. XMLHttpRequest rather than fetch for one
 * reason: it reports upload progress. The token travels as the X-Payment-Token header only.
 */
function post(serviceId: string, values: FormValues, token: string, onPhase: (phase: Phase) => void): { answer: Promise<Answer>; abort: () => void } {
  const body = new FormData();
  for (const [name, value] of values.parts) body.append(name, value);
  // Results kept by this server come back as same-origin /results/<id> links the page may load (tools that take no
  // image, such as async-job-result, have no output options).
  if (values.takesImages) body.append('deliver', 'stored');
  const request = new XMLHttpRequest();
  const answer = new Promise<Answer>((resolve, reject) => {
    request.open('POST', `/api/tools/${encodeURIComponent(serviceId)}`);
    request.setRequestHeader('Accept', 'application/json');
    if (token) request.setRequestHeader('X-Payment-Token', token);
    request.upload.addEventListener('progress', (event) => onPhase({ kind: 'uploading', loaded: event.loaded, total: event.lengthComputable ? event.total : 0 }));
    request.upload.addEventListener('load', () => onPhase({ kind: 'running' }));
    request.addEventListener('load', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(request.responseText);
      } catch {
        parsed = undefined;
      }
      resolve({ status: request.status, body: parsed });
    });
    request.addEventListener('error', () => reject(new Error('The connection to the server failed.')));
    request.addEventListener('abort', () => reject(new DOMException('Cancelled', 'AbortError')));
    request.send(body);
  });
  return { answer, abort: () => request.abort() };
}

/** Result images in an answer's data: this server's /results/ links and data: URLs (a job's input echo left out). */
function resultImages(data: unknown, found: string[] = []): string[] {
  if (typeof data === 'string') {
    if (data.startsWith('data:image/') || /^https?:\/\/[^/]+\/results\//.test(data)) found.push(data);
  } else if (Array.isArray(data)) {
    for (const item of data) resultImages(item, found);
  } else if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) if (key !== 'OriginImageURL') resultImages(value, found);
  }
  return found;
}

/** A result image as a URL this page may show and offer for download: same-origin bytes in an object URL. */
async function loadResult(url: string): Promise<{ url: string; mimeType: string; bytes: number }> {
  // The link names the server's public address; the page reads the same path from its own origin.
  const path = url.startsWith('data:') ? url : new URL(url).pathname;
  const response = await fetch(path, { credentials: 'same-origin' });
  if (!response.ok) throw new Error(`The result image could not be loaded (${response.status}).`);
  const blob = await response.blob();
  return { url: URL.createObjectURL(blob), mimeType: blob.type || 'image/png', bytes: blob.size };
}

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);

function paymentWords(payment: string | undefined): string {
  if (payment === 'committed') return 'paid: one call used';
  if (payment === 'none') return 'nothing charged';
  return payment ? `payment ${payment}` : '';
}

/**
 * Try it: the form generated from the input schema, a payment token kept in this tab (none with PAYMENTS=off), the
 * run with its progress (upload, then the provider; an async tool's job), and the answer: the before/after view with
 * downloads, the price and both ways to pay, or the error in words.
 */
export function mountTryIt(root: HTMLElement, data: ServicePageData): void {
  if (!data.available) return;
  const paid = data.price !== null && data.payments !== 'off';
  const imageField = Object.keys(data.images)[0];
  const fields = schemaForm(data.inputSchema, data.images);
  const summary = element('div', { className: 'error-summary', hidden: true, tabIndex: -1 });
  summary.setAttribute('role', 'alert');

  const tokenInput = element('input', { type: 'password', id: 'payment-token', autocomplete: 'off', spellcheck: false, value: paymentToken.get(data.serviceId) });
  const tokenHint = element('p', { className: 'hint', id: 'payment-token-hint', textContent: 'Sent as the X-Payment-Token header and kept in this tab only. Leave it empty to see the price and how to pay.' });
  tokenInput.setAttribute('aria-describedby', tokenHint.id);
  tokenInput.addEventListener('change', () => paymentToken.set(data.serviceId, tokenInput.value));
  const tokenField = paid
    ? [element('div', { className: 'field token-field' }, [element('label', { htmlFor: tokenInput.id, textContent: 'Payment token, optional' }), tokenInput, tokenHint])]
    : [element('p', { className: 'free-note', textContent: data.price ? 'Free on this server (PAYMENTS=off): no payment needed.' : 'This tool is free.' })];

  const run = element('button', { type: 'submit', className: 'run', textContent: 'Run' });
  const cancel = element('button', { type: 'button', className: 'secondary', textContent: 'Cancel', hidden: true });
  const form = element('form', { className: 'try-form', noValidate: true }, [summary, ...fields.nodes, ...tokenField, element('div', { className: 'actions' }, [run, cancel])]);
  form.setAttribute('aria-label', `Try ${data.title}`);

  const phaseText = element('span', { className: 'phase' });
  const elapsed = element('span', { className: 'elapsed' });
  const bar = element('progress', { max: 1 });
  bar.setAttribute('aria-label', 'Progress');
  const progress = element('div', { className: 'run-progress', hidden: true }, [element('p', {}, [phaseText, ' ', elapsed]), bar]);
  phaseText.setAttribute('role', 'status');
  const result = element('div', { className: 'run-result' });
  result.setAttribute('aria-live', 'polite');
  root.replaceChildren(form, progress, result);

  let view: CompareView | undefined;
  let objectUrls: string[] = [];
  let abort: (() => void) | undefined;

  const provider = PROVIDER_NAMES[data.servedBy[0] ?? ''] ?? data.servedBy[0] ?? 'the provider';
  const runningText = (values: FormValues) => {
    const asJob = data.servedBy[0] !== 'local' && (data.async === 'always' || (data.async === 'optional' && values.parts.some(([name, value]) => name === 'Async' && value === 'true')));
    return asJob
      ? `Running as an asynchronous job on ${provider}: the server submitted it and waits for the result.`
      : `Running on ${provider}…`;
  };

  const settle = () => {
    abort = undefined;
    run.disabled = false;
    cancel.hidden = true;
    progress.hidden = true;
  };

  cancel.addEventListener('click', () => abort?.());

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (abort) return;
    const values = fields.validate(summary);
    if (!values) return;
    const token = paid ? tokenInput.value.trim() : '';
    if (paid) paymentToken.set(data.serviceId, token);

    view?.destroy();
    view = undefined;
    for (const url of objectUrls) URL.revokeObjectURL(url);
    objectUrls = [];
    result.replaceChildren();
    run.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    const started = performance.now();
    const tick = () => (elapsed.textContent = seconds(performance.now() - started));
    tick();
    const timer = window.setInterval(tick, 200);
    phaseText.textContent = 'Uploading…';
    bar.value = 0;

    const call = post(data.serviceId, values, token, (phase) => {
      if (phase.kind === 'uploading' && phase.total > 0) {
        bar.value = phase.loaded / phase.total;
        phaseText.textContent = `Uploading ${describeBytes(phase.total)}: ${Math.round((phase.loaded / phase.total) * 100)}%`;
      } else if (phase.kind === 'running') {
        bar.removeAttribute('value');
        phaseText.textContent = runningText(values);
      }
    });
    abort = call.abort;
    call.answer
      .then(async (answer) => {
        const took = seconds(performance.now() - started);
        if (answer.status === 402) {
          const help = paymentHelp(answer.body as PaymentRequired, { serviceId: data.serviceId, price: data.price, tokenGiven: token !== '', ...(imageField ? { imageField } : {}) });
          result.replaceChildren(help);
          help.querySelector<HTMLElement>('strong')?.focus();
          return;
        }
        if (answer.status !== 200) {
          const error = (answer.body as Partial<ErrorAnswer> | undefined)?.error;
          const payment = error?.details?.payment;
          result.replaceChildren(
            notice('error', `${error?.code ?? `HTTP ${answer.status}`}: the call failed`, [
              errorMessage(answer.body, answer.status),
              payment === 'held' ? 'The payment is held for the job; collect it with async_job_result and the same token.' : 'Nothing was charged.',
            ]),
          );
          return;
        }
        // Paid and answered: a result image that cannot be shown is reported beside the answer, not as a failed call.
        await showResult(answer.body as ToolAnswer, values, took).catch((error: unknown) =>
          result.prepend(notice('error', 'The result could not be shown', [(error as Error).message, 'The JSON answer below has its links.'])),
        );
      })
      .catch((error: unknown) => {
        const cancelled = error instanceof DOMException && error.name === 'AbortError';
        result.replaceChildren(
          cancelled
            ? notice('info', 'Cancelled', ['The call was stopped before its result: nothing was charged.'])
            : notice('error', 'The call did not complete', [(error as Error).message, 'A call that returns no result is never charged.']),
        );
      })
      .finally(() => {
        window.clearInterval(timer);
        settle();
      });
  });

  async function showResult(answer: ToolAnswer, values: FormValues, took: string): Promise<void> {
    const servedBy = answer.data.Provider ? (PROVIDER_NAMES[answer.data.Provider] ?? answer.data.Provider) : provider;
    const facts = element('p', { className: 'run-facts', textContent: [`Done in ${took} on ${servedBy}`, paymentWords(answer.payment)].filter(Boolean).join(' · ') });
    const raw = element('details', { className: 'raw-answer' }, [element('summary', { textContent: 'The JSON answer' }), element('pre', {}, [element('code', { textContent: JSON.stringify(answer, null, 2) })])]);
    const stage = element('div', { className: 'compare-root' });
    result.replaceChildren(facts, stage, raw);
    const images = resultImages(answer.data);
    if (images.length === 0) {
      stage.replaceWith(element('p', { textContent: answer.content }));
      return;
    }
    const loaded = await Promise.all(images.map(loadResult));
    objectUrls.push(...loaded.map((image) => image.url));
    const before = values.primaryFile ? URL.createObjectURL(values.primaryFile) : undefined;
    if (before) objectUrls.push(before);
    const [first, ...others] = loaded;
    view = await renderCompare(stage, { ...(before ? { before } : {}), after: first.url, mimeType: first.mimeType, bytes: first.bytes }, { backgrounds: BACKGROUNDS, downloadName: `${data.serviceId}-result` });
    if (others.length > 0) {
      raw.before(
        element(
          'ul',
          { className: 'more-results' },
          others.map((image, index) =>
            element('li', {}, [
              element('img', { src: image.url, alt: `Result ${index + 2}` }),
              element('a', { className: 'button secondary', href: image.url, download: `${data.serviceId}-result-${index + 2}.${image.mimeType.split('/')[1] ?? 'png'}`, textContent: `Download result ${index + 2}` }),
            ]),
          ),
        ),
      );
    }
  }
}
