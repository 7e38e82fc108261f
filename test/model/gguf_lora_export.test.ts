// The GGUF LoRA adapter export (llama.cpp's layout) read back with the project's own GGUF reader: metadata,
// tensor names, shapes as llama-adapter.cpp checks them against the base GGUF's tensors, and values; for llama
// the delta B A in the base file's (permuted) row order equals the permuted Hugging Face delta.
import { describe, expect, test } from 'vitest';
import { loadGguf } from '../../src/model/gguf/load';
import { exportGgufLoraAdapter } from '../../src/model/gguf/lora_export';
import { readGgufHeader, type GgufFile } from '../../src/model/gguf/reader';
import { LoraSet } from '../../src/model/lora';
import { dequantize } from '../../src/ops/ggml_dequant';
import { Rng } from '../../src/util/random';
import { testGpu } from '../gpu';
import { ggufModel, permute, type Arch } from './gguf_models';
import { ALL_TARGETS, expectClose, memFile, randomizeLora, tinyConfig } from './tiny';
import { GpuTransformer } from '../../src/model/transformer';
import { completionLogprobs } from '../../src/model/logprobs';
import { createLoraFromAdapter, exportPeftAdapter, parsePeftAdapter } from '../../src/model/peft_adapter';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';

function tensorValues(bytes: Uint8Array, f: GgufFile, name: string): { dims: number[]; data: Float32Array } {
  const t = f.tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  const data = new Float32Array(t.count);
  dequantize(t.type, bytes, t.offset, t.count, data);
  return { dims: t.dims, data };
}

function matmulBA(B: Float32Array, A: Float32Array, out: number, r: number, inF: number): Float32Array {
  const d = new Float32Array(out * inF);
  for (let o = 0; o < out; o++) for (let k = 0; k < r; k++) for (let i = 0; i < inF; i++) d[o * inF + i] += B[o * r + k] * A[k * inF + i];
  return d;
}

const CASES: [Arch, ReturnType<typeof tinyConfig>][] = [
  ['llama', tinyConfig({ hiddenSize: 32, numHeads: 4, numKvHeads: 2, headDim: 8, intermediateSize: 64, vocabSize: 288 })],
  ['qwen3', tinyConfig({ hiddenSize: 32, numHeads: 2, numKvHeads: 1, headDim: 16, intermediateSize: 64, vocabSize: 288, qkNorm: true })],
];

describe('GGUF LoRA adapter export', () => {
  for (const [arch, c0] of CASES) {
    test(`${arch}: names, shapes against the base GGUF, alpha, values`, async () => {
      const gpu = await testGpu();
      const base = ggufModel(arch, c0, 4, () => 'F32');
      const c = (await loadGguf(memFile('base.gguf', base.bytes))).config;
      const lora = new LoraSet(gpu, c, { r: 3, alpha: 7, targetModules: ALL_TARGETS, useRslora: true });
      const ref = randomizeLora(gpu, lora, new Rng(9));
      const bytes = await exportGgufLoraAdapter(gpu, lora, 'tiny-adapter');
      const f = readGgufHeader(bytes, 'adapter.gguf');
      expect(f.metadata.get('general.type')).toBe('adapter');
      expect(f.metadata.get('adapter.type')).toBe('lora');
      expect(f.metadata.get('general.architecture')).toBe(arch);
      // llama.cpp scales by alpha / r: alpha is written so that alpha / r is rsLoRA's 7 / sqrt(3)
      expect(f.metadata.get('adapter.lora.alpha') as number / 3).toBeCloseTo(7 / Math.sqrt(3), 5);
      expect(f.tensors).toHaveLength(2 * 7 * c.numLayers);
      const baseDims = new Map(base.tensors.map((t) => [t.name, t.dims]));
      const gguf: Record<string, string> = {
        q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output', gate_proj: 'ffn_gate', up_proj: 'ffn_up', down_proj: 'ffn_down',
      };
      for (const p of lora.pairs.values()) {
        const name = `blk.${p.layer}.${gguf[p.module]}.weight`;
        const a = tensorValues(bytes, f, `${name}.lora_a`);
        const b = tensorValues(bytes, f, `${name}.lora_b`);
        const bd = baseDims.get(name)!;
        // llama-adapter.cpp: model ne[0] == a ne[0], model ne[1] == b ne[1], a ne[1] == b ne[0] (the rank)
        expect([a.dims[0], b.dims[1], a.dims[1], b.dims[0]], name).toEqual([bd[0], bd[1], 3, 3]);
        const want = ref.get(p.path)!;
        expect(Array.from(a.data)).toEqual(Array.from(want.A));
        const permuted = arch === 'llama' && (p.module === 'q_proj' || p.module === 'k_proj');
        const heads = p.module === 'q_proj' ? c.numHeads : c.numKvHeads;
        // the delta in the base file's row order
        const delta = matmulBA(b.data, a.data, p.outFeatures, 3, p.inFeatures);
        const hfDelta = matmulBA(want.B, want.A, p.outFeatures, 3, p.inFeatures);
        const wantDelta = permuted ? permute(hfDelta, p.outFeatures, p.inFeatures, heads, false) : hfDelta;
        for (let i = 0; i < delta.length; i++) expect(delta[i]).toBeCloseTo(wantDelta[i], 5);
        if (!permuted) expect(Array.from(b.data)).toEqual(Array.from(want.B));
      }
      lora.release();
    });
  }
});

describe('a LoRA over a quantised GGUF base, exported both ways, reproduces the project\'s log-probs', () => {
  test('llama, Q8_0 base: PEFT re-import on the GPU, GGUF adapter through the CPU reference', async () => {
    const gpu = await testGpu();
    const c0 = tinyConfig({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, intermediateSize: 64, vocabSize: 288 });
    const base = ggufModel('llama', c0, 6, (_, s) => (s.length === 1 ? 'F32' : 'Q8_0'));
    const loaded = await loadGguf(memFile('base.gguf', base.bytes));
    const c = loaded.config;
    const model = GpuTransformer.upload(gpu, c, loaded.weights, { fileDtype: loaded.dtype });
    expect(model.quant.size).toBeGreaterThan(0);
    const lora = new LoraSet(gpu, c, { r: 2, alpha: 5, targetModules: ALL_TARGETS, useRslora: false });
    randomizeLora(gpu, lora, new Rng(12));
    const row = { prompt: [3, 70, 9, 41], completion: [100, 5, 260, 17, 2] };
    const want = (await completionLogprobs(model, [row], lora, 1)).logprobs[0];

    // PEFT: export, parse, upload again
    const peft = await exportPeftAdapter(gpu, lora, 'tiny');
    const again = createLoraFromAdapter(gpu, c, parsePeftAdapter(peft, c));
    expectClose('PEFT round trip log-probs', (await completionLogprobs(model, [row], again, 1)).logprobs[0], want, 1e-5, 1e-5);

    // GGUF adapter: the base file's rows (llama.cpp's order) with the adapter's delta, un-permuted by the tests'
    // own permutation, through the CPU reference on the dequantised weights
    const bytes = await exportGgufLoraAdapter(gpu, lora, 'tiny');
    const f = readGgufHeader(bytes, 'adapter.gguf');
    const r = 2;
    const scale = (f.metadata.get('adapter.lora.alpha') as number) / r;
    const refLora: LoraMap = new Map();
    const gguf: Record<string, string> = {
      q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output', gate_proj: 'ffn_gate', up_proj: 'ffn_up', down_proj: 'ffn_down',
    };
    for (const p of lora.pairs.values()) {
      const name = `blk.${p.layer}.${gguf[p.module]}.weight`;
      const A = tensorValues(bytes, f, `${name}.lora_a`).data;
      let B = tensorValues(bytes, f, `${name}.lora_b`).data;
      if (p.module === 'q_proj' || p.module === 'k_proj') B = permute(B, p.outFeatures, r, p.module === 'q_proj' ? c.numHeads : c.numKvHeads, true);
      refLora.set(p.path, { A, B, r, scale });
    }
    const tokens = [...row.prompt, ...row.completion];
    const logits = transformerForward(c, base.expected, tokens, 1, tokens.length, refLora).logits;
    const V = c.vocabSize;
    const ref = row.completion.map((t, i) => {
      const pos = row.prompt.length + i - 1;
      const z = logits.subarray(pos * V, pos * V + V);
      const mx = Math.max(...z);
      return z[t] - (mx + Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0)));
    });
    expectClose('GGUF adapter log-probs (CPU reference)', want, ref, 2e-4, 2e-3);
    again.release();
    lora.release();
    model.release();
  });
});
