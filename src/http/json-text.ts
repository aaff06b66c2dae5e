import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';

/** String values at least this long are kept as the pieces they arrived in: images as base64 are. */
const SHARED_STRING_CHARS = 64 * 1024;
/**
 * Bytes are decoded in pieces this large: V8 keeps strings over 128 KiB out of its young generation, which would
 * copy every piece of a large body from one space to another while it arrives (and grow to hold them).
 */
const PIECE_BYTES = 1024 * 1024;
/** What a JSON string may not hold unescaped: a control character, U+0000 to U+001F. */
const CONTROL_CHARACTER = /[^\u0020-\uffff]/;

/** A place in the decoded pieces of a body. */
interface Place {
  piece: number;
  offset: number;
}

/** A JSON body taken as it arrives. */
export interface JsonText {
  write(chunk: Buffer): void;
  isEmpty(): boolean;
  /** The value; JSON.parse's SyntaxError, as for the text sent, when it is not JSON. */
  parse(): unknown;
}

/**
 * A JSON body decoded piece by piece, so its bytes are let go as they arrive. JSON.parse needs one flat text and
 * copies every string it returns, so a 50 MB image as base64 would be in memory three times (pieces, text,
 * value). Long string values without escapes are instead kept as joins of the decoded pieces (V8 joins strings
 * by reference), and JSON.parse sees the rest with a placeholder for each. Strings are found as a JSON parser finds
 * them (outside a string every `"` opens one), noting only where each lies: a body of many short strings costs no
 * more than its text.
 */
export function createJsonText(): JsonText {
  const decoder = new StringDecoder('utf8');
  const marker = `\u0000${randomBytes(6).toString('hex')}:`;
  const pieces: string[] = [];
  /** The long string values kept as they are: where each lies in the pieces, quotes included, and its text. */
  const shared: Array<{ from: Place; to: Place; text: string }> = [];
  let received = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let inString = false;
  let afterBackslash = false;
  let escaped = false;
  /** Where the string being read opened: its quote. */
  let openedPiece = 0;
  let openedAt = 0;

  /** The text from one place to another, as slices of the pieces. */
  const partsBetween = (from: Place, to: Place): string[] => {
    if (from.piece === to.piece) return [pieces[from.piece].slice(from.offset, to.offset)];
    return [pieces[from.piece].slice(from.offset), ...pieces.slice(from.piece + 1, to.piece), pieces[to.piece].slice(0, to.offset)];
  };
  /** Parts joined by reference (`+`, where join() would copy them). */
  const joined = (parts: string[]) => parts.reduce((text, part) => text + part, '');

  const closeString = (piece: number, quote: number) => {
    inString = false;
    if (escaped) return;
    let chars = quote - openedAt - 1;
    for (let index = openedPiece; index < piece; index += 1) chars += pieces[index].length;
    if (chars < SHARED_STRING_CHARS) return;
    const from = { piece: openedPiece, offset: openedAt };
    const parts = partsBetween({ piece: openedPiece, offset: openedAt + 1 }, { piece, offset: quote });
    if (parts.some((part) => CONTROL_CHARACTER.test(part))) return;
    shared.push({ from, to: { piece, offset: quote + 1 }, text: joined(parts) });
  };

  const scan = (piece: string) => {
    const index = pieces.push(piece) - 1;
    // The next `"` and `\\` at or after `position`, -1 when there is none left, searched for only as the scan needs them
    // (-2: not yet). A search from the start of the piece kept in a variable was seen repeated on every turn of the
    // loop once optimised (V8 11), a whole-piece memchr per string.
    let quote = -2;
    let backslash = -2;
    let position = 0;
    while (position < piece.length) {
      if (quote !== -1 && quote < position) quote = piece.indexOf('"', position);
      if (!inString) {
        if (quote === -1) return;
        inString = true;
        escaped = false;
        openedPiece = index;
        openedAt = quote;
        position = quote + 1;
        continue;
      }
      if (afterBackslash) {
        afterBackslash = false;
        position += 1;
        continue;
      }
      if (backslash !== -1 && backslash < position) backslash = piece.indexOf('\\', position);
      if (backslash !== -1 && (quote === -1 || backslash < quote)) {
        escaped = true;
        afterBackslash = true;
        position = backslash + 1;
        continue;
      }
      if (quote === -1) return;
      closeString(index, quote);
      position = quote + 1;
    }
  };

  const decoded = (text: string) => {
    if (text.length === 0) return;
    scan(pieces.length === 0 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  };

  /** Where a large body's pieces are gathered, reused piece after piece: decoding copies what it keeps. */
  let gathered: Buffer | undefined;
  const flush = (last: boolean) => {
    if (pendingBytes === 0) return;
    if (last && !gathered) {
      decoded(decoder.write(Buffer.concat(pending, pendingBytes)));
    } else {
      gathered ??= Buffer.allocUnsafeSlow(PIECE_BYTES);
      let filled = 0;
      for (const chunk of pending) filled += chunk.copy(gathered, filled);
      decoded(decoder.write(gathered.subarray(0, filled)));
    }
    pending = [];
    pendingBytes = 0;
  };

  return {
    write(chunk) {
      received += chunk.length;
      if (pendingBytes + chunk.length > PIECE_BYTES) flush(false);
      if (chunk.length >= PIECE_BYTES) return decoded(decoder.write(chunk));
      pending.push(chunk);
      pendingBytes += chunk.length;
    },
    isEmpty: () => received === 0,
    parse() {
      flush(true);
      decoded(decoder.end());
      const whole = () => JSON.parse(pieces.join('')) as unknown;
      if (shared.length === 0 || inString) return whole();
      const end = { piece: pieces.length - 1, offset: pieces[pieces.length - 1].length };
      let skeleton = '';
      shared.forEach((value, index) => {
        skeleton += joined(partsBetween(index === 0 ? { piece: 0, offset: 0 } : shared[index - 1].to, value.from)) + JSON.stringify(marker + index);
      });
      skeleton += joined(partsBetween(shared[shared.length - 1].to, end));
      let substituted = 0;
      try {
        const value: unknown = JSON.parse(skeleton, (_key, item: unknown) => {
          if (typeof item !== 'string' || !item.startsWith(marker)) return item;
          substituted += 1;
          return shared[Number(item.slice(marker.length))].text;
        });
        // A long string that is a key keeps its placeholder: such a text is parsed as sent.
        if (substituted === shared.length) return value;
      } catch {
        // below: the error, with its position, as the text sent has it
      }
      return whole();
    },
  };
}
