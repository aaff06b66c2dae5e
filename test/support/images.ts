import sharp from 'sharp';

/** A red disc on a white background: what a product photo looks like to a segmenter, with known ground truth. */
export async function discOnWhite(width = 320, height = 240): Promise<Buffer> {
  const radius = Math.round(Math.min(width, height) / 3);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#ffffff"/><circle cx="${width / 2}" cy="${height / 2}" r="${radius}" fill="#d22020"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export async function decodeAlpha(png: Buffer): Promise<{ width: number; height: number; channels: number; alpha: Uint8Array }> {
  const { data, info } = await sharp(png).ensureAlpha().extractChannel(3).raw().toBuffer({ resolveWithObject: true });
  const metadata = await sharp(png).metadata();
  return { width: info.width, height: info.height, channels: metadata.channels ?? 0, alpha: new Uint8Array(data) };
}
