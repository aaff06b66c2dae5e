import os from 'node:os';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;
/** DATABASE_URL names PostgreSQL (shared by replicas) rather than a SQLite file. */
export const isPostgresUrl = (databaseUrl: string) => POSTGRES_URL.test(databaseUrl);

const flag = z.enum(['1', '0', 'true', 'false', 'yes', 'no', '']).optional().transform((value) => value === '1' || value === 'true' || value === 'yes');
const list = (fallback: string) => z.string().optional().transform((value) => (value ?? fallback).split(',').map((item) => item.trim()).filter(Boolean));

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

export const PROVIDER_NAMES = ['ailabtools', 'aidge', 'alibaba', 'local'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Every environment variable the product reads; `imageseg-mcp --help` prints these descriptions. */
export const ENVIRONMENT_HELP: ReadonlyArray<[string, string]> = [
  ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'Alibaba Cloud AccessKey id; with the secret, tools call Alibaba imageseg'],
  ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'Alibaba Cloud AccessKey secret'],
  ['IMAGESEG_ENDPOINT', 'imageseg endpoint host[:port] (default imageseg.cn-shanghai.aliyuncs.com)'],
  ['IMAGESEG_PROTOCOL', 'https (default) or http'],
  ['IMAGESEG_PROVIDER', 'auto (default: alibaba with credentials, else local), alibaba or local'],
  ['IMAGESEG_PROVIDERS', 'ordered fallback list of providers, e.g. ailabtools,aidge,alibaba,local (those without credentials are skipped); overrides IMAGESEG_PROVIDER'],
  ['AILABTOOLS_API_KEY', 'ailabtools (API.market) key, sent as x-api-market-key; with it, ailabtools serves product and general background removal'],
  ['AILABTOOLS_ENDPOINT', 'ailabtools base URL (default https://prod.api.market/api/v1/ailabtools/product-background-removal)'],
  ['AIDGE_APP_KEY', 'Aidge app key; with the secret, Aidge serves product and general background removal'],
  ['AIDGE_APP_SECRET', 'Aidge app secret (signs each request, HMAC-SHA256)'],
  ['AIDGE_ENDPOINT', 'Aidge base URL including /rest (default https://api.aidc-ai.com/rest)'],
  ['IMAGESEG_PASSTHROUGH_HOSTS', 'image URL hosts sent to Alibaba unchanged (default *.oss-cn-shanghai.aliyuncs.com); other images are uploaded to Alibaba\'s OSS first'],
  ['IMAGESEG_OPENPLATFORM_ENDPOINT', 'open platform endpoint host[:port] that authorises those uploads (default openplatform.aliyuncs.com)'],
  ['IMAGESEG_ALLOW_PRIVATE_URLS', '1 lets the server fetch private/loopback URLs (tests only)'],
  ['IMAGESEG_FILE_ROOTS', 'stdio only: directories local image files may be read from and deliver="file" results created in (default the home directory and the working directory unless it is /)'],
  ['IMAGESEG_JOB_DEADLINE_SECONDS', 'how long to poll an asynchronous Alibaba job before JOB_TIMEOUT (default 120)'],
  ['IMAGESEG_SHUTDOWN_SECONDS', 'on SIGTERM, how long calls in flight may finish before they are stopped uncharged (default 30)'],
  ['IMAGESEG_RESULT_TTL', 'how long stored results stay at /results/<id>, in seconds (default 86400)'],
  ['IMAGESEG_RECORD_TTL_SECONDS', 'how long idempotency records, finished jobs and tasks are kept before they are swept, in seconds (default 86400; held payments are kept until their hold ends)'],
  ['IMAGESEG_INLINE_MAX_BYTES', 'largest inline MCP image, as base64 bytes (default 524288); bigger results come as a smaller preview plus the full file or link'],
  ['IMAGESEG_LIST_ALL_TOOLS', '1 lists every tool, also those no configured provider can serve'],
  ['IMAGESEG_LOCAL_MEMORY_ARENA', 'on (default) or off: onnxruntime\'s CPU memory arena for the embedded salient-object model; off saves ~0.9 GB of peak memory, on runs faster'],
  ['PAYMENTS', 'required (default) or off (self-hosted: nothing is charged)'],
  ['X402_PAY_TO', 'address that receives x402 payments; x402 is off until set'],
  ['X402_NETWORK', 'CAIP-2 network of x402 payments (default eip155:84532, Base Sepolia)'],
  ['X402_ASSET', 'USDC contract address on that network'],
  ['X402_FACILITATOR_URL', 'x402 facilitator that verifies and settles payments'],
  ['DATABASE_URL', 'ledger: SQLite file path (default $XDG_DATA_HOME/imageseg-mcp/imageseg.db, else ~/.local/share/imageseg-mcp/imageseg.db; results beside it) or postgres://...'],
  ['PUBLIC_BASE_URL', 'absolute base URL for links in answers (default http://<host>:<port>); its host name is the one the Host check admits'],
  ['IMAGESEG_ALLOWED_ORIGINS', 'browser origins allowed on /mcp besides the server\'s own, comma-separated (https://app.example.com)'],
  ['ADMIN_TOKEN', 'bearer token for operator endpoints'],
  ['IMAGESEG_PRICES', 'USD prices overriding the descriptors\', serviceId=USD comma-separated (product-background-removal=0.10,mask-refinement=0.05)'],
  ['IMAGESEG_RATE_LIMIT', 'requests per minute per client IP and per payment token, 429 beyond (default off); shared by replicas on PostgreSQL'],
  ['IMAGESEG_TRUSTED_PROXIES', 'proxy addresses (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client (default none)'],
  ['LOG_LEVEL', 'pino log level (default info); logs always go to stderr'],
];

const environmentSchema = z.object({
  ALIBABA_CLOUD_ACCESS_KEY_ID: z.string().optional(),
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: z.string().optional(),
  IMAGESEG_ENDPOINT: z.string().min(1).default('imageseg.cn-shanghai.aliyuncs.com'),
  IMAGESEG_PROTOCOL: z.enum(['https', 'http']).default('https'),
  IMAGESEG_OPENPLATFORM_ENDPOINT: z.string().min(1).default('openplatform.aliyuncs.com'),
  IMAGESEG_PROVIDER: z.enum(['auto', 'alibaba', 'local']).default('auto'),
  IMAGESEG_PROVIDERS: z
    .string()
    .optional()
    .transform((value) => (value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter(Boolean)))
    .pipe(z.array(z.enum(PROVIDER_NAMES)).optional()),
  AILABTOOLS_API_KEY: z.string().optional(),
  AILABTOOLS_ENDPOINT: z.string().url().default('https://prod.api.market/api/v1/ailabtools/product-background-removal'),
  AIDGE_APP_KEY: z.string().optional(),
  AIDGE_APP_SECRET: z.string().optional(),
  AIDGE_ENDPOINT: z.string().url().default('https://api.aidc-ai.com/rest'),
  IMAGESEG_PASSTHROUGH_HOSTS: list('*.oss-cn-shanghai.aliyuncs.com'),
  IMAGESEG_ALLOW_PRIVATE_URLS: flag,
  IMAGESEG_FILE_ROOTS: z.string().optional(),
  IMAGESEG_JOB_DEADLINE_SECONDS: z.coerce.number().positive().default(120),
  IMAGESEG_RESULT_TTL: z.coerce.number().positive().default(86_400),
  IMAGESEG_RECORD_TTL_SECONDS: z.coerce.number().positive().default(86_400),
  IMAGESEG_SHUTDOWN_SECONDS: z.coerce.number().nonnegative().default(30),
  IMAGESEG_INLINE_MAX_BYTES: z.coerce.number().int().min(1024).default(512 * 1024),
  IMAGESEG_LIST_ALL_TOOLS: flag,
  IMAGESEG_LOCAL_MEMORY_ARENA: z.enum(['on', 'off']).default('on'),
  HOME: z.string().optional(),
  XDG_DATA_HOME: z.string().optional(),
  PAYMENTS: z.enum(['required', 'off']).default('required'),
  X402_PAY_TO: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined)
    .refine((value) => value === undefined || /^0x[0-9a-fA-F]{40}$/.test(value), 'an EVM address (0x followed by 40 hex digits)'),
  X402_NETWORK: z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9-]+$/, 'a CAIP-2 id such as eip155:84532').default('eip155:84532'),
  X402_ASSET: z.string().default('0x036CbD53842c5426634e7929541eC2318f3dCF7e'),
  X402_FACILITATOR_URL: z.string().url().optional(),
  DATABASE_URL: z.string().min(1).optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  IMAGESEG_ALLOWED_ORIGINS: list('').pipe(z.array(z.string().refine(isOrigin, 'full origins such as https://app.example.com, comma-separated'))),
  ADMIN_TOKEN: z.string().optional(),
  IMAGESEG_PRICES: list('').pipe(
    z.array(z.string().regex(/^[a-z0-9-]+=\d+(\.\d{1,6})?$/, 'serviceId=USD pairs such as product-background-removal=0.10')).transform((pairs) => Object.fromEntries(pairs.map((pair) => pair.split('=') as [string, string]))),
  ),
  IMAGESEG_RATE_LIMIT: z.coerce.number().int().positive().optional(),
  IMAGESEG_TRUSTED_PROXIES: list('').pipe(z.array(z.string().refine(isAddressOrCidr, 'IP addresses or CIDRs such as 10.0.0.0/8, comma-separated'))),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Transport = 'stdio' | 'http';

/**
 * `order`: who is tried first, then next on throttling, outages and timeouts (IMAGESEG_PROVIDERS, else what
 * IMAGESEG_PROVIDER implies). `silenceMs`: a provider that says nothing for this long has timed out.
 * `breaker`: failures in a row that open a provider's circuit, and how long it stays open before a probe.
 */
export interface ProvidersConfig {
  order: ProviderName[];
  /** True when the operator wrote the order (IMAGESEG_PROVIDERS) rather than it being implied. */
  explicit: boolean;
  silenceMs: number;
  breaker: { failureThreshold: number; openMs: number };
  ailabtools: { apiKey?: string; endpoint: string };
  aidge: { appKey?: string; appSecret?: string; endpoint: string };
}

export interface Config {
  transport: Transport;
  /**
   * `publicBaseUrlSet`: PUBLIC_BASE_URL names the server, so the Host check knows its name even on 0.0.0.0.
   * `allowedOrigins`: browser origins (`scheme://host[:port]`) admitted on /mcp besides the server's own.
   */
  http: { host: string; port: number; publicBaseUrlSet: boolean; allowedOrigins: string[] };
  provider: 'alibaba' | 'local';
  providers: ProvidersConfig;
  /** `openPlatformEndpoint` answers AuthorizeFileUpload (the SDK's Advance uploads), with the same protocol and keys. */
  alibaba: { accessKeyId?: string; accessKeySecret?: string; endpoint: string; protocol: 'https' | 'http'; openPlatformEndpoint: string };
  /** Host patterns (`*.` wildcards, optional `:port`) whose image URLs go to Alibaba unchanged. */
  passthroughHosts: string[];
  /**
   * `protectedPaths`: the ledger and stored results, which deliver="file" never writes onto or into.
   * `sourceMaxBytes`: the largest image input taken at all; one over the Action's own limit is re-encoded to fit
   * (stdio and terminal only: over HTTP the body limit is the Action's).
   */
  images: { allowPrivateUrls: boolean; fileRoots: string[]; timeoutMs: number; maxRedirects: number; protectedPaths: string[]; sourceMaxBytes: number };
  jobDeadlineMs: number;
  /** SIGTERM: how long calls in flight may finish before they are aborted (and not charged). */
  shutdownMs: number;
  /**
   * GetAsyncJobResult polling (src/providers/alibaba/poll-schedule.ts): the prior backoff (first delay, growth, cap)
   * used before an Action's durations are learned; the budget, at most `budgetPolls` polls for a job of `budgetMs`
   * and one per `maxMs` past it; `minGapMs`, the closest together the learned schedule polls one job.
   */
  polling: { initialMs: number; factor: number; maxMs: number; budgetPolls: number; budgetMs: number; minGapMs: number };
  upstreamRetries: number;
  /** `inlineMaxBytes`: the largest inline MCP image as base64; `listAllTools`: also list tools that cannot run here. */
  results: { directory: string; ttlMs: number; inlineMaxBytes: number };
  /** How long idempotency records, finished jobs and tasks are kept before the sweeper deletes them. */
  records: { ttlMs: number };
  listAllTools: boolean;
  /** The embedded models: `modelDirectory` caches models derived from the packages' weights (the data directory's `models/`). */
  local: { modelDirectory: string; memoryArena: boolean };
  payments: 'required' | 'off';
  x402: { payTo?: string; network: string; asset: string; facilitatorUrl?: string };
  databaseUrl: string;
  publicBaseUrl: string;
  adminToken?: string;
  /** USD per call by serviceId, overriding the descriptors' prices. */
  prices: Record<string, string>;
  /** Requests per minute per client IP and per payment token; undefined: no limit. */
  rateLimitPerMinute?: number;
  /** Addresses or CIDRs of proxies whose X-Forwarded-For is believed. */
  trustedProxies: string[];
  logLevel: string;
}

export class ConfigError extends Error {}

/** The one place the process environment is read. */
export const loadProcessConfig = (options: { transport?: Transport; host?: string; port?: number } = {}): Config => loadConfig(process.env, options);

/**
 * What result files must never land on: the stored results, the SQLite ledger and its journals (a stray
 * `-journal` beside it could be replayed as one), and the ledger's whole folder when it is a folder of its own
 * (./data), not one the user keeps pictures in (a root, or above one).
 */
function protectedPaths(databaseUrl: string, dataDirectory: string, resultsDirectory: string, modelDirectory: string, fileRoots: string[]): string[] {
  const paths = [path.resolve(resultsDirectory), path.resolve(modelDirectory)];
  if (!databaseUrl.startsWith('postgres')) {
    const ledger = path.resolve(databaseUrl);
    paths.push(ledger, `${ledger}-wal`, `${ledger}-shm`, `${ledger}-journal`);
  }
  const folder = path.resolve(dataDirectory);
  const holdsRoot = fileRoots.some((root) => {
    const resolved = path.resolve(root);
    return resolved === folder || resolved.startsWith(folder + path.sep);
  });
  if (!holdsRoot) paths.push(folder);
  return paths;
}

/**
 * Without IMAGESEG_PROVIDERS: the peers with credentials first, then what IMAGESEG_PROVIDER chose (Alibaba with
 * its credentials, else the embedded model), so a setup that names no peer behaves as it always did.
 */
function impliedOrder(choice: 'auto' | 'alibaba' | 'local', alibabaKeys: boolean, ailabtoolsKey: boolean, aidgeKeys: boolean): ProviderName[] {
  const peers: ProviderName[] = [...(ailabtoolsKey ? (['ailabtools'] as const) : []), ...(aidgeKeys ? (['aidge'] as const) : [])];
  const last: ProviderName = choice === 'auto' ? (alibabaKeys ? 'alibaba' : 'local') : choice;
  return [...peers, last];
}

/** Largest local or fetched image taken over stdio and at a terminal; it is re-encoded to the Action's limits. */
const SOURCE_MAX_BYTES = 50 * 1024 * 1024;

/** Desktop clients start servers in `/`: the home directory is where pictures are, and `/` is never a root. */
function defaultFileRoots(home: string): string[] {
  const roots = [home, process.cwd()].map((root) => path.resolve(root)).filter((root) => root !== path.parse(root).root);
  return [...new Set(roots)];
}

export function loadConfig(
  environment: NodeJS.ProcessEnv = process.env,
  options: { transport?: Transport; host?: string; port?: number } = {},
): Config {
  const parsed = environmentSchema.safeParse(environment);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid environment: ${problems}`);
  }
  const env = parsed.data;
  const transport = options.transport ?? 'stdio';
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8402;
  const hasCredentials = Boolean(env.ALIBABA_CLOUD_ACCESS_KEY_ID && env.ALIBABA_CLOUD_ACCESS_KEY_SECRET);
  const home = env.HOME || os.homedir();
  const userData = path.join(env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(home, '.local', 'share'), 'imageseg-mcp');
  const databaseUrl = env.DATABASE_URL ?? path.join(userData, 'imageseg.db');
  const dataDirectory = databaseUrl.startsWith('postgres') ? userData : path.dirname(path.resolve(databaseUrl));
  const fileRoots = transport === 'stdio' ? (env.IMAGESEG_FILE_ROOTS?.split(',').map((root) => root.trim()).filter(Boolean) ?? defaultFileRoots(home)) : [];
  const resultsDirectory = path.join(dataDirectory, 'results');
  const modelDirectory = path.join(dataDirectory, 'models');
  const linkHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    transport,
    http: { host, port, publicBaseUrlSet: env.PUBLIC_BASE_URL !== undefined, allowedOrigins: env.IMAGESEG_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin) },
    provider: env.IMAGESEG_PROVIDER === 'auto' ? (hasCredentials ? 'alibaba' : 'local') : env.IMAGESEG_PROVIDER,
    alibaba: {
      accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
      accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
      endpoint: env.IMAGESEG_ENDPOINT,
      protocol: env.IMAGESEG_PROTOCOL,
      openPlatformEndpoint: env.IMAGESEG_OPENPLATFORM_ENDPOINT,
    },
    providers: {
      order: env.IMAGESEG_PROVIDERS ?? impliedOrder(env.IMAGESEG_PROVIDER, hasCredentials, Boolean(env.AILABTOOLS_API_KEY), Boolean(env.AIDGE_APP_KEY && env.AIDGE_APP_SECRET)),
      explicit: env.IMAGESEG_PROVIDERS !== undefined,
      silenceMs: 30_000,
      // Open after 5 failures in a row, probe after 15 s: a provider healthy again is used within 30 s.
      breaker: { failureThreshold: 5, openMs: 15_000 },
      ailabtools: { apiKey: env.AILABTOOLS_API_KEY, endpoint: env.AILABTOOLS_ENDPOINT },
      aidge: { appKey: env.AIDGE_APP_KEY, appSecret: env.AIDGE_APP_SECRET, endpoint: env.AIDGE_ENDPOINT },
    },
    passthroughHosts: env.IMAGESEG_PASSTHROUGH_HOSTS,
    images: {
      allowPrivateUrls: env.IMAGESEG_ALLOW_PRIVATE_URLS,
      fileRoots,
      timeoutMs: 15_000,
      maxRedirects: 3,
      protectedPaths: protectedPaths(databaseUrl, dataDirectory, resultsDirectory, modelDirectory, fileRoots),
      sourceMaxBytes: transport === 'stdio' ? SOURCE_MAX_BYTES : 0,
    },
    jobDeadlineMs: env.IMAGESEG_JOB_DEADLINE_SECONDS * 1000,
    shutdownMs: env.IMAGESEG_SHUTDOWN_SECONDS * 1000,
    // The prior is the plain backoff that sees 1-5 s jobs end soonest (~0.46 s late at p50) within 12 polls per 30 s
    // job; once an Action's durations are learned, its polls gather where its jobs end (bench row 4).
    polling: { initialMs: 350, factor: 1.35, maxMs: 6000, budgetPolls: 12, budgetMs: 30_000, minGapMs: 250 },
    upstreamRetries: 3,
    results: { directory: resultsDirectory, ttlMs: env.IMAGESEG_RESULT_TTL * 1000, inlineMaxBytes: env.IMAGESEG_INLINE_MAX_BYTES },
    records: { ttlMs: env.IMAGESEG_RECORD_TTL_SECONDS * 1000 },
    listAllTools: env.IMAGESEG_LIST_ALL_TOOLS,
    local: { modelDirectory, memoryArena: env.IMAGESEG_LOCAL_MEMORY_ARENA === 'on' },
    payments: env.PAYMENTS,
    x402: { payTo: env.X402_PAY_TO, network: env.X402_NETWORK, asset: env.X402_ASSET, facilitatorUrl: env.X402_FACILITATOR_URL },
    databaseUrl,
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://${linkHost.includes(':') ? `[${linkHost}]` : linkHost}:${port}`,
    adminToken: env.ADMIN_TOKEN,
    prices: env.IMAGESEG_PRICES,
    rateLimitPerMinute: env.IMAGESEG_RATE_LIMIT,
    trustedProxies: env.IMAGESEG_TRUSTED_PROXIES,
    logLevel: env.LOG_LEVEL,
  };
}

/**
 * onnxruntime writes a telemetry device id under ~/.cache/Microsoft unless told not to; a server must create nothing
 * outside its data directory and the user's chosen folders. Set before the runtime loads (it reads the process
 * environment, so this is the one place that writes it).
 */
export function disableRuntimeTelemetry(): void {
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
}
