// Activation recomputation (GpuTransformer.recomputeLayers, config `recompute`): a training forward that
// keeps only each layer's input, with every layer recomputed before its backward, gives the same log-probs
// and the same gradients (LoRA A/B with LoRA dropout, every full weight) as the path that keeps all
// activations, for Llama, Qwen3 and Gemma 3 text shapes; and it holds less memory at its peak.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, gpuTinyConfig, randomWeights, randomizeLora, uploadRandomBatch } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY } from './families_fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { headLogprobs, headLogprobsBackward } from '../../src/model/lm_head';
import { Rng, randn } from '../../src/util/random';
import type { GpuRuntime } from '../../src/gpu/runtime';

/** Forward (LoRA with dropout, counter 5) + fused head + backward with full-weight gradients; everything read
 * back, and the pool's peak over the pass. */
async function pass(gpu: GpuRuntime, model: GpuTransformer, lora: LoraSet, recompute: boolean) {
  const [B, T] = [2, 7];
  const N = B * T;
  const c = model.config;
  const rng = new Rng(8);
  const { ids, pos, tgt } = uploadRandomBatch(gpu, B, T, c.vocabSize, rng);
  const dlogp = gpu.upload(randn(N, rng), [N], 'dlogp');
  const full = model.createFullGrads();
  lora.zeroGrads();
  await gpu.sync();
  gpu.pool.trim(); // from a pool without idle buffers, so that the peak counts what this pass allocates
  const base = gpu.pool.stats.bytesAllocated;
  gpu.pool.stats.peakBytesAllocated = base;
  model.recomputeLayers = recompute;
  const act = model.forward(ids, pos, B, T, lora, 5);
  expect(act.layers.length).toBe(recompute ? 0 : c.numLayers);
  const out = headLogprobs(model, act.f, tgt, 0.9);
  const df = gpu.tensor([N, c.hiddenSize], 'df');
  headLogprobsBackward(model, df, dlogp, act.f, tgt, out.lse, 0.9, full.get(model.lmHeadName())!);
  model.backwardFromHead(act, df, full);
  model.releaseActivations(act);
  model.recomputeLayers = false;
  const res = { logp: await gpu.read(out.logp), grads: new Map<string, Float32Array>(), peak: gpu.pool.stats.peakBytesAllocated - base };
  for (const p of lora.pairs.values()) {
    res.grads.set(`${p.path}.A`, await gpu.read(p.dA));
    res.grads.set(`${p.path}.B`, await gpu.read(p.dB));
  }
  for (const [name, g] of full) res.grads.set(name, await gpu.read(g));
  gpu.release(ids, pos, tgt, dlogp, out.logp, out.entropy, out.lse, ...full.values());
  return res;
}

describe('activation recomputation', () => {
  for (const [family, over] of [['llama', { numLayers: 4 }], ['qwen3', { ...QWEN3_TINY, numLayers: 4 }], ['gemma3_text', GEMMA3_TINY]] as const) {
    test(`${family}: recomputed layers give the kept-activation path's log-probs and gradients, at a lower peak`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ vocabSize: 53, ...over });
      const model = GpuTransformer.upload(gpu, c, randomWeights(c, 17), { basePrecision: 'f32' });
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false, dropout: 0.25 });
      randomizeLora(gpu, lora, new Rng(4));
      const kept = await pass(gpu, model, lora, false);
      const recomputed = await pass(gpu, model, lora, true);
      expect(Array.from(recomputed.logp)).toEqual(Array.from(kept.logp));
      let nonzero = 0;
      for (const [name, g] of kept.grads) {
        // the same kernels on the same inputs in the same order: equal bit for bit
        expect(Array.from(recomputed.grads.get(name)!), name).toEqual(Array.from(g));
        if (g.some((x) => Math.abs(x) > 1e-4)) nonzero++;
      }
      expect(nonzero).toBeGreaterThan(kept.grads.size / 2);
      expect(kept.peak).toBeGreaterThan(0);
      expect(recomputed.peak).toBeLessThan(kept.peak);
      lora.release();
      model.release();
      expect(gpu.pool.stats.bytesInUse).toBe(0);
    });
  }
});
