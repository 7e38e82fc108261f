// A strict UTF-8 check that says where the first bad byte is (TextDecoder's fatal mode only says that
// there is one). Follows the WHATWG decoder: no overlong forms, no surrogates, nothing above U+10FFFF.
// Works across chunk boundaries.

export class Utf8Validator {
  /** continuation bytes still expected by the sequence in progress */
  private need = 0;
  /** allowed range of the next continuation byte (narrower right after E0, ED, F0, F4) */
  private lo = 0x80;
  private hi = 0xbf;
  /** offset (in the whole stream) where the sequence in progress started */
  private seqStart = 0;
  private seqByte = 0;
  private offset = 0;
  /** after push() or end() reported a problem: the byte that starts the bad sequence (undefined: unfinished at the end) */
  badByte: number | undefined;

  /** Checks the next chunk; returns the stream offset of the first invalid byte, or -1. */
  push(bytes: Uint8Array): number {
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      const at = this.offset + i;
      if (this.need > 0) {
        if (b < this.lo || b > this.hi) {
          this.badByte = this.seqByte;
          return this.seqStart;
        }
        this.lo = 0x80;
        this.hi = 0xbf;
        this.need--;
        continue;
      }
      if (b < 0x80) continue;
      this.seqStart = at;
      this.seqByte = b;
      if (b >= 0xc2 && b <= 0xdf) this.need = 1;
      else if (b >= 0xe0 && b <= 0xef) {
        this.need = 2;
        if (b === 0xe0) this.lo = 0xa0;
        if (b === 0xed) this.hi = 0x9f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        this.need = 3;
        if (b === 0xf0) this.lo = 0x90;
        if (b === 0xf4) this.hi = 0x8f;
      } else {
        this.badByte = b;
        return at;
      }
    }
    this.offset += bytes.length;
    return -1;
  }

  /** At the end of the stream: the offset of an unfinished sequence, or -1. */
  end(): number {
    if (this.need === 0) return -1;
    this.badByte = undefined;
    return this.seqStart;
  }
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function findInvalidUtf8(bytes: Uint8Array): number {
  const v = new Utf8Validator();
  const bad = v.push(bytes);
  return bad >= 0 ? bad : v.end();
}

/** The message for a file that is not UTF-8, naming the byte offset, its line and the byte. */
export function notUtf8Message(offset: number, line: number, byte: number | undefined): string {
  const what = byte === undefined ? 'an unfinished character at the end of the file' : `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return (
    `the file is not valid UTF-8: ${what} at byte offset ${offset} (line ${line}). ` +
    'It was probably saved in another encoding (e.g. Windows-1252 or Latin-1); save it as UTF-8 (in a spreadsheet, "CSV UTF-8") and load it again'
  );
}

/** Number of newline bytes (0x0A) in bytes[from, to). */
export function countNewlines(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let n = 0;
  for (let i = from; i < to; i++) if (bytes[i] === 0x0a) n++;
  return n;
}
