// The shared prompt-prefix KV cache in generation (GenerateOptions.prefixKv 'shared', DecodeState prefixGroupSize):
// each group's prompt k/v kept once per full-attention layer, each row's new tokens in a block of its own, read
// through the per-row table that compaction rewrites when finished rows leave. With rows stopping early and late
// (compaction active), the tokens must equal the prompt's k/v copied into every row's cache (prefixKv 'copies')
// and every row prefilled (groupSize 1), and compaction must have happened: stories260K (llama2.c) with f32 and
// bf16 caches, a tiny Qwen3 (q/k norms; fused decode weights off and on; a bf16 base: the split RoPE + cache write,
// f16 caches), a tiny Gemma 3 (sliding-window rings stay per row) and a tiny Qwen3.5 (linear layers' states per
// row). On a dry device (the memory plan's runtime) a generation's peak drops by the caches' saving.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate, type GenerateOptions } from '../../src/model/generate';
import { generationLengths, kvCacheBytes, kvCacheBytesShared } from '../../src/model/decode_state';
import { LoraSet } from '../../src/model/lora';
import { createDryRuntime } from '../../src/gpu/dry_device';
import { Rng } from '../../src/util/random';
import { ALL_TARGETS, gpuTinyConfig, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { tinyQwen35WithLora } from './qwen35_gpu_fixture';

const MODEL = new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url).pathname;

type Opts = Omit<GenerateOptions, 'groupSize' | 'prefixKv' | 'compactFinished' | 'stats'>;

/** G rows per prompt, rows finishing at different steps: shared = copies = every row prefilled (all compacted), =
 * shared uncompacted; the compacted runs computed fewer rows than every row to the end. */
async function sharedEqualsCopies(model: GpuTransformer, prompts: number[][], G: number, opts: Opts) {
  const rows = prompts.flatMap((p) => Array.from({ length: G }, () => p));
  const run = async (groupSize: number, prefixKv: 'shared' | 'copies', compactFinished = true) => {
    const stats = { prefillTokens: 0, decodeRowSteps: 0 };
    const gen = await generate(model, rows, { ...opts, groupSize, prefixKv, compactFinished, stats });
    return { gen, stats };
  };
  const every = await run(1, 'copies');
  const copies = await run(G, 'copies');
  const shared = await run(G, 'shared');
  const full = await run(G, 'shared', false);
  for (const other of [copies, shared, full]) {
    expect(other.gen.tokens).toEqual(every.gen.tokens);
    expect(other.gen.finish).toEqual(every.gen.finish);
  }
  // rows left the batch: some stopped well before the last step, and the compacted runs computed fewer rows
  const lens = every.gen.tokens.map((t) => t.length);
  expect(every.gen.finish).toContain('stop');
  expect(Math.min(...lens)).toBeLessThan(every.gen.steps / 2);
  expect(shared.stats.decodeRowSteps).toBeLessThan(full.stats.decodeRowSteps);
  expect(shared.stats.decodeRowSteps).toBe(copies.stats.decodeRowSteps);
  // a group's rows are not copies of each other
  for (let p = 0; p < prompts.length; p++) expect(new Set(every.gen.tokens.slice(p * G, p * G + G).map((t) => t.join(','))).size).toBeGreaterThan(1);
  expect(shared.stats.prefillTokens * G).toBe(every.stats.prefillTokens);
  return shared.gen;
}

const sampling = { temperature: 1, topK: 0, topP: 1 };

describe('shared prompt-prefix KV cache: the same tokens as copies and as every row prefilled, finished rows leaving', () => {
  test('stories260K: f32 and bf16 caches, prompts of different lengths, G = 4', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const enc = (s: string) => loaded.tokenizer.encode(s, { addBos: true });
    const prompts = [enc('Once upon a time'), enc('The dog'), enc('Lily saw a big red ball and')];
    const stopIds = [...loaded.tokenizer.eosIds, ...enc('.').slice(1)];
    for (const kvPrecision of ['f32', 'bf16'] as const) {
      await sharedEqualsCopies(model, prompts, 4, { ...sampling, seed: 12, maxNewTokens: 40, stopIds, lora: null, kvPrecision, checkEvery: 3 });
    }
    model.release();
  });

  for (const [name, over] of [['qwen3', QWEN3_TINY], ['gemma3_text (rings per row)', GEMMA3_TINY]] as const) {
    test(`${name}: LoRA, f32 and bf16 caches, fused decode weights off and on, G = 3`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ ...over, vocabSize: 29 });
      const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7));
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(8));
      for (const kvPrecision of ['f32', 'bf16'] as const) {
        for (const fusedWeightBudget of [0, 2 ** 26]) {
          await sharedEqualsCopies(model, [[1, 5, 9, 4, 7], [2, 3], [8, 8, 2]], 3, { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora, kvPrecision, fusedWeightBudget, checkEvery: 2 });
        }
      }
      lora.release();
      model.release();
    });
  }

  test('llama-shaped: the split RoPE + cache write (f32 base unstacked, f32 caches; bf16 base, f16 caches), LoRA', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ vocabSize: 29 });
    for (const basePrecision of ['f32', 'bf16'] as const) {
      const model = GpuTransformer.upload(gpu, c, tinyFamilyWeights(c, 7), { basePrecision });
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(8));
      const kvPrecision = basePrecision === 'f32' ? 'f32' : 'f16';
      await sharedEqualsCopies(model, [[1, 5, 9, 4, 7], [2, 3], [8, 8, 2]], 3, { ...sampling, seed: 5, maxNewTokens: 30, stopIds: [3, 11], lora, kvPrecision, fusedWeightBudget: 0, checkEvery: 2 });
      lora.release();
      model.release();
    }
  });

  test('qwen3.5 (linear layers: conv and recurrent states per row), LoRA, G = 2', async () => {
    const gpu = await testGpu();
    const q = tinyQwen35WithLora(gpu);
    const { model, lora } = q;
    await sharedEqualsCopies(model, [[1, 5, 9, 4, 7, 3, 8], [2, 3], [4]], 2, { ...sampling, seed: 9, maxNewTokens: 30, stopIds: [3, 11], lora, checkEvery: 2 });
    q.release();
  });

  // 2 prompts x 4 rows on a dry device (the memory plan's runtime): the shared layout's peak is the copies' less
  // the caches' saving (to the pool's size buckets); Gemma 3's rings stay per row
  for (const [name, over] of [['qwen3', QWEN3_TINY], ['gemma3_text (rings per row)', GEMMA3_TINY]] as const) {
    for (const kvPrecision of ['f32', 'bf16'] as const) {
      test(`peak bytes of a generation drop by the caches' saving: ${name}, ${kvPrecision}`, async () => {
        const c = gpuTinyConfig({ ...over, vocabSize: 29, maxPositionEmbeddings: 256 });
        const prompt = Array.from({ length: 40 }, (_, i) => 1 + (i % 20));
        const rows = [...Array(4).fill(prompt), ...Array(4).fill(prompt.slice(0, 23))];
        const peak = async (prefixKv: 'shared' | 'copies') => {
          const gpu = createDryRuntime();
          const model = GpuTransformer.allocateForPlan(gpu, c);
          const before = gpu.stats.peakBytesAllocated;
          await generate(model, rows, { maxNewTokens: 24, temperature: 1, topK: 0, topP: 1, seed: 0, stopIds: [], lora: null, kvPrecision, groupSize: 4, prefixKv });
          return gpu.stats.peakBytesAllocated - before;
        };
        const len = generationLengths(c, rows, 24);
        const saving = kvCacheBytes(c, len.B, len.TMAX, kvPrecision) - kvCacheBytesShared(c, len, 4, kvPrecision);
        expect(saving).toBeGreaterThan(0);
        const drop = (await peak('copies')) - (await peak('shared'));
        expect(drop).toBeGreaterThanOrEqual(saving * 0.875);
        expect(drop).toBeLessThanOrEqual(saving * 1.125);
      });
    }
  }
});
