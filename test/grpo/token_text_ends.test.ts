// process_credit "per_step": where each token's text ends (step_credit.ts tokenTextEnds, one pass of short decodes)
// against the quadratic way the trainer found it before (decode every prefix), kept here as the oracle: the same
// ends and the same token -> step mapping on text with multi-byte characters split over byte tokens (partial UTF-8),
// separators inside one token and across token boundaries, invalid byte runs; with llama2.c's tokenizer
// (stories260K, byte fallback), a byte-level BPE tokenizer.json, and a SentencePiece-like decoder that strips the
// first space.
import { describe, expect, test } from 'vitest';
import { tokenSteps, tokenTextEnds } from '../../src/grpo/step_credit';
import { splitSteps } from '../../src/grpo/rewards_scorer';
import { createHfTokenizer } from '../../src/model/tokenizer_hf';
import type { Tokenizer } from '../../src/model/tokenizer';
import { Rng } from '../../src/util/random';
import { loadStories } from './fixtures';

/** The trainer's former way: decode every prefix (O(n^2) decodes). */
function prefixEnds(tok: Pick<Tokenizer, 'decode'>, ids: readonly number[]): number[] {
  const ends: number[] = [];
  for (let j = 0; j < ids.length; j++) ends.push(tok.decode(ids.slice(0, j + 1)).length);
  return ends;
}

const TEXTS = [
  'Step 1: add 2 and 3.\n\nStep 2: multiply by 4.\n\nAnswer: 20',
  'café crème\n\nnaïve façade\n\n',
  '第一步：计算 3 × 4 = 12\n\n第二步：加上 5\n\n答案：17',
  'emoji 🙂🚀 then\n\n🎉 done\n\nend',
  '\n\nleading separator\n\n\n\ntwo in a row\n\n',
  'no separator at all, just ü and ß',
  ' space first\n\n  indented\n\nΩ≈ç√∫',
];
const SEPS = ['\n\n', '\n', 'Step', ' ', '：', '🙂'];

function check(tok: Tokenizer, ids: number[], sep: string, label: string): void {
  const want = prefixEnds(tok, ids);
  const got = tokenTextEnds(tok, ids);
  expect(got, `${label}: ends`).toEqual(want);
  const text = tok.decode(ids);
  const steps = splitSteps(text, sep).map((s) => s.end);
  expect(tokenSteps(got, steps, ids.length + 1), `${label}: token -> step`).toEqual(tokenSteps(want, steps, ids.length + 1));
}

/** GPT-2's bytes_to_unicode: every byte a printable character. */
function byteChars(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out: string[] = [];
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

/** A byte-level BPE tokenizer.json: the 256 bytes, a few merges (some across "\n\n", "Step", "é"), no UTF-8 pieces
 * beyond what merges make, so multi-byte characters split into byte tokens. */
function byteLevelTokenizer(): Tokenizer {
  const bc = byteChars();
  const vocab: Record<string, number> = { '<s>': 0, '</s>': 1 };
  for (let b = 0; b < 256; b++) vocab[bc[b]] = b + 2;
  const nl = bc[10];
  const merges = [[nl, nl], ['S', 't'], ['St', 'e'], ['Ste', 'p'], [bc[0xc3], bc[0xa9]], ['.', nl], ['.' + nl, nl], [bc[0x20], 'a']];
  let id = 258;
  for (const [a, b] of merges) vocab[a + b] = id++;
  const special = (i: number, content: string) => ({ id: i, content, special: true, single_word: false, lstrip: false, rstrip: false, normalized: false });
  return createHfTokenizer({
    tokenizerJson: {
      version: '1.0',
      added_tokens: [special(0, '<s>'), special(1, '</s>')],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
        fuse_unk: false, byte_fallback: false, vocab, merges: merges.map(([a, b]) => `${a} ${b}`),
      },
    },
    tokenizerConfig: { bos_token: '<s>', eos_token: '</s>' },
  });
}

/** SentencePiece-like: pieces are UTF-8 byte strings, "▁" is a space, the decoded text's first space is stripped
 * (as Llama's Strip decoder and llama2.c after BOS do). */
function spmLike(): Tokenizer {
  const enc = new TextEncoder();
  const pieces: Uint8Array[] = [];
  const words = ['▁Step', '▁the', 'ing', '▁', '\n\n', '\n', 'é', '▁caf', '：', '▁第'];
  for (const w of words) pieces.push(enc.encode(w.replaceAll('▁', ' ')));
  const byteBase = pieces.length;
  for (let b = 0; b < 256; b++) pieces.push(Uint8Array.of(b));
  const dec = new TextDecoder();
  return {
    vocabSize: pieces.length, bosId: null, eosIds: [],
    encode(text: string): number[] {
      const out: number[] = [];
      const bytes = enc.encode(text);
      let i = 0;
      outer: while (i < bytes.length) {
        for (let w = 0; w < byteBase; w++) {
          const p = pieces[w];
          if (p.length > 1 && i + p.length <= bytes.length && p.every((x, k) => bytes[i + k] === x)) {
            out.push(w);
            i += p.length;
            continue outer;
          }
        }
        out.push(byteBase + bytes[i++]);
      }
      return out;
    },
    decode(ids: number[]): string {
      const all: number[] = [];
      for (const id of ids) all.push(...pieces[id]);
      const t = dec.decode(Uint8Array.from(all));
      return t.startsWith(' ') ? t.slice(1) : t;
    },
    tokenText: (id: number) => dec.decode(pieces[id]),
  };
}

describe('tokenTextEnds: the same ends and token -> step mapping as decoding every prefix', () => {
  test('stories260K (llama2.c, byte fallback for characters it has no piece for)', async () => {
    const tok = (await loadStories()).tokenizer;
    let partial = 0;
    for (const text of TEXTS) {
      const ids = tok.encode(text, { addBos: false });
      partial += prefixEnds(tok, ids).filter((_, j) => tok.decode(ids.slice(0, j + 1)).endsWith('\uFFFD')).length;
      for (const sep of SEPS) check(tok, ids, sep, `stories260K ${JSON.stringify(text.slice(0, 20))} sep ${JSON.stringify(sep)}`);
      check(tok, [...ids, ...tok.eosIds], '\n\n', 'with EOS');
      if (tok.bosId !== null) check(tok, [tok.bosId, ...ids], '\n\n', 'after BOS');
    }
    // the texts do split characters over byte tokens
    expect(partial).toBeGreaterThan(5);
  });

  test('byte-level BPE (tokenizer.json): every multi-byte character in byte tokens, "\\n\\n" one token or two', () => {
    const tok = byteLevelTokenizer();
    for (const text of TEXTS) {
      const ids = tok.encode(text, { addBos: false });
      expect(tok.decode(ids)).toBe(text);
      for (const sep of SEPS) check(tok, ids, sep, `byte-level ${JSON.stringify(text.slice(0, 20))} sep ${JSON.stringify(sep)}`);
      check(tok, [...ids, 1], '\n\n', 'with </s>');
    }
  });

  test('a decoder that strips the first space; random token runs with invalid and partial UTF-8', async () => {
    const spm = spmLike();
    const stories = (await loadStories()).tokenizer;
    const bpe = byteLevelTokenizer();
    for (const text of TEXTS) {
      const ids = spm.encode(text);
      for (const sep of SEPS) check(spm, ids, sep, `spm-like ${JSON.stringify(text.slice(0, 20))} sep ${JSON.stringify(sep)}`);
    }
    const rng = new Rng(3);
    for (const [name, tok] of [['spm-like', spm], ['stories260K', stories], ['byte-level', bpe]] as const) {
      for (let r = 0; r < 40; r++) {
        const n = 1 + rng.int(24);
        const ids = Array.from({ length: n }, () => rng.int(tok.vocabSize));
        for (const sep of ['\n\n', ' ', '\uFFFD']) check(tok, ids, sep, `${name} random run ${r}`);
      }
    }
  });
});
