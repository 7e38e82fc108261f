// Qwen3 and Gemma 3 text on the GPU against the CPU reference (src/reference/transformer.ts): logits, LoRA
// and full-weight gradients, and KV-cache decoding against repeated full forwards. Tiny shapes that keep
// each family's structure: GQA, heads * head_dim != hidden, q/k norms; for Gemma also (1 + w) norms, the
// sqrt(C) embedding scale, four norms per layer, GeGLU, query_pre_attn_scalar, o_proj bias, and a mix of
// sliding and full layers whose window (3) is shorter than the sequence, with their own RoPE bases.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, expectClose, forwardBackwardVsReference, gpuTinyConfig, greedyReference, randomWeights, randomizeLora } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';
import { exportPeftAdapter, parsePeftAdapter } from '../../src/model/peft_adapter';
import { parseSafetensorsHeader } from '../../src/model/safetensors';

async function setup(c: ModelConfig, seed: number) {
  const gpu = await testGpu();
  const weights = tinyFamilyWeights(c, seed);
  const model = GpuTransformer.upload(gpu, c, weights);
  const lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL_TARGETS, useRslora: false });
  const refLora = randomizeLora(gpu, lora, new Rng(seed + 1));
  return { gpu, weights, model, lora, refLora };
}

const FAMILIES: [string, Partial<ModelConfig>][] = [
  ['qwen3 (q/k norms, 4 heads x 8 != hidden 12)', QWEN3_TINY],
  ['gemma3_text (sliding window 3 < T, full layer with linear RoPE scaling)', GEMMA3_TINY],
];

describe('families: GPU transformer vs CPU reference', () => {
  for (const [name, over] of FAMILIES) {
    test(`forward logits, LoRA and full-weight gradients: ${name}`, async () => {
      const c = gpuTinyConfig(over);
      const { gpu, weights, model, lora, refLora } = await setup(c, 21);
      const { full, refGrads, release } = await forwardBackwardVsReference(model, c, weights, lora, refLora, 2, 7, new Rng(6));
      for (const p of lora.pairs.values()) {
        const want = refGrads.lora.get(p.path)!;
        expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), want.A);
        expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), want.B);
      }
      expect([...full.keys()].some((k) => k.endsWith('q_norm.weight'))).toBe(true);
      for (const [wname, g] of full) expectClose(`${wname}.grad`, await gpu.read(g), refGrads.weights.get(wname)!);
      release();
      lora.release();
      model.release();
    });
  }

  test('the window matters: gemma logits past the window differ from the same model with full attention', () => {
    const c = gpuTinyConfig(GEMMA3_TINY);
    const w = randomWeights(c, 3);
    const tokens = Array.from({ length: 8 }, (_, i) => (i * 5) % c.vocabSize);
    const windowed = transformerForward(c, w, tokens, 1, 8).logits;
    const full = transformerForward({ ...c, slidingWindow: 100 }, w, tokens, 1, 8).logits;
    const V = c.vocabSize;
    // positions 0..2 see at most 3 keys either way; later ones differ
    expect(Array.from(windowed.subarray(0, 3 * V))).toEqual(Array.from(full.subarray(0, 3 * V)));
    expect(Math.max(...windowed.subarray(7 * V).map((x, i) => Math.abs(x - full[7 * V + i])))).toBeGreaterThan(1e-4);
  });
});

describe('families: decoding', () => {
  for (const [name, over] of FAMILIES) {
    test(`KV-cache greedy decoding (batched, with LoRA) equals the reference's repeated forwards: ${name}`, async () => {
      const c = gpuTinyConfig({ ...over, vocabSize: 29 });
      const { model, lora, refLora, weights } = await setup(c, 5);
      // prompts shorter and longer than Gemma's window of 3; 9 new tokens run far past it
      const prompts = [[1, 5, 9, 4, 7], [2, 3]];
      const gen = await generate(model, prompts, { maxNewTokens: 9, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora });
      for (let i = 0; i < prompts.length; i++) expect(gen.tokens[i]).toEqual(greedyReference(c, weights, refLora, prompts[i], 9));
      lora.release();
      model.release();
    });
  }
});

describe('families: PEFT keys', () => {
  test("Gemma3ForConditionalGeneration's adapter uses Hugging Face's module names (model.language_model.*) and reads back", async () => {
    const c = gpuTinyConfig({ ...GEMMA3_TINY, architecture: 'Gemma3ForConditionalGeneration' });
    const { gpu, model, lora } = await setup(c, 9);
    const files = await exportPeftAdapter(gpu, lora, 'google/gemma-3-4b-it');
    const keys = parseSafetensorsHeader(files.weights, 'adapter').entries.map((e) => e.name);
    expect(keys).toContain('base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(keys.some((k) => k.startsWith('base_model.model.model.layers.'))).toBe(false);
    const parsed = parsePeftAdapter(files, c);
    for (const p of lora.pairs.values()) {
      expect(Array.from(parsed.tensors.get(p.path)!.B)).toEqual(Array.from(await gpu.read(p.B)));
    }
    lora.release();
    model.release();
  });
});
