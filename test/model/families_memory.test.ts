// Qwen3 and Gemma 3 text with the memory work combined: a bf16 base (packed 16-bit matmuls and embedding
// lookup, Gemma's sqrt(C) scale included) read through the chunked LM head (a small lmHeadChunkBytes, so the
// vocabulary is split into several chunks) gives the log-probs, entropy and LoRA gradients of an f32 model of
// the same (bf16-rounded) weights with the whole-vocabulary head, to tolerance.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ALL_TARGETS, gpuTinyConfig, randomizeLora, roundedWeights, uploadRandomBatch } from './tiny';
import { GEMMA3_TINY, QWEN3_TINY, tinyFamilyWeights } from './families_fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { headLogprobs, headLogprobsBackward } from '../../src/model/lm_head';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';
import type { ModelConfig } from '../../src/model/config';
import type { GpuRuntime } from '../../src/gpu/runtime';

// the tiny family shapes, with a vocabulary wide enough for several 64-column chunks
const QWEN3: Partial<ModelConfig> = { ...QWEN3_TINY, vocabSize: 301 };
const GEMMA3: Partial<ModelConfig> = { ...GEMMA3_TINY, tieWordEmbeddings: true, vocabSize: 301 };

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 3e-5, rtol = 3e-4) {
  const r = compare('families_memory', name, name, got, want, { atol, rtol });
  expect(r.mismatches.join('\n'), `${name}: max |err| ${r.maxAbsErr}`).toBe('');
}

/** The same weights with every packable matrix rounded to bf16 (kept as f32). */
/** Forward + fused head + backward at (B, T) = (2, 7); returns log-probs, entropy, LoRA gradients and the
 * largest buffer the head acquired. */
async function step(gpu: GpuRuntime, model: GpuTransformer, lora: LoraSet, chunkBytes: number) {
  const [B, T] = [2, 7];
  const N = B * T;
  const c = model.config;
  const rng = new Rng(8);
  const { ids, pos, tgt } = uploadRandomBatch(gpu, B, T, c.vocabSize, rng);
  model.lmHeadChunkBytes = chunkBytes;
  lora.zeroGrads();
  const act = model.forward(ids, pos, B, T, lora);
  let largest = 0;
  const acquire = gpu.pool.acquire.bind(gpu.pool);
  gpu.pool.acquire = (bytes, usage, label) => {
    largest = Math.max(largest, bytes);
    return acquire(bytes, usage, label);
  };
  const out = headLogprobs(model, act.f, tgt, 0.8);
  const dlogp = gpu.upload(randn(N, rng), [N], 'dlogp');
  const df = gpu.tensor([N, c.hiddenSize], 'df');
  headLogprobsBackward(model, df, dlogp, act.f, tgt, out.lse, 0.8);
  gpu.pool.acquire = acquire;
  model.backwardFromHead(act, df);
  const res = { logp: await gpu.read(out.logp), entropy: await gpu.read(out.entropy), grads: [] as Float32Array[], largest };
  for (const p of lora.pairs.values()) res.grads.push(await gpu.read(p.dA), await gpu.read(p.dB));
  model.releaseActivations(act);
  gpu.release(ids, pos, tgt, dlogp, out.logp, out.entropy, out.lse);
  return res;
}

describe('Qwen3 and Gemma 3 with a bf16 base and the chunked LM head', () => {
  for (const [family, over] of [['qwen3', QWEN3], ['gemma3_text', GEMMA3]] as const) {
    test(`${family}: bf16 + chunked head equals f32 (rounded weights) + whole-vocabulary head`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig(over);
      const w = tinyFamilyWeights(c, 21);
      const m16 = GpuTransformer.upload(gpu, c, w, { basePrecision: 'bf16' });
      const m32 = GpuTransformer.upload(gpu, c, roundedWeights(w, 'bf16'), { basePrecision: 'f32' });
      expect(m16.formats.size).toBeGreaterThan(0);
      expect(m16.bytes).toBeLessThan(0.7 * m32.bytes);
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL_TARGETS, useRslora: false });
      randomizeLora(gpu, lora, new Rng(3));
      const N = 14;
      const chunked = await step(gpu, m16, lora, N * 64 * 4); // 64 columns per chunk: 5 chunks of 301
      const whole = await step(gpu, m32, lora, 1 << 30);
      expect(whole.largest).toBeGreaterThanOrEqual(N * c.vocabSize * 4);
      expect(chunked.largest).toBeLessThan(N * c.vocabSize * 4);
      expectClose('logp', chunked.logp, whole.logp);
      expectClose('entropy', chunked.entropy, whole.entropy);
      expect(whole.grads.some((g) => g.some((x) => Math.abs(x) > 1e-3))).toBe(true);
      chunked.grads.forEach((g, i) => expectClose(`lora grad ${i}`, g, whole.grads[i]));
      lora.release();
      m16.release();
      m32.release();
      expect(gpu.pool.stats.bytesInUse).toBe(0);
    });
  }
});
