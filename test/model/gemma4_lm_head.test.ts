// Gemma 4 through the shared LM head (src/model/lm_head.ts): the GPU model's final-norm output (forwardHidden) into
// the fused log-prob head, its final logit soft-cap applied inside each vocabulary chunk, against the CPU
// reference's log-softmax of its soft-capped logits; and the head's backward (soft-cap derivative per chunk) into
// backwardFromHead's LoRA gradients against the reference's backward of the same weighted log-prob sum. Run whole
// (one chunk) and in chunks of 64 columns (the last one short), so no (N, V) logits exist in the chunked run.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { generateGemma4 } from '../../src/model/gemma4_generate';
import { headLogprobs, headLogprobsBackward, vocabChunkColumns } from '../../src/model/lm_head';
import { transformerBackward, transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor, gemma4TinyConfig, gemma4Weights } from './gemma4_fixtures';
import { expectClose, randomTokens } from './tiny';

const B = 2;
const T = 5;
const N = B * T;

describe('gemma4 through the chunked LM head with the soft-cap inside the chunks', () => {
  for (const chunked of [false, true]) {
    test(chunked ? 'chunks of 64 columns' : 'one chunk', async () => {
      const c = gemma4TinyConfig({ vocab_size: 200, vocab_size_per_layer_input: 200 });
      const V = c.vocabSize;
      const w = gemma4Weights(c, 71, 0.4);
      const tokens = randomTokens(N, V, 72);
      const targets = Array.from({ length: N }, (_, n) => (n % T === T - 1 ? 0 : tokens[n + 1]));
      const lora = gemma4LoraFor(c, 73);
      const rng = new Rng(74);
      const wt = Float32Array.from({ length: N }, () => rng.normal());

      // reference: logp = log_softmax(softcap(logits))[target]; d(sum wt * logp)/dlogits = wt (onehot - p)
      const { logits, acts } = transformerForward(c, w, tokens, B, T, lora);
      const wantLogp = new Float32Array(N);
      const dl = new Float32Array(N * V);
      for (let n = 0; n < N; n++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[n * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - m);
        wantLogp[n] = logits[n * V + targets[n]] - m - Math.log(s);
        for (let v = 0; v < V; v++) dl[n * V + v] = wt[n] * ((v === targets[n] ? 1 : 0) - Math.exp(logits[n * V + v] - m) / s);
      }
      const want = transformerBackward(acts, dl, { weightGrads: false }).lora;

      const gpu = await testGpu();
      const model = Gemma4Gpu.upload(gpu, c, w);
      if (chunked) model.lmHeadChunkBytes = N * 64 * 4;
      expect(vocabChunkColumns(N, V, model.lmHeadChunkBytes)).toBe(chunked ? 64 : V);
      const ids = gpu.upload(Uint32Array.from(tokens), [N], 'ids', 'u32');
      const pos = gpu.upload(Uint32Array.from({ length: N }, (_, n) => n % T), [N], 'positions', 'u32');
      const tgt = gpu.upload(Uint32Array.from(targets), [N], 'targets', 'u32');
      const gl: Gemma4GpuLora = new Map();
      const grads: Gemma4GpuLoraGrads = new Map();
      for (const [path, l] of lora) {
        const A = gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`);
        const Bm = gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`);
        gl.set(path, { A, B: Bm, r: l.r, scale: l.scale });
        grads.set(path, { dA: gpu.zeros(A.shape, `${path}.dA`), dB: gpu.zeros(Bm.shape, `${path}.dB`) });
      }
      const { f, act } = model.forwardHidden(ids, pos, B, T, gl, true);
      const head = headLogprobs(model, f, tgt, 1);
      expectClose('log-probs', await gpu.read(head.logp), wantLogp, 1e-4, 1e-4);
      const dlogp = gpu.upload(wt, [N], 'dlogp');
      const df = gpu.tensor([N, c.hiddenSize], 'df');
      headLogprobsBackward(model, df, dlogp, f, tgt, head.lse, 1);
      model.backwardFromHead(act!, df, grads);
      for (const [path, g] of grads) {
        expectClose(`${path} dA`, await gpu.read(g.dA), want.get(path)!.A, 5e-4, 5e-3);
        expectClose(`${path} dB`, await gpu.read(g.dB), want.get(path)!.B, 5e-4, 5e-3);
      }
      model.releaseActivations(act!);
      gpu.release(head.logp, head.entropy, head.lse, dlogp, ids, pos, tgt, ...[...gl.values()].flatMap((p) => [p.A, p.B]), ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
      model.destroy();
      expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
    }, 120_000);
  }
});

test('Gemma 4 generation from non-finite weights is an error naming the decode step, never a token id', async () => {
  const c = gemma4TinyConfig({ vocab_size: 200, vocab_size_per_layer_input: 200 });
  const w = gemma4Weights(c, 81, 0.4);
  const gpu = await testGpu();
  const fine = Gemma4Gpu.upload(gpu, c, w);
  const opts = { maxNewTokens: 3, temperature: 0, topK: 0, topP: 1, seed: 1, stopIds: [], lora: null };
  const ok = await generateGemma4(fine, [[1, 5, 6]], opts);
  expect(ok.tokens[0].every((id) => id < c.vocabSize)).toBe(true);
  fine.destroy();
  const norm = w.get('model.norm.weight')!;
  const poisoned = new Map(w);
  poisoned.set('model.norm.weight', { ...norm, data: Float32Array.from(norm.data as Float32Array, (v, i) => (i === 0 ? NaN : v)) });
  const bad = Gemma4Gpu.upload(gpu, c, poisoned);
  await expect(generateGemma4(bad, [[1, 5, 6]], opts)).rejects.toThrow(/sampling failed at decode step 0 \(row 0\).*outside the vocabulary of 200/);
  bad.destroy();
});
