import { ConfigError } from './config.js';
import type { AppContext } from './app.js';
import { parseExpiry } from './payments/index.js';

export const TOKENS_USAGE = `  imageseg-mcp tokens mint --service <serviceId> [--calls N] [--expires <ISO date | 90m | 12h | 30d>]
                                             mint a prepaid payment token (printed once, on stdout)
  imageseg-mcp tokens show <token>           what is left on a token
  imageseg-mcp tokens revoke <token>         revoke a token
  imageseg-mcp tokens list [--service S]     every token: id (hash prefix), service, calls left/used/in progress, expiry
  imageseg-mcp revenue [--from D] [--to D]   calls and USD per service and day (dates YYYY-MM-DD, inclusive)`;

export interface TokensOptions {
  service?: string;
  calls?: string;
  expires?: string;
  from?: string;
  to?: string;
}

const column = (value: unknown, width: number) => String(value).padEnd(width);

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
      case 'list': {
        const tokens = await payments.listTokens(options.service);
        process.stdout.write(`${column('id', 17)}${column('service', 30)}${column('left', 6)}${column('used', 6)}${column('held', 6)}${column('expires', 26)}revoked\n`);
        for (const listed of tokens) {
          const expires = listed.expiresAt ?? 'never';
          process.stdout.write(
            `${column(listed.id, 17)}${column(listed.serviceId, 30)}${column(listed.callsRemaining, 6)}${column(listed.callsUsed, 6)}${column(listed.callsInProgress, 6)}${column(expires, 26)}${listed.revoked ? 'yes' : 'no'}\n`,
          );
        }
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

/** `imageseg-mcp revenue [--from D] [--to D]`: calls and USD per service and day, from the ledger's charges. */
export async function runRevenueCommand(context: AppContext, options: TokensOptions): Promise<number> {
  try {
    const report = await context.payments.revenue({ from: options.from, to: options.to });
    process.stdout.write(`${column('day', 12)}${column('service', 30)}${column('calls', 8)}usd\n`);
    for (const day of report.days) process.stdout.write(`${column(day.day, 12)}${column(day.serviceId, 30)}${column(day.calls, 8)}${day.usd}\n`);
    process.stdout.write(`${column('total', 42)}${column(report.total.calls, 8)}${report.total.usd}\n`);
    return 0;
  } catch (error) {
    if ((error as { code?: string }).code === 'INVALID_ARGUMENT') throw new ConfigError((error as Error).message);
    throw error;
  } finally {
    await context.payments.close();
  }
}
