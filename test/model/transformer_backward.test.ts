// The CPU reference's backward against central finite differences of its own forward (float64), on tiny
// random models: every weight tensor and every LoRA A/B, a few random coordinates each.
import { describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import type { WeightMap } from '../../src/model/weights';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { randomLora, randomTokens, randomWeights, tinyConfig } from './tiny';

const B = 2;
const T = 4;
const COORDS_PER_TENSOR = 4;
const EPS = 1e-3;
// central differences are O(eps^2) accurate; the gradients come back as float32
const ATOL = 2e-6;
const RTOL = 2e-4;

/** loss = sum(dlogits * logits) in float64, so d loss / d logits = dlogits. */
function loss(c: ModelConfig, w: WeightMap, tokens: number[], lora: LoraMap | null, dlogits: Float64Array): number {
  const { acts } = transformerForward(c, w, tokens, B, T, lora);
  let s = 0;
  for (let i = 0; i < dlogits.length; i++) s += dlogits[i] * acts.logits[i];
  return s;
}

/** Central difference of loss in one float32 entry, using the step float32 storage really takes. */
function centralDiff(arr: Float32Array, i: number, f: () => number): number {
  const orig = arr[i];
  arr[i] = orig + EPS;
  const up = arr[i];
  const lp = f();
  arr[i] = orig - EPS;
  const down = arr[i];
  const lm = f();
  arr[i] = orig;
  return (lp - lm) / (up - down);
}

interface Case {
  name: string;
  config: ModelConfig;
  rtol?: number;
}

const cases: Case[] = [
  {
    name: 'interleaved rope, q/k/v bias, tied, GQA NH=2 NKV=1',
    config: tinyConfig({ ropeConvention: 'interleaved', attentionBias: true, tieWordEmbeddings: true }),
  },
  {
    name: 'half rope, untied, llama3-scaled inv freq',
    config: tinyConfig({
      ropeConvention: 'half',
      tieWordEmbeddings: false,
      ropeTheta: 50,
      headDim: 6,
      // theta 50, HS 6: wavelengths 6.3, 23.1, 85.3 against 32/4 = 8 and 32/1 = 32: a high, a medium and a low band
      ropeScaling: { type: 'llama3', factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 },
    }),
  },
  {
    name: 'half rope, q/k/v bias, NH=4 NKV=2',
    config: tinyConfig({ numHeads: 4, numKvHeads: 2, headDim: 2, attentionBias: true }),
  },
  {
    name: 'qwen3: q/k norms, NH*HS = 12 != C = 8',
    config: tinyConfig({ modelType: 'qwen3', qkNorm: true, numHeads: 2, numKvHeads: 1, headDim: 6 }),
  },
  {
    name: 'gemma3_text: (1 + w) norms, sqrt(C) embedding, four norms, GeGLU, scale, o_proj bias, sliding window 2 < T',
    config: tinyConfig({
      modelType: 'gemma3_text', qkNorm: true, normWeightOffset: 1, embedScale: Math.fround(Math.sqrt(8)), attentionScale: 0.4,
      sandwichNorms: true, hiddenAct: 'gelu_tanh', attentionBias: true, oProjBias: true, numLayers: 2, slidingWindow: 2,
      layerTypes: ['sliding_attention', 'full_attention'], ropeTheta: 1e6, ropeScaling: { type: 'linear', factor: 8 }, ropeLocalTheta: 100,
    }),
    // strongly curved in a few coordinates: central differences' O(eps^2) error. Measured on
    // layers.0.pre_feedforward_layernorm.weight[3] (backward 0.0142381): eps 1e-2 gives 0.013472, 3e-3 0.014169,
    // 1e-3 0.014232 (4e-4 relative), converging on the backward as eps shrinks
    rtol: 1e-3,
  },
];

describe('reference transformer backward vs finite differences', () => {
  cases.forEach((tc, ci) => {
    test(tc.name, () => {
      const c = tc.config;
      const w = randomWeights(c, 100 + ci);
      const lora = randomLora(c, 200 + ci, 2, 0.75);
      const tokens = randomTokens(B * T, c.vocabSize, 300 + ci);
      const rng = new Rng(400 + ci);
      const dlogits = Float64Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
      const { acts } = transformerForward(c, w, tokens, B, T, lora);
      const grads = transformerBackward(acts, dlogits);
      expect([...grads.weights.keys()].sort()).toEqual([...w.keys()].sort());
      expect([...grads.lora.keys()].sort()).toEqual([...lora.keys()].sort());

      const f = () => loss(c, w, tokens, lora, dlogits);
      const failures: string[] = [];
      let checked = 0;
      let nonzero = 0;
      const check = (what: string, arr: Float32Array, grad: Float32Array) => {
        expect(grad.length, what).toBe(arr.length);
        for (let k = 0; k < COORDS_PER_TENSOR; k++) {
          const i = rng.int(arr.length);
          const fd = centralDiff(arr, i, f);
          const got = grad[i];
          checked++;
          if (Math.abs(fd) > 1e-4) nonzero++;
          if (!(Math.abs(got - fd) <= ATOL + (tc.rtol ?? RTOL) * Math.abs(fd))) failures.push(`${what}[${i}]: backward ${got}, finite difference ${fd}`);
        }
      };
      for (const [name, t] of w) check(name, t.data, grads.weights.get(name)!);
      for (const [path, m] of lora) {
        check(`${path}.lora_A`, m.A, grads.lora.get(path)!.A);
        check(`${path}.lora_B`, m.B, grads.lora.get(path)!.B);
      }
      expect(failures.join('\n')).toBe('');
      // the check must not pass on zeros: most sampled derivatives are clearly non-zero
      expect(nonzero).toBeGreaterThan(checked * 0.8);
    });
  });

  test('the llama3 case really has scaled and interpolated frequencies', async () => {
    const { ropeInvFreq } = await import('../../src/reference/transformer');
    const c = cases[1].config;
    const plain = ropeInvFreq({ ...c, ropeScaling: null });
    const scaled = ropeInvFreq(c);
    // high band (wavelen 6.3 < 8): unchanged
    expect(scaled[0]).toBe(plain[0]);
    // medium band (8 <= 23.1 <= 32): smooth = (32 / wavelen - 1) / (4 - 1), between scaled and unscaled
    const smooth = (32 / ((2 * Math.PI) / plain[1]) - 1) / 3;
    expect(smooth).toBeGreaterThan(0.05);
    expect(smooth).toBeLessThan(0.95);
    expect(scaled[1]).toBeCloseTo((1 - smooth) * (plain[1] / 4) + smooth * plain[1], 12);
    // low band (wavelen 85.3 > 32): divided by factor 4
    expect(scaled[2]).toBeCloseTo(plain[2] / 4, 12);
  });

  test('LoRA-only backward (weightGrads false) gives the same LoRA gradients and no weight gradients', () => {
    const c = tinyConfig();
    const w = randomWeights(c, 7);
    const lora = randomLora(c, 8, 3, 0.5, ['q_proj', 'v_proj', 'down_proj']);
    const tokens = randomTokens(B * T, c.vocabSize, 9);
    const rng = new Rng(10);
    const dlogits = Float32Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
    const { acts } = transformerForward(c, w, tokens, B, T, lora);
    const full = transformerBackward(acts, dlogits);
    const only = transformerBackward(acts, dlogits, { weightGrads: false });
    expect(only.weights.size).toBe(0);
    for (const [path, g] of full.lora) {
      expect(only.lora.get(path)!.A).toEqual(g.A);
      expect(only.lora.get(path)!.B).toEqual(g.B);
    }
  });
});
