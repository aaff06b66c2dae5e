import { z } from 'zod';
import { settingsSchema } from './config-environment.js';

/** One setting as the schema documents it: markdown text, and its default when it has one. */
interface DocumentedSetting {
  name: string;
  description: string;
  /** Markdown: the schema's default in backticks, or the `derivedDefault` its entry names. */
  defaultText?: string;
}

/** What parsing an unset variable gives before any transform: the default as the operator would write it. */
function unsetValue(schema: z.ZodType): unknown {
  return schema instanceof z.ZodPipe ? unsetValue(schema.in as z.ZodType) : schema.safeParse(undefined).data;
}

/** undefined for a setting without a description: test/configuration-docs.test.ts then names it. */
function documented(name: string, schema: z.ZodType): DocumentedSetting | undefined {
  const meta = schema.meta() ?? {};
  if (typeof meta.description !== 'string') return undefined;
  const value = unsetValue(schema);
  const defaultText = typeof meta.derivedDefault === 'string' ? meta.derivedDefault : value === undefined ? undefined : `\`${String(value)}\``;
  return { name, description: meta.description, defaultText };
}

const SETTINGS = Object.entries(settingsSchema.shape).flatMap(([name, schema]) => documented(name, schema) ?? []);

const plainText = (markdown: string) => markdown.replaceAll('`', '');
const withDefault = (setting: DocumentedSetting) => (setting.defaultText === undefined ? setting.description : `${setting.description} (default ${setting.defaultText})`);

/** Every setting the product reads, as `[name, text]` for `--help` and server.json. */
export const ENVIRONMENT_HELP: ReadonlyArray<[string, string]> = SETTINGS.map((setting) => [setting.name, plainText(withDefault(setting))]);

/** Where the rendered table sits in the docs: README.md or one docs/ page holds both markers. */
export const ENVIRONMENT_MARKERS = { start: '<!-- environment:start -->', end: '<!-- environment:end -->' } as const;

/** The markdown table of every setting: `| variable | meaning |`, defaults included. */
export function renderEnvironmentTable(): string {
  const rows = SETTINGS.map((setting) => `| \`${setting.name}\` | ${withDefault(setting).replaceAll('|', '\\|')} |`);
  return ['| variable | meaning |', '|---|---|', ...rows].join('\n');
}

/**
 * `markdown` with the text between the markers replaced by the table; undefined when the markers are missing.
 * Blank lines keep the comments from being read as part of the table.
 */
export function withEnvironmentTable(markdown: string): string | undefined {
  const start = markdown.indexOf(ENVIRONMENT_MARKERS.start);
  const end = markdown.indexOf(ENVIRONMENT_MARKERS.end);
  if (start < 0 || end < start) return undefined;
  return `${markdown.slice(0, start + ENVIRONMENT_MARKERS.start.length)}\n\n${renderEnvironmentTable()}\n\n${markdown.slice(end)}`;
}
