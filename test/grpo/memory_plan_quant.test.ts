// The memory plan of a model whose matrices stay quantised (GGUF blocks on the GPU) against a real training step
// on the Node WebGPU adapter: the dry run's peak and largest buffer equal the real step's to the byte, for a
// Q4_K_M-like mix (Q4_K + Q6_K) and a Q8_0 model; and the plan's weights are the word-aligned block bytes.
// The same for base_precision "nf4_dq" (NF4_DQ: code rows, then the side region), its LM head in 256-row chunks.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ggufModel, q4KM } from '../model/gguf_models';
import { memFile, randomWeights, tinyConfig } from '../model/tiny';
import { loadGguf } from '../../src/model/gguf/load';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { measureStep, planLayout } from '../../src/grpo/memory_plan';
import { loadQuantPlan, quantTypesOf } from '../../src/model/quant_storage';
import { ggmlType, quantGpuBytes } from '../../src/ops/ggml_types';
import type { Tokenizer } from '../../src/model/tokenizer';
import type { QuantName } from '../model/gguf_fixtures';
import { dryLimitsOf } from '../../src/gpu/dry_device';

const config: GrpoConfig = {
  ...defaultConfig(),
  num_generations: 2, prompts_per_step: 2, gradient_accumulation_steps: 1, max_prompt_length: 5, max_completion_length: 3,
  lora_r: 2, lora_target_modules: ['q_proj', 'v_proj', 'down_proj'], beta: 0.04,
};

const CASES: [string, number, (hf: string, shape: number[]) => QuantName][] = [
  ['Q4_K_M mix (Q4_K + Q6_K)', 256, q4KM],
  ['Q8_0', 64, (_, s) => (s.length === 1 ? 'F32' : 'Q8_0')],
];

describe('memory plan with quantised weights', () => {
  for (const [name, C, quant] of CASES) {
    test(`dry-run peak equals a real step's measured peak: ${name}`, async () => {
      const gpu = await testGpu();
      const mc = tinyConfig({ hiddenSize: C, numHeads: 4, numKvHeads: 2, headDim: C / 4, intermediateSize: 256, vocabSize: 288, maxPositionEmbeddings: 64 });
      const loaded = await loadGguf(memFile('m.gguf', ggufModel('llama', mc, 3, quant).bytes));
      const storage = { fileDtype: loaded.dtype, quant: quantTypesOf(loaded.weights) };
      expect(storage.quant.size).toBeGreaterThan(0);

      await gpu.sync();
      gpu.pool.trim();
      expect(gpu.pool.stats.bytesAllocated).toBe(0);
      gpu.pool.stats.peakBytesAllocated = 0;
      gpu.pool.largest.bytes = 0;
      const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights, storage);
      expect(model.quant.size).toBe(storage.quant.size);
      const V = loaded.config.vocabSize;
      const tokenizer: Tokenizer = { vocabSize: V, bosId: null, eosIds: [], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
      const train = Array.from({ length: 2 }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: 5 }, (_, j) => (i * 7 + j) % V), answer: '', raw: {} }));
      const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
      const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer });
      await trainer.trainStep();
      const real = { peak: gpu.pool.stats.peakBytesAllocated, largest: gpu.pool.largest.bytes };
      await gpu.sync();
      trainer.release();
      model.release();

      const opts = {
        storage, adapter: { isSoftware: gpu.adapter.isSoftware },
        limits: dryLimitsOf(gpu),
      };
      const dry = await measureStep(loaded.config, config, undefined, opts);
      expect(dry.peakBytes).toBe(real.peak);
      expect(dry.largestBufferBytes).toBe(real.largest);
      // the plan's weights: every matrix's word-aligned blocks, the norms in f32
      const plan = await planLayout(loaded.config, config, { generationPrompts: 2, rowsPerPass: null }, opts);
      let want = 0;
      for (const [n, t] of loaded.weights) want += storage.quant.has(n) ? t.quant!.words.length * 4 : t.data.length * 4;
      expect(plan.breakdown.weights).toBe(want);
      expect(plan.basePrecision).toMatch(/^(Q4_K\+Q6_K|Q8_0) blocks/);
    }, 120_000);
  }

  test('dry-run peak equals a real step\'s measured peak: nf4_dq (bitsandbytes\' bytes), the LM head in 256-row chunks', async () => {
    const gpu = await testGpu();
    // vocabulary 600: head chunks of 256, 256 and 88 rows (each chunk's blocks start a 256-block group)
    const mc = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 128, vocabSize: 600, maxPositionEmbeddings: 64, tieWordEmbeddings: false });
    const weights = randomWeights(mc, 4, 0.3);
    const storage = { basePrecision: 'nf4_dq' as const };
    const chunkBytes = 1024;
    await gpu.sync();
    gpu.pool.trim();
    expect(gpu.pool.stats.bytesAllocated).toBe(0);
    gpu.pool.stats.peakBytesAllocated = 0;
    gpu.pool.largest.bytes = 0;
    const model = GpuTransformer.upload(gpu, mc, weights, storage);
    expect(model.quant.get('lm_head.weight')).toBe('NF4_DQ');
    model.lmHeadChunkBytes = chunkBytes;
    const V = mc.vocabSize;
    const tokenizer: Tokenizer = { vocabSize: V, bosId: null, eosIds: [], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
    const train = Array.from({ length: 2 }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: 5 }, (_, j) => (i * 7 + j) % V), answer: '', raw: {} }));
    const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
    const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer });
    await trainer.trainStep();
    const real = { peak: gpu.pool.stats.peakBytesAllocated, largest: gpu.pool.largest.bytes };
    await gpu.sync();
    trainer.release();
    model.release();
    const opts = {
      storage, lmHeadChunkBytes: chunkBytes, adapter: { isSoftware: gpu.adapter.isSoftware },
      limits: dryLimitsOf(gpu),
    };
    const dry = await measureStep(mc, config, undefined, opts);
    expect(dry.peakBytes).toBe(real.peak);
    expect(dry.largestBufferBytes).toBe(real.largest);
    // the plan's weights: the NF4_DQ matrices at bitsandbytes' bytes (quantGpuBytes), the rest bf16 / f32
    const plan = await planLayout(mc, config, { generationPrompts: 2, rowsPerPass: null }, opts);
    const quant = loadQuantPlan(mc, 'nf4_dq')!.quant;
    let want = 0;
    for (const [n, t] of weights) {
      const [R, K] = t.shape;
      if (quant.has(n)) {
        const nb = (R * K) / 64;
        expect(quantGpuBytes(ggmlType('NF4_DQ'), R, K)).toBe(nb * 32 + Math.ceil(nb / 4) * 4 + Math.ceil(nb / 256) * 4 + 4);
        want += quantGpuBytes(ggmlType('NF4_DQ'), R, K);
      } else want += t.data.length * (t.shape.length === 2 ? 2 : 4);
    }
    expect(plan.breakdown.weights).toBe(want);
  }, 120_000);
});
