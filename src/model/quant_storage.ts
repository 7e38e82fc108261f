// Frozen base weights kept in a ggml block format (from GGUF files) on the GPU, dequantised inside the matmuls
// and the embedding gather (matmul_quant_*.wgsl). A host tensor carries its blocks (HostTensor.quant) beside
// its dequantised values; under base_precision "auto" the blocks are uploaded, word-aligned (Q8_0's 34-byte
// blocks take 36 bytes, Q4_0 20, Q5_0 24, Q6_K 212; Q4_K, Q5_K, Q4_1, Q5_1 need no padding). Any other
// base_precision uses the dequantised values the usual way (f32 or 16 bits). LoRA stays f32.

import { dequantWords } from '../ops/ggml_dequant';
import { blockWords, ggmlType, isQuantKernelType, type GgmlTypeName } from '../ops/ggml_types';
import type { BaseStorageOptions } from './weight_storage';
import type { HostTensor, WeightMap } from './weights';

/** weight name -> its block type, for the weights a model keeps quantised */
export type QuantTypes = Map<string, GgmlTypeName>;

/** The blocks to upload for a host tensor, or null when it goes up as f32 / 16 bits. */
export function keepsQuantised(t: HostTensor | undefined, storage: BaseStorageOptions): HostTensor['quant'] | null {
  if (!t?.quant || (storage.basePrecision ?? 'auto') !== 'auto') return null;
  return isQuantKernelType(t.quant.type) ? t.quant : null;
}

export function quantUploadBytes(q: NonNullable<HostTensor['quant']>): number {
  return q.words.length * 4;
}

/** A host tensor that holds only its blocks: `data` (the f32 values) is dequantised on first read and kept,
 * so a model uploaded quantised never holds its f32 copy on the host. */
export function quantHostTensor(shape: number[], type: GgmlTypeName, words: Uint32Array): HostTensor {
  let data: Float32Array | null = null;
  const t = { shape, quant: { type, words } } as HostTensor;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    get: () => (data ??= dequantWords(words, type, shape[0], shape[1])),
  });
  return t;
}

/** The block type of every weight a model's host tensors hold quantised (for planning: BaseStorageOptions.quant). */
export function quantTypesOf(weights: WeightMap): Map<string, GgmlTypeName> {
  const out = new Map<string, GgmlTypeName>();
  for (const [name, t] of weights) if (t.quant && isQuantKernelType(t.quant.type)) out.set(name, t.quant.type);
  return out;
}

/** The block types the GPU will keep for a storage setting (none unless base_precision is "auto"). */
export function plannedQuant(storage: BaseStorageOptions | undefined): ReadonlyMap<string, GgmlTypeName> | undefined {
  return storage?.quant && (storage.basePrecision ?? 'auto') === 'auto' ? storage.quant : undefined;
}

/** u32 words per row of a (rows, cols) weight in block type `type`. */
export function quantRowWords(type: GgmlTypeName, cols: number): number {
  const t = ggmlType(type);
  return (cols / t.blockSize) * blockWords(t);
}
