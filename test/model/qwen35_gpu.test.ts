// Qwen3.5 text on the GPU against the CPU reference (src/reference/transformer.ts + qwen35.ts): logits, LoRA
// gradients on every projection by the checkpoint's own names (q/k/v/o and gate/up/down on full layers,
// in_proj_qkv/z/b/a and out_proj on linear layers) and full-weight gradients, on a tiny random model with
// linear, full and linear layers, grouped linear heads and partial RoPE; recomputation gives the same gradients.
// Decoding keeps a conv state and a recurrent state per linear layer (no KV cache there): greedy decoding with
// LoRA equals the reference's repeated whole-sequence forwards, and the carried state is shown to matter.
import { describe, expect, test } from 'vitest';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { GpuTransformer } from '../../src/model/transformer';
import { LINEAR_ATTN_MODULES } from '../../src/model/weights_qwen35';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { ALL_MODULES, expectClose, forwardBackwardVsReference, greedyReference, randomizeLora } from './tiny';
import { qwen35TinyConfig, qwen35Weights } from './qwen35_fixtures';

const TARGETS: LoraModule[] = [...ALL_MODULES, ...LINEAR_ATTN_MODULES];

describe('Qwen3.5: GPU transformer vs CPU reference', () => {
  test('logits, LoRA gradients on every projection, full-weight gradients (T = 19, over one delta-rule checkpoint interval)', async () => {
    const gpu = await testGpu();
    // key heads of 8 (not the reference test's 3): l2norm of a 3-vector after SiLU can be tiny, and f32 against
    // float64 then differs by ~1% in a few gradients
    const c = qwen35TinyConfig({ linear_key_head_dim: 8 });
    const weights = qwen35Weights(c, 41, 0.3);
    const model = GpuTransformer.upload(gpu, c, weights);
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: TARGETS, useRslora: false });
    // pairs only where the layer has the module
    expect(lora.get(0, 'in_proj_qkv')).toBeDefined();
    expect(lora.get(0, 'q_proj')).toBeUndefined();
    expect(lora.get(1, 'q_proj')!.outFeatures).toBe(2 * c.numHeads * c.headDim);
    expect(lora.get(1, 'out_proj')).toBeUndefined();
    const refLora = randomizeLora(gpu, lora, new Rng(42));
    for (const recompute of [false, true]) {
      model.recomputeLayers = recompute;
      const { full, refGrads, release } = await forwardBackwardVsReference(model, c, weights, lora, refLora, 2, 19, new Rng(43));
      for (const p of lora.pairs.values()) {
        const want = refGrads.lora.get(p.path)!;
        expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), want.A);
        expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), want.B);
      }
      expect([...full.keys()].some((k) => k.endsWith('linear_attn.A_log'))).toBe(true);
      for (const [name, g] of full) expectClose(`${name}.grad`, await gpu.read(g), refGrads.weights.get(name)!);
      release();
    }
    lora.release();
    model.release();
  });

  test('greedy decoding with the state cache (batched, right-padded prompts, LoRA) equals the reference; the state is carried', async () => {
    const gpu = await testGpu();
    const c = qwen35TinyConfig({ linear_key_head_dim: 8, vocab_size: 29 });
    const weights = qwen35Weights(c, 51, 0.5);
    const model = GpuTransformer.upload(gpu, c, weights);
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: TARGETS, useRslora: false });
    const refLora = randomizeLora(gpu, lora, new Rng(52));
    // rows of different lengths: the shorter row's padding must not enter its conv or recurrent state
    const prompts = [[1, 5, 9, 4, 7, 3, 8], [2, 3]];
    const opts = { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora };
    const gen = await generate(model, prompts, opts);
    const want = prompts.map((p) => greedyReference(c, weights, refLora, p, 8));
    for (let i = 0; i < prompts.length; i++) expect(gen.tokens[i]).toEqual(want[i]);
    // the continuation depends on what the linear layers carry: a model whose linear layers forget their state
    // (A_log huge: g -> -inf, decay 0 every step) decodes differently, on the GPU as in the reference
    const forgetful = new Map(weights);
    for (const l of [0, 2]) forgetful.set(`model.layers.${l}.linear_attn.A_log`, { shape: [2], data: Float32Array.from([6, 6]) });
    const m2 = GpuTransformer.upload(gpu, c, forgetful);
    const gen2 = await generate(m2, prompts, opts);
    const want2 = prompts.map((p) => greedyReference(c, forgetful, refLora, p, 8));
    for (let i = 0; i < prompts.length; i++) expect(gen2.tokens[i]).toEqual(want2[i]);
    expect(gen2.tokens).not.toEqual(gen.tokens);
    m2.release();
    lora.release();
    model.release();
  });
});
