// llama2.c's tokenizer (tok512.bin): encoding exactly as run.c, decoding as run.c prints, file errors.
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { parseLlama2cTokenizer, type Llama2cTokenizer } from '../../src/model/tokenizer_llama2c';
import { Rng } from '../../src/util/random';
import { STORIES_TOK } from './tiny';

async function tok512(): Promise<Llama2cTokenizer> {
  return parseLlama2cTokenizer(await readFile(STORIES_TOK), 'tok512.bin', 512);
}

/** run.c's encode transcribed literally (rescans every pair after every merge), to cross-check the
 * incremental implementation. Pieces are compared as byte strings. */
function runcEncode(pieces: string[], scores: Float32Array, text: string, bos: boolean): number[] {
  const lookup = (s: string) => pieces.indexOf(s);
  const tokens: number[] = [];
  if (bos) tokens.push(1);
  const bytes = [...new TextEncoder().encode(text)];
  if (bytes.length) tokens.push(lookup(' '));
  let buf: number[] = [];
  for (let c = 0; c < bytes.length; c++) {
    if ((bytes[c] & 0xc0) !== 0x80) buf = [];
    buf.push(bytes[c]);
    if (c + 1 < bytes.length && (bytes[c + 1] & 0xc0) === 0x80 && buf.length < 4) continue;
    const id = lookup(String.fromCharCode(...buf));
    if (id !== -1) tokens.push(id);
    else for (const b of buf) tokens.push(b + 3);
    buf = [];
  }
  for (;;) {
    let bestScore = -1e10;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = lookup(pieces[tokens[i]] + pieces[tokens[i + 1]]);
      if (id !== -1 && scores[id] > bestScore) {
        bestScore = scores[id];
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) break;
    tokens.splice(bestIdx, 2, bestId);
  }
  return tokens;
}

describe('llama2.c tokenizer', () => {
  test('encodes "Once upon a time" with BOS as run.c does', async () => {
    const t = await tok512();
    // run.c: [BOS, " " (dummy prefix), O n c e " " u p o n " " a " " t i m e], then merges by score:
    // " t"(-0) " a"(-2) "im"(-29) "on"(-30) " u"(-59) " O"(-60, the dummy space + O) " On"(-62) "ce"(-72)
    // " up"(-91) "ime"(-110) " time"(-119) " Once"(-144) " upon"(-148): ids 403 407 261 378.
    expect(t.tokenText(403)).toBe(' Once');
    expect(t.tokenText(407)).toBe(' upon');
    expect(t.tokenText(261)).toBe(' a');
    expect(t.tokenText(378)).toBe(' time');
    expect(t.scores[378]).toBe(-119);
    expect(t.encode('Once upon a time', { addBos: true })).toEqual([1, 403, 407, 261, 378]);
    expect(t.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]); // BOS by default, as run.c
    expect(t.encode('Once upon a time', { addBos: false })).toEqual([403, 407, 261, 378]);
    expect(t.encode('')).toEqual([1]); // no dummy prefix for empty text
    expect(t.bosId).toBe(1);
    expect(t.eosIds).toEqual([2]);
  });

  test('unknown characters fall back to byte tokens (byte + 3)', async () => {
    const t = await tok512();
    // "日" is E6 97 A5 in UTF-8 and not a piece of this vocabulary; "é" is (485)
    expect(t.tokenText(410)).toBe(' ');
    expect(t.encode('日', { addBos: false })).toEqual([410, 0xe6 + 3, 0x97 + 3, 0xa5 + 3]);
    expect(t.encode('é', { addBos: false })).toEqual([410, 485]);
    expect(t.tokenText(0xe6 + 3)).toBe('<0xE6>');
    expect(t.tokenText(0x41 + 3)).toBe('A');
    expect(t.tokenText(1)).toBe('<s>');
  });

  test('matches a literal transcription of run.c on random text', async () => {
    const t = await tok512();
    const raw = new Uint8Array(await readFile(STORIES_TOK));
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const pieces: string[] = [];
    for (let pos = 4; pieces.length < 512; ) {
      const len = view.getInt32(pos + 4, true);
      pieces.push(String.fromCharCode(...raw.subarray(pos + 8, pos + 8 + len)));
      pos += 8 + len;
    }
    const alphabet = [...'abcdefghijklmnopqrstuvwxyz     ..,,!?"\'\nTOLSHé日🙂0123'];
    const rng = new Rng(3);
    for (let k = 0; k < 40; k++) {
      const text = Array.from({ length: 1 + rng.int(40) }, () => alphabet[rng.int(alphabet.length)]).join('');
      const bos = k % 2 === 0;
      expect(t.encode(text, { addBos: bos }), JSON.stringify(text)).toEqual(runcEncode(pieces, t.scores, text, bos));
    }
  });

  test('decode(encode(x)) == x, as run.c prints after BOS', async () => {
    const t = await tok512();
    for (const s of [
      'Once upon a time',
      'Lily saw a big, red ball.\nShe said, "Can I play?"',
      'café: 日本 🙂 naïve',
      '  two  spaces ',
      'Tom and Sue were 3 friends.',
    ]) {
      expect(t.decode(t.encode(s, { addBos: true })), s).toBe(s);
    }
    // without BOS the dummy-prefix space stays (run.c strips it only after BOS); BOS/EOS print nothing
    expect(t.decode(t.encode('Once upon', { addBos: false }))).toBe(' Once upon');
    expect(t.decode([1, 403, 2])).toBe('Once');
    expect(() => t.decode([512])).toThrow(/token id 512 is outside the vocabulary \[0, 512\)/);
  });

  test('malformed files are refused with a clear message', async () => {
    const raw = new Uint8Array(await readFile(STORIES_TOK));
    expect(() => parseLlama2cTokenizer(raw.subarray(0, 2), 'a.bin')).toThrow(/a.bin: truncated tokenizer \(2 bytes/);
    const zeroMax = raw.slice();
    zeroMax.set([0, 0, 0, 0], 0);
    expect(() => parseLlama2cTokenizer(zeroMax, 'b.bin')).toThrow(/b.bin: max_token_length 0 is invalid/);
    const longToken = raw.slice();
    new DataView(longToken.buffer).setInt32(4 + 4, 100, true); // token 0's length beyond max_token_length 7
    expect(() => parseLlama2cTokenizer(longToken, 'c.bin')).toThrow(/c.bin: token 0 has length 100, outside \[0, max_token_length 7\]/);
    expect(() => parseLlama2cTokenizer(raw.subarray(0, raw.length - 1), 'd.bin', 512)).toThrow(/d.bin: truncated at token 511: its \d+ bytes go beyond the end/);
    expect(() => parseLlama2cTokenizer(raw, 'e.bin', 600)).toThrow(/e.bin: truncated at token 512: .*vocab_size is 600/);
    // without a vocab size the whole file is read
    expect(parseLlama2cTokenizer(raw, 'f.bin').vocabSize).toBe(512);
  });
});
