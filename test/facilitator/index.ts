/**
 * A loopback x402 facilitator for tests: the facilitator HTTP API over a pretend chain with real signature checks,
 * balances and used nonces. docs/development.md describes it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { verifyTypedData } from 'ethers';

export const BASE_SEPOLIA = 'eip155:84532';
export const BASE_SEPOLIA_USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

const V1_NETWORKS: Record<string, number> = { base: 8453, 'base-sepolia': 84532 };
const TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

export interface Settlement {
  from: string;
  to: string;
  value: bigint;
  nonce: string;
  transaction: string;
  network: string;
}

export interface Fault {
  /** The refusal's reason; default "unexpected_<operation>_error". */
  reason?: string;
  /** 5xx: answer like a facilitator that is down. Default: a refusal with status 200. */
  httpStatus?: number;
  times?: number;
}

export interface LoopbackFacilitator {
  url: string;
  fund(address: string, amount: bigint): void;
  balanceOf(address: string): bigint;
  settlements: Settlement[];
  calls: { verify: number; settle: number; supported: number };
  failNext(operation: 'verify' | 'settle', fault?: Fault): void;
  close(): Promise<void>;
}

interface Authorization {
  from: string;
  to: string;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: string;
}

type Verdict = { ok: true; authorization: Authorization; network: string } | { ok: false; reason: string; payer?: string };

const chainIdOf = (network: string) => (/^eip155:(\d+)$/.exec(network) ? Number(network.split(':')[1]) : V1_NETWORKS[network]);

function readJson(request: IncomingMessage): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      try {
        resolve(JSON.parse(text || '{}'));
      } catch (error) {
        reject(error);
      }
    });
    request.on('error', reject);
  });
}

export async function startFacilitator(options: { networks?: string[] } = {}): Promise<LoopbackFacilitator> {
  const balances = new Map<string, bigint>();
  const usedNonces = new Set<string>();
  const settlements: Settlement[] = [];
  const calls = { verify: 0, settle: 0, supported: 0 };
  const faults: Array<{ operation: 'verify' | 'settle'; fault: Fault; left: number }> = [];
  const balanceOf = (address: string) => balances.get(address.toLowerCase()) ?? 0n;

  function check(body: Record<string, any>): Verdict {
    const payload = body.paymentPayload ?? {};
    const requirements = body.paymentRequirements ?? {};
    const authorization: Authorization | undefined = payload.payload?.authorization;
    const signature: string | undefined = payload.payload?.signature;
    if (!authorization || !signature) return { ok: false, reason: 'invalid_payload' };
    const payer = authorization.from;
    const scheme = payload.x402Version === 1 ? payload.scheme : payload.accepted?.scheme;
    const network = payload.x402Version === 1 ? payload.network : payload.accepted?.network;
    if (scheme !== 'exact' || requirements.scheme !== 'exact') return { ok: false, reason: 'invalid_exact_evm_scheme', payer };
    const chainId = chainIdOf(requirements.network);
    if (!chainId || chainIdOf(network) !== chainId) return { ok: false, reason: 'invalid_exact_evm_network_mismatch', payer };
    if (!requirements.extra?.name || !requirements.extra?.version) return { ok: false, reason: 'invalid_exact_evm_missing_eip712_domain', payer };
    let signer: string;
    try {
      const domain = { name: requirements.extra.name, version: requirements.extra.version, chainId, verifyingContract: requirements.asset };
      signer = verifyTypedData(domain, TYPES, authorization, signature);
    } catch {
      return { ok: false, reason: 'invalid_exact_evm_signature', payer };
    }
    if (signer.toLowerCase() !== payer.toLowerCase()) return { ok: false, reason: 'invalid_exact_evm_signature', payer };
    if (authorization.to.toLowerCase() !== String(requirements.payTo).toLowerCase()) return { ok: false, reason: 'invalid_exact_evm_recipient_mismatch', payer };
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (BigInt(authorization.validBefore) < now + 6n) return { ok: false, reason: 'invalid_exact_evm_payload_authorization_valid_before', payer };
    if (BigInt(authorization.validAfter) > now) return { ok: false, reason: 'invalid_exact_evm_payload_authorization_valid_after', payer };
    const price = requirements.amount ?? requirements.maxAmountRequired;
    if (BigInt(authorization.value) !== BigInt(price)) return { ok: false, reason: 'invalid_exact_evm_authorization_value', payer };
    if (usedNonces.has(`${String(requirements.asset).toLowerCase()}:${payer.toLowerCase()}:${authorization.nonce}`)) {
      return { ok: false, reason: 'invalid_exact_evm_nonce_already_used', payer };
    }
    if (balanceOf(payer) < BigInt(authorization.value)) return { ok: false, reason: 'invalid_exact_evm_insufficient_balance', payer };
    return { ok: true, authorization, network: requirements.network };
  }

  function takeFault(operation: 'verify' | 'settle'): Fault | undefined {
    const index = faults.findIndex((entry) => entry.operation === operation);
    if (index < 0) return undefined;
    const entry = faults[index];
    if (--entry.left <= 0) faults.splice(index, 1);
    return entry.fault;
  }

  const send = (response: ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const path = new URL(request.url ?? '/', 'http://facilitator').pathname;
    if (request.method === 'GET' && path === '/supported') {
      calls.supported++;
      const networks = options.networks ?? [BASE_SEPOLIA];
      const kinds = networks.flatMap((network) => [
        { x402Version: 2, scheme: 'exact', network },
        ...Object.entries(V1_NETWORKS)
          .filter(([, id]) => id === chainIdOf(network))
          .map(([name]) => ({ x402Version: 1, scheme: 'exact', network: name })),
      ]);
      return send(response, 200, { kinds, extensions: [], signers: { 'eip155:*': ['0x000000000000000000000000000000000000fac1'] } });
    }
    if (request.method !== 'POST' || (path !== '/verify' && path !== '/settle')) return send(response, 404, { error: 'not found' });
    const operation = path === '/verify' ? 'verify' : 'settle';
    calls[operation]++;
    const body = await readJson(request);
    const fault = takeFault(operation);
    if (fault && (fault.httpStatus ?? 200) >= 500) {
      response.writeHead(fault.httpStatus!, { 'content-type': 'text/plain' }).end('facilitator failure (injected)');
      return;
    }
    const verdict: Verdict = fault ? { ok: false, reason: fault.reason ?? `unexpected_${operation}_error` } : check(body);
    if (operation === 'verify') {
      return send(response, 200, verdict.ok ? { isValid: true, payer: verdict.authorization.from } : { isValid: false, invalidReason: verdict.reason, payer: verdict.payer });
    }
    const network = String(body.paymentRequirements?.network ?? '');
    if (!verdict.ok) return send(response, 200, { success: false, errorReason: verdict.reason, payer: verdict.payer, transaction: '', network });
    const { authorization } = verdict;
    const value = BigInt(authorization.value);
    balances.set(authorization.from.toLowerCase(), balanceOf(authorization.from) - value);
    balances.set(authorization.to.toLowerCase(), balanceOf(authorization.to) + value);
    usedNonces.add(`${String(body.paymentRequirements.asset).toLowerCase()}:${authorization.from.toLowerCase()}:${authorization.nonce}`);
    const transaction = `0x${randomBytes(32).toString('hex')}`;
    settlements.push({ from: authorization.from, to: authorization.to, value, nonce: authorization.nonce, transaction, network });
    return send(response, 200, { success: true, payer: authorization.from, transaction, network });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 400, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    fund: (address, amount) => balances.set(address.toLowerCase(), balanceOf(address) + amount),
    balanceOf,
    settlements,
    calls,
    failNext: (operation, fault = {}) => faults.push({ operation, fault, left: fault.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
