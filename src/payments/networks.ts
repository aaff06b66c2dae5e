/**
 * x402 v1 names EVM networks ("base-sepolia"); v2 uses CAIP-2 ids ("eip155:84532"). The table holds the v1 names
 * the official x402 packages know, so a v1 client is answered in its own words.
 */
const V1_CHAIN_IDS: Readonly<Record<string, number>> = {
  ethereum: 1,
  sepolia: 11155111,
  base: 8453,
  'base-sepolia': 84532,
  polygon: 137,
  'polygon-amoy': 80002,
  avalanche: 43114,
  'avalanche-fuji': 43113,
  abstract: 2741,
  'abstract-testnet': 11124,
  iotex: 4689,
  sei: 1329,
  'sei-testnet': 1328,
  peaq: 3338,
  story: 1514,
  celo: 42220,
};

/** The EVM chain id of a CAIP-2 id or a v1 network name; undefined when it is neither. */
export function chainIdOf(network: string): number | undefined {
  const caip = /^eip155:(\d+)$/.exec(network);
  if (caip) return Number(caip[1]);
  return V1_CHAIN_IDS[network];
}

/** The v1 name of a CAIP-2 network, or the CAIP-2 id itself when v1 had no name for it. */
export function v1NetworkName(network: string): string {
  const chainId = chainIdOf(network);
  const name = Object.entries(V1_CHAIN_IDS).find(([, id]) => id === chainId)?.[0];
  return name ?? network;
}

/**
 * USDC's EIP-712 domain differs between chains ("USD Coin" on mainnets, "USDC" on Base Sepolia); a signature made
 * for the wrong name verifies nowhere on chain. Keys: CAIP-2 network; the address is the canonical USDC contract.
 */
const USDC: Readonly<Record<string, { asset: string; name: string; version: string }>> = {
  'eip155:84532': { asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USDC', version: '2' },
  'eip155:8453': { asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', name: 'USD Coin', version: '2' },
  'eip155:1': { asset: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', name: 'USD Coin', version: '2' },
  'eip155:43114': { asset: '0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E', name: 'USD Coin', version: '2' },
};

/** The EIP-712 domain (name, version) of the configured asset, and whether it is that network's known USDC. */
export function assetDomainOf(network: string, asset: string): { name: string; version: string; knownUsdc: boolean | undefined } {
  const usdc = USDC[network];
  if (!usdc) return { name: 'USDC', version: '2', knownUsdc: undefined };
  const matches = usdc.asset.toLowerCase() === asset.toLowerCase();
  return { name: matches ? usdc.name : 'USDC', version: usdc.version, knownUsdc: matches };
}
