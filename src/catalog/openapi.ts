import { z } from 'zod';
import { imageFieldOf, TOOL_KINDS, type Capability } from './capability.js';
import { describeCapability } from './describe.js';
import { errorBodySchema, inputJsonSchemaOf, jsonSchemaOf, toolOutputSchema } from './schemas.js';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: Json) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: jsonContent(ref('ErrorBody')) });

function componentName(capability: Capability): string {
  return capability.serviceId.replace(/(^|-)(\w)/g, (_match, _dash, letter: string) => letter.toUpperCase()) + 'Input';
}

const paymentHeaders = [
  { name: 'X-Payment-Token', in: 'header', required: false, schema: { type: 'string' }, description: 'Payment token from POST /api/payments' },
  { name: 'PAYMENT-SIGNATURE', in: 'header', required: false, schema: { type: 'string' }, description: 'x402 v2 PaymentPayload, base64 JSON' },
  { name: 'X-PAYMENT', in: 'header', required: false, schema: { type: 'string' }, description: 'x402 v1 payment payload, base64 JSON' },
];

const binary = (description: string) => ({ schema: { type: 'string', format: 'binary', description } });

/** The same parameters as a multipart form (image parameters as file parts) or a raw image body (the primary one). */
function uploadContent(capability: Capability): Json {
  const fields = Object.keys(capability.images);
  if (fields.length === 0) return {};
  const input = inputJsonSchemaOf(capability) as { properties?: Json; required?: string[] };
  const properties: Json = { ...input.properties };
  for (const field of fields) properties[field] = { type: 'string', format: 'binary', description: `${field} as a file part (or a URL / data: URL as a text field)` };
  return {
    'multipart/form-data': { schema: { type: 'object', properties, ...(input.required ? { required: input.required } : {}) } },
    'image/*': binary(`The ${imageFieldOf(capability, 'primary')} image itself; the other parameters go in the query string`),
  };
}

/** With `Accept: image/png|webp|jpeg`, the first result image itself. */
function imageAnswers(capability: Capability): Json {
  if (Object.keys(capability.images).length === 0) return {};
  const image = binary('The first result image; X-Imageseg-Output carries the JSON answer, X-Request-Id its request id');
  return { 'image/png': image, 'image/webp': image, 'image/jpeg': image };
}

function toolOperation(capability: Capability, runsHere: boolean, legacy: boolean): Json {
  const responses: Json = {
    '200': { description: 'Success: the seeds\' output shape with the Action\'s Data', content: { ...jsonContent(ref('ToolOutput')), ...imageAnswers(capability) } },
    '400': errorResponse('INVALID_ARGUMENT: a parameter is missing, unknown or malformed'),
    '404': errorResponse('NOT_FOUND: no such service'),
    '413': errorResponse('IMAGE_TOO_LARGE'),
    '422': errorResponse('IMAGE_INVALID or IMAGE_UNREACHABLE'),
    '429': errorResponse('UPSTREAM_THROTTLED (retryable)'),
    '502': errorResponse('UPSTREAM_ERROR or JOB_FAILED'),
    '503': errorResponse('PROVIDER_NOT_CONFIGURED'),
    '504': errorResponse('JOB_TIMEOUT: details.payment "held" until details.heldUntil; details.jobId continues with async-job-result'),
  };
  if (capability.price) {
    responses['402'] = { description: 'PAYMENT_REQUIRED / PAYMENT_INVALID: x402 payment requirements', content: jsonContent(ref('PaymentRequired')) };
  }
  return {
    operationId: legacy ? `legacy_${capability.tool}` : capability.tool,
    summary: capability.title,
    description: describeCapability(capability, runsHere),
    tags: [capability.kind, capability.async === 'never' ? 'tools' : 'asynchronous tools'],
    ...(legacy ? { deprecated: true } : {}),
    parameters: capability.price ? paymentHeaders : [],
    requestBody: { required: true, content: { ...jsonContent(ref(componentName(capability))), ...uploadContent(capability) } },
    responses,
    'x-service-id': capability.serviceId,
    'x-kind': capability.kind,
    'x-mcp-tool': capability.tool,
    'x-alibaba-action': capability.action,
    ...(capability.price ? { 'x-price': capability.price } : {}),
  };
}

/** OpenAPI 3.1 for every endpoint, generated from the descriptors (JSON Schema 2020-12 from the zod shapes). */
export function buildOpenApi(capabilities: readonly Capability[], options: { serverUrl: string; version: string; available: (capability: Capability) => boolean }): Json {
  const paths: Json = {};
  const schemas: Json = {
    ToolOutput: jsonSchemaOf(toolOutputSchema),
    ErrorBody: jsonSchemaOf(errorBodySchema),
    PaymentRequired: paymentRequiredSchema,
    PaymentToken: paymentTokenSchema,
    PaymentTokenStatus: paymentTokenStatusSchema,
  };
  for (const capability of capabilities) {
    schemas[componentName(capability)] = inputJsonSchemaOf(capability);
    const runsHere = options.available(capability);
    paths[`/api/tools/${capability.serviceId}`] = { post: toolOperation(capability, runsHere, false) };
    for (const legacyId of capability.legacyIds) paths[`/api/tools/${legacyId}`] = { post: toolOperation(capability, runsHere, true) };
  }
  paths['/api/catalog/search'] = {
    get: {
      operationId: 'catalog_search',
      summary: 'Search the catalog',
      parameters: [
        { name: 'q', in: 'query', required: false, schema: { type: 'string' }, description: 'Words, an Action, a serviceId or a tool name' },
        { name: 'kind', in: 'query', required: false, schema: { type: 'string', enum: [...TOOL_KINDS] }, description: 'Only tools of this kind' },
      ],
      responses: { '200': { description: 'Ranked capabilities', content: jsonContent(jsonSchemaOf(catalogSearchSchema)) } },
    },
  };
  paths['/services/{serviceId}'] = {
    get: {
      operationId: 'service_page',
      summary: 'Human-readable service page',
      parameters: [{ name: 'serviceId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } }, '404': errorResponse('Unknown service') },
    },
  };
  paths['/results/{resultId}'] = {
    get: {
      operationId: 'result_image',
      summary: 'A result image kept by this server',
      parameters: [{ name: 'resultId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: {
        '200': { description: 'The image', content: { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } }, 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } } },
        '404': errorResponse('Unknown or expired result'),
      },
    },
  };
  paths['/mcp'] = {
    post: {
      operationId: 'mcp',
      summary: 'MCP streamable HTTP endpoint (JSON-RPC 2.0)',
      requestBody: { required: true, content: jsonContent({ type: 'object', description: 'A JSON-RPC request or notification' }) },
      responses: {
        '200': { description: 'JSON-RPC response, as JSON or an SSE stream', content: { 'application/json': { schema: { type: 'object' } }, 'text/event-stream': { schema: { type: 'string' } } } },
        '202': { description: 'Notification accepted' },
        '403': { description: 'Host or Origin not allowed (DNS rebinding protection)' },
      },
    },
  };
  paths['/api/batch/{serviceId}'] = {
    post: {
      operationId: 'batch',
      summary: 'Up to 20 calls of one tool, paid together (items x the price; failed items are never charged)',
      parameters: [
        { name: 'serviceId', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'items', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 20 }, description: 'How many items a large unpaid body holds, for a 402 with the right amount' },
        ...paymentHeaders,
      ],
      requestBody: { required: true, content: jsonContent({ type: 'object', properties: { items: { type: 'array', minItems: 1, maxItems: 20, items: { type: 'object', description: "The tool's arguments for one call" } } }, required: ['items'] }) },
      responses: {
        '200': { description: 'data.Action "Batch", data.Results [{index, ok, data | error}], data.Credit for the failed items of an x402 batch', content: jsonContent(ref('ToolOutput')) },
        '400': errorResponse('INVALID_ARGUMENT: items missing, empty or more than 20'),
        '402': { description: 'PAYMENT_REQUIRED / PAYMENT_INVALID for the whole batch', content: jsonContent(ref('PaymentRequired')) },
        '404': errorResponse('NOT_FOUND: no such service'),
      },
    },
  };
  paths['/.well-known/mcp/server-card.json'] = {
    get: { operationId: 'serverCard', summary: 'The MCP server card: endpoint, tools with schemas and prices, payment methods', responses: { '200': { description: 'Server card', content: jsonContent({ type: 'object' }) } } },
  };
  paths['/openapi.json'] = { get: { operationId: 'openapi', summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: jsonContent({ type: 'object' }) } } } };
  Object.assign(paths, paymentPaths());
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics (needs the operator bearer token when ADMIN_TOKEN is set)',
      responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, '401': errorResponse('ADMIN_TOKEN set and not presented') },
    },
  };
  paths['/api/admin/stats'] = {
    get: {
      operationId: 'operator_stats',
      summary: "Operator: calls and failures by tool and provider, from this replica's /metrics counters",
      tags: ['operator'],
      security: [{ operator: [] }],
      responses: { '200': { description: 'Counts since this process started', content: jsonContent(operatorStatsSchema) }, '401': errorResponse('UNAUTHORIZED') },
    },
  };
  paths['/'] = {
    get: {
      operationId: 'index',
      summary: 'The web console (catalog and search) for Accept: text/html; a JSON index of the main routes otherwise',
      parameters: [
        { name: 'q', in: 'query', required: false, schema: { type: 'string' }, description: 'HTML only: a search, ranked as /api/catalog/search ranks' },
        { name: 'kind', in: 'query', required: false, schema: { type: 'string', enum: [...TOOL_KINDS] }, description: 'HTML only: only tools of this kind' },
      ],
      responses: { '200': { description: 'The console page or the JSON index', content: { 'text/html': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  paths['/operator'] = {
    get: { operationId: 'operator_page', summary: 'The operator console (tokens, revenue, calls by provider) over the operator routes', responses: { '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } } },
  };
  paths['/healthz'] = {
    get: { operationId: 'health', summary: 'Liveness and configuration summary', responses: { '200': { description: 'Healthy', content: jsonContent(jsonSchemaOf(healthSchema)) } } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'imageseg-mcp',
      version: options.version,
      description: 'Paid image segmentation API: every Alibaba Cloud imageseg (2019-12-30) capability as a REST endpoint and MCP tool.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.serverUrl }],
    paths,
    components: { schemas, securitySchemes: { operator: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } } },
  };
}

export const catalogEntrySchema = z.object({
  serviceId: z.string(),
  tool: z.string(),
  action: z.string(),
  kind: z.enum(TOOL_KINDS).describe('What the tool works on: people, products, scenes, hd or utility'),
  title: z.string(),
  summary: z.string(),
  keywords: z.array(z.string()),
  legacyIds: z.array(z.string()),
  async: z.enum(['never', 'optional', 'always']),
  price: z.object({ amount: z.string(), currency: z.string(), billing: z.string(), maxCallsPerPayment: z.number() }).nullable(),
  available: z.boolean(),
  servedBy: z.array(z.string()).describe('The providers that serve it here, in the order they are tried'),
  localModel: z.string().nullable(),
  endpoint: z.string(),
  servicePage: z.string(),
  score: z.number(),
});

export const catalogSearchSchema = z.object({ query: z.string(), kind: z.enum(TOOL_KINDS).optional(), count: z.number(), results: z.array(catalogEntrySchema) });

const tallySchema = {
  calls: { type: 'number', description: 'runs: ok + failed' },
  ok: { type: 'number' },
  failed: { type: 'number' },
  outcomes: { type: 'array', items: { type: 'object', properties: { outcome: { type: 'string' }, count: { type: 'number' } }, required: ['outcome', 'count'] }, description: 'Every outcome but ok (an error code, skipped, circuit_open)' },
};

const operatorStatsSchema = {
  type: 'object',
  properties: {
    since: { type: 'string', format: 'date-time', description: 'When this process started; the counters are per replica' },
    byTool: { type: 'array', items: { type: 'object', properties: { tool: { type: 'string' }, ...tallySchema }, required: ['tool', 'calls', 'ok', 'failed', 'outcomes'] }, description: 'imageseg_calls_total by tool' },
    byProvider: {
      type: 'array',
      items: { type: 'object', properties: { provider: { type: 'string' }, ...tallySchema, skipped: { type: 'number', description: 'skipped or circuit_open: not run' } }, required: ['provider', 'calls', 'ok', 'failed', 'skipped', 'outcomes'] },
      description: 'Runs per provider: imageseg_provider_duration_seconds_count (a provider serving alone) and imageseg_provider_calls_total (each member of a fallback chain)',
    },
    fallbacks: { type: 'array', items: { type: 'object', properties: { tool: { type: 'string' }, provider: { type: 'string' }, reason: { type: 'string' }, count: { type: 'number' } } }, description: 'imageseg_provider_fallbacks_total' },
    revenue: { type: 'array', items: { type: 'object', properties: { service: { type: 'string' }, usd: { type: 'number' } } }, description: 'imageseg_revenue_usd_total by service' },
  },
  required: ['since', 'byTool', 'byProvider', 'fallbacks', 'revenue'],
};

export const healthSchema = z.object({ status: z.literal('ok'), version: z.string(), provider: z.string(), tools: z.number(), payments: z.string() });

/** The x402 PaymentRequired object (v2; v1 clients get maxAmountRequired and named networks) plus our advice. */
const paymentRequiredSchema = {
  type: 'object',
  description:
    'x402 PaymentRequired (also base64 in the PAYMENT-REQUIRED header). `error` is the reason code (payment_required, or why a payment ' +
    'was refused, e.g. invalid_exact_evm_signature, payment_token_exhausted); `accepts` is empty while the server has no X402_PAY_TO; ' +
    '`extensions` names the serviceId, the USD price, the payments endpoint and the three ways to retry.',
  properties: {
    x402Version: { type: 'integer', enum: [1, 2] },
    error: { type: 'string' },
    resource: { type: 'object', properties: { url: { type: 'string' }, description: { type: 'string' }, mimeType: { type: 'string' } } },
    accepts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          scheme: { type: 'string', enum: ['exact'] },
          network: { type: 'string', description: 'CAIP-2, e.g. eip155:84532' },
          asset: { type: 'string', description: 'USDC contract' },
          amount: { type: 'string', description: 'atomic units (USD 0.20 = "200000")' },
          payTo: { type: 'string' },
          maxTimeoutSeconds: { type: 'integer' },
          extra: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
        },
      },
    },
    extensions: { type: 'object' },
    message: { type: 'string', description: 'What to do next, in words' },
    retryable: { type: 'boolean' },
    charged: { type: 'boolean', const: false },
  },
  required: ['x402Version', 'error', 'accepts'],
};

const paymentTokenSchema = {
  type: 'object',
  properties: {
    paymentToken: { type: 'string', description: 'Shown once; pass it as X-Payment-Token or the MCP paymentToken argument' },
    serviceId: { type: 'string' },
    callsRemaining: { type: 'integer' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['paymentToken', 'serviceId', 'callsRemaining', 'expiresAt'],
};

const paymentTokenStatusSchema = {
  type: 'object',
  properties: {
    serviceId: { type: 'string' },
    callsTotal: { type: 'integer' },
    callsUsed: { type: 'integer' },
    callsInProgress: { type: 'integer' },
    callsRemaining: { type: 'integer' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    revoked: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    source: { type: 'string', enum: ['operator', 'x402'] },
  },
  required: ['serviceId', 'callsRemaining', 'revoked'],
};

const tokenParameter = { name: 'token', in: 'path', required: true, schema: { type: 'string' }, description: 'A payment token (imgseg_…)' };

function paymentPaths(): Json {
  const x402Headers = paymentHeaders.filter((header) => header.name !== 'X-Payment-Token');
  return {
    '/api/payments': {
      post: {
        operationId: 'buy_payment_token',
        summary: 'Buy a payment token with an x402 payment',
        description: 'Without payment: 402 with the x402 requirements. With a valid PAYMENT-SIGNATURE (or v1 X-PAYMENT): settles, then 201 with the token (shown once).',
        tags: ['payments'],
        parameters: x402Headers,
        requestBody: {
          required: true,
          content: jsonContent({ type: 'object', properties: { serviceId: { type: 'string', example: 'product-background-removal' } }, required: ['serviceId'] }),
        },
        responses: {
          '201': { description: 'The token; the settlement receipt is in the PAYMENT-RESPONSE header', content: jsonContent(ref('PaymentToken')) },
          '400': errorResponse('INVALID_ARGUMENT: no serviceId, or a free service'),
          '402': { description: 'PAYMENT_REQUIRED / PAYMENT_INVALID', content: jsonContent(ref('PaymentRequired')) },
          '404': errorResponse('NOT_FOUND: no such service'),
        },
      },
    },
    '/api/payments/{token}': {
      get: {
        operationId: 'payment_token_status',
        summary: 'What is left on a payment token',
        tags: ['payments'],
        parameters: [tokenParameter],
        responses: { '200': { description: 'Token status', content: jsonContent(ref('PaymentTokenStatus')) }, '404': errorResponse('No such token') },
      },
    },
    '/api/admin/tokens': {
      post: {
        operationId: 'mint_payment_token',
        summary: 'Operator: mint a prepaid payment token',
        tags: ['operator'],
        security: [{ operator: [] }],
        requestBody: {
          required: true,
          content: jsonContent({
            type: 'object',
            properties: {
              serviceId: { type: 'string' },
              calls: { type: 'integer', minimum: 1, default: 1 },
              expires: { type: 'string', description: 'ISO date, or a duration from now: 90m, 12h, 30d' },
            },
            required: ['serviceId'],
          }),
        },
        responses: {
          '201': { description: 'The token (shown once)', content: jsonContent(ref('PaymentToken')) },
          '400': errorResponse('INVALID_ARGUMENT'),
          '401': errorResponse('UNAUTHORIZED: missing or wrong bearer token, or ADMIN_TOKEN unset'),
          '404': errorResponse('NOT_FOUND: no such service'),
        },
      },
    },
    '/api/admin/tokens/{token}': {
      delete: {
        operationId: 'revoke_payment_token',
        summary: 'Operator: revoke a payment token',
        tags: ['operator'],
        security: [{ operator: [] }],
        parameters: [tokenParameter],
        responses: {
          '200': { description: 'Revoked', content: jsonContent(ref('PaymentTokenStatus')) },
          '401': errorResponse('UNAUTHORIZED'),
          '404': errorResponse('No such token'),
        },
      },
    },
  };
}
