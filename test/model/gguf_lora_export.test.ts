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
import { ALL_TARGETS, memFile, randomizeLora, tinyConfig } from './tiny';

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
