import { ENVIRONMENT_HELP } from '../config.js';

/** The MCP registry's server.json format this entry follows (the schema a test checks it against). */
export const SERVER_JSON_SCHEMA = 'https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json';

/** What a user of the npm package may set; the descriptions are --help's. */
const PACKAGE_ENVIRONMENT = ['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'PAYMENTS', 'DATABASE_URL', 'IMAGESEG_FILE_ROOTS'];
const SECRETS = new Set(['ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET']);

/** One line of at most 100 characters: the registry's limit. */
export const REGISTRY_DESCRIPTION = 'Paid image segmentation for agents: background removal, masks, body, sky; MCP tools and REST API';

export interface PackageManifest {
  name: string;
  version: string;
  /** The registry name (reverse DNS), e.g. io.github.owner/name. */
  mcpName: string;
}

/**
 * server.json, the MCP registry entry: the npm package run over stdio, and an example remote over streamable HTTP.
 * Written by scripts/server-json.mjs from package.json and the catalog; a test checks the file is current and valid.
 */
export function registryEntryOf(manifest: PackageManifest, tools: readonly string[]): Record<string, unknown> {
  const help = new Map(ENVIRONMENT_HELP);
  return {
    $schema: SERVER_JSON_SCHEMA,
    name: manifest.mcpName,
    description: REGISTRY_DESCRIPTION,
    version: manifest.version,
    packages: [
      {
        registryType: 'npm',
        registryBaseUrl: 'https://registry.npmjs.org',
        identifier: manifest.name,
        version: manifest.version,
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        packageArguments: [{ type: 'positional', value: 'stdio', description: 'MCP over stdio (the default subcommand)' }],
        environmentVariables: PACKAGE_ENVIRONMENT.map((name) => ({
          name,
          description: help.get(name) ?? name,
          isRequired: false,
          isSecret: SECRETS.has(name),
          ...(name === 'PAYMENTS' ? { choices: ['required', 'off'], default: 'required' } : {}),
        })),
      },
    ],
    remotes: [
      {
        type: 'streamable-http',
        url: 'https://imageseg.example.com/mcp',
        headers: [{ name: 'X-Payment-Token', description: 'Payment token (POST /api/payments, or from the operator); x402 clients pay per call instead', isRequired: false, isSecret: true }],
      },
    ],
    _meta: {
      'io.modelcontextprotocol.registry/publisher-provided': { tools, payments: ['payment-token', 'x402'], discovery: '/.well-known/mcp/server-card.json' },
    },
  };
}
