// Whole models from GGUF files on the GPU with their matrices kept quantised (matmul_quant_*.wgsl): logits,
// chunked LM-head log-probs, LoRA gradients over the frozen quantised base and greedy generation equal the
// CPU reference run on the dequantised weights (the independent quantisers' values, test/model/gguf_models.ts).
import { describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import { generate } from '../../src/model/generate';
import { loadGguf } from '../../src/model/gguf/load';
import { headLogprobs } from '../../src/model/lm_head';
import { LoraSet } from '../../src/model/lora';
import { GpuTransformer } from '../../src/model/transformer';
import { transformerBackward, transformerForward } from '../../src/reference/transformer';
import { Rng, randn } from '../../src/util/random';
import { testGpu } from '../gpu';
import { ggufModel, q4KM, type Arch } from './gguf_models';
import type { QuantName } from './gguf_fixtures';
import { ALL_TARGETS, expectClose, greedyReference, memFile, randomizeLora, tinyConfig } from './tiny';

const CASES: [string, Arch, ModelConfig, (hf: string, shape: number[]) => QuantName, string[]][] = [
  [
    'llama, Q4_K_M (Q4_K + Q6_K), permuted q/k',
    'llama',
    tinyConfig({ hiddenSize: 256, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 256, vocabSize: 288, maxPositionEmbeddings: 64 }),
    q4KM,
    ['Q4_K', 'Q6_K'],
  ],
  [
    'qwen3, Q8_0 matrices, Q4_0 embedding, F16 down_proj',
    'qwen3',
    tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 32, intermediateSize: 96, vocabSize: 288, qkNorm: true, rmsNormEps: 1e-6, maxPositionEmbeddings: 64 }),
    (hf, s) => (s.length === 1 ? 'F32' : hf.includes('embed') ? 'Q4_0' : hf.includes('down_proj') ? 'F16' : 'Q8_0'),
    ['Q4_0', 'Q8_0'],
  ],
  [
    'qwen2, Q4_1 / Q5_0 / Q5_1 matrices with F32 q/k/v biases, Q8_0 embedding',
    'qwen2',
    tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 96, vocabSize: 288, attentionBias: true, maxPositionEmbeddings: 64 }),
    (hf, s) => (s.length === 1 ? 'F32' : hf.includes('embed') ? 'Q8_0' : hf.includes('mlp') ? 'Q5_1' : hf.includes('o_proj') ? 'Q4_1' : 'Q5_0'),
    ['Q4_1', 'Q5_0', 'Q5_1', 'Q8_0'],
  ],
  [
    'gemma3, Q8_0 / F16: (1 + w) norms stored with the +1, sqrt(C) embedding scale, GeGLU',
    'gemma3',
    tinyConfig({
      hiddenSize: 64, numHeads: 2, numKvHeads: 1, headDim: 32, intermediateSize: 96, vocabSize: 288, qkNorm: true, normWeightOffset: 1,
      sandwichNorms: true, slidingWindow: 4, maxPositionEmbeddings: 64, ropeTheta: 1e6,
    }),
    (hf, s) => (s.length === 1 ? 'F32' : hf.includes('up_proj') ? 'F16' : 'Q8_0'),
    ['Q8_0'],
  ],
];

describe('GGUF models on the GPU, quantised, against the CPU reference on dequantised weights', () => {
  for (const [name, arch, c0, quant, types] of CASES) {
    test(name, async () => {
      const gpu = await testGpu();
      const m = ggufModel(arch, c0, 17, quant);
      const loaded = await loadGguf(memFile(`${arch}.gguf`, m.bytes));
      const c = loaded.config;
      const model = GpuTransformer.upload(gpu, c, loaded.weights, { fileDtype: loaded.dtype });
      expect([...new Set(model.quant.values())].sort()).toEqual([...types].sort());
      expect(model.quant.has('model.embed_tokens.weight')).toBe(true);
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      const refLora = randomizeLora(gpu, lora, new Rng(3));

      // forward logits and LoRA gradients (B = 2 rows of T = 5)
      const [B, T] = [2, 5];
      const rng = new Rng(8);
      const tokens = Array.from({ length: B * T }, () => rng.int(c.vocabSize));
      const ref = transformerForward(c, m.expected, tokens, B, T, refLora);
      const ids = gpu.upload(tokens, [B * T], 'ids', 'u32');
      const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
      const act = model.forward(ids, pos, B, T, lora);
      const logits = model.logits(act.f);
      expectClose('logits', await gpu.read(logits), ref.logits, 5e-4, 5e-3);

      // the LM head in vocabulary chunks (the quantised head copied a chunk of block rows at a time)
      model.lmHeadChunkBytes = B * T * 64 * 4;
      const targets = gpu.upload(tokens.map((t) => (t + 1) % c.vocabSize), [B * T], 'targets', 'u32');
      const head = headLogprobs(model, act.f, targets, 1);
      const V = c.vocabSize;
      const want = tokens.map((t, n) => {
        const row = ref.logits.subarray(n * V, n * V + V);
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((s, v) => s + Math.exp(v - mx), 0));
        return row[(t + 1) % V] - lse;
      });
      expectClose('chunked log-probs', await gpu.read(head.logp), want, 5e-4, 5e-3);

      const dlogits = randn(B * T * V, rng, 1);
      const refGrads = transformerBackward(ref.acts, dlogits);
      const dl = gpu.upload(dlogits, [B * T, V], 'dlogits');
      lora.zeroGrads();
      model.backward(act, dl, null);
      for (const p of lora.pairs.values()) {
        const g = refGrads.lora.get(p.path)!;
        expectClose(`${p.path}.lora_A.grad`, await gpu.read(p.dA), g.A, 5e-4, 5e-3);
        expectClose(`${p.path}.lora_B.grad`, await gpu.read(p.dB), g.B, 5e-4, 5e-3);
      }
      model.releaseActivations(act);
      gpu.release(ids, pos, logits, targets, dl, head.logp, head.entropy, head.lse);

      // greedy generation (prefill + KV-cache decode through the quantised kernels), with LoRA
      const prompts = [[5, 9, 40, 7], [100, 3]];
      const gen = await generate(model, prompts, { maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora });
      for (let i = 0; i < prompts.length; i++) expect(gen.tokens[i]).toEqual(greedyReference(c, m.expected, refLora, prompts[i], 6));
      lora.release();
      model.release();
    }, 120_000);
  }

  test('base_precision other than auto uploads the dequantised values instead (no quantised kernels)', async () => {
    const gpu = await testGpu();
    const [, arch, c0, quant] = CASES[1];
    const loaded = await loadGguf(memFile('x.gguf', ggufModel(arch, c0, 2, quant).bytes));
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights, { basePrecision: 'f32' });
    expect(model.quant.size).toBe(0);
    model.release();
  });
});
