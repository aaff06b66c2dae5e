/**
 * Who signed an EIP-3009 TransferWithAuthorization: the EIP-712 digest, built from a cached domain separator and
 * type hash, and the public key recovered with libsecp256k1 (tiny-secp256k1, WebAssembly), ~6x faster than ethers.
 * The answer is ethers' `verifyTypedData`, case for case (test/authorization-signer.test.ts compares them): the same
 * address checksum and uint256 range rules, 65-byte signatures with v 0/1, 27/28 or EIP-155 (>= 35), 64-byte
 * EIP-2098 ones, and a 65-byte signature whose s has its top bit set refused as non-canonical.
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { recover } from 'tiny-secp256k1';
import { getAddress } from 'ethers/address';
import { TypedDataEncoder, type TypedDataDomain } from 'ethers/hash';
import type { ExactAuthorization } from './payload.js';

/** EIP-3009, the typed data a USDC TransferWithAuthorization is signed as. */
export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

const TYPE_HASH = keccak_256(Buffer.from(TypedDataEncoder.from(TRANSFER_WITH_AUTHORIZATION_TYPES).encodeType('TransferWithAuthorization'), 'utf8'));
const UINT256_LIMIT = 1n << 256n;
/** What ethers' getBytes reads as 32 bytes, and as a 64- or 65-byte signature. */
const BYTES32 = /^0x[0-9a-f]{64}$/i;
const SIGNATURE = /^0x(?:[0-9a-f]{128}|[0-9a-f]{130})$/i;

/** One domain per configured network and asset: hashed once. */
const domainSeparators = new Map<string, Buffer>();

function domainSeparatorOf(domain: TypedDataDomain): Buffer {
  const key = `${String(domain.name)}\n${String(domain.version)}\n${String(domain.chainId)}\n${String(domain.verifyingContract)}`;
  let separator = domainSeparators.get(key);
  if (!separator) {
    separator = Buffer.from(TypedDataEncoder.hashDomain(domain).slice(2), 'hex');
    domainSeparators.set(key, separator);
  }
  return separator;
}

/**
 * Addresses already checked (the payee, returning payers), as ethers' getAddress spells them: the EIP-55 checksum
 * is a keccak of its own, and most authorizations pay the same `to`. Bounded; only valid spellings are kept.
 */
const checkedAddresses = new Map<string, string>();
const CHECKED_ADDRESSES_KEPT = 1024;

function checkedAddress(address: string): string {
  let checked = checkedAddresses.get(address);
  if (checked === undefined) {
    checked = getAddress(address);
    if (checkedAddresses.size >= CHECKED_ADDRESSES_KEPT) checkedAddresses.clear();
    checkedAddresses.set(address, checked);
  }
  return checked;
}

/** Write EIP-712 words; they throw where ethers does: a bad address checksum, a number outside uint256, a nonce not 32 bytes. */
const writeAddress = (into: Buffer, offset: number, address: string) => into.write(checkedAddress(address).slice(2), offset + 12, 'hex');
function writeUint256(into: Buffer, offset: number, decimal: string) {
  const value = BigInt(decimal);
  if (value < 0n || value >= UINT256_LIMIT) throw new RangeError(`${decimal} is out of range for uint256`);
  into.write(value.toString(16).padStart(64, '0'), offset, 'hex');
}
function writeBytes32(into: Buffer, offset: number, bytes: string) {
  if (!BYTES32.test(bytes)) throw new RangeError(`${bytes} is not 32 bytes`);
  into.write(bytes.slice(2), offset, 'hex');
}

/** keccak256(0x1901 ‖ domain separator ‖ hashStruct(authorization)): what the payer signed. */
function digestOf(domain: TypedDataDomain, authorization: ExactAuthorization): Uint8Array {
  const struct = Buffer.alloc(7 * 32);
  struct.set(TYPE_HASH, 0);
  writeAddress(struct, 32, authorization.from);
  writeAddress(struct, 64, authorization.to);
  writeUint256(struct, 96, authorization.value);
  writeUint256(struct, 128, authorization.validAfter);
  writeUint256(struct, 160, authorization.validBefore);
  writeBytes32(struct, 192, authorization.nonce);
  const message = Buffer.alloc(2 + 32 + 32);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(domainSeparatorOf(domain), 2);
  message.set(keccak_256(struct), 34);
  return keccak_256(message);
}

/** ethers' Signature.getNormalizedV, as a recovery id; undefined where ethers throws "invalid v". */
function recoveryIdOf(v: number): 0 | 1 | undefined {
  if (v === 0 || v === 27) return 0;
  if (v === 1 || v === 28) return 1;
  if (v >= 35) return v % 2 === 1 ? 0 : 1;
  return undefined;
}

/** r ‖ s and the recovery id of a 65-byte or 64-byte (EIP-2098) signature; undefined where ethers refuses it. */
function splitSignature(signature: string): { rs: Buffer; recoveryId: 0 | 1 } | undefined {
  if (!SIGNATURE.test(signature)) return undefined;
  const bytes = Buffer.from(signature.slice(2), 'hex');
  const rs = bytes.subarray(0, 64);
  if (bytes.length === 64) {
    const recoveryId = rs[32] & 0x80 ? 1 : 0;
    rs[32] &= 0x7f;
    return { rs, recoveryId };
  }
  const recoveryId = recoveryIdOf(bytes[64]);
  if (recoveryId === undefined || rs[32] & 0x80) return undefined;
  return { rs, recoveryId };
}

/** The lower-case address that signed this authorization for this domain, or undefined where ethers throws. */
export function recoverAuthorizationSigner(domain: TypedDataDomain, authorization: ExactAuthorization, signature: string): string | undefined {
  const split = splitSignature(signature);
  if (!split) return undefined;
  try {
    const publicKey = recover(digestOf(domain, authorization), split.rs, split.recoveryId, false);
    if (!publicKey) return undefined;
    return `0x${Buffer.from(keccak_256(publicKey.subarray(1))).toString('hex', 12)}`;
  } catch {
    return undefined;
  }
}
