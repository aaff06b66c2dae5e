/**
 * The pre-check of BMP, which sharp cannot read: the header's claims, then the pixel data walked without being
 * expanded, so a 60-byte file that says 1000x1000 is refused before it costs an upload or a provider call.
 * (src/providers/local/bmp.ts decodes BMP to pixels when the local provider runs.)
 */
export const BI_RGB = 0;
export const BI_RLE8 = 1;
export const BI_RLE4 = 2;
export const BI_BITFIELDS = 3;
export const BI_ALPHABITFIELDS = 6;

export function isBmp(bytes: Buffer): boolean {
  return bytes.length > 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** What a BMP's headers claim; checked for sense, not yet against the pixel data. */
export interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  headerSize: number;
  pixelOffset: number;
}

export function readBmpHeader(bytes: Buffer): BmpHeader {
  if (!isBmp(bytes)) throw new Error('not a BMP file');
  const headerSize = bytes.readUInt32LE(14);
  const pixelOffset = bytes.readUInt32LE(10);
  let width: number;
  let rawHeight: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  if (headerSize === 12) {
    width = bytes.readUInt16LE(18);
    rawHeight = bytes.readInt16LE(20);
    bitsPerPixel = bytes.readUInt16LE(24);
  } else if (headerSize >= 40 && bytes.length >= 14 + 40) {
    width = bytes.readInt32LE(18);
    rawHeight = bytes.readInt32LE(22);
    bitsPerPixel = bytes.readUInt16LE(28);
    compression = bytes.readUInt32LE(30);
  } else {
    throw new Error(`unsupported or truncated BMP header (${headerSize} bytes)`);
  }
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new Error('BMP has no pixels');
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw new Error(`unsupported BMP bit depth ${bitsPerPixel}`);
  if (![BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS, BI_ALPHABITFIELDS].includes(compression)) throw new Error(`unsupported BMP compression ${compression}`);
  if (compression === BI_RLE8 && bitsPerPixel !== 8) throw new Error('RLE8 BMP must have 8 bits per pixel');
  if (compression === BI_RLE4 && bitsPerPixel !== 4) throw new Error('RLE4 BMP must have 4 bits per pixel');
  return { width, height, topDown: rawHeight < 0, bitsPerPixel, compression, headerSize, pixelOffset };
}

/** Walks an RLE stream: it must end (end-of-bitmap, or the last row) before the file does. */
function walkRle(bytes: Buffer, header: BmpHeader): void {
  const fourBit = header.compression === BI_RLE4;
  let at = header.pixelOffset;
  let row = 0;
  while (row < header.height) {
    if (at + 1 >= bytes.length) throw new Error('truncated BMP pixel data');
    const count = bytes[at];
    const value = bytes[at + 1];
    at += 2;
    if (count > 0) continue;
    if (value === 0) row += 1;
    else if (value === 1) return;
    else if (value === 2) {
      if (at + 1 >= bytes.length) throw new Error('truncated BMP pixel data');
      row += bytes[at + 1];
      at += 2;
    } else {
      const byteCount = fourBit ? Math.ceil(value / 2) : value;
      if (at + byteCount > bytes.length) throw new Error('truncated BMP pixel data');
      at += byteCount + (byteCount % 2);
    }
  }
}

/**
 * Width and height of a BMP; unless `header` is set, also proves the pixel data is all there (uncompressed rows
 * fit in the file; an RLE stream ends before the file does). Throws with the reason otherwise.
 */
export function inspectBmp(bytes: Buffer, options: { header?: boolean } = {}): { width: number; height: number } {
  const header = readBmpHeader(bytes);
  if (!options.header) {
    if (header.pixelOffset < 14 + header.headerSize || header.pixelOffset >= bytes.length) throw new Error('BMP pixel data offset is outside the file');
    if (header.compression === BI_RLE8 || header.compression === BI_RLE4) {
      if (header.topDown) throw new Error('top-down RLE BMP is invalid');
      walkRle(bytes, header);
    } else {
      const stride = Math.floor((header.bitsPerPixel * header.width + 31) / 32) * 4;
      const needed = header.pixelOffset + stride * (header.height - 1) + Math.ceil((header.bitsPerPixel * header.width) / 8);
      if (needed > bytes.length) throw new Error(`truncated BMP pixel data (${bytes.length} of ${needed} bytes)`);
    }
  }
  return { width: header.width, height: header.height };
}
