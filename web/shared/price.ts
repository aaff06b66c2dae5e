/** A price as the catalog and an x402 answer's `extensions.price` carry it (the descriptor's `Price`). */
export interface Price {
  amount: string;
  currency: string;
  billing?: string;
  maxCallsPerPayment?: number;
}

/** `USD 0.20 per call` (or `for N calls`): the words the server's tools/list and pages use (src/catalog/describe.ts). */
export function priceLabel(price: Price | null): string {
  if (!price) return 'free';
  const calls = price.maxCallsPerPayment === undefined || price.maxCallsPerPayment === 1 ? 'per call' : `for ${price.maxCallsPerPayment} calls`;
  return `${price.currency} ${price.amount} ${calls}`;
}
