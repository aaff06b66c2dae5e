/**
 * The emulator's "models": small, deterministic classical algorithms that compute real masks from
 * real pixels, so a test can check geometry (IoU, colours, bounding boxes) of what comes back.
 * They are not Alibaba's networks; they do well on the synthetic images tests draw
 * (a subject on a plain or gently varying background, a sky at the top of a scene).
 *
 * A Mask is one byte per pixel, 0 = background … 255 = foreground (soft values on edges).
 */
import type { Raster } from './images.js';

export type Mask = Uint8Array;

export interface Box { x: number; y: number; width: number; height: number }
export interface Component extends Box { area: number; label: number }

function colourDistance(d: Buffer, i: number, r: number, g: number, b: number): number {
  const o = i * 4;
  const dr = d[o] - r;
  const dg = d[o + 1] - g;
  const db = d[o + 2] - b;
  return Math.sqrt(dr * dr + dg * dg + db * db);
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function borderIndices(w: number, h: number): number[] {
  const out: number[] = [];
  for (let x = 0; x < w; x++) { out.push(x); if (h > 1) out.push((h - 1) * w + x); }
  for (let y = 1; y < h - 1; y++) { out.push(y * w); if (w > 1) out.push(y * w + w - 1); }
  return out;
}

/**
 * Salient-subject mask: the background is what is connected to the image border and close in
 * colour to the border's median colour; everything else is the subject. Images that already
 * carry transparency use their alpha channel. Edge pixels get a soft alpha.
 */
export function foregroundMask(r: Raster): Mask {
  const { width: w, height: h, data } = r;
  const n = w * h;
  if (r.hasAlpha) {
    let transparent = 0;
    for (let i = 0; i < n; i++) if (data[i * 4 + 3] < 128) transparent++;
    if (transparent > n * 0.005) {
      const m = new Uint8Array(n);
      for (let i = 0; i < n; i++) m[i] = data[i * 4 + 3]!;
      return m;
    }
  }
  const border = borderIndices(w, h);
  const br = median(border.map((i) => data[i * 4]));
  const bg = median(border.map((i) => data[i * 4 + 1]));
  const bb = median(border.map((i) => data[i * 4 + 2]));
  const dist = new Float32Array(n);
  for (let i = 0; i < n; i++) dist[i] = colourDistance(data, i, br, bg, bb);
  const borderDist = border.map((i) => dist[i]).sort((a, b) => a - b);
  const noise = borderDist[Math.floor(borderDist.length * 0.9)] ?? 0;
  const threshold = Math.max(30, Math.min(120, noise * 1.5 + 20));

  const background = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (const i of border) {
    if (dist[i] < threshold && !background[i]) { background[i] = 1; queue[tail++] = i; }
  }
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    const y = (i - x) / w;
    const visit = (j: number): void => {
      if (!background[j] && dist[j] < threshold) { background[j] = 1; queue[tail++] = j; }
    };
    if (x > 0) visit(i - 1);
    if (x < w - 1) visit(i + 1);
    if (y > 0) visit(i - w);
    if (y < h - 1) visit(i + w);
  }
  const mask = new Uint8Array(n);
  const half = threshold / 2;
  for (let i = 0; i < n; i++) {
    if (!background[i]) { mask[i] = 255; continue; }
    // soft edge: background pixels that touch the subject and are already part-way to its colour
    const d = dist[i];
    if (d <= half) continue;
    const x = i % w;
    const y = (i - x) / w;
    const touches = (x > 0 && !background[i - 1]) || (x < w - 1 && !background[i + 1]) || (y > 0 && !background[i - w]) || (y < h - 1 && !background[i + w]);
    if (touches) mask[i] = Math.round(((d - half) / half) * 127);
  }
  return mask;
}

/**
 * Sky mask: region grown from the top row through small colour steps (a sky is a smooth
 * gradient) while staying within a broad distance of the top row's median colour.
 */
export function skyMask(r: Raster): Mask {
  const { width: w, height: h, data } = r;
  const n = w * h;
  const top: number[] = [];
  for (let x = 0; x < w; x++) top.push(x);
  const tr = median(top.map((i) => data[i * 4]));
  const tg = median(top.map((i) => data[i * 4 + 1]));
  const tb = median(top.map((i) => data[i * 4 + 2]));
  const globalLimit = 140;
  const stepLimit = 24;
  const mask = new Uint8Array(n);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (const i of top) {
    if (colourDistance(data, i, tr, tg, tb) < 60) { mask[i] = 255; queue[tail++] = i; }
  }
  while (head < tail) {
    const i = queue[head++];
    const x = i % w;
    const y = (i - x) / w;
    const o = i * 4;
    const visit = (j: number): void => {
      if (mask[j]) return;
      if (colourDistance(data, j, data[o], data[o + 1], data[o + 2]) >= stepLimit) return;
      if (colourDistance(data, j, tr, tg, tb) >= globalLimit) return;
      mask[j] = 255;
      queue[tail++] = j;
    };
    if (x > 0) visit(i - 1);
    if (x < w - 1) visit(i + 1);
    if (y > 0) visit(i - w);
    if (y < h - 1) visit(i + w);
  }
  return mask;
}

/** Skin mask by the classic YCbCr chroma box (77 ≤ Cb ≤ 127, 133 ≤ Cr ≤ 173). */
export function skinMask(r: Raster): Mask {
  const { width: w, height: h, data } = r;
  const n = w * h;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    if (data[o + 3] < 128) continue;
    const R = data[o]; const G = data[o + 1]; const B = data[o + 2];
    const cb = 128 - 0.168736 * R - 0.331264 * G + 0.5 * B;
    const cr = 128 + 0.5 * R - 0.418688 * G - 0.081312 * B;
    if (cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173) mask[i] = 255;
  }
  return mask;
}

/** 8-connected components of mask ≥ 128, largest first, dropping those under minArea pixels. */
export function components(mask: Mask, w: number, h: number, minArea: number): { labels: Int32Array; list: Component[] } {
  const n = w * h;
  const labels = new Int32Array(n);
  const list: Component[] = [];
  const queue = new Int32Array(n);
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (labels[s] || mask[s] < 128) continue;
    next++;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    labels[s] = next;
    let minX = w; let minY = h; let maxX = -1; let maxY = -1; let area = 0;
    while (head < tail) {
      const i = queue[head++];
      const x = i % w;
      const y = (i - x) / w;
      area++;
      if (x < minX) minX = x; if (x > maxX) maxX = x;
      if (y < minY) minY = y; if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
          const j = yy * w + xx;
          if (!labels[j] && mask[j] >= 128) { labels[j] = next; queue[tail++] = j; }
        }
      }
    }
    list.push({ label: next, area, x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 });
  }
  return { labels, list: list.filter((c) => c.area >= minArea).sort((a, b) => b.area - a.area) };
}

/** Bounding box of mask ≥ 128 (soft edge included when > 0), or null if empty. */
export function boundingBox(mask: Mask, w: number, h: number): Box | null {
  let minX = w; let minY = h; let maxX = -1; let maxY = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask[y * w + x] > 0) {
        if (x < minX) minX = x; if (x > maxX) maxX = x;
        if (y < minY) minY = y; if (y > maxY) maxY = y;
      }
    }
  }
  return maxX < 0 ? null : { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

/** Distance (4-neighbour steps) of every pixel to the nearest boundary of the binary mask, capped at limit+1. */
function boundaryDistance(bin: Uint8Array, w: number, h: number, limit: number): Uint16Array {
  const n = w * h;
  const dist = new Uint16Array(n).fill(limit + 1);
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const x = i % w;
    const y = (i - x) / w;
    const v = bin[i];
    if ((x > 0 && bin[i - 1] !== v) || (x < w - 1 && bin[i + 1] !== v) || (y > 0 && bin[i - w] !== v) || (y < h - 1 && bin[i + w] !== v)) {
      dist[i] = 0;
      queue[tail++] = i;
    }
  }
  while (head < tail) {
    const i = queue[head++];
    const d = dist[i] + 1;
    if (d > limit) continue;
    const x = i % w;
    const y = (i - x) / w;
    const visit = (j: number): void => { if (dist[j] > d) { dist[j] = d; queue[tail++] = j; } };
    if (x > 0) visit(i - 1);
    if (x < w - 1) visit(i + 1);
    if (y > 0) visit(i - w);
    if (y < h - 1) visit(i + w);
  }
  return dist;
}

/**
 * RefineMask: keep the coarse mask away from its boundary; inside a band around the boundary,
 * re-decide every pixel by its colour distance to the subject's and the background's mean
 * colours (measured outside the band), giving a soft, image-aligned edge.
 */
export function refineMask(r: Raster, coarse: Mask): Mask {
  const { width: w, height: h, data } = r;
  const n = w * h;
  const bin = new Uint8Array(n);
  for (let i = 0; i < n; i++) bin[i] = coarse[i] >= 128 ? 1 : 0;
  const band = Math.max(2, Math.round(Math.min(w, h) * 0.03));
  const dist = boundaryDistance(bin, w, h, band);
  const sums = [[0, 0, 0, 0], [0, 0, 0, 0]] as [number[], number[]];
  for (let i = 0; i < n; i++) {
    if (dist[i] <= band) continue;
    const s = sums[bin[i]];
    s[0] += data[i * 4]; s[1] += data[i * 4 + 1]; s[2] += data[i * 4 + 2]; s[3] += 1;
  }
  const out = new Uint8Array(n);
  const [bgSum, fgSum] = sums;
  if (!bgSum[3] || !fgSum[3]) {
    for (let i = 0; i < n; i++) out[i] = bin[i] ? 255 : 0;
    return out;
  }
  const mean = (s: number[]): [number, number, number] => [s[0] / s[3], s[1] / s[3], s[2] / s[3]];
  const fg = mean(fgSum);
  const bg = mean(bgSum);
  for (let i = 0; i < n; i++) {
    if (dist[i] > band) { out[i] = bin[i] ? 255 : 0; continue; }
    const dF = colourDistance(data, i, fg[0], fg[1], fg[2]);
    const dB = colourDistance(data, i, bg[0], bg[1], bg[2]);
    out[i] = dF + dB === 0 ? (bin[i] ? 255 : 0) : Math.round((dB / (dF + dB)) * 255);
  }
  return out;
}

/**
 * ParseFace: the face is the largest subject component; the parts are placed by standard facial
 * proportions inside its bounding box (eyes at ~42 % height, nose ~58 %, lips ~75–80 %), each
 * clipped to the face; `skin` is the face minus the parts. Names and required set per reference.
 * "l_" is the person's left, i.e. the image's right side.
 */
export function faceParts(faceMask: Mask, w: number, h: number): Record<string, Mask> | null {
  const { labels, list } = components(faceMask, w, h, Math.max(16, Math.round(w * h * 0.001)));
  const face = list[0];
  if (!face) return null;
  const inFace = (i: number): boolean => labels[i] === face.label;
  const parts: Array<[string, number, number, number, number]> = [
    ['l_brow', 0.68, 0.33, 0.12, 0.03],
    ['r_brow', 0.32, 0.33, 0.12, 0.03],
    ['l_eye', 0.67, 0.42, 0.09, 0.04],
    ['r_eye', 0.33, 0.42, 0.09, 0.04],
    ['nose', 0.5, 0.58, 0.08, 0.1],
    ['u_lip', 0.5, 0.745, 0.14, 0.03],
    ['l_lip', 0.5, 0.8, 0.13, 0.035],
  ];
  const result: Record<string, Mask> = {};
  const taken = new Uint8Array(w * h);
  for (const [name, fx, fy, frx, fry] of parts) {
    const cx = face.x + fx * face.width;
    const cy = face.y + fy * face.height;
    const rx = Math.max(1, frx * face.width);
    const ry = Math.max(1, fry * face.height);
    const m = new Uint8Array(w * h);
    const y0 = Math.max(0, Math.floor(cy - ry)); const y1 = Math.min(h - 1, Math.ceil(cy + ry));
    const x0 = Math.max(0, Math.floor(cx - rx)); const x1 = Math.min(w - 1, Math.ceil(cx + rx));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * w + x;
        const ex = (x + 0.5 - cx) / rx;
        const ey = (y + 0.5 - cy) / ry;
        if (ex * ex + ey * ey <= 1 && inFace(i)) { m[i] = 255; taken[i] = 1; }
      }
    }
    result[name] = m;
  }
  const skin = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) if (inFace(i) && !taken[i]) skin[i] = 255;
  return { skin, ...result };
}
