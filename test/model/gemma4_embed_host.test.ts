// Gemma 4 with its main embedding table in host memory (upload's embedOnHost, E2B's way under a 4 GiB budget): each
// forward gathers its tokens' rows on the host (as the embedding kernels compute them) and the tied LM head uploads
// one vocabulary chunk of rows at a time into a reused chunk buffer. Against the same model with the table on the
// GPU, f32 and bf16 bases: the final-norm output, the chunked head's log-probs and entropies, the head's and the
// model's backward (df, LoRA gradients), the whole-head logits (headLogits, generation's) and greedy tokens equal
// bit for bit; the table is not on the GPU, and nothing leaks.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { headChunkColumns, headLogprobs, headLogprobsBackward } from '../../src/model/lm_head';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor, gemma4TinyConfig, gemma4Weights } from './gemma4_fixtures';
import { randomTokens } from './tiny';

const B = 2;
const T = 5;
const N = B * T;

describe('gemma4 embedding table in host memory equals the table on the GPU', () => {
  for (const [name, storage, pleOnHost] of [['f32 base', {}, false], ['bf16 base, PLE table on the host too', { basePrecision: 'bf16' as const }, true]] as const) {
    test(name, async () => {
      const c = gemma4TinyConfig({ vocab_size: 200, vocab_size_per_layer_input: 200 });
      const V = c.vocabSize;
      const w = gemma4Weights(c, 91, 0.4);
      // an id past the vocabulary gathers a row of zeros on both paths
      const tokens = randomTokens(N, V, 92).map((t, n) => (n === 3 ? V + 5 : t));
      const targets = Array.from({ length: N }, (_, n) => (n % T === T - 1 ? 0 : tokens[n + 1] % V));
      const lora = gemma4LoraFor(c, 93);
      const rng = new Rng(94);
      const wt = Float32Array.from({ length: N }, () => rng.normal());
      const gpu = await testGpu();
      const ids = gpu.upload(Uint32Array.from(tokens), [N], 'ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: N }, (_, n) => n % T), [N], 'positions', 'u32');
      const tgt = gpu.upload(Uint32Array.from(targets), [N], 'targets', 'u32');
      const dlogp = gpu.upload(wt, [N], 'dlogp');
      const gl: Gemma4GpuLora = new Map();
      for (const [path, l] of lora) {
        gl.set(path, { A: gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`), B: gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`), r: l.r, scale: l.scale });
      }
      const run = async (embedOnHost: boolean) => {
        const model = Gemma4Gpu.upload(gpu, c, w, storage, { pleOnHost, embedOnHost });
        expect(model.weights.has('model.embed_tokens.weight')).toBe(!embedOnHost);
        expect(model.embedOnHost).toBe(embedOnHost);
        // chunks of 64 columns (the last one short) on both paths
        model.lmHeadChunkBytes = N * 64 * 4;
        expect(headChunkColumns(model, N)).toBe(64);
        const grads: Gemma4GpuLoraGrads = new Map();
        for (const [path, p] of gl) grads.set(path, { dA: gpu.zeros(p.A.shape, `${path}.dA`), dB: gpu.zeros(p.B.shape, `${path}.dB`) });
        const { f, act } = model.forwardHidden(ids, pos, B, T, gl, true, { hostIds: tokens });
        const fv = await gpu.read(f);
        const head = headLogprobs(model, f, tgt, 1);
        const df = gpu.tensor([N, c.hiddenSize], 'df');
        headLogprobsBackward(model, df, dlogp, f, tgt, head.lse, 1, null, { dentropy: dlogp, entropy: head.entropy });
        const dfv = await gpu.read(df);
        model.backwardFromHead(act!, df, grads);
        const g = new Map<string, Float32Array[]>();
        for (const [path, x] of grads) g.set(path, [await gpu.read(x.dA), await gpu.read(x.dB)]);
        const out = { f: fv, logp: await gpu.read(head.logp), entropy: await gpu.read(head.entropy), df: dfv, g, logits: new Float32Array(0) as Float32Array<ArrayBufferLike>, greedy: [] as number[][] };
        model.releaseActivations(act!);
        gpu.release(head.logp, head.entropy, head.lse, ...[...grads.values()].flatMap((x) => [x.dA, x.dB]));
        // the whole head (generation's headLogits): on the host in chunks, copied into (N, V)
        const logits = model.logits(ids, pos, B, T, gl, tokens);
        out.logits = await gpu.read(logits);
        gpu.release(logits);
        out.greedy = (await model.greedy([1, 5, 6, 7, 2, 9], 2, 4, gl)).tokens;
        model.destroy();
        return out;
      };
      const onGpu = await run(false);
      const onHost = await run(true);
      expect(onHost.f).toEqual(onGpu.f);
      expect(onHost.logp).toEqual(onGpu.logp);
      expect(onHost.entropy).toEqual(onGpu.entropy);
      expect(onHost.df).toEqual(onGpu.df);
      expect(onHost.df.some((v) => v !== 0)).toBe(true);
      for (const [path, [dA, dB]] of onGpu.g) {
        expect(onHost.g.get(path)![0], `${path} dA`).toEqual(dA);
        expect(onHost.g.get(path)![1], `${path} dB`).toEqual(dB);
      }
      expect(onHost.logits.length).toBe(N * V);
      expect(onHost.logits).toEqual(onGpu.logits);
      expect(onHost.greedy).toEqual(onGpu.greedy);
      gpu.release(ids, pos, tgt, dlogp, ...[...gl.values()].flatMap((p) => [p.A, p.B]));
      expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
    }, 180_000);
  }
});
