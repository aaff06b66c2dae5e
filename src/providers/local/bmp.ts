/**
 * BMP decoder: sharp (libvips) cannot read BMP, but most imageseg Actions accept it.
 * Handles the Windows/OS2 headers, 1/4/8-bit palettes, 16/24/32-bit pixels, BI_BITFIELDS and
 * RLE4/RLE8, bottom-up and top-down rows. Returns 4-channel RGBA, 8 bits per channel.
 */
import { BI_ALPHABITFIELDS, BI_BITFIELDS, BI_RLE4, BI_RLE8, BI_RGB, readBmpHeader, type BmpHeader } from '../../images/bmp.js';

export interface DecodedBitmap {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

export class BmpError extends Error {}


interface Channel {
  mask: number;
  shift: number;
  max: number;
}

function channel(mask: number): Channel {
  mask >>>= 0;
  if (mask === 0) return { mask: 0, shift: 0, max: 0 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift += 1;
  return { mask, shift, max: mask >>> shift };
}

function readChannel(value: number, c: Channel): number {
  if (c.max === 0) return 0;
  return Math.round((((value & c.mask) >>> c.shift) * 255) / c.max);
}

export function decodeBmp(bytes: Buffer, maxPixels = 100_000_000): DecodedBitmap {
  let header: BmpHeader;
  try {
    header = readBmpHeader(bytes);
  } catch (error) {
    throw new BmpError((error as Error).message);
  }
  const { pixelOffset, headerSize, width, height, topDown, compression } = header;
  const bpp = header.bitsPerPixel;
  if (width * height > maxPixels) throw new BmpError(`BMP of ${width}x${height} pixels is too large`);
  // The OS/2 header keeps 3-byte palette entries and no colour count; the Windows ones 4 bytes and a count.
  const paletteEntrySize = headerSize === 12 ? 3 : 4;
  const colorsUsed = headerSize === 12 ? 0 : bytes.readUInt32LE(46);
  let masks: [number, number, number, number] | null = null;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const at = 14 + 40;
    const count = headerSize >= 56 || compression === BI_ALPHABITFIELDS ? 4 : 3;
    if (bytes.length < at + count * 4) throw new BmpError('truncated BMP bit masks');
    masks = [bytes.readUInt32LE(at), bytes.readUInt32LE(at + 4), bytes.readUInt32LE(at + 8), count === 4 ? bytes.readUInt32LE(at + 12) : 0];
  }

  // Palette: after the DIB header (and the 3 bit masks a 40-byte header keeps outside itself).
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const count = colorsUsed > 0 ? Math.min(colorsUsed, 1 << bpp) : 1 << bpp;
    let at = 14 + headerSize;
    if (headerSize === 40 && compression === BI_BITFIELDS) at += 12;
    palette = new Uint8Array(256 * 3);
    for (let i = 0; i < count && at + i * paletteEntrySize + 2 < bytes.length; i += 1) {
      const p = at + i * paletteEntrySize;
      palette[i * 3] = bytes[p + 2];
      palette[i * 3 + 1] = bytes[p + 1];
      palette[i * 3 + 2] = bytes[p];
    }
  }

  const out = Buffer.alloc(width * height * 4);
  const put = (x: number, row: number, r: number, g: number, b: number, a: number) => {
    const y = topDown ? row : height - 1 - row;
    const o = (y * width + x) * 4;
    out[o] = r;
    out[o + 1] = g;
    out[o + 2] = b;
    out[o + 3] = a;
  };
  const putIndex = (x: number, row: number, index: number) => {
    put(x, row, palette![index * 3], palette![index * 3 + 1], palette![index * 3 + 2], 255);
  };

  if (compression === BI_RLE8 || compression === BI_RLE4) {
    if (topDown) throw new BmpError('top-down RLE BMP is invalid');
    out.fill(0); // pixels an RLE stream skips stay transparent black
    decodeRle(bytes, pixelOffset, width, height, compression === BI_RLE4, (x, row, index) => putIndex(x, row, index));
    return { data: out, width, height, channels: 4 };
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (pixelOffset + stride * (height - 1) + Math.ceil((bpp * width) / 8) > bytes.length) throw new BmpError('truncated BMP pixel data');

  if (bpp <= 8) {
    const perByte = 8 / bpp;
    const valueMask = (1 << bpp) - 1;
    for (let row = 0; row < height; row += 1) {
      const start = pixelOffset + row * stride;
      for (let x = 0; x < width; x += 1) {
        const byte = bytes[start + Math.floor(x / perByte)];
        const shift = 8 - bpp * ((x % perByte) + 1);
        putIndex(x, row, (byte >> shift) & valueMask);
      }
    }
    return { data: out, width, height, channels: 4 };
  }

  if (bpp === 24) {
    for (let row = 0; row < height; row += 1) {
      const start = pixelOffset + row * stride;
      for (let x = 0; x < width; x += 1) {
        const p = start + x * 3;
        put(x, row, bytes[p + 2], bytes[p + 1], bytes[p], 255);
      }
    }
    return { data: out, width, height, channels: 4 };
  }

  // 16 or 32 bits per pixel, with bit masks (explicit, or the BI_RGB defaults).
  const [rm, gm, bm, am] =
    masks ?? (bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0x00ff0000, 0x0000ff00, 0x000000ff, 0]);
  const r = channel(rm);
  const g = channel(gm);
  const b = channel(bm);
  let a = channel(am);
  if (bpp === 32 && compression === BI_RGB) {
    // The fourth byte of a 32-bit BI_RGB BMP is officially unused; honour it only when some pixel sets it.
    let anyAlpha = false;
    for (let row = 0; row < height && !anyAlpha; row += 1) {
      const start = pixelOffset + row * stride;
      for (let x = 0; x < width; x += 1) {
        if (bytes[start + x * 4 + 3] !== 0) {
          anyAlpha = true;
          break;
        }
      }
    }
    if (anyAlpha) a = channel(0xff000000);
  }
  for (let row = 0; row < height; row += 1) {
    const start = pixelOffset + row * stride;
    for (let x = 0; x < width; x += 1) {
      const value = bpp === 16 ? bytes.readUInt16LE(start + x * 2) : bytes.readUInt32LE(start + x * 4);
      put(x, row, readChannel(value, r), readChannel(value, g), readChannel(value, b), a.max === 0 ? 255 : readChannel(value, a));
    }
  }
  return { data: out, width, height, channels: 4 };
}

function decodeRle(
  bytes: Buffer,
  offset: number,
  width: number,
  height: number,
  fourBit: boolean,
  put: (x: number, row: number, index: number) => void,
): void {
  let p = offset;
  let x = 0;
  let row = 0;
  const emit = (index: number) => {
    if (x < width && row < height) put(x, row, index);
    x += 1;
  };
  while (p + 1 < bytes.length && row < height) {
    const count = bytes[p];
    const value = bytes[p + 1];
    p += 2;
    if (count > 0) {
      for (let i = 0; i < count; i += 1) emit(fourBit ? (i % 2 === 0 ? value >> 4 : value & 0x0f) : value);
      continue;
    }
    if (value === 0) {
      x = 0;
      row += 1;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      if (p + 1 >= bytes.length) return;
      x += bytes[p];
      row += bytes[p + 1];
      p += 2;
    } else {
      // Absolute run of `value` pixels, padded to a 16-bit boundary.
      const byteCount = fourBit ? Math.ceil(value / 2) : value;
      for (let i = 0; i < value; i += 1) {
        const byte = bytes[p + (fourBit ? i >> 1 : i)] ?? 0;
        emit(fourBit ? (i % 2 === 0 ? byte >> 4 : byte & 0x0f) : byte);
      }
      p += byteCount + (byteCount % 2);
    }
  }
}
