import type { App } from '@modelcontextprotocol/ext-apps';
import { renderCompare, type CompareView } from '../shared/compare.js';
import { element } from '../shared/dom.js';
import type { Answer, ResultSource } from './answer.js';

/** The backgrounds every image tool's `background` option takes (besides #rrggbb, offered as a custom colour). */
const BACKGROUNDS = ['transparent', 'white', 'black'];

interface Drawable {
  url: string;
  mimeType: string;
  bytes: number;
}

const bytesOfBase64 = (base64: string) => Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);

/** A result resource read through the host, as a data: URL: the only images the view's CSP lets it show. */
async function readResource(app: App, uri: string, mimeType: string): Promise<Drawable | undefined> {
  try {
    const { contents } = await app.readServerResource({ uri });
    const first = contents[0];
    if (!first || !('blob' in first) || typeof first.blob !== 'string') return undefined;
    const type = first.mimeType ?? mimeType;
    return { url: `data:${type};base64,${first.blob}`, mimeType: type, bytes: bytesOfBase64(first.blob) };
  } catch {
    return undefined;
  }
}

/** The full result from its resource when there is one (an inline image may be a preview), else the inline image. */
async function drawableOf(app: App, source: ResultSource): Promise<Drawable | undefined> {
  const stored = source.uri ? await readResource(app, source.uri, source.mimeType) : undefined;
  if (stored) return stored;
  return source.base64 ? { url: `data:${source.mimeType};base64,${source.base64}`, mimeType: source.mimeType, bytes: bytesOfBase64(source.base64) } : undefined;
}

async function aspectOf(url: string): Promise<number> {
  const image = new Image();
  image.src = url;
  await image.decode();
  return image.naturalWidth / image.naturalHeight;
}

/** The input is overlaid only when it has the result's shape (a crop or a resize changes it). */
async function sameShape(before: string, after: string): Promise<boolean> {
  const [input, result] = await Promise.all([aspectOf(before), aspectOf(after)]);
  return Math.abs(input - result) / result < 0.02;
}

/**
 * The answer's images: the result over a checkerboard with the input under a before/after divider (compare.ts), a
 * choice between result images when there are several, and the downloads.
 */
export async function renderImages(app: App, root: HTMLElement, answer: Extract<Answer, { kind: 'images' }>, naming: { title: string; downloadName: string }): Promise<void> {
  const [results, input] = await Promise.all([
    Promise.all(answer.results.map((source) => drawableOf(app, source))),
    answer.input ? readResource(app, answer.input.uri, answer.input.mimeType) : Promise.resolve(undefined),
  ]);
  const drawn = results.flatMap((result, index) => (result ? [{ ...result, field: answer.results[index].field }] : []));
  if (drawn.length === 0) throw new Error('The host could not read the result image');
  const stage = element('div', { className: 'result-stage' });
  const note = element('p', { className: 'muted note' });
  // "Product background removal: 1 result image(s); ..." under a heading that already names the tool.
  const summary = answer.summary.startsWith(`${naming.title}: `) ? answer.summary.slice(naming.title.length + 2) : answer.summary;
  const heading = element('header', { className: 'result-heading' }, [element('h1', { textContent: naming.title }), ...(summary ? [element('p', { className: 'muted', textContent: summary })] : [])]);
  let view: CompareView | undefined;

  const show = async (index: number) => {
    const result = drawn[index];
    const overlaid = input ? await sameShape(input.url, result.url).catch(() => false) : false;
    note.textContent = input && !overlaid ? 'The input is not overlaid: the result has another shape (cropped or resized).' : '';
    view?.destroy();
    view = await renderCompare(stage, { ...(overlaid && input ? { before: input.url } : {}), after: result.url, mimeType: result.mimeType, bytes: result.bytes }, {
      backgrounds: BACKGROUNDS,
      customBackground: true,
      downloadName: drawn.length > 1 ? `${naming.downloadName}-${index + 1}` : naming.downloadName,
    });
  };

  const parts: HTMLElement[] = [heading];
  if (drawn.length > 1) parts.push(resultPicker(drawn.map((result) => result.field), (index) => void show(index)));
  parts.push(stage, note);
  root.replaceChildren(...parts);
  await show(0);
}

/** Several result images (one per element, e.g. clothing parts): a radio group picks the one shown. */
function resultPicker(fields: string[], pick: (index: number) => void): HTMLElement {
  const group = element('div', { className: 'result-picker' });
  group.setAttribute('role', 'radiogroup');
  group.setAttribute('aria-label', 'Result image');
  fields.forEach((field, index) => {
    const radio = element('input', { type: 'radio', name: 'result-image', value: String(index), checked: index === 0 });
    radio.addEventListener('change', () => pick(index));
    group.append(element('label', {}, [radio, ` ${index + 1}: ${field}`]));
  });
  return group;
}
