import { element } from './dom.js';

/** Images as URLs the page may load: object URLs or data: URLs, never a remote address (the MCP App has no network). */
export interface CompareImages {
  /** The input photo. Absent: the result is shown alone. */
  before?: string;
  /** The result image (a cutout, a mask or a composite). */
  after: string;
  /** The result's MIME type and size in bytes, when known (shown, and used to name downloads). */
  mimeType?: string;
  bytes?: number;
}

export interface CompareOptions {
  /** Backgrounds to try the cutout on, as the tool's `background` option spells them: transparent, white, black, #rrggbb. */
  backgrounds: readonly string[];
  /** Also a colour picker for any #rrggbb background. */
  customBackground?: boolean;
  /** Download file name without extension. */
  downloadName: string;
}

export interface CompareView {
  /** The divider's position, 0 (all result) to 100 (all input). */
  readonly position: number;
  destroy(): void;
}

const STEP = 5;
const PAGE_STEP = 20;
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/webp': 'webp', 'image/jpeg': 'jpg' };

const describeBytes = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`);
const backgroundLabel = (background: string) => (background.startsWith('#') ? background : background[0].toUpperCase() + background.slice(1));

async function loadImage(url: string): Promise<HTMLImageElement> {
  const image = new Image();
  image.decoding = 'async';
  image.src = url;
  await image.decode();
  return image;
}

/**
 * Whether any pixel is see-through: only a cutout has a mask to show and a background to change (a mask result, or a
 * PNG without alpha, has neither). Read from a copy at most 256 px wide; a canvas that cannot be read counts as alpha.
 */
function hasTransparency(image: HTMLImageElement): boolean {
  const scale = Math.min(1, 256 / Math.max(image.naturalWidth, image.naturalHeight));
  const canvas = element('canvas', { width: Math.max(1, Math.round(image.naturalWidth * scale)), height: Math.max(1, Math.round(image.naturalHeight * scale)) });
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  try {
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    for (let index = 3; index < data.length; index += 4) if (data[index] < 255) return true;
    return false;
  } catch {
    return true;
  }
}

/** The result's alpha as a black-and-white mask (white: kept), for results that are cutouts. */
function maskOf(image: HTMLImageElement): string {
  const canvas = element('canvas', { width: image.naturalWidth, height: image.naturalHeight });
  const context = canvas.getContext('2d')!;
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  const { data } = pixels;
  for (let index = 0; index < data.length; index += 4) {
    const alpha = data[index + 3];
    data[index] = data[index + 1] = data[index + 2] = alpha;
    data[index + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
  return canvas.toDataURL('image/png');
}

/** The result flattened onto a background colour, as a PNG data URL (the download of what is shown). */
function composite(image: HTMLImageElement, background: string): string {
  const canvas = element('canvas', { width: image.naturalWidth, height: image.naturalHeight });
  const context = canvas.getContext('2d')!;
  if (background !== 'transparent') {
    context.fillStyle = background;
    context.fillRect(0, 0, canvas.width, canvas.height);
  }
  context.drawImage(image, 0, 0);
  return canvas.toDataURL('image/png');
}

/**
 * A result beside its input: the result over a checkerboard, the input revealed by a divider the pointer drags and
 * the arrow keys move (a `slider`), a mask toggle, backgrounds to try, size and format, and downloads.
 */
export async function renderCompare(root: HTMLElement, images: CompareImages, options: CompareOptions): Promise<CompareView> {
  const result = await loadImage(images.after);
  const hasAlpha = images.mimeType !== 'image/jpeg' && hasTransparency(result);
  let position = images.before ? 50 : 0;
  let background = 'transparent';
  let showMask = false;
  let mask: string | undefined;

  const afterImage = element('img', { className: 'compare-after', alt: 'Result', src: images.after });
  const beforeImage = images.before ? element('img', { className: 'compare-before', alt: 'Input photo', src: images.before }) : undefined;
  const divider = element('div', { className: 'compare-divider', tabIndex: 0 });
  divider.setAttribute('role', 'slider');
  divider.setAttribute('aria-label', 'Before and after divider');
  divider.setAttribute('aria-valuemin', '0');
  divider.setAttribute('aria-valuemax', '100');
  const stage = element('div', { className: 'compare-stage checkerboard' }, [afterImage, ...(beforeImage ? [beforeImage, divider] : [])]);
  stage.style.aspectRatio = `${result.naturalWidth} / ${result.naturalHeight}`;

  const place = (next: number) => {
    position = Math.min(100, Math.max(0, Math.round(next)));
    if (beforeImage) beforeImage.style.clipPath = `inset(0 ${100 - position}% 0 0)`;
    divider.style.left = `${position}%`;
    divider.setAttribute('aria-valuenow', String(position));
    divider.setAttribute('aria-valuetext', `${position}% input, ${100 - position}% result`);
  };
  place(position);

  divider.addEventListener('keydown', (event) => {
    const moves: Record<string, number> = { ArrowLeft: -STEP, ArrowDown: -STEP, ArrowRight: STEP, ArrowUp: STEP, PageDown: -PAGE_STEP, PageUp: PAGE_STEP };
    if (event.key in moves) place(position + moves[event.key]);
    else if (event.key === 'Home') place(0);
    else if (event.key === 'End') place(100);
    else return;
    event.preventDefault();
  });
  const dragTo = (event: PointerEvent) => {
    const box = stage.getBoundingClientRect();
    place(((event.clientX - box.left) / box.width) * 100);
  };
  stage.addEventListener('pointerdown', (event) => {
    if (!beforeImage) return;
    stage.setPointerCapture(event.pointerId);
    dragTo(event);
    divider.focus();
  });
  stage.addEventListener('pointermove', (event) => {
    if (stage.hasPointerCapture(event.pointerId)) dragTo(event);
  });

  const maskToggle = element('input', { type: 'checkbox', id: `${options.downloadName}-mask` });
  maskToggle.disabled = !hasAlpha;
  maskToggle.addEventListener('change', () => {
    showMask = maskToggle.checked;
    if (showMask) mask ??= maskOf(result);
    afterImage.src = showMask && mask ? mask : images.after;
    stage.classList.toggle('checkerboard', !showMask && background === 'transparent');
  });
  const maskControl = element('label', { className: 'compare-toggle' }, [maskToggle, ' Show mask']);

  const backgroundGroup = element('div', { className: 'compare-backgrounds' });
  backgroundGroup.setAttribute('role', 'radiogroup');
  backgroundGroup.setAttribute('aria-label', 'Background');
  const useBackground = (choice: string) => {
    background = choice;
    stage.style.backgroundColor = choice === 'transparent' ? '' : choice;
    stage.classList.toggle('checkerboard', choice === 'transparent' && !showMask);
  };
  for (const choice of hasAlpha ? options.backgrounds : []) {
    const radio = element('input', { type: 'radio', name: `${options.downloadName}-background`, value: choice, checked: choice === 'transparent' });
    radio.addEventListener('change', () => useBackground(choice));
    backgroundGroup.append(element('label', { className: 'compare-background' }, [radio, ` ${backgroundLabel(choice)}`]));
  }
  if (hasAlpha && options.customBackground) {
    const radio = element('input', { type: 'radio', name: `${options.downloadName}-background`, value: 'custom' });
    const picker = element('input', { type: 'color', className: 'compare-colour', value: '#4f8a5b' });
    picker.setAttribute('aria-label', 'Custom background colour');
    radio.addEventListener('change', () => useBackground(picker.value));
    picker.addEventListener('input', () => {
      radio.checked = true;
      useBackground(picker.value);
    });
    backgroundGroup.append(element('label', { className: 'compare-background' }, [radio, ' Custom']), picker);
  }

  const extension = EXTENSIONS[images.mimeType ?? 'image/png'] ?? 'png';
  const format = extension.toUpperCase();
  const facts = [`${result.naturalWidth} × ${result.naturalHeight}`, format, ...(images.bytes ? [describeBytes(images.bytes)] : [])].join(' · ');
  const originalDownload = element('a', { className: 'button', href: images.after, download: `${options.downloadName}.${extension}`, textContent: `Download ${format}` });
  const shownDownload = element('a', { className: 'button', href: images.after, download: `${options.downloadName}-background.png`, textContent: 'Download with background' });
  // Flattened when asked for, not on every background change: a colour picker changes it many times a second.
  shownDownload.addEventListener('click', () => {
    shownDownload.href = background === 'transparent' ? images.after : composite(result, background);
  });

  const controls = element('div', { className: 'compare-controls' }, [
    ...(hasAlpha ? [maskControl, backgroundGroup] : []),
    element('p', { className: 'compare-facts', textContent: facts }),
    element('div', { className: 'compare-downloads' }, [originalDownload, ...(hasAlpha && (options.backgrounds.length > 1 || options.customBackground) ? [shownDownload] : [])]),
  ]);
  const figure = element('figure', { className: 'compare' }, [stage, controls]);
  root.replaceChildren(figure);

  return {
    get position() {
      return position;
    },
    destroy: () => figure.remove(),
  };
}
