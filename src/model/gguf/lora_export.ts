// A LoRA adapter as llama.cpp reads one (convert_lora_to_gguf.py's output; llama-adapter.cpp's checks):
// general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per adapted base tensor (GGUF name)
// `<name>.lora_a` of shape (R, IN) and `<name>.lora_b` of shape (OUT, R) in Hugging Face order, i.e. GGUF dims
// [IN, R] and [R, OUT]: a's first dim equals the base tensor's first, b's second its second. llama.cpp's scale is
// alpha / R, so alpha is written as this adapter's scale * R (rsLoRA included). Llama's q/k base rows are
// permuted for llama.cpp's RoPE, so lora_b's rows (the output side) get the same permutation.
// Use: llama-cli -m base.gguf --lora adapter.gguf; Ollama: ADAPTER ./adapter.gguf.

import type { GpuRuntime } from '../../gpu/runtime';
import type { ModelConfig } from '../config';
import type { LoraSet } from '../lora';
import { ggufTensorName, permuteRows } from './names';
import { writeGgufFile, type GgufWriteTensor } from './writer';

/** llama.cpp's architecture name for a config (llama2.c checkpoints are llama with llama.cpp's own RoPE order). */
export function ggufArchOf(c: ModelConfig): string {
  switch (c.modelType) {
    case 'qwen2': return 'qwen2';
    case 'qwen3': return 'qwen3';
    case 'gemma3_text': return 'gemma3';
    case undefined: case 'llama': case 'mistral': return 'llama';
    default: throw new Error(`GGUF LoRA export: model_type ${c.modelType} has no llama.cpp architecture here`);
  }
}

export interface HostLoraPair {
  /** module path, e.g. model.layers.0.self_attn.q_proj */
  path: string;
  A: Float32Array; // (R, IN)
  B: Float32Array; // (OUT, R)
  inFeatures: number;
  outFeatures: number;
}

/** The adapter file. `scale` is the adapter's multiplier of B A (alpha / r, or alpha / sqrt(r) with rsLoRA). */
export function ggufLoraAdapter(c: ModelConfig, pairs: HostLoraPair[], r: number, scale: number, name: string): Uint8Array {
  const arch = ggufArchOf(c);
  const tensors: GgufWriteTensor[] = [];
  for (const p of pairs) {
    const base = ggufTensorName(`${p.path}.weight`, arch);
    if (base === null) throw new Error(`GGUF LoRA export: ${p.path} has no llama.cpp tensor name`);
    let B = p.B;
    // weights un-permuted on load (Hugging Face's half RoPE) are permuted in the base GGUF: so is B's output side
    if (arch === 'llama' && c.ropeConvention === 'half' && /\.self_attn\.(q|k)_proj$/.test(p.path)) {
      B = permuteRows(B, p.outFeatures, r, c.headDim);
    }
    tensors.push({ name: `${base}.lora_a`, shape: [r, p.inFeatures], data: p.A });
    tensors.push({ name: `${base}.lora_b`, shape: [p.outFeatures, r], data: B });
  }
  return writeGgufFile(
    [
      ['general.architecture', { type: 'string', value: arch }],
      ['general.type', { type: 'string', value: 'adapter' }],
      ['general.name', { type: 'string', value: name }],
      ['adapter.type', { type: 'string', value: 'lora' }],
      ['adapter.lora.alpha', { type: 'f32', value: scale * r }],
    ],
    tensors,
  );
}

/** The adapter file of a LoRA set on the GPU (its A and B read back). */
export async function exportGgufLoraAdapter(gpu: GpuRuntime, lora: LoraSet, name: string): Promise<Uint8Array> {
  const pairs: HostLoraPair[] = [];
  for (const p of lora.pairs.values()) {
    pairs.push({ path: p.path, A: await gpu.read(p.A), B: await gpu.read(p.B), inFeatures: p.inFeatures, outFeatures: p.outFeatures });
  }
  return ggufLoraAdapter(lora.config, pairs, lora.spec.r, lora.scale, name);
}
