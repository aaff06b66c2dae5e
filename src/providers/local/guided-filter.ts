/**
 * Edge-aware mask refinement: the colour guided filter of He, Sun and Tang ("Guided Image
 * Filtering", ECCV 2010 / TPAMI 2013), in its fast subsampled form (He and Sun, "Fast Guided
 * Filter", 2015). Within every window the output is a linear function of the guide's RGB fitted
 * to the input mask, so mask edges move onto the image's colour edges. Box filters use running
 * sums, so the cost does not depend on the radius. Plain typed arrays, no dependencies.
 */

export interface GuidedFilterOptions {
  /** Window radius in full-resolution pixels. */
  radius: number;
  /** Regularisation on 0..1 intensities; smaller follows the guide's edges more closely. */
  epsilon: number;
  /** Coefficients are computed on an image this many times smaller (1 = exact filter); default from `chooseSubsample`. */
  subsample?: number;
}

/**
 * The fast guided filter's subsampling factor: at most a quarter of the radius (the paper's quality
 * bound), and no more than needed to bring the long side to about 384 px.
 */
export function chooseSubsample(radius: number, width: number, height: number): number {
  return Math.max(1, Math.min(Math.floor(radius / 4), Math.ceil(Math.max(width, height) / 384)));
}

/**
 * Mean over the (2r+1)^2 window around each pixel, the window clipped at the borders
 * (divided by the number of pixels actually inside): running sums along rows, then along columns.
 */
export function boxMean(src: Float32Array, width: number, height: number, r: number, out = new Float32Array(width * height)): Float32Array {
  const rows = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * width;
    let sum = 0;
    for (let x = 0; x < Math.min(r, width); x += 1) sum += src[row + x];
    for (let x = 0; x < width; x += 1) {
      if (x + r < width) sum += src[row + x + r];
      if (x - r - 1 >= 0) sum -= src[row + x - r - 1];
      rows[row + x] = sum / (Math.min(width - 1, x + r) - Math.max(0, x - r) + 1);
    }
  }
  const sums = new Float64Array(width);
  for (let y = 0; y < Math.min(r, height); y += 1) {
    for (let x = 0; x < width; x += 1) sums[x] += rows[y * width + x];
  }
  for (let y = 0; y < height; y += 1) {
    const add = y + r < height ? (y + r) * width : -1;
    const remove = y - r - 1 >= 0 ? (y - r - 1) * width : -1;
    const count = Math.min(height - 1, y + r) - Math.max(0, y - r) + 1;
    const row = y * width;
    for (let x = 0; x < width; x += 1) {
      let sum = sums[x];
      if (add >= 0) sum += rows[add + x];
      if (remove >= 0) sum -= rows[remove + x];
      sums[x] = sum;
      out[row + x] = sum / count;
    }
  }
  return out;
}

/** Area-average downsampling of 0..255 bytes (scaled to 0..1) by an integer factor; partial edge blocks averaged too. */
function downsampleBytes(
  src: Uint8Array,
  channels: number,
  channel: number,
  width: number,
  height: number,
  factor: number,
): Float32Array {
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const out = new Float32Array(w * h);
  const cellOf = new Int32Array(width);
  for (let x = 0; x < width; x += 1) cellOf[x] = Math.floor(x / factor);
  for (let y = 0; y < height; y += 1) {
    const cellRow = Math.floor(y / factor) * w;
    let p = y * width * channels + channel;
    for (let x = 0; x < width; x += 1, p += channels) out[cellRow + cellOf[x]] += src[p];
  }
  for (let cy = 0; cy < h; cy += 1) {
    const rowsIn = Math.min(factor, height - cy * factor);
    for (let cx = 0; cx < w; cx += 1) {
      const colsIn = Math.min(factor, width - cx * factor);
      out[cy * w + cx] /= rowsIn * colsIn * 255;
    }
  }
  return out;
}

/** Bilinear interpolation weights from full-resolution positions to low-resolution cells (cell centres at (i + 0.5) * factor). */
function interpolationAxis(size: number, lowSize: number, factor: number) {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const t = new Float32Array(size);
  for (let x = 0; x < size; x += 1) {
    const f = Math.min(Math.max((x + 0.5) / factor - 0.5, 0), lowSize - 1);
    i0[x] = Math.floor(f);
    i1[x] = Math.min(i0[x] + 1, lowSize - 1);
    t[x] = f - i0[x];
  }
  return { i0, i1, t };
}

/**
 * A guided filter bound to one guide image and one setting: everything that depends only on the
 * guide (its window means and inverse covariances) is computed once, so filtering several masks,
 * or one mask several times, costs only the mask's share.
 */
export function createGuidedFilter(rgb: Uint8Array, width: number, height: number, options: GuidedFilterOptions): (mask: Uint8Array) => Uint8Array {
  const n = width * height;
  if (rgb.length !== n * 3) throw new RangeError('guidedFilter: guide size does not match width x height');
  const s = Math.max(1, Math.floor(options.subsample ?? chooseSubsample(options.radius, width, height)));
  const eps = options.epsilon;
  const w = Math.ceil(width / s);
  const h = Math.ceil(height / s);
  const m = w * h;
  const r = Math.max(1, Math.round(options.radius / s));
  const mean = (plane: Float32Array) => boxMean(plane, w, h, r);
  const product = (a: Float32Array, b: Float32Array) => {
    const out = new Float32Array(m);
    for (let i = 0; i < m; i += 1) out[i] = a[i] * b[i];
    return out;
  };

  const R = downsampleBytes(rgb, 3, 0, width, height, s);
  const G = downsampleBytes(rgb, 3, 1, width, height, s);
  const B = downsampleBytes(rgb, 3, 2, width, height, s);
  const mR = mean(R);
  const mG = mean(G);
  const mB = mean(B);
  // Inverse of (Sigma + eps*I) per window, symmetric: 6 distinct entries, already divided by the determinant.
  const inverse = [0, 1, 2, 3, 4, 5].map(() => new Float32Array(m));
  {
    const vRR = mean(product(R, R));
    const vRG = mean(product(R, G));
    const vRB = mean(product(R, B));
    const vGG = mean(product(G, G));
    const vGB = mean(product(G, B));
    const vBB = mean(product(B, B));
    const [k11, k12, k13, k22, k23, k33] = inverse;
    for (let i = 0; i < m; i += 1) {
      const mr = mR[i];
      const mg = mG[i];
      const mb = mB[i];
      const s11 = vRR[i] - mr * mr + eps;
      const s12 = vRG[i] - mr * mg;
      const s13 = vRB[i] - mr * mb;
      const s22 = vGG[i] - mg * mg + eps;
      const s23 = vGB[i] - mg * mb;
      const s33 = vBB[i] - mb * mb + eps;
      const i11 = s22 * s33 - s23 * s23;
      const i12 = s13 * s23 - s12 * s33;
      const i13 = s12 * s23 - s13 * s22;
      const i22 = s11 * s33 - s13 * s13;
      const i23 = s13 * s12 - s11 * s23;
      const i33 = s11 * s22 - s12 * s12;
      const det = s11 * i11 + s12 * i12 + s13 * i13;
      k11[i] = i11 / det;
      k12[i] = i12 / det;
      k13[i] = i13 / det;
      k22[i] = i22 / det;
      k23[i] = i23 / det;
      k33[i] = i33 / det;
    }
  }
  const xs = interpolationAxis(width, w, s);
  const ys = interpolationAxis(height, h, s);

  return (mask) => {
    if (mask.length !== n) throw new RangeError('guidedFilter: mask size does not match width x height');
    const P = downsampleBytes(mask, 1, 0, width, height, s);
    const mP = mean(P);
    const mRP = mean(product(R, P));
    const mGP = mean(product(G, P));
    const mBP = mean(product(B, P));
    const [k11, k12, k13, k22, k23, k33] = inverse;
    const aR = new Float32Array(m);
    const aG = new Float32Array(m);
    const aB = new Float32Array(m);
    const b = new Float32Array(m);
    for (let i = 0; i < m; i += 1) {
      const mp = mP[i];
      const cR = mRP[i] - mR[i] * mp;
      const cG = mGP[i] - mG[i] * mp;
      const cB = mBP[i] - mB[i] * mp;
      const ar = k11[i] * cR + k12[i] * cG + k13[i] * cB;
      const ag = k12[i] * cR + k22[i] * cG + k23[i] * cB;
      const ab = k13[i] * cR + k23[i] * cG + k33[i] * cB;
      aR[i] = ar;
      aG[i] = ag;
      aB[i] = ab;
      b[i] = mp - ar * mR[i] - ag * mG[i] - ab * mB[i];
    }
    const maR = mean(aR);
    const maG = mean(aG);
    const maB = mean(aB);
    const mb = mean(b);

    // q = mean(a) . I + mean(b) at full resolution, the coefficients bilinearly upsampled.
    const out = new Uint8Array(n);
    for (let y = 0; y < height; y += 1) {
      const row0 = ys.i0[y] * w;
      const row1 = ys.i1[y] * w;
      const ty = ys.t[y];
      for (let x = 0; x < width; x += 1) {
        const p00 = row0 + xs.i0[x];
        const p01 = row0 + xs.i1[x];
        const p10 = row1 + xs.i0[x];
        const p11 = row1 + xs.i1[x];
        const tx = xs.t[x];
        const w00 = (1 - tx) * (1 - ty);
        const w01 = tx * (1 - ty);
        const w10 = (1 - tx) * ty;
        const w11 = tx * ty;
        const cr = maR[p00] * w00 + maR[p01] * w01 + maR[p10] * w10 + maR[p11] * w11;
        const cg = maG[p00] * w00 + maG[p01] * w01 + maG[p10] * w10 + maG[p11] * w11;
        const cb = maB[p00] * w00 + maB[p01] * w01 + maB[p10] * w10 + maB[p11] * w11;
        const cc = mb[p00] * w00 + mb[p01] * w01 + mb[p10] * w10 + mb[p11] * w11;
        const i = y * width + x;
        // The guide's bytes are 0..255; the coefficients were fitted on 0..1 intensities.
        const q = (cr * rgb[i * 3] + cg * rgb[i * 3 + 1] + cb * rgb[i * 3 + 2]) / 255 + cc;
        out[i] = q >= 1 ? 255 : q > 0 ? Math.round(q * 255) : 0;
      }
    }
    return out;
  };
}

/**
 * Filters `mask` (8-bit, width*height) guided by `rgb` (8-bit packed RGB, same size);
 * returns the refined mask as 8-bit values.
 */
export function guidedFilter(rgb: Uint8Array, mask: Uint8Array, width: number, height: number, options: GuidedFilterOptions): Uint8Array {
  return createGuidedFilter(rgb, width, height, options)(mask);
}
