// The fused LM head (src/model/lm_head.ts) in vocabulary chunks against the unchunked path on the same GPU
// model: log-probs, entropy, and every gradient (LoRA A/B, full weights including an untied lm_head and a
// tied embedding) to tolerance, with no (N, V) buffer in the chunked run.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig, randomWeights } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet, type LoraModule } from '../../src/model/lora';
import { headLogprobs, headLogprobsBackward, vocabChunkColumns } from '../../src/model/lm_head';
import { compare } from '../../src/selftest/check';
import { Rng, randn } from '../../src/util/random';
import type { GpuRuntime } from '../../src/gpu/runtime';

const ALL: LoraModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-4) {
  const r = compare('lm_head', name, name, got, want, { atol, rtol });
  expect(r.mismatches.join('\n'), `${name}: max |err| ${r.maxAbsErr}`).toBe('');
}

/** One forward + backward through the fused head; returns every result read back. */
async function run(gpu: GpuRuntime, model: GpuTransformer, lora: LoraSet, chunkBytes: number, B: number, T: number, seed: number, withEntropy = false) {
  const c = model.config;
  const N = B * T;
  const rng = new Rng(seed);
  const tokens = Array.from({ length: N }, () => rng.int(c.vocabSize));
  const targets = Uint32Array.from({ length: N }, () => rng.int(c.vocabSize));
  targets[3] = 0xffffffff; // a position without a target
  const dlogpHost = randn(N, rng, 1);
  const dentHost = randn(N, rng, 1);
  model.lmHeadChunkBytes = chunkBytes;
  const ids = gpu.upload(tokens, [N], 'ids', 'u32');
  const pos = gpu.upload(Array.from({ length: N }, (_, i) => i % T), [N], 'pos', 'u32');
  const tgt = gpu.upload(targets, [N], 'targets', 'u32');
  const act = model.forward(ids, pos, B, T, lora);
  const full = model.createFullGrads();
  let largest = 0;
  const acquire = gpu.pool.acquire.bind(gpu.pool);
  gpu.pool.acquire = (bytes, usage, label) => {
    largest = Math.max(largest, bytes);
    return acquire(bytes, usage, label);
  };
  const out = headLogprobs(model, act.f, tgt, 0.7);
  lora.zeroGrads();
  const dlogp = gpu.upload(dlogpHost, [N], 'dlogp');
  const df = gpu.tensor([N, c.hiddenSize], 'df');
  // the entropy bonus's gradient (dentropy) joins dlogp's in each chunk
  const dentropy = withEntropy ? gpu.upload(dentHost, [N], 'dentropy') : null;
  headLogprobsBackward(model, df, dlogp, act.f, tgt, out.lse, 0.7, full.get(model.lmHeadName())!, dentropy ? { dentropy, entropy: out.entropy } : null);
  if (dentropy) gpu.release(dentropy);
  model.backwardFromHead(act, df, full);
  gpu.pool.acquire = acquire;
  const res = {
    logp: await gpu.read(out.logp),
    entropy: await gpu.read(out.entropy),
    lora: new Map<string, Float32Array>(),
    full: new Map<string, Float32Array>(),
    largest,
  };
  for (const p of lora.pairs.values()) {
    res.lora.set(`${p.path}.A`, await gpu.read(p.dA));
    res.lora.set(`${p.path}.B`, await gpu.read(p.dB));
  }
  for (const [name, g] of full) res.full.set(name, await gpu.read(g));
  model.releaseActivations(act);
  gpu.release(ids, pos, tgt, out.logp, out.entropy, out.lse, dlogp, ...full.values());
  return res;
}

describe('LM head in vocabulary chunks', () => {
  test('columns per chunk: the whole vocabulary when it fits, else multiples of 64', () => {
    expect(vocabChunkColumns(10, 1000, 40000)).toBe(1000);
    expect(vocabChunkColumns(10, 1000, 39999)).toBe(960);
    expect(vocabChunkColumns(3584, 151936, 64 * 2 ** 20)).toBe(4672);
    expect(vocabChunkColumns(10 ** 6, 151936, 1024)).toBe(64);
  });

  for (const tied of [true, false]) {
    test(`chunked equals unchunked: log-probs, entropy, every gradient (${tied ? 'tied' : 'untied'} head)`, async () => {
      const gpu = await testGpu();
      const c = gpuTinyConfig({ vocabSize: 301, tieWordEmbeddings: tied });
      const model = GpuTransformer.upload(gpu, c, randomWeights(c, 41));
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL, useRslora: false });
      const rng = new Rng(9);
      for (const p of lora.pairs.values()) {
        gpu.write(p.A, randn(p.A.size, rng, 0.3));
        gpu.write(p.B, randn(p.B.size, rng, 0.3));
      }
      const B = 2;
      const T = 7;
      const N = B * T;
      const whole = await run(gpu, model, lora, N * c.vocabSize * 4, B, T, 3);
      // 64 columns per chunk: 5 chunks, the last 45 wide
      const chunked = await run(gpu, model, lora, N * 64 * 4, B, T, 3);
      expect(whole.largest).toBeGreaterThanOrEqual(N * c.vocabSize * 4);
      expect(chunked.largest).toBeLessThan(N * c.vocabSize * 4);
      expectClose('logp', chunked.logp, whole.logp);
      expectClose('entropy', chunked.entropy, whole.entropy);
      expect(chunked.logp[3]).toBe(0);
      for (const [k, v] of whole.lora) expectClose(k, chunked.lora.get(k)!, v);
      for (const [k, v] of whole.full) expectClose(k, chunked.full.get(k)!, v);
      expect([...whole.full.get(model.lmHeadName())!].some((x) => Math.abs(x) > 1e-3)).toBe(true);
      lora.release();
      model.release();
      expect(gpu.pool.stats.bytesInUse).toBe(0);
    });
  }

  test('with the entropy bonus: chunked equals unchunked, and the entropy term changes the gradients', async () => {
    const gpu = await testGpu();
    const c = gpuTinyConfig({ vocabSize: 301, tieWordEmbeddings: false });
    const model = GpuTransformer.upload(gpu, c, randomWeights(c, 43));
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ALL, useRslora: false });
    const rng = new Rng(11);
    for (const p of lora.pairs.values()) {
      gpu.write(p.A, randn(p.A.size, rng, 0.3));
      gpu.write(p.B, randn(p.B.size, rng, 0.3));
    }
    const B = 2;
    const T = 7;
    const N = B * T;
    const plain = await run(gpu, model, lora, N * c.vocabSize * 4, B, T, 5);
    const whole = await run(gpu, model, lora, N * c.vocabSize * 4, B, T, 5, true);
    const chunked = await run(gpu, model, lora, N * 64 * 4, B, T, 5, true);
    expect(chunked.largest).toBeLessThan(N * c.vocabSize * 4);
    for (const [k, v] of whole.lora) expectClose(k, chunked.lora.get(k)!, v);
    for (const [k, v] of whole.full) expectClose(k, chunked.full.get(k)!, v);
    const head = model.lmHeadName();
    const diff = whole.full.get(head)!.reduce((m, x, i) => Math.max(m, Math.abs(x - plain.full.get(head)![i])), 0);
    expect(diff).toBeGreaterThan(1e-3);
    lora.release();
    model.release();
    expect(gpu.pool.stats.bytesInUse).toBe(0);
  });
});
