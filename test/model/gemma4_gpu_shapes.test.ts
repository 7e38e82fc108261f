// The Gemma 4 GPU model (src/model/gemma4_gpu.ts) with 16-bit base weights (base_precision, the PLE table among
// them) and with the PLE table kept in host memory (its rows gathered per forward): forward, LoRA backward and
// cached decoding against the CPU reference.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { transformerBackward, transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor as loraFor, gemma4TinyConfig, gemma4Weights } from './gemma4_fixtures';
import { expectClose, greedyReference, randomTokens, roundedWeights } from './tiny';

const B = 2;
const T = 6;

describe('gemma4 GPU with 16-bit base weights (base_precision), the PLE table among them', () => {
  test('bf16: half the bytes, PLE table included; logits, LoRA gradients and decoding equal the reference on rounded weights', async () => {
    const c = gemma4TinyConfig();
    const w = gemma4Weights(c, 81, 0.3);
    const rounded = roundedWeights(w, 'bf16');
    const lora = loraFor(c, 82);
    const tokens = randomTokens(B * T, c.vocabSize, 83);
    const rng = new Rng(84);
    const G = Float32Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
    const { acts } = transformerForward(c, rounded, tokens, B, T, lora);
    const want = transformerBackward(acts, G, { weightGrads: false }).lora;
    const gpu = await testGpu();
    const f32 = Gemma4Gpu.upload(gpu, c, w);
    const model = Gemma4Gpu.upload(gpu, c, w, { basePrecision: 'bf16' });
    const pleValues = c.gemma4!.pleVocab * c.numLayers * c.gemma4!.plePerLayer;
    expect(f32.weightBytes().pleTable).toBe(4 * pleValues);
    expect(model.weightBytes().pleTable).toBe(2 * pleValues);
    expect(model.weightBytes().total).toBeLessThan(0.6 * f32.weightBytes().total);
    f32.destroy();
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
    const got = await model.greedy(tokens.slice(0, 4), 1, 5, gl);
    expect(got.tokens[0]).toEqual(greedyReference(c, rounded, lora, tokens.slice(0, 4), 5));
    gpu.release(logits, dl, ids, pos, ...[...gl.values()].flatMap((p) => [p.A, p.B]), ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
    model.destroy();
    expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
  }, 120_000);
});

describe('gemma4 GPU with the PLE table kept on the host', () => {
  test('no PLE table on the GPU; logits and decoding equal the reference (f32 and bf16); a forward without host ids is refused', async () => {
    const c = gemma4TinyConfig();
    const w = gemma4Weights(c, 111, 0.3);
    const tokens = randomTokens(B * T, c.vocabSize, 112);
    const gpu = await testGpu();
    for (const basePrecision of ['f32', 'bf16'] as const) {
      const ref = basePrecision === 'f32' ? w : roundedWeights(w, 'bf16');
      const model = Gemma4Gpu.upload(gpu, c, w, { basePrecision }, { pleOnHost: true });
      expect(model.weightBytes().pleTable).toBe(0);
      const ids = gpu.upload(Uint32Array.from(tokens), [B * T], 'ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, n) => n % T), [B * T], 'positions', 'u32');
      expect(() => model.logits(ids, pos, B, T)).toThrow(/PLE table is kept on the host/);
      const logits = model.logits(ids, pos, B, T, null, tokens);
      expectClose(`logits (${basePrecision})`, await gpu.read(logits), transformerForward(c, ref, tokens, B, T).logits);
      const got = await model.greedy(tokens.slice(0, 4), 1, 4);
      expect(got.tokens[0]).toEqual(greedyReference(c, ref, null, tokens.slice(0, 4), 4));
      gpu.release(logits, ids, pos);
      model.destroy();
    }
    expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
  }, 120_000);
});
