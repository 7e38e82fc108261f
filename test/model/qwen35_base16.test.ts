// Qwen3.5 with a 16-bit frozen base (base_precision bf16 / f16): every 2-D projection, in_proj_qkv/z/b/a and
// out_proj included, is stored packed (matmul_packed16), the rest (norms, conv1d, A_log, dt_bias) in f32. The whole
// model's logits and LoRA gradients equal the CPU reference on the same weights rounded to that format (f32
// arithmetic), and stay within 16-bit rounding of the unrounded reference; greedy decoding with LoRA equals the
// reference's; and a real GRPO step on the 16-bit base allocates exactly what its memory plan (a dry run) says.
import { describe, expect, test } from 'vitest';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { GpuTransformer } from '../../src/model/transformer';
import { LINEAR_ATTN_MODULES } from '../../src/model/weights_qwen35';
import { benchRealStep } from '../../src/bench/real_step';
import { transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { ALL_MODULES, expectClose, forwardBackwardVsReference, greedyReference, randomizeLora, roundedWeights } from './tiny';
import { qwen35TinyConfig, qwen35Weights } from './qwen35_fixtures';

const TARGETS: LoraModule[] = [...ALL_MODULES, ...LINEAR_ATTN_MODULES];

describe.each(['bf16', 'f16'] as const)('Qwen3.5 on a %s base', (format) => {
  test('linear layers\' projections are packed; logits and LoRA gradients equal the reference on the rounded weights', async () => {
    const gpu = await testGpu();
    const c = qwen35TinyConfig({ linear_key_head_dim: 8 });
    const weights = qwen35Weights(c, 41, 0.3);
    const model = GpuTransformer.upload(gpu, c, weights, { basePrecision: format });
    for (const m of ['in_proj_qkv', 'in_proj_z', 'in_proj_b', 'in_proj_a', 'out_proj']) {
      expect(model.weightFormat(`model.layers.0.linear_attn.${m}.weight`), m).toBe(format);
    }
    expect(model.weightFormat('model.layers.1.self_attn.q_proj.weight')).toBe(format);
    expect(model.weightFormat('model.layers.0.linear_attn.A_log')).toBe('f32');
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: TARGETS, useRslora: false });
    const refLora = randomizeLora(gpu, lora, new Rng(42));
    const rounded = roundedWeights(weights, format);
    const { refGrads, release } = await forwardBackwardVsReference(model, c, rounded, lora, refLora, 2, 19, new Rng(43), { fullGrads: false });
    for (const p of lora.pairs.values()) {
      const want = refGrads.lora.get(p.path)!;
      expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), want.A);
      expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), want.B);
    }
    release();
    // against the unrounded weights: within 16-bit rounding (bf16 keeps 8 bits of mantissa, f16 11)
    const B = 1;
    const T = 9;
    const tokens = Array.from({ length: T }, (_, i) => (i * 5 + 1) % c.vocabSize);
    const exact = transformerForward(c, weights, tokens, B, T, refLora).logits;
    const ids = gpu.upload(tokens, [T], 'ids', 'u32');
    const pos = gpu.upload(Array.from({ length: T }, (_, i) => i), [T], 'pos', 'u32');
    const act = model.forward(ids, pos, B, T, lora);
    const logits = model.logits(act.f);
    const got = await gpu.read(logits);
    // the reference's own rounding error (its f32 arithmetic on the rounded weights against the unrounded ones)
    const roundedRef = transformerForward(c, rounded, tokens, B, T, refLora).logits;
    let maxErr = 0;
    let roundingErr = 0;
    for (let i = 0; i < got.length; i++) {
      maxErr = Math.max(maxErr, Math.abs(got[i] - exact[i]));
      roundingErr = Math.max(roundingErr, Math.abs(roundedRef[i] - exact[i]));
    }
    // measured: bf16 0.207 of logits up to ~3 without LoRA's amplification (0.045 without LoRA), f16 0.040 (0.0046)
    expect(maxErr, `max |logit - f32 reference| ${maxErr}, the rounding alone ${roundingErr}`).toBeLessThanOrEqual(roundingErr * 1.05 + 1e-4);
    expect(roundingErr).toBeLessThan(format === 'bf16' ? 0.5 : 0.1);
    // and the rounding is visible (the base really is 16-bit)
    expect(maxErr).toBeGreaterThan(1e-6);
    model.releaseActivations(act);
    gpu.release(ids, pos, logits);
    lora.release();
    model.release();
  });

  test('greedy decoding with LoRA (unmerged on the 16-bit base) equals the reference on the rounded weights', async () => {
    const gpu = await testGpu();
    const c = qwen35TinyConfig({ linear_key_head_dim: 8, vocab_size: 29 });
    const weights = qwen35Weights(c, 51, 0.5);
    const model = GpuTransformer.upload(gpu, c, weights, { basePrecision: format });
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: TARGETS, useRslora: false });
    const refLora = randomizeLora(gpu, lora, new Rng(52));
    const prompts = [[1, 5, 9, 4, 7, 3, 8], [2, 3]];
    const gen = await generate(model, prompts, { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora });
    const rounded = roundedWeights(weights, format);
    for (let i = 0; i < prompts.length; i++) expect(gen.tokens[i]).toEqual(greedyReference(c, rounded, refLora, prompts[i], 8));
    lora.release();
    model.release();
  });
});

describe('a real GRPO step of Qwen3.5 on a bf16 base', () => {
  test('the pool\'s measured peak equals the memory plan\'s dry run of the same step (own layout, and the 2B plan\'s cut)', async () => {
    const gpu = await testGpu();
    const c = qwen35TinyConfig({ linear_key_head_dim: 8, vocab_size: 97, hidden_size: 16, intermediate_size: 24, head_dim: 8 });
    const over = { prompts_per_step: 2, num_generations: 2, max_prompt_length: 6, max_completion_length: 4, base_precision: 'bf16' as const,
      lora_target_modules: ['q_proj', 'in_proj_qkv', 'out_proj'] as LoraModule[] };
    const own = await benchRealStep(gpu, 'tiny Qwen3.5', c, over, 1);
    expect(own.base).toBe('bf16');
    expect(own.measured_peak_bytes).toBe(own.planned_peak_bytes);
    // one prompt and one row at a time, idle buffers freed around each prefill, recomputation, 64-column LM head
    // chunks (97 columns: two chunks)
    const cut = await benchRealStep(gpu, 'tiny Qwen3.5 (cut)', c, { ...over, recompute: 'auto' }, 1,
      { generationPrompts: 1, rowsPerPass: 1, trimBetweenPhases: true, recompute: true, lmHeadChunkBytes: 64 * 4 * 10 });
    expect(cut.measured_peak_bytes).toBe(cut.planned_peak_bytes);
    expect(cut.measured_peak_bytes).toBeGreaterThan(0);
  });
});
