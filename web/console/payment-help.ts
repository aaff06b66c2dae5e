import { element, notice } from '../shared/dom.js';
import { priceLabel, type PaymentRequired, type Price } from './api.js';

/** Why a token was refused, in words (the x402 `error` reason codes for tokens, docs/payments.md). */
const TOKEN_REFUSALS: Record<string, string> = {
  payment_token_unknown: 'no payment token matches what was given',
  payment_token_revoked: 'the token was revoked',
  payment_token_expired: 'the token has expired',
  payment_token_wrong_service: 'the token pays for another tool',
  payment_token_exhausted: 'the token has no calls left',
  payment_token_in_use: 'every call left on the token is held by a call in progress; try again in a moment',
};

const code = (text: string) => element('pre', {}, [element('code', { textContent: text })]);

function x402Snippet(serviceId: string, imageField: string | undefined): string {
  const body = imageField ? `{ ${imageField}: 'https://example.com/photo.jpg' }` : '{ /* parameters */ }';
  return [
    `import { wrapFetchWithPayment, x402Client } from '@x402/fetch';`,
    `import { registerExactEvmScheme } from '@x402/evm/exact/client';`,
    `import { privateKeyToAccount } from 'viem/accounts';`,
    '',
    `const client = new x402Client();`,
    `registerExactEvmScheme(client, { signer: privateKeyToAccount(process.env.EVM_PRIVATE_KEY) });`,
    `const pay = wrapFetchWithPayment(fetch, client);`,
    `const answer = await pay('${location.origin}/api/tools/${serviceId}', {`,
    `  method: 'POST',`,
    `  headers: { 'Content-Type': 'application/json' },`,
    `  body: JSON.stringify(${body}),`,
    `});`,
  ].join('\n');
}

/**
 * A 402 in plain words: the price, why a token given was refused, and both ways to pay — a token the operator mints
 * (`imageseg-mcp tokens mint`), or x402 from a wallet with `@x402/fetch` — so the next try succeeds.
 */
export function paymentHelp(answer: PaymentRequired, options: { serviceId: string; price: Price | null; tokenGiven: boolean; imageField?: string }): HTMLElement {
  const price = answer.extensions?.price ?? options.price;
  const refusal = TOKEN_REFUSALS[answer.error];
  const offer = answer.accepts[0];
  const mint = `imageseg-mcp tokens mint --service ${options.serviceId}`;
  const box = notice('info', `Payment required: ${priceLabel(price ?? null)}`, [
    ...(refusal ? [`The payment token was refused: ${refusal}.`] : options.tokenGiven ? [`The payment was refused (${answer.error}).`] : ['Nothing was charged. Pay in one of two ways, then run again:']),
    element('h3', { textContent: '1. A payment token' }),
    element('p', { textContent: 'The operator of this server mints one (from a checkout: node dist/cli.js tokens mint …), or opens the Operator page and mints it there:' }),
    code(mint),
    element('p', { textContent: 'Paste it in “Payment token” above and run again: it stays in this tab only. Tokens can also be bought with x402 at POST /api/payments.' }),
    element('h3', { textContent: '2. x402 from a wallet' }),
    offer
      ? element('p', { textContent: `Each call pays ${price ? `${price.currency} ${price.amount}` : 'its price'} in ${offer.extra?.name ?? 'USDC'} on ${offer.network ?? 'the network below'} to ${offer.payTo ?? 'the operator'}. With @x402/fetch (npm install @x402/fetch @x402/evm viem):` })
      : element('p', { textContent: 'This server accepts no x402 payments yet: its operator has not set X402_PAY_TO. Once it does, @x402/fetch pays by itself (npm install @x402/fetch @x402/evm viem):' }),
    code(x402Snippet(options.serviceId, options.imageField)),
  ]);
  box.classList.add('payment-help');
  const heading = box.querySelector('strong');
  heading?.setAttribute('tabindex', '-1');
  return box;
}
