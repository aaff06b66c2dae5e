import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeAlpha, discOnWhite } from './support/images.js';

// rembg's habits at a terminal, with the embedded model and nothing configured but a HOME of our own.
const CLI = path.resolve('dist/cli.js');
let directory: string;
let environment: Record<string, string>;

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'imageseg-terminal-'));
  environment = { PATH: process.env.PATH ?? '', HOME: directory, PAYMENTS: 'off', IMAGESEG_PROVIDER: 'local' };
  writeFileSync(path.join(directory, 'photo.png'), await discOnWhite(320, 240));
});

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function run(command: string, args: string[], input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: directory, env: environment });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    child.stdin.end(input);
  });
}

const cli = (args: string[], input?: Buffer) => run(process.execPath, [CLI, ...args], input);

/** A failure a person can read: one line, naming the file, no stack trace. */
function expectOneLine(stderr: string, file: string): void {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toContain(file);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('imageseg-mcp at a terminal', () => {
  it('i: one image in, its cutout out, never replacing a file', async () => {
    const first = await cli(['i', 'photo.png', 'cutout.png']);
    expect(first.code, first.stderr).toBe(0);
    const cutout = await decodeAlpha(readFileSync(path.join(directory, 'cutout.png')));
    expect([cutout.width, cutout.height, cutout.channels]).toEqual([320, 240, 4]);
    const again = await cli(['i', 'photo.png', 'cutout.png']);
    expect(again.code).toBe(1);
    expectOneLine(again.stderr, 'cutout.png');
    expect(again.stderr).toContain('already exists');
  }, 90_000);

  it('i: an image past the embedded model\'s working size (4096 px) gives a result at the input\'s size', async () => {
    writeFileSync(path.join(directory, 'panorama.png'), await discOnWhite(4400, 400));
    const { code, stderr } = await cli(['i', 'panorama.png', 'panorama-cutout.png', '--tool', 'body_segmentation']);
    expect(code, stderr).toBe(0);
    const cutout = await sharp(readFileSync(path.join(directory, 'panorama-cutout.png'))).metadata();
    expect([cutout.width, cutout.height, cutout.channels]).toEqual([4400, 400, 4]);
  }, 90_000);

  it('i - -: stdin to stdout', async () => {
    const { code, stdout, stderr } = await cli(['i', '-', '-', '--json', '{"ReturnForm":"mask"}'], readFileSync(path.join(directory, 'photo.png')));
    expect(code, stderr).toBe(0);
    const metadata = await sharp(stdout).metadata();
    expect([metadata.format, metadata.width, metadata.height, metadata.channels]).toEqual(['png', 320, 240, 1]);
  }, 90_000);

  it('i: a missing file is one line naming it, exit 1', async () => {
    const { code, stderr } = await cli(['i', 'no-such-photo.png', 'out.png']);
    expect(code).toBe(1);
    expectOneLine(stderr, 'no-such-photo.png');
    expect(existsSync(path.join(directory, 'out.png'))).toBe(false);
  });

  it('p: every image of a folder, n/total progress lines off a TTY, a summary, non-zero exit when one fails', async () => {
    const folder = path.join(directory, 'shoot');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a.png'), await discOnWhite(200, 150));
    writeFileSync(path.join(folder, 'b.jpg'), await sharp(await discOnWhite(240, 180)).jpeg().toBuffer());
    writeFileSync(path.join(folder, 'c.webp'), await sharp(await discOnWhite(160, 160)).webp().toBuffer());
    writeFileSync(path.join(folder, 'notes.txt'), 'not an image');
    const { code, stderr } = await cli(['p', 'shoot', 'cutouts', '--tool', 'body_segmentation']);
    expect(code, stderr).toBe(0);
    expect(readdirSync(path.join(directory, 'cutouts')).sort()).toEqual(['a.png', 'b.png', 'c.png']);
    for (const line of ['1/3 a.png', '2/3 b.jpg', '3/3 c.webp', '3 done, 0 failed']) expect(stderr).toContain(line);
    expect((await sharp(readFileSync(path.join(directory, 'cutouts', 'b.png'))).metadata()).width).toBe(240);

    writeFileSync(path.join(folder, 'd.png'), Buffer.from('this is not a picture, only text long enough to be read'));
    const partly = await cli(['p', 'shoot', 'more', '--tool', 'body_segmentation']);
    expect(partly.code).toBe(1);
    expect(partly.stderr).toContain('3 done, 1 failed');
    const failure = partly.stderr.split('\n').filter((line) => line.startsWith('imageseg-mcp:'));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain(path.join('shoot', 'd.png'));
    expect(partly.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it('list | head -1, and a reader that is gone at once: no EPIPE trace, exit 0', async () => {
    const head = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" list | head -1`]);
    expect(head.code, head.stderr).toBe(0);
    expect(head.stdout.toString().trim().split('\n')).toHaveLength(1);
    expect(head.stderr).toBe('');
    const gone = await run('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" --help | true`]);
    expect(gone.stderr).toBe('');
    expect(gone.code).toBe(0);
  });
});
