// The CPU reference forward: real trained weights (stories260K) reproduce llama2.c's greedy output; the
// Hugging Face layout (permuted q/k, rotate-half RoPE) gives the same logits; GQA, LoRA and RoPE agree
// with independent constructions.
import { describe, expect, test } from 'vitest';
import type { ModelConfig } from '../../src/model/config';
import { toHalfRope } from '../../src/model/llama2c';
import { loadModelFromPath } from '../../src/model/load_node';
import type { WeightMap } from '../../src/model/weights';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { randomLora, randomTokens, randomWeights, STORIES_BIN, tinyConfig } from './tiny';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmaxRow(logits: Float32Array, row: number, V: number): number {
  let best = 0;
  for (let v = 1; v < V; v++) if (logits[row * V + v] > logits[row * V + best]) best = v;
  return best;
}

describe('reference transformer on stories260K', () => {
  test('greedy decoding from BOS + "Once upon a time" reproduces llama2.c', async () => {
    const m = await loadModelFromPath(STORIES_BIN);
    const ids = m.tokenizer.encode('Once upon a time', { addBos: true });
    expect(ids).toEqual([1, 403, 407, 261, 378]);
    const V = m.config.vocabSize;
    const t0 = performance.now();
    while (ids.length < 65) {
      const { logits } = transformerForward(m.config, m.weights, ids, 1, ids.length);
      ids.push(argmaxRow(logits, ids.length - 1, V));
    }
    const ms = performance.now() - t0;
    const text = m.tokenizer.decode(ids);
    expect(text.startsWith(
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.',
    ), text).toBe(true);
    console.log(`stories260K greedy, 60 tokens without a KV cache: ${ms.toFixed(0)} ms`);
  });

  test('Hugging Face layout (q/k rows permuted, rotate-half RoPE) gives the same logits', async () => {
    const m = await loadModelFromPath(STORIES_BIN);
    const hf = toHalfRope(m.config, m.weights);
    expect(hf.config.ropeConvention).toBe('half');
    const tokens = randomTokens(2 * 24, m.config.vocabSize, 5);
    const a = transformerForward(m.config, m.weights, tokens, 2, 24);
    const b = transformerForward(hf.config, hf.weights, tokens, 2, 24);
    expect(maxAbsDiff(a.acts.logits, b.acts.logits)).toBeLessThan(1e-9);
    // and the permutation matters: rotate-half on the unpermuted weights is a different model
    const wrong = transformerForward({ ...m.config, ropeConvention: 'half' }, m.weights, tokens, 2, 24);
    expect(maxAbsDiff(a.acts.logits, wrong.acts.logits)).toBeGreaterThan(1e-2);
  });
});

describe('reference transformer forward', () => {
  const B = 2;
  const T = 5;

  test('GQA: NKV=1 equals NKV=NH with the kv head repeated', () => {
    const c = tinyConfig({ numHeads: 2, numKvHeads: 1, attentionBias: true });
    const w = randomWeights(c, 1);
    const c2: ModelConfig = { ...c, numKvHeads: 2 };
    const w2: WeightMap = new Map(w);
    for (let l = 0; l < c.numLayers; l++) {
      for (const p of ['k_proj', 'v_proj']) {
        for (const kind of ['weight', 'bias']) {
          const name = `model.layers.${l}.self_attn.${p}.${kind}`;
          const t = w.get(name)!;
          const data = new Float32Array(2 * t.data.length);
          data.set(t.data, 0);
          data.set(t.data, t.data.length);
          w2.set(name, { shape: kind === 'weight' ? [2 * t.shape[0], t.shape[1]] : [2 * t.shape[0]], data });
        }
      }
    }
    const tokens = randomTokens(B * T, c.vocabSize, 2);
    const a = transformerForward(c, w, tokens, B, T);
    const b = transformerForward(c2, w2, tokens, B, T);
    expect(maxAbsDiff(a.acts.logits, b.acts.logits)).toBeLessThan(1e-12);
  });

  test('LoRA equals the merged weight W + scale * B A', () => {
    const c = tinyConfig({ attentionBias: true });
    const w = randomWeights(c, 3);
    const lora: LoraMap = randomLora(c, 4, 3, 0.6);
    const merged: WeightMap = new Map(w);
    for (const [path, m] of lora) {
      const W = w.get(`${path}.weight`)!;
      const [OUT, IN] = W.shape;
      const data = new Float32Array(W.data.length);
      for (let o = 0; o < OUT; o++) {
        for (let i = 0; i < IN; i++) {
          let acc = 0;
          for (let r = 0; r < m.r; r++) acc += m.B[o * m.r + r] * m.A[r * IN + i];
          data[o * IN + i] = W.data[o * IN + i] + m.scale * acc;
        }
      }
      merged.set(`${path}.weight`, { shape: W.shape, data });
    }
    const tokens = randomTokens(B * T, c.vocabSize, 5);
    const a = transformerForward(c, w, tokens, B, T, lora);
    const b = transformerForward(c, merged, tokens, B, T);
    // merged weights are rounded to float32: agreement to float32 precision
    expect(maxAbsDiff(a.acts.logits, b.acts.logits)).toBeLessThan(1e-5);
    const base = transformerForward(c, w, tokens, B, T);
    expect(maxAbsDiff(a.acts.logits, base.acts.logits)).toBeGreaterThan(1e-2);
  });

  for (const convention of ['interleaved', 'half'] as const) {
    test(`RoPE (${convention}): shifting every position by the same amount leaves logits unchanged`, () => {
      const c = tinyConfig({
        ropeConvention: convention,
        ropeTheta: 50,
        headDim: 6,
        ropeScaling: { type: 'llama3', factor: 4, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 32 },
      });
      const w = randomWeights(c, 6);
      const tokens = randomTokens(B * T, c.vocabSize, 7);
      const pos = Array.from({ length: B * T }, (_, n) => n % T);
      const a = transformerForward(c, w, tokens, B, T, null);
      const same = transformerForward(c, w, tokens, B, T, null, pos);
      const shifted = transformerForward(c, w, tokens, B, T, null, pos.map((p) => p + 13));
      expect(maxAbsDiff(a.logits, same.logits)).toBe(0);
      // the angle pos * invFreq is an f32 product (as on the GPU, in Hugging Face and llama2.c), so a shift
      // changes the rounding of the angles: equal to f32 precision, not exactly
      expect(maxAbsDiff(a.acts.logits, shifted.acts.logits)).toBeLessThan(2e-6);
      // positions do matter: spreading them apart changes the result
      const spread = transformerForward(c, w, tokens, B, T, null, pos.map((p) => 3 * p));
      expect(maxAbsDiff(a.acts.logits, spread.acts.logits)).toBeGreaterThan(1e-3);
    });
  }

  test('causal: a token never sees later tokens', () => {
    const c = tinyConfig();
    const w = randomWeights(c, 8);
    const tokens = randomTokens(T, c.vocabSize, 9);
    const changed = [...tokens];
    changed[T - 1] = (changed[T - 1] + 1) % c.vocabSize;
    const a = transformerForward(c, w, tokens, 1, T);
    const b = transformerForward(c, w, changed, 1, T);
    const V = c.vocabSize;
    expect(maxAbsDiff(a.logits.subarray(0, (T - 1) * V), b.logits.subarray(0, (T - 1) * V))).toBe(0);
    expect(maxAbsDiff(a.logits.subarray((T - 1) * V), b.logits.subarray((T - 1) * V))).toBeGreaterThan(0);
  });

  test('bad inputs are refused with a clear message', () => {
    const c = tinyConfig();
    const w = randomWeights(c, 10);
    expect(() => transformerForward(c, w, [1, 2, 3], 1, 4)).toThrow(/tokens has 3 ids, expected B\*T = 1\*4/);
    expect(() => transformerForward(c, w, [1, 2, 11, 3], 1, 4)).toThrow(/tokens\[2\] = 11 is outside \[0, 11\)/);
    const bad: LoraMap = new Map([['model.layers.0.self_attn.q_proj', { A: new Float32Array(3), B: new Float32Array(8), r: 1, scale: 1 }]]);
    expect(() => transformerForward(c, w, [1, 2, 3, 4], 1, 4, bad)).toThrow(/q_proj: A has 3 values, expected \(R, IN\) = \(1, 8\)/);
    const unknown: LoraMap = new Map([['model.layers.5.self_attn.q_proj', { A: new Float32Array(8), B: new Float32Array(8), r: 1, scale: 1 }]]);
    expect(() => transformerForward(c, w, [1, 2, 3, 4], 1, 4, unknown)).toThrow(/model.layers.5.self_attn.q_proj: not a projection/);
    const missing: WeightMap = new Map(w);
    missing.delete('model.norm.weight');
    expect(() => transformerForward(c, missing, [1, 2, 3, 4], 1, 4)).toThrow(/missing tensor model.norm.weight/);
  });
});
