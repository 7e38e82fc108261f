// Shared-prefix generation (GenerateOptions.groupSize, DecodeState.prefill): each group of G identical prompts is
// prefilled once; its k/v kept once per group for the decode attention to read (prefixKv 'shared', the default;
// sliding-window rings written into each row's) or copied into each row's cache (prefixKv 'copies'), its
// linear-layer states and last hidden state copied into its G rows. The sampled tokens must equal the unshared
// path's (every row prefilled) for the same seed either way: on
// stories260K (llama2.c), a tiny Qwen3 (q/k norms), a tiny Gemma 3 (sliding-window ring caches) and a tiny
// Qwen3.5 (linear layers' conv and recurrent states), with right-padded prompts of different lengths.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate, type GenerateOptions } from '../../src/model/generate';
import { LoraSet } from '../../src/model/lora';
import { Rng } from '../../src/util/random';
import { ALL_TARGETS, gpuTinyConfig, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import type { ModelConfig } from '../../src/model/config';
import type { WeightMap } from '../../src/model/weights';
import { tinyQwen35WithLora } from './qwen35_gpu_fixture';

const MODEL = new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url).pathname;

/** G rows per prompt, sampled at temperature 1 (so rows of a group differ), shared vs unshared. */
async function sharedEqualsUnshared(model: GpuTransformer, prompts: number[][], G: number, opts: Omit<GenerateOptions, 'groupSize' | 'stats'>) {
  const rows = prompts.flatMap((p) => Array.from({ length: G }, () => p));
  const unsharedStats = { prefillTokens: 0 };
  const sharedStats = { prefillTokens: 0 };
  const unshared = await generate(model, rows, { ...opts, stats: unsharedStats });
  const shared = await generate(model, rows, { ...opts, groupSize: G, stats: sharedStats });
  expect(shared.tokens).toEqual(unshared.tokens);
  expect(shared.finish).toEqual(unshared.finish);
  // the prompt's k/v copied into every row's cache instead of read from its group's block
  const copies = await generate(model, rows, { ...opts, groupSize: G, prefixKv: 'copies' });
  expect(copies.tokens).toEqual(unshared.tokens);
  // the draw differs per row: a group's rows are not copies of each other
  for (let p = 0; p < prompts.length; p++) {
    const group = unshared.tokens.slice(p * G, p * G + G).map((t) => t.join(','));
    expect(new Set(group).size).toBeGreaterThan(1);
  }
  expect(sharedStats.prefillTokens * G).toBe(unsharedStats.prefillTokens);
  return shared;
}

const sampling = { temperature: 1, topK: 0, topP: 1, seed: 1234 };

describe('shared-prefix generation equals the unshared path', () => {
  test('stories260K: two prompts of different lengths, G = 4, sampled', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const enc = (s: string) => loaded.tokenizer.encode(s, { addBos: true });
    await sharedEqualsUnshared(model, [enc('Once upon a time'), enc('The dog')], 4, { ...sampling, maxNewTokens: 12, stopIds: loaded.tokenizer.eosIds, lora: null });
    // kv_precision bf16: the 16-bit cache writes
    await sharedEqualsUnshared(model, [enc('Lily saw a big red ball and')], 3, { ...sampling, maxNewTokens: 8, stopIds: [], lora: null, kvPrecision: 'bf16' });
    model.release();
  });

  const families: [string, ModelConfig, WeightMap][] = [];
  for (const [name, over] of [['qwen3', QWEN3_TINY], ['gemma3_text (ring caches)', GEMMA3_TINY]] as const) {
    const c = gpuTinyConfig({ ...over, vocabSize: 29 });
    families.push([name, c, tinyFamilyWeights(c, 7)]);
  }
  for (const [name, c, weights] of families) {
    test(`${name}: LoRA, prompts of 5 and 2 tokens, G = 3`, async () => {
      const gpu = await testGpu();
      const model = GpuTransformer.upload(gpu, c, weights);
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(8));
      // fused decode weights off and on (the fused path writes the caches with RoPE in one kernel)
      for (const fusedWeightBudget of [0, 2 ** 26]) {
        await sharedEqualsUnshared(model, [[1, 5, 9, 4, 7], [2, 3]], 3, { ...sampling, maxNewTokens: 7, stopIds: [], lora, fusedWeightBudget });
      }
      lora.release();
      model.release();
    });
  }

  test('qwen3.5 (linear layers: conv and recurrent states copied per row), LoRA, G = 3', async () => {
    const gpu = await testGpu();
    const q = tinyQwen35WithLora(gpu);
    const { model, lora } = q;
    await sharedEqualsUnshared(model, [[1, 5, 9, 4, 7, 3, 8], [2, 3]], 3, { ...sampling, maxNewTokens: 8, stopIds: [], lora });
    q.release();
  });

  test('a group whose rows differ is refused by name', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    await expect(generate(model, [[1, 2], [1, 2], [1, 3], [1, 3]], { ...sampling, maxNewTokens: 2, stopIds: [], lora: null, groupSize: 3 })).rejects.toThrow(/group size 3/);
    await expect(generate(model, [[1, 2], [1, 3]], { ...sampling, maxNewTokens: 2, stopIds: [], lora: null, groupSize: 2 })).rejects.toThrow(/row 1's prompt differs/);
    model.release();
  });
});
