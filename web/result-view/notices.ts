import { element, notice } from '../shared/dom.js';
import type { Answer } from './answer.js';
import { priceLabel, type Price } from '../shared/price.js';

/** Each error code in plain words, and what to do about it (codes: docs/ARCHITECTURE.md). */
const ADVICE: Record<string, [title: string, advice: string]> = {
  INVALID_ARGUMENT: ['The arguments were refused', 'Correct the argument the message names, then run the tool again.'],
  UNAUTHORIZED: ['Not authorised', 'The server needs credentials this connection does not send: check the connector settings.'],
  NOT_FOUND: ['Not found', 'The job or result is unknown or has expired: run the tool again.'],
  IMAGE_TOO_LARGE: ['The image is too large', 'Use a smaller image: the message gives the limit.'],
  UNSUPPORTED_MEDIA_TYPE: ['This image format is not supported', 'Use one of the formats the message lists (JPEG or PNG always work).'],
  IMAGE_INVALID: ['The image could not be read', 'Check that the file is a complete, valid image, or that its size fits the limits in the message.'],
  IMAGE_UNREACHABLE: ['The image could not be downloaded', 'Use a public http(s) link, or pass the image itself (a data: URL or base64).'],
  CONTENT_REJECTED: ['The image was refused', 'The image service refused this content: try another image.'],
  RATE_LIMITED: ['Too many calls', 'Wait a minute, then try again.'],
  UPSTREAM_THROTTLED: ['The image service is busy', 'Wait a minute, then try again.'],
  UPSTREAM_ERROR: ['The image service failed', 'Try again in a moment.'],
  JOB_FAILED: ['The job failed', 'Try again; if it fails again, try another image.'],
  JOB_TIMEOUT: ['The job is taking too long', 'Collect it later with async_job_result and the job id from the message.'],
  PROVIDER_NOT_CONFIGURED: ['This tool is not available on this server', 'Its operator can configure a provider for it; other tools may work.'],
  SERVER_BUSY: ['The server is busy', 'Try again in a moment.'],
  SHUTTING_DOWN: ['The server is restarting', 'Try again in a moment.'],
  IDEMPOTENCY_IN_PROGRESS: ['The same call is still running', 'Wait for it to finish; its answer will be given again.'],
  IDEMPOTENCY_KEY_REUSED: ['The idempotency key was used for another call', 'Use a new key for different arguments.'],
  INTERNAL: ['Something went wrong on the server', 'Try again; if it happens again, tell the operator the request id.'],
};

/** What became of the money (`details.payment`), in words. */
function moneyLine(payment: string | undefined, heldUntil: string | undefined): string | undefined {
  if (payment === 'held') return `The payment is held, not taken${heldUntil ? `, until ${new Date(heldUntil).toLocaleString()}` : ''}: collect the result to use it.`;
  if (payment === 'released' || payment === 'none' || payment === 'credited') return 'Nothing was charged.';
  return undefined;
}

export function errorNotice(answer: Extract<Answer, { kind: 'error' }>): HTMLElement {
  const [title, advice] = ADVICE[answer.code] ?? ['The tool failed', answer.retryable ? 'Try again in a moment.' : 'Check the message, then try again.'];
  const money = moneyLine(answer.payment, answer.heldUntil);
  return notice('error', title, [
    answer.message,
    element('p', { className: 'advice', textContent: advice }),
    ...(money ? [money] : []),
    ...(answer.requestId ? [element('p', { className: 'muted', textContent: `Code ${answer.code}, request ${answer.requestId}` })] : []),
  ]);
}

export function workingNotice(title: string, lines: string[] = []): HTMLElement {
  return notice('working', title, lines);
}

const code = (text: string) => element('code', { textContent: text });

/** Where the payment form is: it calls the tool again with a payment token, when the host lets the view call tools. */
export interface RetryWithToken {
  (paymentToken: string): void;
}

/**
 * A payment answer: the price, that nothing was charged, and the ways to pay: a payment token from the operator (as
 * the paymentToken argument, or pasted here) or x402 from a wallet.
 */
export function paymentNotice(answer: Extract<Answer, { kind: 'payment' }>, price: Price | undefined, retry?: RetryWithToken): HTMLElement {
  const serviceId = answer.serviceId ?? '<serviceId>';
  const cost = price ? element('p', { className: 'price' }, ['This tool costs ', element('strong', { textContent: priceLabel(price) }), '. Nothing was charged.']) : element('p', { textContent: 'Nothing was charged.' });
  const token = element('li', {}, [
    element('strong', { textContent: 'Payment token' }),
    ': the server\'s operator mints one with ',
    code(`imageseg-mcp tokens mint --service ${serviceId}`),
    ' (or you buy one from the server with x402). Ask the assistant to run the tool again with it as the ',
    code('paymentToken'),
    ' argument',
    retry ? ', or paste it below.' : '.',
  ]);
  const x402 = element('li', {}, [
    element('strong', { textContent: 'x402' }),
    answer.x402
      ? ': a client with an x402 wallet pays the call itself (it signs the offer in accepts[] and sends it in _meta["x402/payment"]).'
      : ': this server takes no x402 payments yet; use a payment token.',
  ]);
  const body: Array<Node | string> = [
    cost,
    ...(answer.invalid ? [answer.message] : []),
    element('p', { textContent: 'How to pay:' }),
    element('ol', { className: 'ways' }, [token, x402]),
  ];
  if (retry) body.push(tokenForm(retry));
  if (answer.message && !answer.invalid) body.push(element('details', {}, [element('summary', { textContent: 'The server\'s message' }), element('p', { textContent: answer.message })]));
  return notice('error', answer.invalid ? 'Payment refused' : 'Payment required', body);
}

/** Not a <form>: a view sandboxed without allow-forms never gets a form's submit. Enter in the field sends it too. */
function tokenForm(retry: RetryWithToken): HTMLElement {
  const input = element('input', { type: 'text', name: 'paymentToken', id: 'payment-token', autocomplete: 'off', spellcheck: false });
  const send = element('button', { type: 'button', textContent: 'Pay and run again' });
  const submit = () => {
    const token = input.value.trim();
    if (token) retry(token);
    else input.focus();
  };
  send.addEventListener('click', submit);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') submit();
  });
  const form = element('div', { className: 'token-form' }, [element('label', { htmlFor: 'payment-token', textContent: 'Payment token' }), input, send]);
  form.setAttribute('role', 'group');
  form.setAttribute('aria-label', 'Pay with a payment token');
  return form;
}
