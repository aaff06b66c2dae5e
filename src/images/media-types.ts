/** File extensions of the result formats we write and serve. */
export const RESULT_EXTENSIONS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export const mediaTypeOfExtension = (extension: string) =>
  Object.entries(RESULT_EXTENSIONS).find(([, value]) => value === extension)?.[0] ?? 'application/octet-stream';
