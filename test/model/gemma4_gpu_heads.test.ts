// The Gemma 4 GPU model (src/model/gemma4_gpu.ts) at E2B's real head sizes (256 sliding, 512 full: the attention
// kernels' head-size limits and workgroup memory), everything else tiny: forward, LoRA backward and cached
// decoding against the CPU reference.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { transformerBackward, transformerForward } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4LoraFor as loraFor, gemma4TinyConfig, gemma4Weights } from './gemma4_fixtures';
import { expectClose, greedyReference, randomTokens } from './tiny';

describe('gemma4 GPU at E2B head sizes (256 sliding, 512 full)', () => {
  test('forward, LoRA backward and cached decoding equal the reference', async () => {
    // head sizes of E2B (global_head_dim 512), everything else tiny: the attention kernels' limits at HS 512
    const c = gemma4TinyConfig({ head_dim: 256, global_head_dim: 512, num_hidden_layers: 4, num_kv_shared_layers: 2,
      layer_types: ['sliding_attention', 'full_attention', 'sliding_attention', 'full_attention'], intermediate_size: 8, hidden_size: 8 });
    const w = gemma4Weights(c, 71, 0.3);
    const lora = loraFor(c, 72);
    const Bh = 1;
    const Th = 5;
    const tokens = randomTokens(Bh * Th, c.vocabSize, 73);
    const rng = new Rng(74);
    const G = Float32Array.from({ length: Bh * Th * c.vocabSize }, () => rng.normal());
    const { acts } = transformerForward(c, w, tokens, Bh, Th, lora);
    const want = transformerBackward(acts, G, { weightGrads: false }).lora;
    const gpu = await testGpu();
    const model = Gemma4Gpu.upload(gpu, c, w);
    const ids = gpu.upload(Uint32Array.from(tokens), [Bh * Th], 'ids', 'u32');
    const pos = gpu.upload(Uint32Array.from({ length: Th }, (_, n) => n), [Th], 'positions', 'u32');
    const gl: Gemma4GpuLora = new Map();
    const grads: Gemma4GpuLoraGrads = new Map();
    for (const [path, l] of lora) {
      const A = gpu.upload(l.A, [l.r, l.A.length / l.r], `${path}.A`);
      const Bm = gpu.upload(l.B, [l.B.length / l.r, l.r], `${path}.B`);
      gl.set(path, { A, B: Bm, r: l.r, scale: l.scale });
      grads.set(path, { dA: gpu.zeros(A.shape, `${path}.dA`), dB: gpu.zeros(Bm.shape, `${path}.dB`) });
    }
    const { logits, act } = model.forward(ids, pos, Bh, Th, gl, true);
    expectClose('logits', await gpu.read(logits), acts.logits);
    const dl = gpu.upload(G, [Th, c.vocabSize], 'dlogits');
    model.backward(act!, dl, grads);
    for (const [path, g] of grads) {
      expectClose(`${path} dA`, await gpu.read(g.dA), want.get(path)!.A, 5e-4, 5e-3);
      expectClose(`${path} dB`, await gpu.read(g.dB), want.get(path)!.B, 5e-4, 5e-3);
    }
    model.releaseActivations(act!);
    const got = await model.greedy(tokens.slice(0, 3), 1, 2, gl);
    expect(got.tokens[0]).toEqual(greedyReference(c, w, lora, tokens.slice(0, 3), 2));
    gpu.release(logits, dl, ids, pos, ...[...gl.values()].flatMap((p) => [p.A, p.B]), ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
    model.destroy();
    expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);
  }, 120_000);
});
