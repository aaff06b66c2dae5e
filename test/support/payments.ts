import { Wallet } from 'ethers';
import { x402Client } from '@x402/core/client';
import type { PaymentPayload, PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { ExactEvmScheme, registerExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';

/** The official x402 client's signer interface, backed by a local ethers wallet. */
export function signerOf(wallet: Wallet) {
  return {
    address: wallet.address as `0x${string}`,
    async signTypedData(typed: { domain: Record<string, unknown>; types: Record<string, unknown>; primaryType: string; message: Record<string, unknown> }) {
      const { EIP712Domain: _domainType, ...types } = typed.types as Record<string, Array<{ name: string; type: string }>>;
      return (await wallet.signTypedData(typed.domain, types, typed.message)) as `0x${string}`;
    },
  };
}

/** A payer with a fresh key: the official @x402/evm exact-scheme client (v2 and v1) signing with it. */
export function createPayer(wallet: Wallet = new Wallet(Wallet.createRandom().privateKey)) {
  const signer = signerOf(wallet);
  const client = registerExactEvmScheme(new x402Client(), { signer });
  return {
    wallet,
    address: wallet.address,
    /** What an x402 client does with a 402: pick a requirement, sign, build the PaymentPayload. */
    pay: (paymentRequired: PaymentRequired) => client.createPaymentPayload(paymentRequired),
    /**
     * Signs for a requirement as given (tests bend it to break one rule at a time); the payload says it pays
     * `accepted`, by default the requirement it signed.
     */
    async payExactly(requirement: PaymentRequirements, paymentRequired?: PaymentRequired, accepted: PaymentRequirements = requirement): Promise<PaymentPayload> {
      const { payload } = await new ExactEvmScheme(signer).createPaymentPayload(2, requirement);
      return { x402Version: 2, resource: paymentRequired?.resource, accepted, payload };
    },
    /** An x402 v1 payment for a v1 requirement (maxAmountRequired, named network). */
    async payV1(requirement: Record<string, unknown>) {
      return new ExactEvmSchemeV1(signer).createPaymentPayload(1, requirement as unknown as PaymentRequirements);
    },
  };
}

export type Payer = ReturnType<typeof createPayer>;

export const toHeader = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64');
export const fromHeader = <T>(header: string | null): T => JSON.parse(Buffer.from(header ?? '', 'base64').toString('utf8')) as T;
