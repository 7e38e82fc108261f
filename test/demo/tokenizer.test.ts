// The built-in model's character tokenizer: the committed tokenizer.json is what src/demo/tokenizer.ts
// writes, @huggingface/tokenizers reads it, and every character the demo tasks use round-trips.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createHfTokenizer } from '../../src/model/tokenizer_hf';
import { BOS_ID, CHARSET, charTokenizerJson, EOS_ID, PAD_ID, VOCAB_SIZE } from '../../src/demo/tokenizer';
import { demoDatasets, TASK_FAMILIES } from '../../src/demo/corpus';

const MODEL_DIR = fileURLToPath(new URL('../../public/models/tiny-puzzles/', import.meta.url));
const committed = JSON.parse(readFileSync(`${MODEL_DIR}tokenizer.json`, 'utf8'));
const config = JSON.parse(readFileSync(`${MODEL_DIR}config.json`, 'utf8'));

describe('tiny-puzzles tokenizer', () => {
  const tok = createHfTokenizer({ tokenizerJson: committed, config });

  test('the committed tokenizer.json is the generated one; small vocabulary with <pad>, <s>, </s>', () => {
    expect(committed).toEqual(charTokenizerJson());
    expect(VOCAB_SIZE).toBeLessThan(100);
    expect(tok.vocabSize).toBe(VOCAB_SIZE);
    expect(config.vocab_size).toBe(VOCAB_SIZE);
    expect(tok.bosId).toBe(BOS_ID);
    expect(tok.eosIds).toEqual([EOS_ID]);
    expect(tok.tokenText(PAD_ID)).toBe('<pad>');
    expect(tok.tokenText(BOS_ID)).toBe('<s>');
    expect(tok.tokenText(EOS_ID)).toBe('</s>');
  });

  test('one token per character; every character round-trips', () => {
    for (const ch of CHARSET) {
      const ids = tok.encode(ch, { addBos: false });
      expect(ids, JSON.stringify(ch)).toHaveLength(1);
      expect(tok.tokenText(ids[0])).toBe(ch);
      expect(tok.decode(ids)).toBe(ch);
    }
    const all = tok.encode(CHARSET, { addBos: false });
    expect(all).toEqual([...CHARSET].map((_, i) => 4 + i));
    expect(tok.decode(all)).toBe(CHARSET);
    expect(tok.decode(tok.encode('  two  spaces ', { addBos: false }))).toBe('  two  spaces ');
  });

  test('prompts get one BOS by default (like Llama); special tokens are skipped when decoding', () => {
    expect(tok.encode('12+34=')).toEqual([BOS_ID, ...tok.encode('12+34=', { addBos: false })]);
    expect(tok.encode('12+34=', { addBos: true })[0]).toBe(BOS_ID);
    expect(tok.decode([BOS_ID, ...tok.encode('46', { addBos: false }), EOS_ID])).toBe('46');
  });

  test('every demo prompt and answer round-trips', () => {
    const data = demoDatasets();
    for (const f of TASK_FAMILIES) {
      for (const r of data[f].slice(0, 200)) {
        const text = r.prompt + r.answer;
        const ids = tok.encode(text, { addBos: false });
        expect(ids).toHaveLength(text.length);
        expect(tok.decode(ids)).toBe(text);
      }
    }
  });
});
