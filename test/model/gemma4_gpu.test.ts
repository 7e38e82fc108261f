// The Gemma 4 GPU forward (src/model/gemma4_gpu.ts) against the CPU reference (src/reference/gemma4.ts) on
// E2B-like tiny models (sliding and full layers with their own head sizes, shared K/V, double-wide MLPs, PLE,
// proportional RoPE, soft-cap), with v_proj and with attention_k_eq_v, with and without LoRA; the shared layers'
// K/V source on the GPU (perturbing the source layer's k_proj changes what the shared layers compute); and the
// backward's LoRA gradients of every module against the reference's (shared layers' K/V gradients summed into
// their source layer's).
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { generateGemma4 } from '../../src/model/gemma4_generate';
import type { ModelConfig } from '../../src/model/config';
import type { WeightMap } from '../../src/model/weights';
import { transformerBackward, transformerForward, type LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor as loraFor, gemma4TinyConfig, gemma4Weights, K_EQ_V } from './gemma4_fixtures';
import { expectClose, greedyReference, randomTokens } from './tiny';

const B = 2;
const T = 6;


async function gpuLogits(c: ModelConfig, w: WeightMap, tokens: number[], lora: LoraMap | null): Promise<Float32Array> {
  const gpu = await testGpu();
  const model = Gemma4Gpu.upload(gpu, c, w);
  const ids = gpu.upload(Uint32Array.from(tokens), [B * T], 'ids', 'u32');
  const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, n) => n % T), [B * T], 'positions', 'u32');
  let gl: Gemma4GpuLora | null = null;
  if (lora) {
    gl = new Map();
    for (const [path, l] of lora) {
      gl.set(path, { A: gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`), B: gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`), r: l.r, scale: l.scale });
    }
  }
  const out = model.logits(ids, pos, B, T, gl);
  const logits = await gpu.read(out);
  gpu.release(out, ids, pos, ...[...(gl?.values() ?? [])].flatMap((p) => [p.A, p.B]));
  model.destroy();
  expect(gpu.pool.stats.bytesInUse, 'the forward leaked tensors').toBeLessThanOrEqual(0);
  return logits;
}

describe('gemma4 GPU forward equals the CPU reference', () => {
  for (const [name, over] of [['E2B-like (v_proj)', {}], ['attention_k_eq_v', K_EQ_V]] as const) {
    test(name, async () => {
      const c = gemma4TinyConfig(over);
      const w = gemma4Weights(c, 31, 0.3);
      const tokens = randomTokens(B * T, c.vocabSize, 32);
      const lora = loraFor(c, 33);
      for (const l of [null, lora]) {
        const want = transformerForward(c, w, tokens, B, T, l).logits;
        expectClose(`logits${l ? ' with LoRA' : ''}`, await gpuLogits(c, w, tokens, l), want);
      }
    }, 120_000);
  }

  test('shared layers attend over the source layer\'s K/V on the GPU', async () => {
    const c = gemma4TinyConfig();
    const w = gemma4Weights(c, 41, 0.3);
    const tokens = randomTokens(B * T, c.vocabSize, 42);
    // layer 1's own attention output cut: its K/V reach the logits only through shared layers 3 and 4
    const cut = new Map(w);
    cut.set('model.layers.1.self_attn.o_proj.weight', { shape: [16, 16], data: new Float32Array(256) });
    const moved = new Map(cut);
    const k = w.get('model.layers.1.self_attn.k_proj.weight')!;
    moved.set('model.layers.1.self_attn.k_proj.weight', { shape: k.shape, data: k.data.map((v) => 1.5 * v + 0.1) });
    const a = await gpuLogits(c, cut, tokens, null);
    const b = await gpuLogits(c, moved, tokens, null);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    expect(diff).toBeGreaterThan(1e-3);
    expectClose('perturbed', b, transformerForward(c, moved, tokens, B, T).logits);
  }, 120_000);
});

describe('gemma4 GPU backward: LoRA gradients equal the CPU reference', () => {
  for (const [name, over] of [['E2B-like (v_proj)', {}], ['attention_k_eq_v', K_EQ_V], ['no soft-cap, no PLE', { final_logit_softcapping: null, hidden_size_per_layer_input: 0 }]] as const) {
    test(name, async () => {
      const c = gemma4TinyConfig(over);
      const w = gemma4Weights(c, 51, 0.3);
      const tokens = randomTokens(B * T, c.vocabSize, 52);
      const lora = loraFor(c, 53);
      const rng = new Rng(54);
      const G = Float32Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
      const { acts } = transformerForward(c, w, tokens, B, T, lora);
      const want = transformerBackward(acts, G, { weightGrads: false }).lora;

      const gpu = await testGpu();
      const model = Gemma4Gpu.upload(gpu, c, w);
      const ids = gpu.upload(Uint32Array.from(tokens), [B * T], 'ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, n) => n % T), [B * T], 'positions', 'u32');
      const gl: Gemma4GpuLora = new Map();
      const grads: Gemma4GpuLoraGrads = new Map();
      for (const [path, l] of lora) {
        const A = gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`);
        const Bm = gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`);
        gl.set(path, { A, B: Bm, r: l.r, scale: l.scale });
        grads.set(path, { dA: gpu.zeros(A.shape, `${path}.dA`), dB: gpu.zeros(Bm.shape, `${path}.dB`) });
      }
      const { logits, act } = model.forward(ids, pos, B, T, gl, true);
      expectClose('logits', await gpu.read(logits), acts.logits);
      const dl = gpu.upload(G, [B * T, c.vocabSize], 'dlogits');
      model.backward(act!, dl, grads);
      for (const [path, g] of grads) {
        expectClose(`${path} dA`, await gpu.read(g.dA), want.get(path)!.A, 5e-4, 5e-3);
        expectClose(`${path} dB`, await gpu.read(g.dB), want.get(path)!.B, 5e-4, 5e-3);
      }
      model.releaseActivations(act!);
      gpu.release(logits, dl, ids, pos, ...[...gl.values()].flatMap((p) => [p.A, p.B]), ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
      model.destroy();
      expect(gpu.pool.stats.bytesInUse, 'forward/backward leaked tensors').toBeLessThanOrEqual(0);
    }, 120_000);
  }
});

describe('gemma4 GPU cached greedy decoding equals the reference', () => {
  for (const [name, over] of [['E2B-like (v_proj)', {}], ['attention_k_eq_v', K_EQ_V]] as const) {
    test(`${name}: shared layers own no cache and read their source's; sliding layers' rings wrap`, async () => {
      const c = gemma4TinyConfig(over);
      const w = gemma4Weights(c, 61, 0.5);
      const lora = loraFor(c, 62);
      const prompts = randomTokens(2 * 4, c.vocabSize, 63);
      const steps = 7; // 4 + 7 positions > the window of 3: the sliding rings wrap
      const gpu = await testGpu();
      const model = Gemma4Gpu.upload(gpu, c, w);
      const caches = model.allocCaches(2, 11);
      expect([...caches.byLayer.keys()]).toEqual([0, 1, 2]); // layers 3, 4, 5 share
      expect([...caches.byLayer.values()].map((x) => [x.TMAX, x.ring])).toEqual([[3, true], [3, true], [11, false]]);
      model.releaseCaches(caches);
      const gl: Gemma4GpuLora = new Map();
      for (const [path, l] of lora) gl.set(path, { A: gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`), B: gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`), r: l.r, scale: l.scale });
      for (const [lo, glo] of [[null, null], [lora, gl]] as const) {
        const got = await model.greedy(prompts, 2, steps, glo);
        for (let b = 0; b < 2; b++) {
          const prompt = prompts.slice(b * 4, b * 4 + 4);
          const want = greedyReference(c, w, lo, prompt, steps);
          expect(got.tokens[b]).toEqual(want);
          // every step's logits, not only the argmax: the reference over the whole sequence so far, last position
          const seq = [...prompt, ...want];
          for (let s = 0; s < steps; s++) {
            const T1 = 4 + s;
            const ref = transformerForward(c, w, seq.slice(0, T1), 1, T1, lo).logits.slice((T1 - 1) * c.vocabSize, T1 * c.vocabSize);
            expectClose(`row ${b} step ${s} logits`, got.logits[s].slice(b * c.vocabSize, (b + 1) * c.vocabSize), ref);
          }
        }
        expect(new Set(got.tokens.flat()).size, 'greedy tokens vary').toBeGreaterThan(2);
      }
      gpu.release(...[...gl.values()].flatMap((p) => [p.A, p.B]));
      model.destroy();
      expect(gpu.pool.stats.bytesInUse, 'decoding leaked tensors').toBeLessThanOrEqual(0);
    }, 120_000);
  }
});

describe('gemma4 decoding with 16-bit KV caches (kv_precision)', () => {
  for (const format of ['bf16', 'f16'] as const) {
    test(`${format} caches: u32 pairs on the non-shared layers only; greedy tokens equal the reference's, rings wrapping`, async () => {
      const c = gemma4TinyConfig();
      const w = gemma4Weights(c, 61, 0.5);
      const lora = loraFor(c, 62);
      const prompts = randomTokens(2 * 4, c.vocabSize, 63);
      const steps = 7;
      const gpu = await testGpu();
      const model = Gemma4Gpu.upload(gpu, c, w);
      const caches = model.allocCaches(2, 11, format);
      // (B, TMAX, NKV*HS / 2) u32: layers 0, 1 rings of 3 slots of 8 values, layer 2 11 positions of 16
      expect([...caches.byLayer.values()].map((x) => [x.k.dtype, x.k.size, x.v.dtype, x.v.size])).toEqual([
        ['u32', 2 * 3 * 4, 'u32', 2 * 3 * 4], ['u32', 2 * 3 * 4, 'u32', 2 * 3 * 4], ['u32', 2 * 11 * 8, 'u32', 2 * 11 * 8]]);
      model.releaseCaches(caches);
      const gl: Gemma4GpuLora = new Map();
      for (const [path, l] of lora) gl.set(path, { A: gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`), B: gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`), r: l.r, scale: l.scale });
      const got = await model.greedy(prompts, 2, steps, gl, format);
      const sampled = await generateGemma4(model, [prompts.slice(0, 4), prompts.slice(4)], {
        maxNewTokens: steps, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora: gl, kvPrecision: format,
      });
      for (let b = 0; b < 2; b++) {
        const prompt = prompts.slice(b * 4, b * 4 + 4);
        const want = greedyReference(c, w, lora, prompt, steps);
        expect(got.tokens[b], `row ${b}, ${format} caches`).toEqual(want);
        expect(sampled.tokens[b], `row ${b}, generateGemma4 with kv_precision ${format}`).toEqual(want);
        // the 16-bit caches round K and V: the decode steps' logits stay near the reference's, not bit-equal
        const seq = [...prompt, ...want];
        for (let s = 1; s < steps; s++) {
          const T1 = 4 + s;
          const ref = transformerForward(c, w, seq.slice(0, T1), 1, T1, lora).logits.slice((T1 - 1) * c.vocabSize, T1 * c.vocabSize);
          expectClose(`row ${b} step ${s} logits (${format} caches)`, got.logits[s].slice(b * c.vocabSize, (b + 1) * c.vocabSize), ref, 3e-2, 3e-2);
        }
      }
      gpu.release(...[...gl.values()].flatMap((p) => [p.A, p.B]));
      model.destroy();
      expect(gpu.pool.stats.bytesInUse, 'decoding leaked tensors').toBeLessThanOrEqual(0);
    }, 120_000);
  }
});

test('the GPU model refuses a LoRA on a shared layer\'s k_proj with the reason', async () => {
  const c = gemma4TinyConfig();
  const gpu = await testGpu();
  const model = Gemma4Gpu.upload(gpu, c, gemma4Weights(c, 91));
  const A = gpu.zeros([2, 16], 'A');
  const Bm = gpu.zeros([8, 2], 'B');
  const ids = gpu.upload(new Uint32Array(2), [2], 'ids', 'u32');
  const pos = gpu.upload(Uint32Array.from([0, 1]), [2], 'positions', 'u32');
  expect(() => model.logits(ids, pos, 1, 2, new Map([['model.layers.4.self_attn.k_proj', { A, B: Bm, r: 2, scale: 1 }]])))
    .toThrow(/layer 4 shares the keys and values of layer 1/);
  gpu.release(A, Bm, ids, pos);
  model.destroy();
});
