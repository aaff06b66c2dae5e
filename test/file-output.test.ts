import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { discOnWhite } from './support/images.js';

/**
 * deliver="file" over the real stdio server: a result creates a new file or nothing. The server runs with the
 * default ledger (./data/imageseg.db under its working directory, which is also its only file root).
 */
/** The default data directory under HOME (no XDG_DATA_HOME set). */
const DATA = path.join('.local', 'share', 'imageseg-mcp');

describe('file output that cannot destroy (stdio)', () => {
  let root: string;
  let outside: string;
  let client: Client;
  const photo = () => path.join(root, 'photo.png');
  const mask = () => path.join(root, 'mask.png');

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'imageseg-out-'));
    outside = mkdtempSync(path.join(tmpdir(), 'imageseg-outside-'));
    const image = await discOnWhite(200, 160);
    writeFileSync(photo(), image);
    writeFileSync(mask(), await sharp(image).greyscale().negate().threshold(64).png().toBuffer());
    // PAYMENTS=off opens no ledger: this stands where it would be, at the default $HOME/.local/share/imageseg-mcp/imageseg.db.
    mkdirSync(path.join(root, DATA), { recursive: true });
    writeFileSync(path.join(root, DATA, 'imageseg.db'), Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080, 7)]));
    client = new Client({ name: 'file-output', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [path.resolve('dist/cli.js'), 'stdio'],
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: root, IMAGESEG_PROVIDER: 'local', PAYMENTS: 'off', IMAGESEG_FILE_ROOTS: root, LOG_LEVEL: 'silent' },
        stderr: 'pipe',
      }),
    );
  });
  afterAll(async () => {
    await client?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const refine = async (extra: Record<string, unknown>) =>
    (await client.callTool({ name: 'mask_refinement', arguments: { ImageURL: photo(), MaskImageURL: mask(), deliver: 'file', ...extra } })) as CallToolResult;
  const errorOf = (result: CallToolResult) => (result.structuredContent as { error: { code: string; message: string } }).error;
  const written = (result: CallToolResult) => (result.structuredContent as { data: { Elements: Array<{ ImageURL: string }> } }).data.Elements[0].ImageURL;

  it('does not write through a symlink inside the roots to a file outside them', async () => {
    const target = path.join(outside, 'victim.png');
    writeFileSync(target, 'precious');
    symlinkSync(target, path.join(root, 'link.png'));
    const dangling = path.join(outside, 'not-yet.png');
    symlinkSync(dangling, path.join(root, 'dangling.png'));

    for (const outputPath of [path.join(root, 'link.png'), path.join(root, 'dangling.png')]) {
      const result = await refine({ outputPath });
      expect(result.isError, outputPath).toBe(true);
      expect(errorOf(result).code).toBe('INVALID_ARGUMENT');
      expect(errorOf(result).message).toContain('already exists');
    }
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(existsSync(dangling)).toBe(false);
    expect(lstatSync(path.join(root, 'link.png')).isSymbolicLink()).toBe(true);
  });

  it('refuses an outputPath onto an existing file (a photo, the input itself) and leaves its bytes alone', async () => {
    const other = path.join(root, 'holiday.png');
    writeFileSync(other, await discOnWhite(50, 40));
    for (const file of [other, photo()]) {
      const before = readFileSync(file);
      const result = await refine({ outputPath: file });
      expect(result.isError, file).toBe(true);
      expect(errorOf(result)).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(errorOf(result).message).toContain('never replace');
      expect(readFileSync(file).equals(before), file).toBe(true);
    }
  });

  it('never writes into the data directory: not onto the ledger, not beside it', async () => {
    const ledger = path.join(root, DATA, 'imageseg.db');
    expect(existsSync(ledger)).toBe(true);
    const before = readFileSync(ledger);
    for (const outputPath of [`./${DATA}/imageseg.db`, `./${DATA}/cutout.png`, path.join(root, DATA, 'imageseg.db-journal')]) {
      const result = await refine({ outputPath });
      expect(result.isError, outputPath).toBe(true);
      expect(errorOf(result).code).toBe('INVALID_ARGUMENT');
    }
    expect(readFileSync(ledger).equals(before)).toBe(true);
    expect(readdirSync(path.join(root, DATA)).sort()).not.toContain('cutout.png');
    expect(existsSync(path.join(root, DATA, 'imageseg.db-journal'))).toBe(false);

    // A link into the data directory is followed for the check, so it is refused too.
    symlinkSync(path.join(root, DATA), path.join(root, 'ledger-folder'));
    const linked = await refine({ outputPath: path.join(root, 'ledger-folder', 'cutout.png') });
    expect(errorOf(linked).message).toContain('data directory');
    expect(existsSync(path.join(root, DATA, 'cutout.png'))).toBe(false);
  });

  it('picks a free name by default and never replaces an earlier result', async () => {
    const first = await refine({});
    expect(first.isError).toBeFalsy();
    expect(written(first)).toBe(path.join(root, 'photo.mask-refinement.png'));
    const firstBytes = readFileSync(written(first));
    writeFileSync(written(first), Buffer.concat([firstBytes, Buffer.from('edited by the user')]));

    const second = await refine({});
    expect(written(second)).toBe(path.join(root, 'photo.mask-refinement-1.png'));
    expect(readFileSync(written(first)).subarray(firstBytes.length).toString()).toBe('edited by the user');
    expect((await sharp(readFileSync(written(second))).metadata()).width).toBe(200);

    // A link sitting on the next free name is skipped, not followed.
    const target = path.join(outside, 'decoy.png');
    symlinkSync(target, path.join(root, 'photo.mask-refinement-2.png'));
    const third = await refine({});
    expect(written(third)).toBe(path.join(root, 'photo.mask-refinement-3.png'));
    expect(existsSync(target)).toBe(false);
  });

  it('writes a new explicit outputPath inside the roots', async () => {
    mkdirSync(path.join(root, 'out'));
    const result = await refine({ outputPath: './out/cutout.png' });
    expect(result.isError).toBeFalsy();
    expect(written(result)).toBe(path.join(root, 'out', 'cutout.png'));
  });

  it('says so in its annotations: may write files, never destructive', async () => {
    const { tools } = await client.listTools();
    const tool = tools.find((candidate) => candidate.name === 'mask_refinement')!;
    expect(tool.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
  });
});
