// Frozen base weights in 16 bits (weight_storage.ts, matmul_packed16_*): a model stored in bf16 / f16 gives
// the log-probs, entropy and LoRA gradients of an f32 model whose weights were rounded to that format
// beforehand (same values, f32 arithmetic), through the chunked and unchunked LM head; generation with LoRA
// (unmerged on a 16-bit base) equals the f32 model's; 'auto' keeps small models in f32; an f16 store of
// values beyond half's range is refused with the advice to use bf16.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, gpuTinyConfig, randomWeights, randomizeLora, roundedWeights, uploadRandomBatch } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { headLogprobs, headLogprobsBackward } from '../../src/model/lm_head';
import { generate } from '../../src/model/generate';
import { resolveBasePrecision, baseWeightBytes } from '../../src/model/weight_storage';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';
import type { GpuRuntime } from '../../src/gpu/runtime';

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 2e-5, rtol = 2e-4) {
  const r = compare('base16', name, name, got, want, { atol, rtol });
  expect(r.mismatches.join('\n'), `${name}: max |err| ${r.maxAbsErr}`).toBe('');
}

async function step(gpu: GpuRuntime, model: GpuTransformer, lora: LoraSet, chunkBytes: number) {
  const [B, T] = [2, 7];
  const N = B * T;
  const c = model.config;
  const rng = new Rng(8);
  const { ids, pos, tgt } = uploadRandomBatch(gpu, B, T, c.vocabSize, rng);
  model.lmHeadChunkBytes = chunkBytes;
  lora.zeroGrads();
  const act = model.forward(ids, pos, B, T, lora);
  const out = headLogprobs(model, act.f, tgt, 1);
  const dlogp = gpu.upload(randn(N, rng), [N], 'dlogp');
  const df = gpu.tensor([N, c.hiddenSize], 'df');
  headLogprobsBackward(model, df, dlogp, act.f, tgt, out.lse, 1);
  model.backwardFromHead(act, df);
  const res = { logp: await gpu.read(out.logp), entropy: await gpu.read(out.entropy), grads: [] as Float32Array[] };
  for (const p of lora.pairs.values()) res.grads.push(await gpu.read(p.dA), await gpu.read(p.dB));
  model.releaseActivations(act);
  gpu.release(ids, pos, tgt, dlogp, out.logp, out.entropy, out.lse);
  return res;
}

describe('base weights in 16 bits', () => {
  test("'auto' keeps f32 under 50M parameters, else the file's 16-bit format or bf16", () => {
    const small = gpuTinyConfig();
    expect(resolveBasePrecision(small)).toBe('f32');
    const big = gpuTinyConfig({ hiddenSize: 1024, intermediateSize: 3072, numLayers: 28, headDim: 128, numHeads: 16, numKvHeads: 8, vocabSize: 151936 });
    expect(resolveBasePrecision(big)).toBe('bf16');
    expect(resolveBasePrecision(big, { fileDtype: 'f16' })).toBe('f16');
    expect(resolveBasePrecision(big, { fileDtype: 'bf16+f32' })).toBe('bf16');
    expect(resolveBasePrecision(big, { basePrecision: 'f32', fileDtype: 'bf16' })).toBe('f32');
    expect(baseWeightBytes(big, 'bf16')).toBeLessThan(0.51 * baseWeightBytes(big, 'f32'));
  });

  for (const format of ['bf16', 'f16'] as const) {
    test(`${format} base equals an f32 model of the rounded weights: log-probs, entropy, LoRA gradients, generation`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ vocabSize: 301, tieWordEmbeddings: format === 'bf16', hiddenSize: 16 });
      const w = randomWeights(c, 12);
      const m16 = GpuTransformer.upload(gpu, c, w, { basePrecision: format });
      const m32 = GpuTransformer.upload(gpu, c, roundedWeights(w, format), { basePrecision: 'f32' });
      expect(m16.formats.size).toBeGreaterThan(0);
      expect(m16.bytes).toBeLessThan(0.7 * m32.bytes);
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(3));
      for (const chunk of [1 << 30, 14 * 64 * 4]) {
        const a = await step(gpu, m16, lora, chunk);
        const b = await step(gpu, m32, lora, chunk);
        expectClose('logp', a.logp, b.logp);
        expectClose('entropy', a.entropy, b.entropy);
        a.grads.forEach((g, i) => expectClose(`lora grad ${i}`, g, b.grads[i]));
      }
      const opts = { maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [], lora };
      const g16 = await generate(m16, [[1, 5, 9], [1, 2]], opts);
      const g32 = await generate(m32, [[1, 5, 9], [1, 2]], opts);
      expect(g16.tokens).toEqual(g32.tokens);
      expect(() => m16.createFullGrads()).toThrow(/base_precision/);
      lora.release();
      m16.release();
      m32.release();
      expect(gpu.pool.stats.bytesInUse).toBe(0);
    });
  }

  test('f16 storage of values beyond half range is refused and suggests bf16', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig();
    const w = randomWeights(c, 1);
    w.get('model.layers.1.mlp.up_proj.weight')!.data[5] = 1e5;
    const before = gpu.pool.stats.bytesInUse;
    expect(() => GpuTransformer.upload(gpu, c, w, { basePrecision: 'f16' })).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight.*bf16/s);
    expect(gpu.pool.stats.bytesInUse).toBe(before); // refused before any allocation
  });
});
