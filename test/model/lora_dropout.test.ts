// LoRA dropout in a training forward: p = 0 changes nothing, p > 0 changes the output with a mask fixed by
// the forward's counter, and the LoRA gradients through the mask match finite differences of the same
// masked forward (float32 on the GPU, so central differences with a loose tolerance).
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { gpuTinyConfig as tinyConfig, randomWeights } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { LoraSet } from '../../src/model/lora';
import { Rng, randn } from '../../src/util/random';

describe('LoRA dropout', () => {
  test('masks per counter, and gradients through the mask match finite differences', async () => {
    const gpu = await testGpu();
    const c = tinyConfig();
    const model = GpuTransformer.upload(gpu, c, randomWeights(c, 2));
    const rng = new Rng(8);
    const make = (dropout: number) => {
      const lora = new LoraSet(gpu, c, { r: 2, alpha: 4, targetModules: ['q_proj', 'v_proj', 'down_proj'], useRslora: false, dropout });
      lora.initialize(1);
      return lora;
    };
    const withDrop = make(0.4);
    const noDrop = make(0);
    const rngW = new Rng(3);
    for (const p of withDrop.pairs.values()) {
      const A = randn(p.A.size, rngW, 0.5);
      const B = randn(p.B.size, rngW, 0.5);
      gpu.write(p.A, A);
      gpu.write(p.B, B);
      const q = noDrop.pairs.get(p.path)!;
      gpu.write(q.A, A);
      gpu.write(q.B, B);
    }
    const B = 2;
    const T = 4;
    const ids = gpu.upload(Array.from({ length: B * T }, () => rng.int(c.vocabSize)), [B * T], 'ids', 'u32');
    const pos = gpu.upload(Array.from({ length: B * T }, (_, i) => i % T), [B * T], 'pos', 'u32');
    const dl = randn(B * T * c.vocabSize, rng);
    const dlogits = gpu.upload(dl, [B * T, c.vocabSize], 'dlogits');
    const loss = async (lora: LoraSet, counter: number | null) => {
      const act = model.forward(ids, pos, B, T, lora, counter);
      const logits = await gpu.read(model.logits(act.f));
      model.releaseActivations(act);
      return logits.reduce((a, x, i) => a + x * dl[i], 0);
    };
    const base = await loss(noDrop, null);
    expect(await loss(noDrop, 5)).toBeCloseTo(base, 4); // p = 0: no change
    expect(await loss(withDrop, null)).toBeCloseTo(base, 4); // no counter: no dropout (generation, old/ref log-probs)
    const d5 = await loss(withDrop, 5);
    expect(Math.abs(d5 - base)).toBeGreaterThan(1e-3);
    expect(await loss(withDrop, 5)).toBe(d5); // the counter fixes the mask
    expect(await loss(withDrop, 6)).not.toBe(d5);

    withDrop.zeroGrads();
    const act = model.forward(ids, pos, B, T, withDrop, 5);
    model.backward(act, dlogits);
    model.releaseActivations(act);
    let checked = 0;
    for (const p of withDrop.pairs.values()) {
      for (const [param, grad] of [[p.A, p.dA], [p.B, p.dB]] as const) {
        const g = await gpu.read(grad);
        const w = await gpu.read(param);
        for (const i of [0, Math.floor(w.length / 2), w.length - 1]) {
          const h = 2e-3;
          const orig = w[i];
          w[i] = orig + h;
          gpu.write(param, w);
          const up = await loss(withDrop, 5);
          w[i] = orig - h;
          gpu.write(param, w);
          const dn = await loss(withDrop, 5);
          w[i] = orig;
          gpu.write(param, w);
          const fd = (up - dn) / (2 * h);
          expect(Math.abs(g[i] - fd), `${param.label}[${i}]: analytic ${g[i]} vs fd ${fd}`).toBeLessThan(3e-3 + 2e-2 * Math.abs(fd));
          checked++;
        }
      }
    }
    expect(checked).toBe(36);
    gpu.release(ids, pos, dlogits);
    withDrop.release();
    noDrop.release();
    model.release();
  });
});
