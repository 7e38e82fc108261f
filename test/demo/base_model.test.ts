// The committed built-in model on the GPU: greedy answers to held-out demo prompts have the expected
// form (letters for reverse, a number for addition), correct or not.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate } from '../../src/model/generate';
import { parseDataset } from '../../src/data';
import { numericMatch } from '../../src/grpo/rewards/match';
import { withDefaults } from '../../src/grpo/rewards';
import { testGpu } from '../gpu';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));

describe('tiny-puzzles answers held-out demo prompts in the expected form', async () => {
  const gpu = await testGpu();
  const loaded = await loadModelFromPath(`${PUBLIC}models/tiny-puzzles`);
  const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
  afterAll(() => model.release());
  const rows = (family: string, n: number) => parseDataset(readFileSync(`${PUBLIC}datasets/${family}.jsonl`, 'utf8'), `${family}.jsonl`).rows.slice(-n);
  const answer = async (prompts: string[]) => {
    const gen = await generate(model, prompts.map((p) => loaded.tokenizer.encode(p, { addBos: true })), {
      maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: loaded.tokenizer.eosIds, lora: null,
    });
    return gen.tokens.map((t, i) => ({ text: t.length ? loaded.tokenizer.decode(t) : '', finish: gen.finish[i] }));
  };

  test('reverse: letters of about the length of the prompt, then EOS', async () => {
    const rs = rows('reverse', 8);
    const out = await answer(rs.map((r) => r.prompt));
    out.forEach((o, i) => {
      expect(o.text).toMatch(/^[a-z]+$/);
      expect(Math.abs(o.text.length - rs[i].answer.length)).toBeLessThanOrEqual(1);
      expect(o.finish).toBe('stop');
    });
  });

  test('addition: a number that numeric_match reads, then EOS', async () => {
    const rs = rows('addition', 8);
    const out = await answer(rs.map((r) => r.prompt));
    const params = withDefaults('numeric_match', numericMatch.params, {});
    out.forEach((o, i) => {
      expect(o.text).toMatch(/^\d{1,3}$/);
      expect(o.finish).toBe('stop');
      // they need not be right
      expect(numericMatch.fn(o.text, rs[i].answer, rs[i].prompt, params)).not.toBeNull();
    });
  });
});
