import { element } from '../shared/dom.js';
import type { ImageField, JsonSchema } from './api.js';

/** Delivery is the console's business (it asks for results kept by this server); `outputPath` is for stdio. */
const HIDDEN = new Set(['deliver', 'outputPath']);
/** Our output options (src/catalog/output-options.ts): folded away, the Action's own parameters first. */
const OUTPUT_OPTIONS = new Set(['background', 'cropMargin', 'width', 'height', 'format']);

const MIME_FORMATS: Record<string, string> = { 'image/jpeg': 'jpeg', 'image/png': 'png', 'image/bmp': 'bmp', 'image/webp': 'webp', 'image/gif': 'gif', 'image/tiff': 'tiff' };
const FORMAT_NAMES: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', bmp: 'BMP', webp: 'WEBP', gif: 'GIF', tiff: 'TIFF' };
const ACCEPT: Record<string, string> = { jpeg: 'image/jpeg,.jpg,.jpeg', png: 'image/png,.png', bmp: 'image/bmp,.bmp', webp: 'image/webp,.webp', gif: 'image/gif,.gif', tiff: 'image/tiff,.tif,.tiff' };

export const describeBytes = (bytes: number) => (bytes >= 1024 * 1024 ? `${Number((bytes / 1024 / 1024).toFixed(1))} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`);

const listOf = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : (items[0] ?? ''));

function limitsText(image: ImageField): string {
  const parts = [listOf(image.formats.map((format) => FORMAT_NAMES[format] ?? format)), `at most ${describeBytes(image.maxBytes)}`];
  if (image.minSide) parts.push(`larger than ${image.minSide}×${image.minSide} px`);
  if (image.maxSide) parts.push(`smaller than ${image.maxSide}×${image.maxSide} px (larger ones are scaled down to fit)`);
  return `${parts.join('; ')}.`;
}

/** What the form holds once it is valid: files and text, as the multipart body sends them. */
export interface FormValues {
  parts: Array<[name: string, value: string | File]>;
  /** The primary image as picked (for the before/after view), if it is a file. */
  primaryFile?: File;
  /** Whether the tool takes images (and so our output options, `deliver` among them). */
  takesImages: boolean;
}

/** One control, its messages, and how to check it. */
interface Field {
  name: string;
  /** The element focused and marked invalid on an error. */
  control: HTMLElement;
  error: HTMLElement;
  /** An error message, or undefined when the value is fine. */
  check(): string | undefined;
  /** The parts this field adds to the request (none when empty). */
  parts(): Array<[string, string | File]>;
}

let sequence = 0;
const uniqueId = (name: string) => `field-${name}-${++sequence}`;

function describedBy(control: HTMLElement, ...ids: string[]): void {
  control.setAttribute('aria-describedby', ids.join(' '));
}

function errorElement(id: string): HTMLElement {
  const error = element('p', { className: 'field-error', id: `${id}-error`, hidden: true });
  return error;
}

/** An image parameter: a file (picked or dropped) or a URL, with a preview of the file. */
function imageField(name: string, image: ImageField, required: boolean, onPrimary: (file?: File) => void): { field: Field; node: HTMLElement } {
  const id = uniqueId(name);
  const fileInput = element('input', { type: 'file', id: `${id}-file`, accept: image.formats.map((format) => ACCEPT[format] ?? '').filter(Boolean).join(',') });
  const urlInput = element('input', { type: 'url', id: `${id}-url`, placeholder: 'https://…', autocomplete: 'off', spellcheck: false });
  const hint = element('p', { className: 'hint', id: `${id}-hint`, textContent: limitsText(image) });
  const error = errorElement(id);
  const preview = element('img', { className: 'drop-preview', alt: '', hidden: true });
  const chosen = element('span', { className: 'drop-chosen' });
  describedBy(fileInput, hint.id, error.id);
  describedBy(urlInput, hint.id, error.id);
  let previewUrl: string | undefined;

  const showFile = () => {
    const file = fileInput.files?.[0];
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = file ? URL.createObjectURL(file) : undefined;
    preview.hidden = !previewUrl;
    if (previewUrl) preview.src = previewUrl;
    chosen.textContent = file ? `${file.name} · ${describeBytes(file.size)}` : '';
    if (file) urlInput.value = '';
    if (image.role === 'primary') onPrimary(file);
  };
  fileInput.addEventListener('change', showFile);
  urlInput.addEventListener('input', () => {
    if (urlInput.value && fileInput.files?.length) {
      fileInput.value = '';
      showFile();
    }
  });

  const zone = element('div', { className: 'drop-zone' }, [
    element('label', { htmlFor: fileInput.id, className: 'drop-label' }, [element('strong', { textContent: 'Choose an image' }), ' or drop it here']),
    fileInput,
    chosen,
    preview,
  ]);
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    const files = event.dataTransfer?.files;
    if (files && files.length > 0) {
      fileInput.files = files;
      fileInput.dispatchEvent(new Event('change', { bubbles: true }));
    }
  });

  const node = element('fieldset', { className: 'field image-field' }, [
    element('legend', { textContent: `${image.purpose ?? (image.role === 'primary' ? 'Image' : image.role === 'mask' ? 'Mask' : 'Replacement image')} (${name})${required ? '' : ', optional'}` }),
    zone,
    element('label', { htmlFor: urlInput.id, className: 'url-label', textContent: 'or an image URL' }),
    urlInput,
    hint,
    error,
  ]);
  const field: Field = {
    name,
    control: fileInput,
    error,
    check() {
      const file = fileInput.files?.[0];
      const url = urlInput.value.trim();
      fileInput.removeAttribute('aria-invalid');
      urlInput.removeAttribute('aria-invalid');
      // The error is shown on what was given: the URL field when only a URL was, the file picker otherwise.
      field.control = !file && url ? urlInput : fileInput;
      if (!file && !url) return required ? `Choose an image file or give its URL (${name}).` : undefined;
      if (file) {
        const format = MIME_FORMATS[file.type];
        if (file.type && !(format && image.formats.includes(format))) return `${file.name} is ${file.type}; this tool takes ${listOf(image.formats.map((entry) => FORMAT_NAMES[entry] ?? entry))}.`;
        if (file.size > image.maxBytes) return `${file.name} is ${describeBytes(file.size)}; the limit is ${describeBytes(image.maxBytes)}.`;
        if (file.size === 0) return `${file.name} is empty.`;
        return undefined;
      }
      if (!urlInput.checkValidity() || !/^https?:\/\//i.test(url)) return 'Give an http(s) URL, such as https://example.com/photo.jpg.';
      return undefined;
    },
    parts() {
      const file = fileInput.files?.[0];
      if (file) return [[name, file]];
      const url = urlInput.value.trim();
      return url ? [[name, url]] : [];
    },
  };
  return { field, node };
}

/** A parameter that is not an image: a select for an enum, a checkbox for a boolean, a number or a text field. */
function valueField(name: string, schema: JsonSchema, required: boolean): { field: Field; node: HTMLElement } {
  const id = uniqueId(name);
  const hint = schema.description ? element('p', { className: 'hint', id: `${id}-hint`, textContent: schema.description }) : undefined;
  const error = errorElement(id);
  const labelText = `${name}${required ? '' : ', optional'}`;
  let control: HTMLInputElement | HTMLSelectElement;
  let read: () => string;

  if (schema.enum) {
    const select = element('select', { id }, [
      ...(required ? [] : [element('option', { value: '', textContent: '(default)' })]),
      ...schema.enum.map((value) => element('option', { value: String(value), textContent: String(value) })),
    ]);
    control = select;
    read = () => select.value;
  } else if (schema.type === 'boolean') {
    const checkbox = element('input', { type: 'checkbox', id });
    control = checkbox;
    read = () => (checkbox.checked ? 'true' : '');
  } else if (schema.type === 'integer' || schema.type === 'number') {
    const input = element('input', { type: 'number', id, inputMode: schema.type === 'integer' ? 'numeric' : 'decimal', step: schema.type === 'integer' ? '1' : 'any' });
    if (schema.minimum !== undefined) input.min = String(schema.minimum);
    if (schema.maximum !== undefined) input.max = String(schema.maximum);
    control = input;
    read = () => input.value.trim();
  } else {
    const input = element('input', { type: 'text', id, autocomplete: 'off', spellcheck: false });
    if (schema.pattern) input.pattern = schema.pattern;
    control = input;
    read = () => input.value.trim();
  }
  describedBy(control, ...(hint ? [hint.id] : []), error.id);
  const label = element('label', { htmlFor: id, textContent: labelText });
  const node =
    schema.type === 'boolean' && !schema.enum
      ? element('div', { className: 'field field-check' }, [control, label, ...(hint ? [hint] : []), error])
      : element('div', { className: 'field' }, [label, control, ...(hint ? [hint] : []), error]);

  const field: Field = {
    name,
    control,
    error,
    check() {
      const value = read();
      if (!value) return required ? `${name} is required.` : undefined;
      if (schema.enum && !schema.enum.map(String).includes(value)) return `${name} must be one of ${schema.enum.join(', ')}.`;
      if (schema.type === 'integer' || schema.type === 'number') {
        const number = Number(value);
        if (!Number.isFinite(number) || (control as HTMLInputElement).validity.badInput) return `${name} must be a number.`;
        if (schema.type === 'integer' && !Number.isInteger(number)) return `${name} must be a whole number.`;
        if (schema.minimum !== undefined && number < schema.minimum) return `${name} must be at least ${schema.minimum}.`;
        if (schema.maximum !== undefined && number > schema.maximum) return `${name} must be at most ${schema.maximum}.`;
      }
      if (schema.type === 'string' || (!schema.type && !schema.enum)) {
        if (schema.minLength !== undefined && value.length < schema.minLength) return `${name} must be at least ${schema.minLength} characters.`;
        if (schema.maxLength !== undefined && value.length > schema.maxLength) return `${name} must be at most ${schema.maxLength} characters.`;
        if (schema.pattern && !new RegExp(schema.pattern).test(value)) return `${name} is not in the expected form${schema.description ? `: ${schema.description}` : ''}.`;
      }
      return undefined;
    },
    parts() {
      const value = read();
      return value ? [[name, value]] : [];
    },
  };
  return { field, node };
}

export interface SchemaForm {
  /** The fields, to place in a form. */
  nodes: HTMLElement[];
  /** Checks every field, marks and announces the errors, focuses the first; the values when all are fine. */
  validate(summary: HTMLElement): FormValues | undefined;
}

/**
 * The try-it form's fields, generated from the tool's input JSON Schema: image parameters as a file picker with drag
 * and drop or a URL, enums as selects, booleans as checkboxes, numbers with their bounds; checked here (required,
 * enum, minimum/maximum, pattern, the image limits) before anything is sent.
 */
export function schemaForm(schema: JsonSchema, images: Record<string, ImageField>): SchemaForm {
  const required = new Set(schema.required ?? []);
  const fields: Field[] = [];
  const nodes: HTMLElement[] = [];
  const options: HTMLElement[] = [];
  let primaryFile: File | undefined;
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (HIDDEN.has(name)) continue;
    const image = images[name];
    const built = image ? imageField(name, image, required.has(name), (file) => (primaryFile = file)) : valueField(name, property, required.has(name));
    fields.push(built.field);
    (OUTPUT_OPTIONS.has(name) ? options : nodes).push(built.node);
  }
  if (options.length > 0) nodes.push(element('details', { className: 'output-options' }, [element('summary', { textContent: 'Output options' }), ...options]));

  for (const field of fields) {
    const clear = () => {
      field.error.hidden = true;
      field.error.textContent = '';
      field.control.removeAttribute('aria-invalid');
    };
    field.control.closest('.field')?.addEventListener('input', clear);
    field.control.closest('.field')?.addEventListener('change', clear);
  }

  return {
    nodes,
    validate(summary) {
      const problems: Array<{ field: Field; message: string }> = [];
      for (const field of fields) {
        const message = field.check();
        field.error.hidden = !message;
        field.error.textContent = message ?? '';
        if (message) {
          field.control.setAttribute('aria-invalid', 'true');
          problems.push({ field, message });
        } else field.control.removeAttribute('aria-invalid');
      }
      if (problems.length > 0) {
        const list = element(
          'ul',
          {},
          problems.map(({ field, message }) => {
            const link = element('a', { href: `#${field.control.id}`, textContent: message });
            link.addEventListener('click', (event) => {
              event.preventDefault();
              field.control.focus();
            });
            return element('li', {}, [link]);
          }),
        );
        summary.replaceChildren(element('strong', { textContent: problems.length === 1 ? 'Fix this field before running:' : `Fix these ${problems.length} fields before running:` }), list);
        summary.hidden = false;
        const open = problems[0].field.control.closest('details');
        if (open) open.open = true;
        problems[0].field.control.focus();
        return undefined;
      }
      summary.hidden = true;
      summary.replaceChildren();
      return { parts: fields.flatMap((field) => field.parts()), takesImages: Object.keys(images).length > 0, ...(primaryFile ? { primaryFile } : {}) };
    },
  };
}
