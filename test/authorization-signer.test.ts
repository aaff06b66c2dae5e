/**
 * The x402 signer check (EIP-712 digest + libsecp256k1 recovery) against ethers' verifyTypedData, which it
 * replaced: on signed, tampered, high-s, re-encoded and malformed payloads both must name the same signer, or
 * both none.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Signature, Wallet, getAddress, verifyTypedData, type TypedDataDomain } from 'ethers';
import { TRANSFER_WITH_AUTHORIZATION_TYPES, recoverAuthorizationSigner } from '../src/payments/authorization-signer.js';
import type { ExactAuthorization } from '../src/payments/payload.js';

const SIGNED = 300;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = N / 2n;

const DOMAINS: TypedDataDomain[] = [
  { name: 'USDC', version: '2', chainId: 84532, verifyingContract: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' },
  { name: 'USD Coin', version: '2', chainId: 8453, verifyingContract: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913' },
  { name: 'USD Coin', version: '2', chainId: 1, verifyingContract: '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48' },
];

interface Case {
  label: string;
  domain: TypedDataDomain;
  authorization: ExactAuthorization;
  signature: string;
}

const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`;
const word = (value: bigint) => value.toString(16).padStart(64, '0');
const pick = <T>(items: T[], index: number) => items[index % items.length];
const randomUint = (bytes: number) => BigInt(hex(randomBytes(bytes)));
const randomAddress = () => getAddress(hex(randomBytes(20)));

/** Addresses as clients write them: checksummed, lower case, upper case. */
function spelled(address: string, index: number) {
  const body = address.slice(2);
  return pick([address, `0x${body.toLowerCase()}`, `0x${body.toUpperCase()}`], index);
}

/** Flips the case of one letter of a checksummed address: a bad checksum. */
/**
 * The address with one letter's case flipped so that it stays mixed case: a wrong checksum. (An all-lower or all-upper
 * address carries no checksum and is valid: flipping the first letter did that for 7 in 20,000 random addresses, those
 * whose only upper-case letter it was, and so failed this suite about once a hundred runs.)
 */
function misspelled(address: string) {
  for (let at = 2; at < address.length; at += 1) {
    const letter = address[at];
    if (!/[a-fA-F]/.test(letter)) continue;
    const candidate = address.slice(0, at) + (letter === letter.toLowerCase() ? letter.toUpperCase() : letter.toLowerCase()) + address.slice(at + 1);
    if (/[a-f]/.test(candidate.slice(2)) && /[A-F]/.test(candidate.slice(2))) return candidate;
  }
  throw new Error(`${address} has too few letters to misspell its checksum`);
}

const sameAuthorization = (authorization: ExactAuthorization, change: Partial<ExactAuthorization>) => ({ ...authorization, ...change });

function withV(signature: string, v: number) {
  return signature.slice(0, 130) + v.toString(16).padStart(2, '0');
}

/** (r, n - s) with v flipped: the other valid ECDSA signature of the same digest. */
function highS(signature: string) {
  const parsed = Signature.from(signature);
  const s = N - BigInt(parsed.s);
  return `${parsed.r}${word(s)}${(parsed.v === 27 ? 28 : 27).toString(16)}`;
}

function flippedByte(signature: string, index: number) {
  const bytes = Buffer.from(signature.slice(2), 'hex');
  bytes[index % 64] ^= 1 << index % 8;
  return hex(bytes);
}

async function signedCases(): Promise<{ signed: Array<Case & { signer: string }>; variants: Case[] }> {
  const signed: Array<Case & { signer: string }> = [];
  const variants: Case[] = [];
  for (let index = 0; index < SIGNED; index += 1) {
    const wallet = new Wallet(hex(randomBytes(32)));
    const domain = pick(DOMAINS, index);
    const validAfter = BigInt(Math.floor(Date.now() / 1000) - 600);
    const signedFields = {
      from: wallet.address,
      to: randomAddress(),
      value: (index % 10 === 0 ? randomUint(32) : randomUint(4)).toString(),
      validAfter: (index % 7 === 0 ? 0n : validAfter).toString(),
      validBefore: (validAfter + 3600n).toString(),
      nonce: hex(randomBytes(32)),
    };
    const signature = await wallet.signTypedData(domain, TRANSFER_WITH_AUTHORIZATION_TYPES, signedFields);
    const authorization = { ...signedFields, from: spelled(wallet.address, index), to: spelled(signedFields.to, index + 1) };
    signed.push({ label: `signed #${index}`, domain, authorization, signature, signer: wallet.address.toLowerCase() });

    const variant = (label: string, change: Partial<Case>) => variants.push({ label: `${label} #${index}`, domain, authorization, signature, ...change });
    if (index % 3 !== 0) continue;
    const compact = Signature.from(signature);
    variant('value changed', { authorization: sameAuthorization(authorization, { value: (BigInt(authorization.value) + 1n).toString() }) });
    variant('recipient changed', { authorization: sameAuthorization(authorization, { to: randomAddress() }) });
    variant('nonce changed', { authorization: sameAuthorization(authorization, { nonce: hex(randomBytes(32)) }) });
    variant('another domain', { domain: pick(DOMAINS, index + 1) });
    variant('signature byte flipped', { signature: flippedByte(signature, index) });
    variant('high s, v flipped', { signature: highS(signature) });
    variant('v as 0/1', { signature: withV(signature, compact.yParity) });
    variant('EIP-2098 compact', { signature: compact.compactSerialized });
    if (index % 9 === 0) {
      variant('v as EIP-155', { signature: withV(signature, 35 + 2 * (index % 100) + compact.yParity) });
      variant('v out of range', { signature: withV(signature, pick([2, 5, 26, 29, 34], index)) });
      variant('high s as EIP-2098', { signature: `${compact.r}${word(N - BigInt(compact.s))}` });
      variant('s in (n/2, 2^255)', { signature: `${compact.r}${word(HALF_N + randomUint(8))}1b` });
      variant('bad checksum from', { authorization: sameAuthorization(authorization, { from: misspelled(wallet.address) }) });
      variant('bad checksum to', { authorization: sameAuthorization(authorization, { to: misspelled(getAddress(authorization.to)) }) });
      variant('value past uint256', { authorization: sameAuthorization(authorization, { value: (1n << 256n).toString() }) });
      variant('negative value', { authorization: sameAuthorization(authorization, { value: '-1' }) });
      variant('nonce of 31 bytes', { authorization: sameAuthorization(authorization, { nonce: authorization.nonce.slice(0, 64) }) });
      variant('largest uint256', { authorization: sameAuthorization(authorization, { validBefore: ((1n << 256n) - 1n).toString() }) });
      variant('64 bytes of 65', { signature: signature.slice(0, 130) });
      variant('63 bytes', { signature: signature.slice(0, 128) });
      variant('66 bytes', { signature: `${signature}00` });
      variant('odd length', { signature: signature.slice(0, 131) });
      variant('no 0x', { signature: `ab${signature.slice(2)}` });
      variant('0X prefix', { signature: `0X${signature.slice(2)}` });
      variant('r = 0', { signature: `0x${word(0n)}${signature.slice(66)}` });
      variant('r >= n', { signature: `0x${word(N + 1n)}${signature.slice(66)}` });
      variant('s = 0', { signature: `${compact.r}${word(0n)}1c` });
    }
  }
  return { signed, variants };
}

/** The reference: ethers' verifyTypedData, lower-cased; undefined where it throws. */
function ethersSigner({ domain, authorization, signature }: Case) {
  try {
    return verifyTypedData(domain, TRANSFER_WITH_AUTHORIZATION_TYPES, authorization, signature).toLowerCase();
  } catch {
    return undefined;
  }
}

describe('recoverAuthorizationSigner', () => {
  it('names the signer ethers.verifyTypedData names, on signed, tampered, high-s and malformed authorizations', { timeout: 180_000 }, async () => {
    const { signed, variants } = await signedCases();
    for (const item of signed) {
      expect(recoverAuthorizationSigner(item.domain, item.authorization, item.signature), item.label).toBe(item.signer);
    }
    const outcomes = new Map<string, { agreed: number; recovered: number }>();
    for (const item of variants) {
      const expected = ethersSigner(item);
      expect(recoverAuthorizationSigner(item.domain, item.authorization, item.signature), item.label).toBe(expected);
      const kind = item.label.replace(/ #\d+$/, '');
      const outcome = outcomes.get(kind) ?? { agreed: 0, recovered: 0 };
      outcome.agreed += 1;
      if (expected !== undefined) outcome.recovered += 1;
      outcomes.set(kind, outcome);
    }
    // What ethers does with each kind, so the comparison above covered both answers where both exist.
    const recoveredShare = (kind: string) => outcomes.get(kind)!.recovered / outcomes.get(kind)!.agreed;
    for (const kind of ['value changed', 'recipient changed', 'signature byte flipped', 'v as 0/1', 'EIP-2098 compact', 'v as EIP-155', '0X prefix', 's in (n/2, 2^255)', 'largest uint256']) {
      expect(recoveredShare(kind), kind).toBeGreaterThan(0.5);
    }
    for (const kind of ['high s, v flipped', 'v out of range', 'bad checksum from', 'bad checksum to', 'value past uint256', 'negative value', 'nonce of 31 bytes', '63 bytes', '66 bytes', 'odd length', 'no 0x', 'r = 0', 'r >= n', 's = 0']) {
      expect(recoveredShare(kind), kind).toBe(0);
    }
  });
});
