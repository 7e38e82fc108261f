// Multi-turn decoding for every family and weight format generate.ts decodes: Qwen3 (q/k norms), Gemma 3
// (q/k norms, (1 + w) sandwich norms, GeGLU, sliding windows with their own RoPE base, embedding scale,
// score scale, o_proj bias) in f32 and with a bf16-packed base (LoRA unmerged), LoRA on. Greedy:
// a row's model tokens equal generate()'s for the same prefix, before and after an inserted tool result
// (so the inserted tokens reached the KV cache exactly as a prefill would have put them).
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from '../model/tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { generate } from '../../src/model/generate';
import { generateTurns } from '../../src/model/generate_turns';
import { Rng, randn } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';

const ALL: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

const QWEN3: Partial<ModelConfig> = {
  architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 2, qkNorm: true,
  ropeTheta: 1_000_000, rmsNormEps: 1e-6, tieWordEmbeddings: true, vocabSize: 29,
};
const GEMMA3: Partial<ModelConfig> = {
  architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', hiddenSize: 12, headDim: 8, numHeads: 4, numKvHeads: 1,
  numLayers: 3, qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(12)), attentionScale: 8 ** -0.5 * 1.3,
  sandwichNorms: true, hiddenAct: 'gelu_tanh', attentionBias: true, oProjBias: true,
  layerTypes: ['sliding_attention', 'full_attention', 'sliding_attention'], slidingWindow: 3,
  ropeTheta: 1_000_000, ropeScaling: { type: 'linear', factor: 8 }, ropeLocalTheta: 10000, ropeLocalScaling: null, rmsNormEps: 1e-6,
  vocabSize: 29,
};

const CASES: [string, Partial<ModelConfig>, 'f32' | 'bf16'][] = [
  ['qwen3 f32', QWEN3, 'f32'],
  ['gemma3 f32', GEMMA3, 'f32'],
  ['gemma3 bf16 base', GEMMA3, 'bf16'],
];

describe('generateTurns across families and weight formats', () => {
  for (const [name, over, basePrecision] of CASES) {
    test(name, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig(over);
      const weights = randomWeights(c, 7);
      if (c.normWeightOffset) for (const [n, t] of weights) if (n.endsWith('norm.weight')) t.data.forEach((v, i) => (t.data[i] = v - 1));
      const model = GpuTransformer.upload(gpu, c, weights, { basePrecision });
      expect(model.formats.size > 0).toBe(basePrecision !== 'f32');
      const lora = new LoraSet(gpu, c, { r: 3, alpha: 6, targetModules: ALL, useRslora: false });
      const rng = new Rng(8);
      for (const p of lora.pairs.values()) {
        gpu.write(p.A, randn(p.A.size, rng, 0.3));
        gpu.write(p.B, randn(p.B.size, rng, 0.3));
      }
      const before = gpu.pool.stats.bytesInUse;
      const prompts = [[1, 3, 4, 9, 2], [1, 7, 8, 2, 5, 6, 11], [1, 9]];
      const insert = [5, 6];
      const greedy = { temperature: 0, topK: 0, topP: 1, seed: 3, stopIds: [] as number[], lora };
      // every row: 3 model tokens, the insertion, 4 more model tokens, done
      const ended = prompts.map(() => 0);
      const turns = await generateTurns(model, prompts, { ...greedy, maxNewTokens: 20 }, {
        endsTurn: (b, ids) => ids.length === (ended[b] === 0 ? 3 : 4),
        onTurnEnd: async (b) => (ended[b]++ === 0 ? insert : null),
      });
      for (let b = 0; b < prompts.length; b++) {
        const r = turns.rows[b];
        expect(r.modelMask).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1]);
        const first = await generate(model, [prompts[b]], { ...greedy, maxNewTokens: 3 });
        expect(r.ids.slice(0, 3), `row ${b} before the insertion`).toEqual(first.tokens[0]);
        expect(r.ids.slice(3, 5)).toEqual(insert);
        const second = await generate(model, [[...prompts[b], ...r.ids.slice(0, 5)]], { ...greedy, maxNewTokens: 4 });
        expect(r.ids.slice(5), `row ${b} after the insertion`).toEqual(second.tokens[0]);
      }
      expect(gpu.pool.stats.bytesInUse).toBe(before);
      lora.release();
      model.release();
    });
  }
});
