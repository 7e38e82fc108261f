// llama2.c's tokenizer.bin (e.g. tok512.bin): int32 max_token_length, then per token an f32 merge score,
// an int32 byte length and the bytes (SentencePiece pieces with '▁' already turned into ' '; BOS is
// "\n<s>\n", EOS "\n</s>\n", bytes are "<0xXX>"). The file does not store the vocab size: the model's.
// encode/decode follow run.c exactly (see encode() and decode() there).

import type { Tokenizer } from './tokenizer';

const BOS = 1;
const EOS = 2;
/** run.c: byte-fallback token of byte b is b + 3 (after <unk>, <s>, </s>) */
const BYTE_OFFSET = 3;

/** bytes as a JS string of code units 0..255 (a lookup key that compares like C strings) */
function binary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export class Llama2cTokenizer implements Tokenizer {
  readonly bosId = BOS;
  readonly eosIds = [EOS];
  readonly vocabSize: number;
  /** each token's bytes as a binary string */
  private readonly pieces: string[];
  private readonly lookup = new Map<string, number>();
  private readonly utf8 = new TextDecoder('utf-8');

  constructor(
    pieces: Uint8Array[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
  ) {
    this.vocabSize = pieces.length;
    this.pieces = pieces.map(binary);
    // run.c bsearches a sorted copy; with duplicate pieces (none in llama2.c's exports) the lowest id wins here
    this.pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
    });
  }

  /** run.c's encode: optional BOS, dummy-prefix " ", one token per UTF-8 codepoint (else byte fallback),
   * then merge the adjacent pair with the highest-scoring concatenation (leftmost on ties) until none. */
  encode(text: string, opts?: { addBos?: boolean }): number[] {
    const addBos = opts?.addBos ?? true;
    const tokens: number[] = [];
    if (addBos) tokens.push(BOS);
    const bytes = new TextEncoder().encode(text);
    if (bytes.length > 0) tokens.push(this.lookup.get(' ') ?? ' '.charCodeAt(0) + BYTE_OFFSET);
    for (let i = 0; i < bytes.length; ) {
      // a codepoint: a lead byte and its continuation bytes (run.c caps a group at 4 bytes)
      let j = i + 1;
      while (j < bytes.length && (bytes[j] & 0xc0) === 0x80 && j - i < 4) j++;
      const id = this.lookup.get(binary(bytes.subarray(i, j)));
      if (id !== undefined) tokens.push(id);
      else for (let k = i; k < j; k++) tokens.push(bytes[k] + BYTE_OFFSET);
      i = j;
    }
    // best merge of pair (i, i+1): the id of the concatenation, or -1
    const pairId = (i: number): number => this.lookup.get(this.pieces[tokens[i]] + this.pieces[tokens[i + 1]]) ?? -1;
    const pairs: number[] = [];
    for (let i = 0; i + 1 < tokens.length; i++) pairs.push(pairId(i));
    for (;;) {
      let bestScore = -1e10;
      let bestIdx = -1;
      for (let i = 0; i < pairs.length; i++) {
        const id = pairs[i];
        if (id !== -1 && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestIdx = i;
        }
      }
      if (bestIdx === -1) break;
      tokens.splice(bestIdx, 2, pairs[bestIdx]);
      pairs.splice(bestIdx, 1);
      if (bestIdx + 1 < tokens.length) pairs[bestIdx] = pairId(bestIdx);
      if (bestIdx > 0) pairs[bestIdx - 1] = pairId(bestIdx - 1);
    }
    return tokens;
  }

  /** The bytes run.c prints for `token` after `prev`: a piece after BOS drops its leading space;
   * "<0xXX>" pieces are the raw byte. */
  private pieceBytes(prev: number, token: number, out: number[]): void {
    let piece = this.pieces[token];
    if (prev === BOS && piece.charCodeAt(0) === 0x20) piece = piece.slice(1);
    const m = /^<0x([0-9A-Fa-f]{2})>/.exec(piece);
    if (m) {
      out.push(parseInt(m[1], 16));
      return;
    }
    for (let i = 0; i < piece.length; i++) out.push(piece.charCodeAt(i));
  }

  /** The text of `ids` as run.c prints it; BOS and EOS print nothing (they delimit sequences). Byte
   * sequences are decoded as UTF-8 (invalid ones become U+FFFD). */
  decode(ids: number[]): string {
    const bytes: number[] = [];
    let prev = -1;
    for (const id of ids) {
      this.checkId(id);
      if (id !== BOS && id !== EOS) this.pieceBytes(prev, id, bytes);
      prev = id;
    }
    return this.utf8.decode(new Uint8Array(bytes));
  }

  tokenText(id: number): string {
    this.checkId(id);
    if (id < BYTE_OFFSET) return this.pieces[id].trim();
    const bytes: number[] = [];
    this.pieceBytes(-1, id, bytes);
    // a lone non-ASCII byte is not text on its own: show the piece
    if (bytes.length === 1 && bytes[0] >= 0x80) return this.pieces[id];
    return this.utf8.decode(new Uint8Array(bytes));
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new Error(`token id ${id} is outside the vocabulary [0, ${this.vocabSize})`);
    }
  }
}

/** Parses tokenizer.bin. With `vocabSize` (the model's) the file must hold exactly that many tokens;
 * without it, tokens are read to the end of the file. */
export function parseLlama2cTokenizer(buf: ArrayBuffer | Uint8Array, source: string, vocabSize?: number): Llama2cTokenizer {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) throw new Error(`${source}: truncated tokenizer (${bytes.length} bytes; it starts with an int32 max_token_length)`);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) throw new Error(`${source}: max_token_length ${maxTokenLength} is invalid: not a llama2.c tokenizer?`);
  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let pos = 4;
  while (vocabSize === undefined ? pos < bytes.length : pieces.length < vocabSize) {
    const id = pieces.length;
    if (pos + 8 > bytes.length) {
      const need = vocabSize === undefined ? '' : ` (the model's vocab_size is ${vocabSize}: a tokenizer for another model?)`;
      throw new Error(`${source}: truncated at token ${id}: the file ends inside its score/length${need}`);
    }
    const score = view.getFloat32(pos, true);
    const len = view.getInt32(pos + 4, true);
    pos += 8;
    if (len < 0 || len > maxTokenLength) {
      throw new Error(`${source}: token ${id} has length ${len}, outside [0, max_token_length ${maxTokenLength}]`);
    }
    if (pos + len > bytes.length) throw new Error(`${source}: truncated at token ${id}: its ${len} bytes go beyond the end of the file`);
    pieces.push(bytes.slice(pos, pos + len));
    scores.push(score);
    pos += len;
  }
  if (pos !== bytes.length) {
    throw new Error(
      `${source}: ${bytes.length - pos} bytes left after ${pieces.length} tokens: the tokenizer has more tokens than the ` +
        `model's vocab_size ${vocabSize} (a tokenizer for another model?)`,
    );
  }
  if (pieces.length <= EOS) throw new Error(`${source}: only ${pieces.length} tokens; <unk>, <s> and </s> are required`);
  return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength);
}
