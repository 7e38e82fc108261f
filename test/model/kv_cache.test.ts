// Generation's KV caches: kv_precision's resolution ('auto' keeps f32 under 50M parameters, as
// base_precision does), 16-bit caches in real decoding (Qwen3, and Gemma 3 whose sliding layers keep ring
// caches as long as their window) against the CPU reference's greedy continuation, and the caches' sizes.
// The kernels themselves are checked against their references in src/selftest/kernels/attention_decode.ts
// (16-bit values bit for bit, rings bit for bit equal to the full-length masked cache).
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, gpuTinyConfig, greedyReference, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { generateTurns } from '../../src/model/generate_turns';
import { resolveKvPrecision } from '../../src/model/kv_storage';
import { generationLengths, kvCacheBytes, kvCacheSlots } from '../../src/model/decode_state';
import { AUTO_F32_BELOW, parameterCount } from '../../src/model/weight_storage';
import { parseHfConfig, type ModelConfig } from '../../src/model/config';
import { createDryRuntime } from '../../src/gpu/dry_device';
import { Rng } from '../../src/util/random';

/** Qwen3-0.6B's public shapes (about 600M parameters). */
const QWEN3_06B = parseHfConfig({
  architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936, hidden_size: 1024, intermediate_size: 3072,
  num_hidden_layers: 28, num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, max_position_embeddings: 40960,
  rms_norm_eps: 1e-6, rope_theta: 1000000, tie_word_embeddings: true,
});

describe('kv_precision', () => {
  test("'auto' keeps f32 under 50M parameters, else bf16 (f16 for an f16 base); explicit settings win", () => {
    const tiny = gpuTinyConfig();
    expect(parameterCount(tiny)).toBeLessThan(AUTO_F32_BELOW);
    expect(parameterCount(QWEN3_06B)).toBeGreaterThan(AUTO_F32_BELOW);
    expect(resolveKvPrecision(tiny, 'auto', 'f32')).toBe('f32');
    expect(resolveKvPrecision(tiny, undefined, 'bf16')).toBe('f32');
    expect(resolveKvPrecision(QWEN3_06B, 'auto', 'bf16')).toBe('bf16');
    expect(resolveKvPrecision(QWEN3_06B, 'auto', 'f32')).toBe('bf16');
    expect(resolveKvPrecision(QWEN3_06B, 'auto', 'f16')).toBe('f16');
    expect(resolveKvPrecision(QWEN3_06B, 'f32', 'bf16')).toBe('f32');
    expect(resolveKvPrecision(tiny, 'bf16', 'f32')).toBe('bf16');
    expect(resolveKvPrecision(tiny, 'f16', 'f32')).toBe('f16');
    expect(() => resolveKvPrecision(tiny, 'f8' as never, 'f32')).toThrow(/kv_precision 'f8'/);
  });

  test('cache sizes: 16 bits halve them; a sliding layer keeps min(window, TMAX) slots', () => {
    const g = gpuTinyConfig(GEMMA3_TINY); // layers: sliding (window 3), full, sliding
    expect(kvCacheSlots(g, 0, 16)).toEqual({ slots: 3, ring: true });
    expect(kvCacheSlots(g, 1, 16)).toEqual({ slots: 16, ring: false });
    expect(kvCacheSlots(g, 2, 2)).toEqual({ slots: 2, ring: false });
    const KVD = g.numKvHeads * g.headDim;
    expect(kvCacheBytes(g, 5, 16, 'f32')).toBe(2 * 5 * (3 + 16 + 3) * KVD * 4);
    expect(kvCacheBytes(g, 5, 16, 'bf16')).toBe(kvCacheBytes(g, 5, 16, 'f32') / 2);
    // Qwen3-0.6B, 32 rows of 448 positions: 3.3 GB in f32 (the GUIDE's figure), half in bf16
    expect(kvCacheBytes(QWEN3_06B, 32, 448, 'f32')).toBe(2 * 28 * 32 * 448 * 8 * 128 * 4);
    expect(kvCacheBytes(QWEN3_06B, 32, 448, 'bf16')).toBe(kvCacheBytes(QWEN3_06B, 32, 448, 'f32') / 2);
  });

  test("a generation's peak on a dry device drops by the caches' saving (up to the pool's size buckets)", async () => {
    const c = gpuTinyConfig({ ...GEMMA3_TINY, vocabSize: 29, maxPositionEmbeddings: 256 });
    const prompts = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [1, 2, 3]];
    const peak = async (kvPrecision: 'f32' | 'bf16') => {
      const gpu = createDryRuntime();
      const model = GpuTransformer.allocateForPlan(gpu, c);
      const before = gpu.stats.peakBytesAllocated;
      await generate(model, prompts, { maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora: null, kvPrecision });
      return gpu.stats.peakBytesAllocated - before;
    };
    const { B, TMAX } = generationLengths(c, prompts, 40);
    const saving = kvCacheBytes(c, B, TMAX, 'f32') - kvCacheBytes(c, B, TMAX, 'bf16');
    expect(saving).toBeGreaterThan(0);
    // the pool rounds each buffer up (256 B, then 1/8-octave steps), so the saving shows within an eighth
    const drop = (await peak('f32')) - (await peak('bf16'));
    expect(drop).toBeGreaterThanOrEqual(saving * 0.875);
    expect(drop).toBeLessThanOrEqual(saving * 1.125);
  });
});

describe('decoding with 16-bit KV caches', () => {
  const FAMILIES: [string, Partial<ModelConfig>, 'bf16' | 'f16'][] = [
    ['qwen3, bf16 caches', QWEN3_TINY, 'bf16'],
    ['gemma3_text, f16 caches, sliding layers as rings of 3 slots', GEMMA3_TINY, 'f16'],
  ];
  for (const [name, over, kvPrecision] of FAMILIES) {
    test(`greedy tokens equal the reference's and the f32 caches'; multi-turn decoding agrees: ${name}`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ ...over, vocabSize: 29 });
      const weights = tinyFamilyWeights(c, 5);
      const model = GpuTransformer.upload(gpu, c, weights);
      const lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL_TARGETS, useRslora: false });
      const refLora = randomizeLora(gpu, lora, new Rng(6));
      const before = gpu.pool.stats.bytesInUse;
      // prompts shorter and longer than Gemma's window of 3; 12 new tokens run far past it
      const prompts = [[1, 5, 9, 4, 7, 3], [2, 3]];
      const greedy = { temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [] as number[], lora };
      const g16 = await generate(model, prompts, { ...greedy, maxNewTokens: 12, kvPrecision });
      const g32 = await generate(model, prompts, { ...greedy, maxNewTokens: 12, kvPrecision: 'f32' });
      for (let i = 0; i < prompts.length; i++) {
        const want = greedyReference(c, weights, refLora, prompts[i], 12);
        expect(g32.tokens[i], `row ${i}, f32 caches`).toEqual(want);
        expect(g16.tokens[i], `row ${i}, ${kvPrecision} caches`).toEqual(want);
      }
      // generate_turns decodes with the same caches: without turns its tokens are generate()'s
      const turns = await generateTurns(model, prompts, { ...greedy, maxNewTokens: 12, kvPrecision }, { endsTurn: () => false, onTurnEnd: async () => null });
      expect(turns.rows.map((r) => r.ids)).toEqual(g16.tokens);
      expect(gpu.pool.stats.bytesInUse).toBe(before);
      lora.release();
      model.release();
    });
  }
});
