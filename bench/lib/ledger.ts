import { loadConfig } from '../../src/config.js';
import { createCatalog } from '../../src/catalog/lookup.js';
import { createLogger } from '../../src/logger.js';
import { createPayments, type Payments, type PaymentsOptions } from '../../src/payments/index.js';
import { capabilities } from '../../tools/index.js';

/** The product's payments module on a ledger file of the bench's own (the server child opens the same file). */
export function openPayments(databaseUrl: string, environment: Record<string, string> = {}, overrides: Partial<PaymentsOptions> = {}): Payments {
  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent', ...environment }, { transport: 'http', port: 0 });
  return createPayments({ config, catalog: createCatalog(capabilities), logger: createLogger('silent'), ...overrides });
}

/** One-use payment tokens, minted the way an operator does (`imageseg-mcp tokens mint`). */
export async function mintTokens(databaseUrl: string, serviceId: string, count: number): Promise<string[]> {
  const payments = openPayments(databaseUrl);
  try {
    const tokens: string[] = [];
    for (let index = 0; index < count; index += 1) tokens.push((await payments.mintToken({ serviceId, calls: 1 })).paymentToken);
    return tokens;
  } finally {
    await payments.close();
  }
}
