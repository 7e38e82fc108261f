// Frozen base weights kept in a ggml block format (from GGUF files) on the GPU, dequantised inside the matmuls
// and the embedding gather (matmul_quant_*.wgsl). A host tensor carries its blocks (HostTensor.quant) beside
// its dequantised values; under base_precision "auto" the blocks are uploaded, word-aligned (Q8_0's 34-byte
// blocks take 36 bytes, Q4_0 20, Q5_0 24, Q6_K 212; Q4_K, Q5_K, Q4_1, Q5_1 need no padding). Any other
// base_precision uses the dequantised values the usual way (f32 or 16 bits). LoRA stays f32.
// base_precision "q8_0" / "q4_k" / "nf4" (quantisation at load, for models whose files hold f32/16-bit weights): the
// embedding, the attention and MLP projections and lm_head are quantised on the host at upload
// (ops/ggml_quantize.ts, as ggml's quantize_row_*_ref), as a GGUF file of that type keeps them; a matrix whose
// rows are not whole blocks (32 values for Q8_0, 256 for Q4_K, 64 for NF4) stays bf16 (loadQuantPlan names them); norms and
// biases stay f32. The host keeps its f32 values (LoRA export and merging read those).
// base_precision "nf4" / "nf4_dq": the same matrices in bitsandbytes' NF4 (ops/nf4_quantize.ts; "nf4_dq" with its
// double quantisation of the absmax values). "nf4" keeps NF4 blocks of 64 values in 36 bytes (an f32 absmax, 32
// bytes of codes); "nf4_dq" keeps block type NF4_DQ, bitsandbytes' bytes: 32 bytes of codes per block, then a side
// region after all the blocks (an 8-bit absmax code per block, an f32 absmax2 per 256 blocks across rows, the
// offset; ggml_types.ts quantSideWords). An NF4_DQ weight tensor's shape is (rows, blocks * 8) (the codes, as the
// kernels index rows) while its buffer also holds the side region (quantWeightTensor).

import { formatBytes } from '../gpu/buffer_pool';
import { dequantWords } from '../ops/ggml_dequant';
import { quantizeMatrix, type LoadQuantType } from '../ops/ggml_quantize';
import { nf4BnbBytes, nf4Words } from '../ops/nf4_quantize';
import { blockWords, ggmlType, isQuantKernelType, quantGpuWords, type GgmlTypeName } from '../ops/ggml_types';
import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import type { ModelConfig } from './config';
import type { BasePrecision, BaseStorageOptions } from './weight_storage';
import { expectedShapes, type HostTensor, type WeightMap } from './weights';

/** weight name -> its block type, for the weights a model keeps quantised */
export type QuantTypes = Map<string, GgmlTypeName>;

/** The block type a base_precision quantises to at load, or null. */
export function loadQuantType(p: BasePrecision | undefined): LoadQuantType | 'NF4' | 'NF4_DQ' | null {
  return p === 'q8_0' ? 'Q8_0' : p === 'q4_k' ? 'Q4_K' : p === 'nf4' ? 'NF4' : p === 'nf4_dq' ? 'NF4_DQ' : null;
}

/** A (rows, cols) matrix quantised at load for a base_precision (cols whole blocks of its type). */
export function quantizeAtLoad(data: Float32Array, rows: number, cols: number, p: BasePrecision): Uint32Array {
  const type = loadQuantType(p);
  if (!type) throw new Error(`base_precision "${p}" does not quantise at load`);
  return type === 'NF4' || type === 'NF4_DQ' ? nf4Words(data, rows, cols, type === 'NF4_DQ') : quantizeMatrix(data, rows, cols, type);
}

/** The weights quantisation at load covers: the embedding, attention and MLP projections, lm_head. */
const LOAD_QUANT_NAME = /(^model\.embed_tokens|^lm_head|\.self_attn\.[qkvo]_proj|\.mlp\.(gate|up|down)_proj)\.weight$/;

export interface LoadQuantPlan {
  /** weight -> block type, for the matrices quantised at upload */
  quant: Map<string, GgmlTypeName>;
  /** matrices the rule covers whose rows are not whole blocks: kept bf16 */
  kept16: string[];
}

/** What base_precision "q8_0" / "q4_k" / "nf4" quantises for a model (null for any other setting). Gemma 4 is refused. */
export function loadQuantPlan(c: ModelConfig, p: BasePrecision | undefined): LoadQuantPlan | null {
  const type = loadQuantType(p);
  if (!type) return null;
  if (c.gemma4) throw new Error(`base_precision "${p}" (quantisation at load) does not cover Gemma 4 models yet; use "auto", "bf16" or "f32"`);
  const block = ggmlType(type).blockSize;
  const quant = new Map<string, GgmlTypeName>();
  const kept16: string[] = [];
  for (const [name, shape] of expectedShapes(c)) {
    if (shape.length !== 2 || !LOAD_QUANT_NAME.test(name)) continue;
    if (shape[1] % block === 0) quant.set(name, type);
    else kept16.push(name);
  }
  return { quant, kept16 };
}

/** One line for the load summary: what base_precision "q8_0" / "q4_k" / "nf4" quantised and what stayed bf16. */
export function loadQuantSummary(c: ModelConfig, p: BasePrecision | undefined): string | null {
  const plan = loadQuantPlan(c, p);
  if (!plan) return null;
  const type = loadQuantType(p)!;
  const block = ggmlType(type).blockSize;
  let s = `base_precision "${p}": ${plan.quant.size} matrices quantised to ${type}${p === 'nf4_dq' ? ' (NF4, double-quantised absmax)' : ''} at load`;
  if (plan.kept16.length) {
    s += `; ${plan.kept16.length} kept in bf16 (rows not a multiple of ${block} values): ${plan.kept16.slice(0, 4).join(', ')}${plan.kept16.length > 4 ? ', ...' : ''}`;
  }
  if (p === 'nf4_dq') {
    const shapes = expectedShapes(c);
    let n = 0;
    for (const name of plan.quant.keys()) n += shapes.get(name)!.reduce((a, b) => a * b, 1);
    s += `; ${formatBytes(nf4BnbBytes(n, true))} in bitsandbytes' double-quantised layout (${formatBytes(nf4BnbBytes(n, false))} without)`;
  }
  return s;
}

const loadQuantCache = new WeakMap<HostTensor, Map<BasePrecision, NonNullable<HostTensor['quant']>>>();

/** The blocks to upload for a host tensor, or null when it goes up as f32 / 16 bits: a GGUF tensor's own blocks
 * under "auto"; under "q8_0" / "q4_k" / "nf4" the tensor quantised here (once per tensor and type) when `name` is
 * one loadQuantPlan covers and its rows are whole blocks. */
export function keepsQuantised(t: HostTensor | undefined, storage: BaseStorageOptions, name?: string): HostTensor['quant'] | null {
  if (!t) return null;
  const type = loadQuantType(storage.basePrecision);
  if (type) {
    if (!name || t.shape.length !== 2 || !LOAD_QUANT_NAME.test(name) || t.shape[1] % ggmlType(type).blockSize) return null;
    let byType = loadQuantCache.get(t);
    if (!byType) loadQuantCache.set(t, (byType = new Map()));
    const p = storage.basePrecision!;
    let q = byType.get(p);
    if (!q) byType.set(p, (q = { type, words: quantizeAtLoad(t.data, t.shape[0], t.shape[1], p) }));
    return q;
  }
  if (!t.quant || (storage.basePrecision ?? 'auto') !== 'auto') return null;
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

/** The block types the GPU will keep for a storage setting (a GGUF file's under "auto", loadQuantPlan's under
 * "q8_0" / "q4_k" / "nf4", else none). */
export function plannedQuant(storage: BaseStorageOptions | undefined, c?: ModelConfig): ReadonlyMap<string, GgmlTypeName> | undefined {
  if (c && loadQuantType(storage?.basePrecision)) return loadQuantPlan(c, storage?.basePrecision)?.quant;
  return storage?.quant && (storage.basePrecision ?? 'auto') === 'auto' ? storage.quant : undefined;
}

/** u32 words per row of a (rows, cols) weight in block type `type` (NF4_DQ: the row's codes; its side region follows all rows). */
export function quantRowWords(type: GgmlTypeName, cols: number): number {
  const t = ggmlType(type);
  return (cols / t.blockSize) * blockWords(t);
}

/** A frozen (rows, cols) weight in block type `type` (holding `words` when given), in an exactly sized buffer of every
 * word the type keeps (quantGpuWords). Its shape is (rows, quantRowWords), the rows of blocks the kernels index;
 * its size is every word (for NF4_DQ more than the shape's product: the side region after the rows, which the
 * kernels' binding (size words) must cover). */
export function quantWeightTensor(gpu: GpuRuntime, type: GgmlTypeName, rows: number, cols: number, label: string, words?: Uint32Array): Tensor {
  const t = gpu.weightTensor([quantGpuWords(ggmlType(type), rows, cols)], label, 'u32');
  if (words) gpu.write(t, words);
  return { ...t, shape: [rows, quantRowWords(type, cols)] };
}
