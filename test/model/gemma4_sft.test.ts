// A short LoRA SFT run of a Gemma 4 tiny model on the GPU model (forward, cross-entropy on the soft-capped logits,
// LoRA backward, SGD), its PEFT adapter exported in both checkpoint layouts, and the adapter read back and applied
// by the CPU reference: the same log-probs as the trained GPU model. Bad adapters are refused with the reason.
import { describe, expect, test } from 'vitest';
import { Gemma4Gpu, type Gemma4GpuLora, type Gemma4GpuLoraGrads } from '../../src/model/gemma4_gpu';
import { exportGemma4PeftAdapter, gemma4AdapterPaths, gemma4LoraScale, parseGemma4PeftAdapter, type Gemma4LoraSpec } from '../../src/model/gemma4_peft';
import { gemma4ModuleDims } from '../../src/model/gemma4_lora';
import { gemma4Layers } from '../../src/model/gemma4_config';
import { readSafetensors } from '../../src/model/safetensors';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { gemma4TinyConfig, gemma4Weights } from './gemma4_fixtures';
import { expectClose, randomTokens } from './tiny';

const B = 2;
const T = 6;

/** log p(token t+1 | ..t) per position of each row (the last position has none), from (N, V) logits */
function logprobs(logits: ArrayLike<number>, tokens: number[], V: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < B * T; n++) {
    if (n % T === T - 1) continue;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[n * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - m);
    out.push(logits[n * V + tokens[n + 1]] - m - Math.log(s));
  }
  return out;
}

describe('gemma4 LoRA SFT on the GPU, PEFT export, reference applies it', () => {
  test('loss falls; the exported adapter gives the reference the GPU model\'s log-probs (both layouts)', async () => {
    const c = gemma4TinyConfig();
    const V = c.vocabSize;
    const w = gemma4Weights(c, 101, 0.3);
    const tokens = randomTokens(B * T, V, 102);
    const spec: Gemma4LoraSpec = { r: 4, alpha: 8, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false };
    const scale = gemma4LoraScale(spec);
    const layers = gemma4Layers(c);
    const rng = new Rng(103);
    // PEFT's init: A Kaiming-uniform-like, B zeros
    const host = new Map<string, { A: Float32Array; B: Float32Array }>();
    for (const path of gemma4AdapterPaths(c, spec.targetModules)) {
      const [OUT, IN] = gemma4ModuleDims(c, layers[Number(path.split('.')[2])], path.slice(path.lastIndexOf('.') + 1) as 'q_proj');
      host.set(path, { A: Float32Array.from({ length: spec.r * IN }, () => (rng.uniform() * 2 - 1) / Math.sqrt(IN)), B: new Float32Array(OUT * spec.r) });
    }
    expect(host.has('model.layers.4.self_attn.k_proj')).toBe(false); // shared: PEFT finds no k_proj there
    const gpu = await testGpu();
    const model = Gemma4Gpu.upload(gpu, c, w);
    const ids = gpu.upload(Uint32Array.from(tokens), [B * T], 'ids', 'u32');
    const pos = gpu.upload(Uint32Array.from({ length: B * T }, (_, n) => n % T), [B * T], 'positions', 'u32');
    const count = B * (T - 1);
    const losses: number[] = [];
    let lastLogits: Float32Array | null = null;
    for (let step = 0; step <= 8; step++) {
      const lora: Gemma4GpuLora = new Map();
      const grads: Gemma4GpuLoraGrads = new Map();
      for (const [path, f] of host) {
        const A = gpu.upload(f.A, [spec.r, f.A.length / spec.r], `${path}.A`);
        const Bm = gpu.upload(f.B, [f.B.length / spec.r, spec.r], `${path}.B`);
        lora.set(path, { A, B: Bm, r: spec.r, scale });
        grads.set(path, { dA: gpu.zeros(A.shape, `${path}.dA`), dB: gpu.zeros(Bm.shape, `${path}.dB`) });
      }
      const { logits, act } = model.forward(ids, pos, B, T, lora, true);
      const L = await gpu.read(logits);
      lastLogits = Float32Array.from(L);
      const lp = logprobs(L, tokens, V);
      losses.push(-lp.reduce((a, b) => a + b, 0) / count);
      // d mean(-log p) / d logits = (softmax - onehot) / count on every position that has a next token
      const dl = new Float32Array(B * T * V);
      for (let n = 0; n < B * T; n++) {
        if (n % T === T - 1) continue;
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, L[n * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(L[n * V + v] - m);
        for (let v = 0; v < V; v++) dl[n * V + v] = (Math.exp(L[n * V + v] - m) / s - (v === tokens[n + 1] ? 1 : 0)) / count;
      }
      if (step < 8) {
        const dlt = gpu.upload(dl, [B * T, V], 'dlogits');
        model.backward(act!, dlt, grads);
        for (const [path, g] of grads) {
          const f = host.get(path)!;
          const dA = await gpu.read(g.dA);
          const dB = await gpu.read(g.dB);
          for (let i = 0; i < f.A.length; i++) f.A[i] -= 0.3 * dA[i];
          for (let i = 0; i < f.B.length; i++) f.B[i] -= 0.3 * dB[i];
        }
        gpu.release(dlt);
      }
      model.releaseActivations(act!);
      gpu.release(logits, ...[...lora.values()].flatMap((p) => [p.A, p.B]), ...[...grads.values()].flatMap((g) => [g.dA, g.dB]));
    }
    gpu.release(ids, pos);
    model.destroy();
    console.log(`gemma4 SFT losses ${losses.map((l) => l.toFixed(3)).join(" ")}`);
    expect(losses[8], `losses ${losses.map((l) => l.toFixed(3)).join(" ")}`).toBeLessThan(losses[0] - 0.5);
    expect(gpu.pool.stats.bytesInUse, 'leaked tensors').toBeLessThanOrEqual(0);

    for (const layout of [c, { ...c, architecture: 'Gemma4ForConditionalGeneration' }]) {
      const files = exportGemma4PeftAdapter(layout, spec, host, 'tiny-gemma4');
      const keys = [...readSafetensors(files.weights, 'adapter').tensors.keys()];
      const prefix = layout.architecture === 'Gemma4ForConditionalGeneration' ? 'base_model.model.model.language_model.layers.' : 'base_model.model.model.layers.';
      expect(keys.every((k) => k.startsWith(prefix))).toBe(true);
      expect(keys).toContain(`${prefix}2.self_attn.k_proj.lora_A.weight`);
      expect(keys.some((k) => k.includes('layers.4.self_attn.k_proj'))).toBe(false);
      expect(JSON.parse(files.config)).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, bias: 'none' });
      const parsed = parseGemma4PeftAdapter(files, layout);
      const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));
      const want = transformerForward(c, w, tokens, B, T, ref).logits;
      expectClose('log-probs of the trained model', logprobs(lastLogits!, tokens, V), logprobs(want, tokens, V));
    }
  }, 120_000);

  test('bad adapters are refused with the reason', () => {
    const c = gemma4TinyConfig();
    const spec: Gemma4LoraSpec = { r: 2, alpha: 2, targetModules: ['k_proj'], useRslora: false };
    const factors = new Map<string, { A: Float32Array; B: Float32Array }>();
    for (const path of gemma4AdapterPaths(c, ['k_proj'])) {
      const [OUT, IN] = gemma4ModuleDims(c, gemma4Layers(c)[Number(path.split('.')[2])], 'k_proj');
      factors.set(path, { A: new Float32Array(2 * IN), B: new Float32Array(OUT * 2) });
    }
    expect(() => exportGemma4PeftAdapter(c, spec, new Map([...factors, ['model.layers.4.self_attn.k_proj', { A: new Float32Array(32), B: new Float32Array(16) }]]), 'x'))
      .toThrow(/layer 4 shares the keys and values of layer 1/);
    const files = exportGemma4PeftAdapter(c, spec, factors, 'x');
    const wrongRank = { ...files, config: files.config.replace('"r": 2', '"r": 3') };
    expect(() => parseGemma4PeftAdapter(wrongRank, c)).toThrow(/k_proj\.lora_A\.weight has shape \[2, 16\], the model needs \[3, 16\]/);
    const other = exportGemma4PeftAdapter(gemma4TinyConfig({ num_kv_shared_layers: 0 }), spec, new Map([...factors, ...[3, 4, 5].map((l) => [`model.layers.${l}.self_attn.k_proj`, { A: new Float32Array(32), B: new Float32Array(l === 5 ? 32 : 16) }] as const)]), 'x');
    expect(() => parseGemma4PeftAdapter(other, c)).toThrow(/unexpected tensor base_model\.model\.model\.layers\.3\.self_attn\.k_proj/);
  });
});
