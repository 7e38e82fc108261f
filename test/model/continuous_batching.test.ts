// Continuous batching (generate_continuous.ts): a rollout's rows pass through `capacity` slots, the next prompts'
// groups joining as rows finish, instead of the batches running one after another. The tokens must equal those
// batches' (each batch generate() with its first row as row base, as rollout.ts ran them) for the same seed, with rows
// of very different lengths: stories260K (llama2.c), G = 1, shared prefixes and copies (bf16 caches), stop strings;
// a tiny Qwen3 (q/k norms, LoRA, fused decode weights off and on), a tiny Gemma 3 (ring caches) and a tiny Qwen3.5
// (linear layers' states); and the decode steps run one after another must drop against the batches'.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate, type GenerateOptions } from '../../src/model/generate';
import { generateContinuous } from '../../src/model/generate_continuous';
import { generateInBatches } from '../../src/bench/continuous_batching';
import { LoraSet } from '../../src/model/lora';
import { Rng } from '../../src/util/random';
import { ALL_TARGETS, gpuTinyConfig, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { tinyQwen35WithLora } from './qwen35_gpu_fixture';

const MODEL = new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url).pathname;

/** Continuous vs batches of the same rows: equal tokens, finish reasons (and texts); fewer decode steps in sequence. */
async function continuousEqualsBatches(model: GpuTransformer, rows: number[][], opts: Omit<GenerateOptions, 'stats'>, cap: number) {
  const batches = await generateInBatches(model, rows, opts, cap);
  const stats = { prefillTokens: 0, decodeRowSteps: 0 };
  const cont = await generateContinuous(model, rows, { ...opts, capacity: cap, stats });
  expect(cont.tokens).toEqual(batches.gen.tokens);
  expect(cont.finish).toEqual(batches.gen.finish);
  expect(cont.texts).toEqual(batches.gen.texts);
  const lens = cont.tokens.map((t) => t.length);
  // rows of very different lengths: some stop early, some run long
  expect(Math.min(...lens)).toBeLessThan(Math.max(...lens) / 2);
  expect(cont.finish).toContain('stop');
  // every prompt prefilled once per group (G rows share it), each joining group padded to its own length: at most the
  // batches' prefill positions (each batch padded to its longest prompt)
  const G = opts.groupSize ?? 1;
  expect(stats.prefillTokens).toBeGreaterThanOrEqual(rows.length / G);
  expect(stats.prefillTokens).toBeLessThanOrEqual(batches.prefillTokens);
  // the slots refilled: fewer decode steps one after another than the batches took
  expect(cont.steps).toBeLessThan(batches.gen.steps);
  return { cont, batches, stats };
}

const sampling = { temperature: 1, topK: 0, topP: 1 };

describe('continuous batching: the next prompts join as rows finish, the same tokens as the batches', () => {
  test('stories260K: G = 1, shared prefixes, copies with bf16 caches; stop strings', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const enc = (s: string) => loaded.tokenizer.encode(s, { addBos: true });
    const prompts = [enc('Once upon a time'), enc('Lily saw a big red ball and'), enc('Tom'), enc('One day, a little bird')];
    // common tokens as stops, so rows end after very different numbers of tokens
    const stopIds = [...loaded.tokenizer.eosIds, ...enc('.').slice(1)];
    const rows2 = prompts.flatMap((p) => [p, p]);
    const opts = { ...sampling, seed: 12, maxNewTokens: 32, stopIds, lora: null, checkEvery: 3 };
    await continuousEqualsBatches(model, prompts, opts, 2);
    await continuousEqualsBatches(model, rows2, { ...opts, groupSize: 2 }, 4);
    await continuousEqualsBatches(model, rows2, { ...opts, groupSize: 2, prefixKv: 'copies', kvPrecision: 'bf16' }, 4);
    // stop strings (the completion cut before the string; a row leaves once its text holds one)
    const decode = (ids: number[]) => loaded.tokenizer.decode(ids);
    const r = await continuousEqualsBatches(model, rows2, { ...sampling, seed: 4, maxNewTokens: 40, stopIds: loaded.tokenizer.eosIds, stopStrings: [' the', ','], decode, lora: null, checkEvery: 4, groupSize: 2 }, 4);
    expect(r.cont.texts!.every((t) => !t.includes(' the') && !t.includes(','))).toBe(true);
    model.release();
  });

  for (const [name, over] of [['qwen3', QWEN3_TINY], ['gemma3_text (ring caches)', GEMMA3_TINY]] as const) {
    test(`${name}: LoRA, f32 caches with fused decode weights, bf16 caches with shared prefixes`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ ...over, vocabSize: 29 });
      const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7));
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(8));
      const prompts = [[1, 5, 9, 4, 7], [2, 3], [6], [1, 5, 9], [8, 8, 2], [4, 4, 4, 4, 4, 4, 1], [7], [9, 2]];
      // f32 caches (with stacked q/k/v and gate/up where the family allows) one row per prompt, bf16 caches with G = 2
      const opts = { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora, checkEvery: 2 };
      await continuousEqualsBatches(model, prompts, { ...opts, kvPrecision: 'f32', fusedWeightBudget: 2 ** 26 }, 3);
      await continuousEqualsBatches(model, prompts.flatMap((p) => [p, p]), { ...opts, kvPrecision: 'bf16', fusedWeightBudget: 0, groupSize: 2 }, 4);
      lora.release();
      model.release();
    });
  }

  test('qwen3.5 (linear layers: conv and recurrent states into the joining rows\' slots), LoRA', async () => {
    const gpu = await testGpu();
    const q = tinyQwen35WithLora(gpu);
    const { model, lora } = q;
    const prompts = [[1, 5, 9, 4, 7, 3, 8], [2, 3], [4], [6, 6, 1], [9], [2, 7, 7]];
    const opts = { ...sampling, seed: 9, maxNewTokens: 30, stopIds: [3, 11], lora, checkEvery: 2 };
    await continuousEqualsBatches(model, prompts, opts, 2);
    await continuousEqualsBatches(model, prompts.flatMap((p) => [p, p]), { ...opts, groupSize: 2 }, 4);
    q.release();
  });

  test('without stop ids (every row to the end: the memory plan\'s path) the batches\' tokens; a capacity must hold whole groups', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ ...QWEN3_TINY, vocabSize: 29 });
    const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7));
    const rows = [[1, 2], [1, 2], [3], [3], [5, 6, 7], [5, 6, 7]];
    const opts = { ...sampling, seed: 1, maxNewTokens: 5, lora: null, groupSize: 2 };
    const batches = await generateInBatches(model, rows, { ...opts, stopIds: [] }, 2);
    const cont = await generateContinuous(model, rows, { ...opts, stopIds: [], capacity: 2 });
    expect(cont.tokens).toEqual(batches.gen.tokens);
    expect(cont.finish).toEqual(rows.map(() => 'length'));
    await expect(generateContinuous(model, rows, { ...opts, stopIds: [3], capacity: 3 })).rejects.toThrow(/multiple of the group size/);
    // capacity >= the rows: generate() itself
    const one = await generateContinuous(model, rows, { ...opts, stopIds: [3], capacity: 6 });
    expect(one.tokens).toEqual((await generate(model, rows, { ...opts, stopIds: [3] })).tokens);
    model.release();
  });
});
