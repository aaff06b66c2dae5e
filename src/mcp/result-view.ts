import type { CallOutcome } from '../call.js';
import { isResultId, RESULT_RESOURCE_BASE } from '../results/result-store.js';
import { webAsset } from '../web/assets.js';

/**
 * The MCP App view every image tool declares (MCP Apps, SEP-1865, as @modelcontextprotocol/ext-apps 2.x speaks it).
 * The names are spelled here: ext-apps builds the view (web/result-view/) and is no dependency of the server.
 */
export const APPS_EXTENSION = 'io.modelcontextprotocol/ui';
export const APP_MIME_TYPE = 'text/html;profile=mcp-app';
export const RESULT_VIEW_URI = 'ui://imageseg/result';
/** The flat key of the draft spec: deprecated, still read by hosts that predate `_meta.ui` (ext-apps writes both). */
const LEGACY_RESOURCE_URI_KEY = 'ui/resourceUri';

/** What this server says it does under the extension (its capabilities' `extensions`), in the clients' own shape. */
export const APPS_EXTENSION_SETTINGS = { mimeTypes: [APP_MIME_TYPE] };

/** A tool definition's `_meta` entries naming the view. Hosts without Apps ignore them. */
export const RESULT_VIEW_TOOL_META = { ui: { resourceUri: RESULT_VIEW_URI }, [LEGACY_RESOURCE_URI_KEY]: RESULT_VIEW_URI } as const;

/** The view in resources/list. */
export const RESULT_VIEW_RESOURCE = {
  uri: RESULT_VIEW_URI,
  name: 'result-view',
  title: 'Result viewer',
  description: 'MCP App view of an image tool\'s answer: the result over its input with a before/after slider, mask, backgrounds and downloads',
  mimeType: APP_MIME_TYPE,
};

/**
 * resources/read of the view: one self-contained HTML file (script and styles inline). It reaches no origin at all:
 * the images come through the host (inline content, or resources/read of stored results), so the CSP lists none.
 */
export function readResultView() {
  return {
    contents: [{ uri: RESULT_VIEW_URI, mimeType: APP_MIME_TYPE, text: webAsset('result-view.html'), _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } } }],
  };
}

/** Where a tool result tells the view what it holds: `_meta`, which hosts keep from the model. */
export const VIEW_META_KEY = 'imageseg/view';

/** A stored result's MCP resource, for the view to read through the host (never its http(s) link). */
export const resultResourceUri = (id: string) => `${RESULT_RESOURCE_BASE}/results/${id}`;

/** The stored result a resource URI names (resultResourceUri's inverse), if it names one. */
export function resultIdOf(uri: string): string | undefined {
  const prefix = resultResourceUri('');
  const id = uri.startsWith(prefix) ? uri.slice(prefix.length) : undefined;
  return id !== undefined && isResultId(id) ? id : undefined;
}

/**
 * Our stored results' links, over HTTP (`<base>/results/<id>`) or stdio (`imageseg://local/results/<id>`): the
 * result resource with the same id. Anything else (a provider's link, a file written over stdio) has none.
 */
function resourceOf(url: string): string | undefined {
  const id = /\/results\/([^/?#]+)$/.exec(url)?.[1];
  return id !== undefined && isResultId(id) ? resultResourceUri(id) : undefined;
}

/** One result image for the view: its full bytes as a resource, and/or the index of the image block showing it. */
export interface ViewResult {
  field: string;
  mimeType: string;
  uri?: string;
  content?: number;
}

/**
 * `_meta["imageseg/view"]` of a successful answer: the input preview (`input`, the slider's "before") and each result
 * image. `inlineAt` is the content index of each inline image, in outcome.inline's order (one per result image).
 */
export function viewMeta(outcome: CallOutcome, inlineAt: number[]): Record<string, unknown> {
  const results: ViewResult[] = outcome.images.map((image, index) => {
    const uri = resourceOf(image.url);
    const content = outcome.inline.length === outcome.images.length ? inlineAt[index] : undefined;
    return { field: image.field, mimeType: image.mimeType, ...(uri ? { uri } : {}), ...(content !== undefined ? { content } : {}) };
  });
  const { inputPreview } = outcome;
  return { [VIEW_META_KEY]: { ...(inputPreview ? { input: { uri: resultResourceUri(inputPreview.id), mimeType: inputPreview.mimeType } } : {}), results } };
}
