import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every environment variable the product reads, with its meaning and default: the one source that `loadConfig`
 * (src/config.ts), `--help`, server.json and the environment table in docs/operators.md (src/config-environment-docs.ts) use.
 * A description is markdown (`code` in backticks). `derivedDefault` names a default that `loadConfig` works out
 * at start-up rather than one the schema can hold.
 */

export const PROVIDER_NAMES = ['ailabtools', 'aidge', 'alibaba', 'local'] as const;

const flag = z.enum(['1', '0', 'true', 'false', 'yes', 'no', '']).optional().transform((value) => value === '1' || value === 'true' || value === 'yes');
const split = (text: string) => text.split(',').map((item) => item.trim()).filter(Boolean);
/** A comma-separated list; with a fallback, the list it stands for when the variable is unset. */
const list = (fallback?: string) => (fallback === undefined ? z.string().optional().transform((value) => split(value ?? '')) : z.string().default(fallback).transform(split));

/** An IP address, or a CIDR block such as 10.0.0.0/8 or fd00::/8. */
function isAddressOrCidr(text: string): boolean {
  const [address, bits, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** A browser origin: http(s) scheme, host and optional port, nothing after. */
function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.pathname === '/' && !url.search && !url.hash && !url.username;
  } catch {
    return false;
  }
}

/** The product's settings, in the order `--help` and docs/operators.md list them. */
export const settingsSchema = z.object({
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional().describe('Alibaba Cloud AccessKey id; with the secret, tools call Alibaba imageseg through the official SDK'),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional().describe('Alibaba Cloud AccessKey secret'),
  IMAGESEG_ENDPOINT: z.string().min(1).default('imageseg.cn-shanghai.aliyuncs.com').describe('Alibaba imageseg endpoint, `host[:port]`'),
  IMAGESEG_PROTOCOL: z.enum(['https', 'http']).default('https').describe('`https` or `http`, for the imageseg and open-platform endpoints'),
  IMAGESEG_PROVIDER: z
    .enum(['auto', 'alibaba', 'local'])
    .default('auto')
    .describe('`auto` (`alibaba` with Alibaba credentials, else `local`), `alibaba` or `local`; without `IMAGESEG_PROVIDERS`, ailabtools and Aidge come first when their credentials are set'),
  IMAGESEG_PROVIDERS: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : split(value)))
    .pipe(z.array(z.enum(PROVIDER_NAMES)).optional())
    .describe('the providers in the order they are tried, comma-separated (`ailabtools,aidge,alibaba,local`); those without credentials are skipped; overrides `IMAGESEG_PROVIDER`'),
  AILABTOOLS_API_KEY: z.string().optional().describe('ailabtools (API.market) key, sent as `x-api-market-key`; with it, ailabtools serves product and general background removal'),
  AILABTOOLS_ENDPOINT: z.string().url().default('https://prod.api.market/api/v1/ailabtools/product-background-removal').describe('ailabtools base URL'),
  AIDGE_APP_KEY: z.string().optional().describe('Aidge app key; with the secret, Aidge serves product and general background removal'),
  AIDGE_APP_SECRET: z.string().optional().describe('Aidge app secret (signs each request, HMAC-SHA256)'),
  AIDGE_ENDPOINT: z.string().url().default('https://api.aidc-ai.com/rest').describe('Aidge base URL, including `/rest`'),
  IMAGESEG_PASSTHROUGH_HOSTS: list('*.oss-cn-shanghai.aliyuncs.com').describe(
    "image URL hosts sent to Alibaba unchanged, comma-separated (`*.` wildcards allowed); any other image (other URLs, `data:`, base64, files) is first uploaded to Alibaba's OSS the way the SDK's Advance methods do",
  ),
  IMAGESEG_OPENPLATFORM_ENDPOINT: z
    .string()
    .min(1)
    .default('openplatform.aliyuncs.com')
    .describe('open-platform endpoint, `host[:port]`, that authorises the uploads of images not in `IMAGESEG_PASSTHROUGH_HOSTS`'),
  IMAGESEG_ALLOW_PRIVATE_URLS: flag.describe('`1` lets the server fetch URLs on private or loopback addresses (tests only; refused otherwise)'),
  IMAGESEG_FILE_ROOTS: z.string().optional().meta({
    description: 'stdio only: comma-separated directories local image files may be read from and `deliver="file"` results created in',
    derivedDefault: 'the home directory, and the working directory unless it is `/`',
  }),
  IMAGESEG_JOB_DEADLINE_SECONDS: z.coerce.number().positive().default(120).describe('how long an asynchronous Alibaba job is polled before `JOB_TIMEOUT`, in seconds'),
  IMAGESEG_SHUTDOWN_SECONDS: z.coerce.number().nonnegative().default(30).describe('on SIGTERM, how long calls in flight may finish before they are stopped, uncharged, in seconds'),
  IMAGESEG_RESULT_TTL: z.coerce.number().positive().default(86_400).describe('how long a stored result stays at `/results/<id>`, in seconds'),
  IMAGESEG_RECORD_TTL_SECONDS: z.coerce
    .number()
    .positive()
    .default(86_400)
    .describe(
      'how long idempotency records, finished asynchronous jobs and MCP tasks are kept before they are swept, in seconds (also the longest task `ttl`); a payment held for a timed-out job is kept until its hold ends',
    ),
  IMAGESEG_INLINE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024)
    .describe('the largest inline MCP image, as base64 bytes; bigger results come as a smaller preview plus the full file, resource or link'),
  IMAGESEG_BODY_BUDGET_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .default(256 * 1024 * 1024)
    .describe(
      'the most bytes of HTTP request bodies being read and parsed at once, all requests together (at least 64 KiB; the default is 256 MiB): a body whose `Content-Length` would pass what is left is answered 503 `SERVER_BUSY` with `Retry-After` before it is read, a chunked one once it passes it, and a body longer than the whole budget 413',
    ),
  IMAGESEG_LIST_ALL_TOOLS: flag.describe('`1` lists every tool in `tools/list` and `imageseg-mcp list`, also those no configured provider can serve'),
  IMAGESEG_LOCAL_MEMORY_ARENA: z
    .enum(['on', 'off'])
    .default('off')
    .describe(
      "`on` or `off`: onnxruntime's CPU memory arena for the embedded ISNet (salient-object) model. On, inference is ~10% faster and the model's process keeps its tensors' ~440 MB between calls (a 10000 x 10000 image peaks at ~1.05 GB instead of ~0.8 GB)",
    ),
  IMAGESEG_LOCAL_IDLE_SECONDS: z.coerce
    .number()
    .nonnegative()
    .default(120)
    .describe('how long the embedded models stay loaded without calls, in seconds; then their process ends and all its memory is returned (the next call starts it again, ~1 s)'),
  IMAGESEG_LOCAL_QUEUE: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(8)
    .describe('how many embedded-model calls may wait while one runs (they run one at a time); one more is answered 503 `SERVER_BUSY` with `Retry-After`'),
  PAYMENTS: z.enum(['required', 'off']).default('required').describe('`required`, or `off` for self-hosted use: nothing is charged and tool schemas have no payment fields'),
  X402_PAY_TO: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined)
    .refine((value) => value === undefined || /^0x[0-9a-fA-F]{40}$/.test(value), 'an EVM address (0x followed by 40 hex digits)')
    .describe('EVM address that receives x402 payments; x402 is off until it is set (payment tokens still work)'),
  X402_NETWORK: z
    .string()
    .regex(/^[a-z0-9-]+:[A-Za-z0-9-]+$/, 'a CAIP-2 id such as eip155:84532')
    .default('eip155:84532')
    .describe('CAIP-2 network of x402 payments; the default is Base Sepolia'),
  X402_ASSET: z.string().default('0x036CbD53842c5426634e7929541eC2318f3dCF7e').describe("address of the USDC contract on `X402_NETWORK`; the default is Base Sepolia's"),
  // The public x402.org facilitator, as @x402/core uses it when given no URL (testnets).
  X402_FACILITATOR_URL: z.string().url().default('https://x402.org/facilitator').describe('x402 facilitator that verifies and settles payments'),
  DATABASE_URL: z
    .string()
    .min(1)
    .optional()
    .meta({
      description:
        'the ledger: a SQLite file path (stored results are kept beside it) or `postgres://…` (ledger, tasks, idempotency records, stored results and rate counters all in PostgreSQL, shared by replicas)',
      derivedDefault: '`$XDG_DATA_HOME/imageseg-mcp/imageseg.db`, else `~/.local/share/imageseg-mcp/imageseg.db`',
    }),
  PUBLIC_BASE_URL: z
    .string()
    .url()
    .optional()
    .meta({ description: 'absolute base URL for links in answers; its host name is the one the Host check admits', derivedDefault: '`http://<host>:<port>`' }),
  IMAGESEG_ALLOWED_ORIGINS: list()
    .pipe(z.array(z.string().refine(isOrigin, 'full origins such as https://app.example.com, comma-separated')))
    .describe("browser origins allowed on `/mcp` besides the server's own, comma-separated full origins (`https://app.example.com`)"),
  ADMIN_TOKEN: z.string().optional().describe('bearer token for the operator endpoints (`/api/admin/…`), which are off while it is unset; once set, `/metrics` asks for it too'),
  IMAGESEG_PRICES: list()
    .pipe(
      z
        .array(z.string().regex(/^[a-z0-9-]+=\d+(\.\d{1,6})?$/, 'serviceId=USD pairs such as product-background-removal=0.10'))
        .transform((pairs) => Object.fromEntries(pairs.map((pair) => pair.split('=') as [string, string]))),
    )
    .describe(
      "USD prices overriding the descriptors', `serviceId=USD` comma-separated (`product-background-removal=0.10,mask-refinement=0.05`); 402 answers, x402 amounts, tools/list, the catalog, OpenAPI and service pages follow",
    ),
  IMAGESEG_RATE_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .meta({
      description:
        'requests per minute per client address and per payment token; beyond it 429 `RATE_LIMITED` with `Retry-After` (`/healthz` and `/metrics` are never limited). Counted in PostgreSQL when `DATABASE_URL` is, so the limit holds across replicas; per process otherwise',
      derivedDefault: 'off',
    }),
  IMAGESEG_TRUSTED_PROXIES: list()
    .pipe(z.array(z.string().refine(isAddressOrCidr, 'IP addresses or CIDRs such as 10.0.0.0/8, comma-separated')))
    .meta({
      description:
        "addresses or CIDRs (`10.0.0.0/8,127.0.0.1`) of proxies whose `X-Forwarded-For` names the client (read from the right, skipping trusted hops); from anyone else it is ignored",
      derivedDefault: 'none',
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level; logs always go to stderr'),
});

/** What the platform tells us rather than what an operator sets: read, never listed as settings. */
export const platformSchema = z.object({
  HOME: z.string().optional(),
  XDG_DATA_HOME: z.string().optional(),
});

export const environmentSchema = settingsSchema.extend(platformSchema.shape);
