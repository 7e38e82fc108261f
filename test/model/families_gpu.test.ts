// Qwen3 and Gemma 3 text on the GPU against the CPU reference (src/reference/transformer.ts): logits, LoRA
// and full-weight gradients, and KV-cache decoding against repeated full forwards. Tiny shapes that keep
// each family's structure: GQA, heads * head_dim != hidden, q/k norms; for Gemma also (1 + w) norms, the
// sqrt(C) embedding scale, four norms per layer, GeGLU, query_pre_attn_scalar, o_proj bias, and a mix of
// sliding and full layers whose window (3) is shorter than the sequence, with their own RoPE bases.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';
import { exportPeftAdapter, parsePeftAdapter } from '../../src/model/peft_adapter';
import { parseSafetensorsHeader } from '../../src/model/safetensors';

const ALL: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export const QWEN3_TINY: Partial<ModelConfig> = {
  architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 2, qkNorm: true,
  ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true,
};

export const GEMMA3_TINY: Partial<ModelConfig> = {
  architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 1,
  numLayers: 3, qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(12)), attentionScale: 8 ** -0.5 * 1.3,
  sandwichNorms: true, hiddenAct: 'gelu_tanh', attentionBias: true, oProjBias: true,
  layerTypes: ['sliding_attention', 'full_attention', 'sliding_attention'], slidingWindow: 3,
  ropeTheta: 1_000_000, ropeScaling: { type: 'linear', factor: 8 }, ropeLocalTheta: 10000, ropeLocalScaling: null, rmsNormEps: 1e-6,
};

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 2e-4, rtol = 2e-3) {
  const r = compare('model', name, name, got, want, { atol, rtol });
  expect(r.mismatches.join('\n'), `${name}: max |err| ${r.maxAbsErr}`).toBe('');
}

async function setup(c: ModelConfig, seed: number) {
  const gpu = await testGpu();
  const weights = randomWeights(c, seed);
  if (c.normWeightOffset) {
    // Gemma stores norm weights around 0 (the norm multiplies by 1 + w)
    for (const [name, t] of weights) if (name.endsWith('norm.weight')) t.data.forEach((v, i) => (t.data[i] = v - 1));
  }
  const model = GpuTransformer.upload(gpu, c, weights);
  const lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL, useRslora: false });
  const refLora: LoraMap = new Map();
  const rng = new Rng(seed + 1);
  for (const p of lora.pairs.values()) {
    const A = randn(p.A.size, rng, 0.3);
    const B = randn(p.B.size, rng, 0.3);
    gpu.write(p.A, A);
    gpu.write(p.B, B);
    refLora.set(p.path, { A, B, r: 3, scale: lora.scale });
  }
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
      const B = 2;
      const T = 7;
      const rng = new Rng(6);
      const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
      const ref = transformerForward(c, weights, tokens, B, T, refLora);
      const ids = gpu.upload(tokens, [B * T], 'ids', 'u32');
      const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
      const act = model.forward(ids, pos, B, T, lora);
      const logits = model.logits(act.f);
      expectClose('logits', await gpu.read(logits), ref.logits);

      const dlogits = randn(B * T * c.vocabSize, rng, 1);
      const refGrads = transformerBackward(ref.acts, dlogits);
      const dl = gpu.upload(dlogits, [B * T, c.vocabSize], 'dlogits');
      const full = model.createFullGrads();
      lora.zeroGrads();
      model.backward(act, dl, full);
      for (const p of lora.pairs.values()) {
        const want = refGrads.lora.get(p.path)!;
        expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), want.A);
        expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), want.B);
      }
      expect([...full.keys()].some((k) => k.endsWith('q_norm.weight'))).toBe(true);
      for (const [wname, g] of full) expectClose(`${wname}.grad`, await gpu.read(g), refGrads.weights.get(wname)!);
      model.releaseActivations(act);
      gpu.release(ids, pos, logits, dl, ...full.values());
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

/** Greedy continuation by repeated reference forwards (no KV cache). */
function greedyReference(c: ModelConfig, w: ReturnType<typeof randomWeights>, lora: LoraMap | null, prompt: number[], steps: number): number[] {
  const seq = [...prompt];
  for (let s = 0; s < steps; s++) {
    const T = seq.length;
    const logits = transformerForward(c, w, seq, 1, T, lora).logits;
    const V = c.vocabSize;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(T - 1) * V + v] > logits[(T - 1) * V + best]) best = v;
    seq.push(best);
  }
  return seq.slice(prompt.length);
}

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
