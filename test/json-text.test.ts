import { describe, expect, it } from 'vitest';
import { createJsonText } from '../src/http/json-text.js';

const LONG = 'QUJD'.repeat(40_000);
/** Bodies are decoded a MiB at a time: written a byte at a time, a piece ends exactly there. */
const PIECE = 1024 * 1024;
/** `{"a":"` and filler up to the byte just before a piece ends. */
const UP_TO_PIECE_END = `{"a":"${'A'.repeat(PIECE - 7)}`;

/** The text fed to a JsonText in pieces of `size` bytes, as a body arrives. */
function parsedInPieces(text: string, size: number): unknown {
  const bytes = Buffer.from(text, 'utf8');
  const json = createJsonText();
  for (let offset = 0; offset < bytes.length; offset += size) json.write(bytes.subarray(offset, offset + size));
  return json.parse();
}

const SIZES = [1, 7, 4096, 65_536, 1_000_003];

function errorOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'no error';
}

describe('a JSON body taken as it arrives', () => {
  const valid = {
    'an MCP call with a long base64 image': JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'x', arguments: { ImageURL: `data:image/png;base64,${LONG}`, deliver: 'url' } } }),
    'long values in arrays, beside escapes and non-ASCII text': JSON.stringify({ items: [LONG, `a"quoted"\\${LONG}`, 'é€😀'.repeat(30_000), `${LONG}\n`, LONG.slice(1)], note: 'tab\there' }),
    'whitespace, nesting and a long key': `{ "a" : [ "${LONG}" , { "b" : "${LONG}" } ] , "${LONG}" : 1 }`,
    'a byte-order mark': `\uFEFF{"ImageURL":"${LONG}"}`,
    'duplicate keys, the last one kept': `{"a":"${LONG}","a":"${LONG}x"}`,
    'a long string alone': `"${LONG}"`,
    'an escape split between pieces': `${UP_TO_PIECE_END}\\"${LONG}"}`,
    'a character split between pieces': `${UP_TO_PIECE_END}€${LONG}"}`,
    'a closing quote that ends a piece': `${UP_TO_PIECE_END}","b":"${LONG}"}`,
    'escapes across several pieces': JSON.stringify({ a: 'x"\\\n'.repeat(250_000), b: LONG }),
  };

  for (const [name, text] of Object.entries(valid)) {
    it(`reads ${name} as JSON.parse does, whatever the pieces`, () => {
      const expected: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
      for (const size of SIZES) expect(parsedInPieces(text, size), `pieces of ${size} bytes`).toEqual(expected);
    });
  }

  const invalid = {
    'an unterminated long string': `{"a":"${LONG}`,
    'a raw control character in a long string': `{"a":"${LONG}\u0001${LONG}"}`,
    'text after the value': `{"a":"${LONG}"} "tail"`,
    'a missing comma': `{"a":"${LONG}" "b":1}`,
    'a bad escape': `{"a":"${LONG}\\q"}`,
  };

  for (const [name, text] of Object.entries(invalid)) {
    it(`refuses ${name} with JSON.parse's own error`, () => {
      const expected = errorOf(() => JSON.parse(text));
      expect(expected).toMatch(/^SyntaxError/);
      for (const size of SIZES) expect(errorOf(() => parsedInPieces(text, size)), `pieces of ${size} bytes`).toBe(expected);
    });
  }

  it('reads a body of many short strings in time that grows with its size alone', () => {
    // 8 MB, 1.6 million strings: ~0.1 s; a search over the whole piece for each string would make it ~15 s.
    const text = `[${'"ab",'.repeat(1_600_000)}1]`;
    const started = performance.now();
    expect(parsedInPieces(text, 65_536)).toHaveLength(1_600_001);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('says when the body was empty', () => {
    expect(createJsonText().isEmpty()).toBe(true);
    const json = createJsonText();
    json.write(Buffer.from('{}'));
    expect(json.isEmpty()).toBe(false);
  });
});
