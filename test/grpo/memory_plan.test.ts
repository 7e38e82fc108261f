// The memory plan's dry run against a real training step on the Node WebGPU adapter: same model shapes,
// same config, same worst-case lengths, and the buffer pool's peak (and largest buffer) must be equal to the
// byte. Llama, qwen2 (q/k/v bias), Qwen3 (q/k norms) and Gemma 3 text (four norms, GeGLU, sliding layers
// with ring KV caches, embedding scale) shapes, f32 and bf16 bases, f32 and 16-bit KV caches, the chunked LM
// head and a cut layout.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { GrpoTrainer, type StepLayout } from '../../src/grpo/trainer';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { choosePlan, measureStep, planLayout } from '../../src/grpo/memory_plan';
import type { ModelConfig } from '../../src/model/config';
import type { Tokenizer } from '../../src/model/tokenizer';
import type { GpuRuntime } from '../../src/gpu/runtime';
import type { BaseStorageOptions } from '../../src/model/weight_storage';
import { dryLimitsOf } from '../../src/gpu/dry_device';

function grpo(over: Partial<GrpoConfig> = {}): GrpoConfig {
  return {
    ...defaultConfig(),
    num_generations: 3, prompts_per_step: 2, gradient_accumulation_steps: 2, max_prompt_length: 13, max_completion_length: 9,
    lora_r: 2, lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], beta: 0.04, ...over,
  };
}

/** A real step at worst-case lengths: prompts of max_prompt_length tokens, no stop ids (every completion runs
 * to max_completion_length), on the real adapter, from an empty pool. */
async function realStep(gpu: GpuRuntime, mc: ModelConfig, config: GrpoConfig, storage: BaseStorageOptions, chunk: number | undefined, layout?: StepLayout) {
  await gpu.sync();
  gpu.pool.trim();
  expect(gpu.pool.stats.bytesAllocated).toBe(0);
  gpu.pool.stats.peakBytesAllocated = 0;
  gpu.pool.largest.bytes = 0;
  const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 5), storage);
  if (chunk !== undefined) model.lmHeadChunkBytes = chunk;
  const tokenizer: Tokenizer = { vocabSize: mc.vocabSize, bosId: null, eosIds: [], encode: () => [], decode: (ids) => ids.join(' '), tokenText: String };
  const n = config.prompts_per_step * config.gradient_accumulation_steps;
  const train = Array.from({ length: n }, (_, i) => ({ text: `p${i}`, ids: Array.from({ length: config.max_prompt_length }, (_, j) => (i + j) % mc.vocabSize), answer: '', raw: {} }));
  const scorer = { names: ['r'], weights: [1], score: async (items: unknown[]) => ({ perFunc: [items.map((_, i) => i % 2)], errors: [] }), dispose() {} };
  const trainer = new GrpoTrainer({ gpu, model, tokenizer, config, train, eval: [], scorer, layout });
  const report = await trainer.trainStep();
  expect(report.metrics['completions/mean_length']).toBe(config.max_completion_length);
  const out = { peak: gpu.pool.stats.peakBytesAllocated, largest: gpu.pool.largest.bytes, metricPeak: report.metrics['gpu/peak_bytes'] };
  await gpu.sync();
  trainer.release();
  model.release();
  return out;
}

const QWEN3: Partial<ModelConfig> = {
  architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 2, qkNorm: true,
  ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, vocabSize: 301,
};
const GEMMA3: Partial<ModelConfig> = {
  architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 1,
  numLayers: 3, qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(12)), attentionScale: 8 ** -0.5 * 1.3,
  sandwichNorms: true, hiddenAct: 'gelu_tanh', attentionBias: true, oProjBias: true,
  layerTypes: ['sliding_attention', 'full_attention', 'sliding_attention'], slidingWindow: 3,
  ropeTheta: 1_000_000, ropeScaling: { type: 'linear', factor: 8 }, ropeLocalTheta: 10000, ropeLocalScaling: null, rmsNormEps: 1e-6,
  tieWordEmbeddings: true, vocabSize: 301,
};

const CASES: [string, Partial<ModelConfig>, BaseStorageOptions, number | undefined, StepLayout | undefined][] = [
  ['llama, f32, whole-vocabulary head', { vocabSize: 301 }, {}, undefined, undefined],
  ['qwen2 (q/k/v bias), untied, bf16 base, chunked head', { vocabSize: 301, attentionBias: true, tieWordEmbeddings: false, hiddenSize: 16 }, { basePrecision: 'bf16' }, 16 * 64 * 4, undefined],
  ['qwen3, bf16 base, chunked head', QWEN3, { basePrecision: 'bf16' }, 16 * 64 * 4, undefined],
  ['gemma3_text, f32 base, whole-vocabulary head', GEMMA3, {}, undefined, undefined],
  ['gemma3_text, bf16 base, chunked head, cut layout', GEMMA3, { basePrecision: 'bf16' }, 16 * 64 * 4, { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true }],
  ['llama, cut layout (1 prompt generated at a time, 2 rows per pass)', { vocabSize: 97 }, {}, undefined, { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true }],
];

/** The dry run's peak and largest buffer equal a real step's, to the byte. */
async function expectPlanEqualsReal(over: Partial<ModelConfig>, storage: BaseStorageOptions, chunk: number | undefined, layout: StepLayout | undefined, extra: Partial<GrpoConfig> = {}) {
  const gpu = await testGpu();
  const mc = gpuTinyConfig(over);
  const config = grpo(extra);
  const real = await realStep(gpu, mc, config, storage, chunk, layout);
  const dry = await measureStep(mc, config, layout, {
    storage, lmHeadChunkBytes: chunk, adapter: { isSoftware: gpu.adapter.isSoftware },
    limits: dryLimitsOf(gpu),
  });
  expect(dry.peakBytes).toBe(real.peak);
  expect(dry.largestBufferBytes).toBe(real.largest);
  expect(real.metricPeak).toBe(real.peak);
}

/** KV caches in 16 bits (generation's caches as u32 pairs) and Gemma's ring caches in 16 bits. */
const KV_CASES: [string, Partial<ModelConfig>, BaseStorageOptions, Partial<GrpoConfig>][] = [
  ['llama, f32 base, bf16 KV caches', { vocabSize: 301 }, {}, { kv_precision: 'bf16' }],
  ['qwen3, bf16 base, f16 KV caches', QWEN3, { basePrecision: 'bf16' }, { kv_precision: 'f16' }],
  ['gemma3_text, bf16 base, bf16 KV caches (sliding layers: rings of 3 slots)', GEMMA3, { basePrecision: 'bf16' }, { kv_precision: 'bf16' }],
];

describe('memory plan', () => {
  for (const [name, over, storage, chunk, layout] of CASES) {
    test(`dry-run peak equals a real step's measured peak: ${name}`, async () => {
      await expectPlanEqualsReal(over, storage, chunk, layout);
    });
  }
  test("dry-run peak equals a real step's measured peak: llama, bf16 KV caches, share_prompt_prefix off (one cache per row)", async () => {
    await expectPlanEqualsReal({ vocabSize: 301 }, {}, undefined, undefined, { kv_precision: 'bf16', share_prompt_prefix: 'off' });
  });
  for (const [name, over, storage, extra] of KV_CASES) {
    test(`dry-run peak equals a real step's measured peak: ${name}`, async () => {
      await expectPlanEqualsReal(over, storage, undefined, undefined, extra);
    });
  }

  // share_prompt_prefix_training: one packed row per group (prompt once, completions as segments), whole and cut
  test('dry-run peak equals a real step\'s measured peak: llama, share_prompt_prefix_training on', async () => {
    await expectPlanEqualsReal({ vocabSize: 301 }, {}, undefined, undefined, { share_prompt_prefix_training: 'on' });
    await expectPlanEqualsReal({ vocabSize: 97 }, {}, undefined, { generationPrompts: 1, rowsPerPass: 2, trimBetweenPhases: true }, { share_prompt_prefix_training: 'on' });
  });
  test('dry-run peak equals a real step\'s measured peak: gemma3_text, share_prompt_prefix_training on', async () => {
    await expectPlanEqualsReal(GEMMA3, {}, undefined, undefined, { share_prompt_prefix_training: 'on' });
  });

  // (the step's peak is the policy update's here, so the caches' saving need not lower it)
  test('16-bit KV caches halve the plan\'s KV cache; sliding layers count their window', async () => {
    const mc = gpuTinyConfig(GEMMA3);
    const f32 = await planLayout(mc, grpo({ kv_precision: 'f32' }), { generationPrompts: 2, rowsPerPass: null });
    const bf16 = await planLayout(mc, grpo({ kv_precision: 'bf16' }), { generationPrompts: 2, rowsPerPass: null });
    expect(f32.kvPrecision).toBe('f32');
    expect(bf16.kvPrecision).toBe('bf16');
    // 6 rows; the full layer with share_prompt_prefix (default 'auto'): 2 prompts of 16 slots (13 padded to the
    // pack multiple) and 6 rows of 9 new tokens; 3 slots a row on each of the two sliding layers (rings stay per
    // row); k and v; NKV * HS = 8
    expect(f32.breakdown.kvCache).toBe(2 * (2 * 16 + 6 * 9 + 6 * 3 + 6 * 3) * 8 * 4);
    expect(bf16.breakdown.kvCache).toBe(f32.breakdown.kvCache / 2);
    // every row's own full-length cache without sharing: 24 positions on the full layer
    const off = await planLayout(mc, grpo({ kv_precision: 'f32', share_prompt_prefix: 'off' }), { generationPrompts: 2, rowsPerPass: null });
    expect(off.breakdown.kvCache).toBe(2 * 6 * (24 + 3 + 3) * 8 * 4);
    // 'auto' keeps f32 for a model this small
    expect((await planLayout(mc, grpo(), { generationPrompts: 2, rowsPerPass: null })).kvPrecision).toBe('f32');
  });

  test('choosePlan keeps the config layout when it fits and cuts the step to fit a smaller budget', async () => {
    const mc = gpuTinyConfig({ vocabSize: 301 });
    const config = grpo({ prompts_per_step: 4, gradient_accumulation_steps: 1, max_completion_length: 24 });
    const free = await choosePlan(mc, config);
    expect(free.fits).toBe(true);
    expect(free.layout).toEqual({ generationPrompts: 4, rowsPerPass: null });
    const small = await planLayout(mc, config, { generationPrompts: 1, rowsPerPass: 1 });
    expect(small.peakBytes).toBeLessThan(free.peakBytes);
    const budget = Math.floor((free.peakBytes + small.peakBytes) / 2);
    const cut = await choosePlan(mc, config, { budgetBytes: budget });
    expect(cut.fits).toBe(true);
    expect(cut.peakBytes).toBeLessThanOrEqual(budget);
    expect(cut.layout).not.toEqual(free.layout);
    const none = await choosePlan(mc, config, { budgetBytes: 1000 });
    expect(none.fits).toBe(false);
    expect(none.advice.join(' ')).toMatch(/max_completion_length/);
  });
});

describe('rows per pass', () => {
  // the recipes' settings too: the entropy-quantile threshold is the whole micro-batch's, the entropy bonus
  // goes through the head, GSPO's sequence ratios and the traces are per completion
  const RECIPES = {
    lossType: 'dapo' as const,
    loss: { epsilon: 0.2, epsilonHigh: 0.28, beta: 0, importanceSamplingLevel: 'sequence' as const, delta: 4 },
    topEntropyQuantile: 0.5,
    entropyCoef: 0.05,
    trace: true,
  };
  for (const [name, extra] of [['plain', {}], ['top_entropy_quantile, entropy_coef, sequence level, traces', RECIPES]] as const) {
  test(`a micro-batch run in passes of fewer rows gives the same gradients and loss (${name})`, async () => {
    const { policyUpdate } = await import('../../src/grpo/policy_update');
    const { AdamW } = await import('../../src/grpo/optimizer');
    const { LoraSet } = await import('../../src/model/lora');
    const gpu = await testGpu();
    const mc = gpuTinyConfig({ vocabSize: 53 });
    const model = GpuTransformer.upload(gpu, mc, randomWeights(mc, 2));
    const run = async (rowsPerPass: number | null) => {
      const lora = new LoraSet(gpu, mc, { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'down_proj'], useRslora: false });
      lora.initialize(7);
      for (const p of lora.pairs.values()) gpu.write(p.B, Float32Array.from({ length: p.B.size }, (_, i) => Math.sin(i + 1) * 0.1));
      const opt = new AdamW(gpu, lora.parameters(), { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1e9 });
      const seq = (i: number) => ({ prompt: [1, 2 + i, 3], completion: Array.from({ length: 3 + (i % 4) }, (_, j) => (i * 5 + j) % 53), advantage: (i % 3) - 1, active: 3 + (i % 4) });
      const mbs = [[0, 1, 2, 3, 4].map(seq), [5, 6, 7].map(seq)];
      const stats = await policyUpdate(gpu, model, lora, opt, mbs, {
        lossType: 'grpo', maxCompletionLength: 8, numIterations: 1, temperature: 1, loss: { epsilon: 0.2, epsilonHigh: 0.2, beta: 0 },
        learningRate: 0, dropoutCounter: 0, rowsPerPass, ...extra,
      });
      const grads: Float32Array[] = [];
      for (const p of lora.pairs.values()) grads.push(await gpu.read(p.dA), await gpu.read(p.dB));
      opt.release();
      lora.release();
      return { stats, grads };
    };
    const whole = await run(null);
    const cut = await run(2);
    expect(cut.stats.loss).toBeCloseTo(whole.stats.loss, 6);
    expect(cut.stats.gradNorm).toBeCloseTo(whole.stats.gradNorm, 5);
    expect(whole.stats.gradNorm).toBeGreaterThan(1e-4);
    // every pass packed to the update's longest row (one T, the plan's buffer sizes): the same token grid as uncut
    expect(cut.stats.trainTokens).toBe(whole.stats.trainTokens);
    whole.grads.forEach((g, i) => g.forEach((x, j) => expect(Math.abs(cut.grads[i][j] - x)).toBeLessThan(1e-6 + 1e-4 * Math.abs(x))));
    if ('trace' in extra) {
      // traces per micro-batch, per sequence, in order, whatever the passes
      expect(cut.stats.traces!.map((mb) => mb.length)).toEqual([5, 3]);
      expect(cut.stats.traces!.map((mb) => mb.map((t) => t.flags))).toEqual(whole.stats.traces!.map((mb) => mb.map((t) => t.flags)));
      expect(whole.stats.traces!.flat().some((t) => t.flags.some((f) => f & 4))).toBe(true);
    }
    model.release();
  });
  }
});
