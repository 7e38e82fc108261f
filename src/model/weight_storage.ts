// How the frozen base weights are stored on the GPU: f32, or 16 bits (bf16 / f16) packed two per u32 and
// unpacked to f32 inside the matmuls (matmul_packed16_*.wgsl). LoRA weights, gradients and AdamW state are
// always f32; norm weights and biases stay f32 (they are small and read by other kernels).
//   base_precision 'auto': f32 below AUTO_F32_BELOW parameters (stories260K and the built-in model are
//   unchanged), else the file's 16-bit format when it has one (bf16 or f16), else bf16.
//   base_precision 'q8_0' / 'q4_k' / 'nf4' / 'nf4_dq': the matrices quantised on the host at load (quant_storage.ts), the rest bf16.

import { ggmlType, quantGpuBytes, type GgmlTypeName } from '../ops/ggml_types';
import type { ModelConfig } from './config';
import { expectedShapes } from './weights';
import { maxAbs, packWeights16, type Format16 } from './pack16';

export type BasePrecision = 'auto' | 'f32' | 'bf16' | 'f16' | 'q8_0' | 'q4_k' | 'nf4' | 'nf4_dq';

export interface BaseStorageOptions {
  basePrecision?: BasePrecision;
  /** the checkpoint's dtype as the loader reports it: 'f32', 'bf16', 'f16', or a '+'-joined mix */
  fileDtype?: string;
  /** weights a GGUF file holds in a ggml block format (quant_storage.ts quantTypesOf): kept so on the GPU under
   * 'auto'; what the memory plan counts for them (upload reads each host tensor's own blocks) */
  quant?: ReadonlyMap<string, GgmlTypeName>;
  /** Gemma 4: keep the main embedding table (tied to the LM head) in host memory, as the memory plan chose
   * (MemoryPlan.embedOnHost; uploadPolicyModel passes it to Gemma4Gpu.upload) */
  embedOnHost?: boolean;
}

/** Models with fewer parameters keep f32 under 'auto' (base weights and KV caches, kv_storage.ts). */
export const AUTO_F32_BELOW = 50_000_000;

/** Whether 'auto' keeps f32 for this model (stories260K and the built-in model, so their numbers do not move). */
export function autoKeepsF32(c: ModelConfig): boolean {
  return parameterCount(c) < AUTO_F32_BELOW;
}

export function parameterCount(c: ModelConfig): number {
  let n = 0;
  for (const shape of expectedShapes(c).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** The storage format of the frozen matrices for a config and a base_precision setting. */
export function resolveBasePrecision(c: ModelConfig, opts: BaseStorageOptions = {}): 'f32' | Format16 {
  const p = opts.basePrecision ?? 'auto';
  if (p === 'q8_0' || p === 'q4_k' || p === 'nf4' || p === 'nf4_dq') return 'bf16'; // the matrices it does not quantise (quant_storage.ts)
  if (p !== 'auto') return p;
  if (autoKeepsF32(c)) return 'f32';
  const parts = (opts.fileDtype ?? 'f32').split('+');
  if (parts.includes('f16') && !parts.includes('bf16')) return 'f16';
  return 'bf16';
}

/** Matrices read by matmuls or the embedding gather, with an even row length (pairs pack into one u32). */
export function isPackable(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && shape[1] % 2 === 0 && name.endsWith('.weight') && !name.endsWith('norm.weight');
}

const F16_MAX = 65504;

/** data rounded to `format` and packed; throws naming the tensor when an f16 store would overflow. */
export function packWeight(name: string, data: Float32Array, format: Format16): Uint32Array {
  if (format === 'f16') {
    const m = maxAbs(data);
    if (m > F16_MAX) {
      throw new Error(
        `base_precision "f16": tensor ${name} holds values up to ${m.toPrecision(4)}, beyond IEEE half's largest ` +
          `(${F16_MAX}); storing it in f16 would overflow to Inf. Use base_precision "bf16" (same range as f32) or "f32"`,
      );
    }
  }
  return packWeights16(data, format);
}

/** Bytes the base weights take on the GPU in a format (what the memory plan counts); `quant`: the weights kept
 * in block formats (word-aligned blocks). */
export function baseWeightBytes(c: ModelConfig, format: 'f32' | Format16, quant?: ReadonlyMap<string, GgmlTypeName>): number {
  let bytes = 0;
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const q = quant?.get(name);
    if (q) {
      bytes += quantGpuBytes(ggmlType(q), shape[0], shape[1]);
      continue;
    }
    bytes += n * (format !== 'f32' && isPackable(name, shape) ? 2 : 4);
  }
  return bytes;
}
