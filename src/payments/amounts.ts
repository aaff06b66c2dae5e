/** USDC has 6 decimals; x402 amounts are integers in the asset's smallest unit. */
export const USDC_DECIMALS = 6;

/** '0.20' USD -> '200000' atomic units, in exact decimal arithmetic (no floating point). */
export function toAtomicAmount(decimal: string, decimals = USDC_DECIMALS): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(decimal.trim());
  if (!match) throw new Error(`not a decimal amount: "${decimal}"`);
  const [, whole, fraction = ''] = match;
  if (fraction.length > decimals && /[1-9]/.test(fraction.slice(decimals))) {
    throw new Error(`${decimal} has more than ${decimals} decimals`);
  }
  const units = BigInt(whole) * 10n ** BigInt(decimals) + BigInt((fraction.slice(0, decimals) || '0').padEnd(decimals, '0'));
  return units.toString();
}

/** Multiplies a decimal USD amount by a whole number of calls, keeping it a decimal string: ('0.20', 3) -> '0.60'. */
export function multiplyDecimal(decimal: string, times: number): string {
  const [whole, fraction = ''] = decimal.split('.');
  const scale = fraction.length;
  const units = BigInt(whole + fraction) * BigInt(times);
  if (scale === 0) return units.toString();
  const text = units.toString().padStart(scale + 1, '0');
  return `${text.slice(0, -scale)}.${text.slice(-scale)}`;
}

/** '200000' atomic units -> '0.20' USD, trailing zeros trimmed to two decimals at least. */
export function fromAtomicAmount(units: bigint, decimals = USDC_DECIMALS): string {
  const text = units.toString().padStart(decimals + 1, '0');
  const fraction = text.slice(-decimals).replace(/0+$/, '').padEnd(2, '0');
  return `${text.slice(0, -decimals)}.${fraction}`;
}
