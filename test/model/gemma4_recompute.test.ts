// Gemma 4's activation recomputation (Gemma4Gpu.recomputeLayers): the training forward keeps each layer's input
// only and backward recomputes the layer before its backward. Its LoRA gradients equal the forward that keeps
// every layer's activations bit for bit (same kernels on the same inputs), on E2B-like tiny models (shared K/V,
// PLE, soft-cap; with v_proj, k_eq_v, and the PLE table on the host), it holds less at its peak, and it leaks nothing.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { generateGemma4 } from '../../src/model/gemma4_generate';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor as loraFor, gemma4TinyConfig, gemma4Weights, K_EQ_V } from './gemma4_fixtures';
import { randomTokens } from './tiny';

const B = 2;
const T = 6;

describe('gemma4 recomputation: LoRA gradients equal the kept-activations backward', () => {
  for (const [name, over, pleOnHost] of [['E2B-like (v_proj)', {}, false], ['attention_k_eq_v', K_EQ_V, false], ['PLE table on the host', {}, true]] as const) {
    test(name, async () => {
      const c = gemma4TinyConfig(over);
      const w = gemma4Weights(c, 61, 0.3);
      const tokens = randomTokens(B * T, c.vocabSize, 62);
      const lora = loraFor(c, 63);
      const rng = new Rng(64);
      const G = Float32Array.from({ length: B * T * c.vocabSize }, () => rng.normal());
      const gpu = await testGpu();
      const model = Gemma4Gpu.upload(gpu, c, w, {}, { pleOnHost });
      const ids = gpu.upload(Uint32Array.from(tokens), [B * T], 'ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, n) => n % T), [B * T], 'positions', 'u32');
      const gl: Gemma4GpuLora = new Map();
      for (const [path, l] of lora) {
        gl.set(path, { A: gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`), B: gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`), r: l.r, scale: l.scale });
      }
      const run = async (recompute: boolean) => {
        model.recomputeLayers = recompute;
        const grads: Gemma4GpuLoraGrads = new Map();
        for (const [path, p] of gl) grads.set(path, { dA: gpu.zeros(p.A.shape, `${path}.dA`), dB: gpu.zeros(p.B.shape, `${path}.dB`) });
        // the pool's peak from here (its free buffers destroyed first, so the peak is this pass's own)
        gpu.pool.trim();
        const before = gpu.pool.stats.bytesAllocated;
        gpu.pool.stats.peakBytesAllocated = before;
        const { logits, act } = model.forward(ids, pos, B, T, gl, true, { hostIds: tokens });
        expect(!!act!.inputs, 'recomputing forwards keep the inputs only').toBe(recompute);
        expect(act!.layers.length).toBe(recompute ? 0 : c.numLayers);
        const dl = gpu.upload(G, [B * T, c.vocabSize], 'dlogits');
        model.backward(act!, dl, grads);
        const peak = gpu.pool.stats.peakBytesAllocated - before;
        const out = new Map<string, { dA: Float32Array; dB: Float32Array }>();
        for (const [path, g] of grads) out.set(path, { dA: await gpu.read(g.dA), dB: await gpu.read(g.dB) });
        const lg = await gpu.read(logits);
        model.releaseActivations(act!);
        gpu.release(logits, dl, ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
        return { out, peak, lg };
      };
      const kept = await run(false);
      const recomputed = await run(true);
      expect(recomputed.lg).toEqual(kept.lg);
      let nonzero = 0;
      for (const [path, g] of kept.out) {
        const r = recomputed.out.get(path)!;
        expect(r.dA, `${path} dA`).toEqual(g.dA);
        expect(r.dB, `${path} dB`).toEqual(g.dB);
        if (g.dA.some((v) => v !== 0)) nonzero++;
      }
      expect(nonzero, 'the gradients are not all zero').toBeGreaterThan(gl.size / 2);
      expect(recomputed.peak, 'recomputation holds less at its peak').toBeLessThan(kept.peak);
      gpu.release(ids, pos, ...[...gl.values()].flatMap((p) => [p.A, p.B]));
      model.destroy();
      expect(gpu.pool.stats.bytesInUse, 'forward/backward leaked tensors').toBeLessThanOrEqual(0);
    }, 180_000);
  }
});

// the memory-saving layouts' generation prefill (generateGemma4's prefillByRow): one prompt row at a time into a
// one-row cache set copied into the B-row caches; the same tokens as the batched prefill, rings wrapping
test('gemma4 prefill one row at a time: the same greedy tokens as the batched prefill', async () => {
  const c = gemma4TinyConfig();
  const w = gemma4Weights(c, 71, 0.5);
  const gpu = await testGpu();
  const model = Gemma4Gpu.upload(gpu, c, w);
  const prompts = [[1, 5, 6, 7, 2], [9, 3, 3, 8, 4], [2, 2, 7, 1, 6]];
  const opts = { maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 3, stopIds: [], lora: null, kvPrecision: 'bf16' as const };
  const batched = await generateGemma4(model, prompts, opts);
  const byRow = await generateGemma4(model, prompts, { ...opts, prefillByRow: true, trimAfterPrefill: true });
  expect(byRow.tokens).toEqual(batched.tokens);
  expect(new Set(batched.tokens.map((t) => t.join(','))).size, 'the rows differ').toBeGreaterThan(1);
  model.destroy();
  expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
}, 120_000);
