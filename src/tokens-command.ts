import { ConfigError } from './config.js';
import type { AppContext } from './app.js';
import { parseExpiry } from './payments/index.js';

export const TOKENS_USAGE = `  imageseg-mcp tokens mint --service <serviceId> [--calls N] [--expires <ISO date | 90m | 12h | 30d>]
                                             mint a prepaid payment token (printed once, on stdout)
  imageseg-mcp tokens show <token>           what is left on a token
  imageseg-mcp tokens revoke <token>         revoke a token`;

export interface TokensOptions {
  service?: string;
  calls?: string;
  expires?: string;
}

/** `imageseg-mcp tokens …`: the operator's ledger commands, straight against DATABASE_URL. */
export async function runTokensCommand(context: AppContext, args: string[], options: TokensOptions): Promise<number> {
  const [action, token] = args;
  const { payments } = context;
  try {
    switch (action) {
      case 'mint': {
        if (!options.service) throw new ConfigError(`usage:\n${TOKENS_USAGE}`);
        const calls = options.calls === undefined ? 1 : Number(options.calls);
        if (!Number.isInteger(calls) || calls < 1) throw new ConfigError(`--calls must be a whole number of at least 1, got ${options.calls}`);
        let expiresAt: number | null = null;
        try {
          expiresAt = options.expires === undefined ? null : parseExpiry(options.expires, Date.now());
        } catch (error) {
          throw new ConfigError(`--expires: ${(error as Error).message}`);
        }
        const issued = await payments.mintToken({ serviceId: options.service, calls, expiresAt });
        process.stdout.write(`${issued.paymentToken}\n`);
        process.stderr.write(
          `Payment token for ${issued.serviceId}: ${issued.callsRemaining} call(s), expires ${issued.expiresAt ?? 'never'}.\n` +
            'It is shown only this once (the ledger keeps a hash); pass it as the X-Payment-Token header or the MCP paymentToken argument.\n',
        );
        return 0;
      }
      case 'show': {
        if (!token) throw new ConfigError(`usage:\n${TOKENS_USAGE}`);
        const status = await payments.describeToken(token);
        if (!status) throw new ConfigError('no payment token matches');
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return 0;
      }
      case 'revoke': {
        if (!token) throw new ConfigError(`usage:\n${TOKENS_USAGE}`);
        if (!(await payments.revokeToken(token))) throw new ConfigError('no payment token matches');
        process.stdout.write('revoked\n');
        return 0;
      }
      default:
        throw new ConfigError(`unknown tokens command "${action ?? ''}"; usage:\n${TOKENS_USAGE}`);
    }
  } finally {
    await payments.close();
  }
}
