// The frozen base on the GPU by tensor group (embeddings, attention q/k/v/o, MLP gate/up/down, LM head, norms,
// biases): each group's storage type(s) (a GGUF file's block types, base_precision "q8_0" / "q4_k"'s, bf16 /
// f16 / f32), its bytes on the GPU and the bytes it saves against bf16 (16-bit matrices, f32 norms and biases,
// as base_precision "bf16" keeps them). Computed from the config and the storage options with the same rules
// GpuTransformer.upload follows (plannedQuant, resolveBasePrecision, isPackable, word-aligned blocks), so the
// page's model panel shows what the memory plan counts (baseWeightBytes) and what the upload allocates.

import { ggmlType, quantGpuBytes } from '../ops/ggml_types';
import type { ModelConfig } from './config';
import { plannedQuant } from './quant_storage';
import { isPackable, resolveBasePrecision, type BaseStorageOptions } from './weight_storage';
import { expectedShapes } from './weights';

export interface WeightGroupRow {
  /** "embeddings", "attention q", ..., "MLP down", "LM head", "norms", "biases", "other" */
  group: string;
  /** storage types in this group, most bytes first: ggml's names (Q4_K, Q6_K, ...) or bf16 / f16 / f32 */
  types: string[];
  tensors: number;
  params: number;
  /** bytes on the GPU as stored */
  gpuBytes: number;
  /** bytes the same tensors take under base_precision "bf16" (matrices 2 bytes a value, norms and biases f32) */
  bf16Bytes: number;
}

const GROUPS: [string, RegExp][] = [
  ['embeddings', /^model\.embed_tokens\.weight$/],
  ['LM head', /^lm_head\.weight$/],
  ['norms', /norm\.weight$/],
  ['biases', /\.bias$/],
  ['attention q', /\.(self_attn|linear_attn)\.q_proj\.weight$/],
  ['attention k', /\.(self_attn|linear_attn)\.k_proj\.weight$/],
  ['attention v', /\.(self_attn|linear_attn)\.v_proj\.weight$/],
  ['attention o', /\.(self_attn\.o_proj|linear_attn\.out_proj)\.weight$/],
  ['MLP gate', /\.mlp\.gate_proj\.weight$/],
  ['MLP up', /\.mlp\.up_proj\.weight$/],
  ['MLP down', /\.mlp\.down_proj\.weight$/],
];
const ORDER = ['embeddings', 'attention q', 'attention k', 'attention v', 'attention o', 'MLP gate', 'MLP up', 'MLP down', 'LM head', 'norms', 'biases', 'other'];

export function weightGroupOf(name: string): string {
  for (const [group, re] of GROUPS) if (re.test(name)) return group;
  return 'other';
}

/** The base weights of `c` stored as `storage` says, by group (groups the model lacks are left out). */
export function weightGroups(c: ModelConfig, storage: BaseStorageOptions = {}): WeightGroupRow[] {
  const format = resolveBasePrecision(c, storage);
  const quant = plannedQuant(storage, c);
  const rows = new Map<string, WeightGroupRow & { byType: Map<string, number> }>();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const packable = isPackable(name, shape);
    const q = quant?.get(name);
    const type = q ?? (format !== 'f32' && packable ? format : 'f32');
    const gpuBytes = q ? quantGpuBytes(ggmlType(q), shape[0], shape[1]) : n * (type === 'f32' ? 4 : 2);
    const group = weightGroupOf(name);
    let row = rows.get(group);
    if (!row) rows.set(group, (row = { group, types: [], tensors: 0, params: 0, gpuBytes: 0, bf16Bytes: 0, byType: new Map() }));
    row.tensors++;
    row.params += n;
    row.gpuBytes += gpuBytes;
    row.bf16Bytes += n * (packable ? 2 : 4);
    row.byType.set(type, (row.byType.get(type) ?? 0) + gpuBytes);
  }
  return ORDER.flatMap((g) => {
    const r = rows.get(g);
    if (!r) return [];
    const { byType, ...row } = r;
    return [{ ...row, types: [...byType].sort((a, b) => b[1] - a[1]).map(([t]) => t) }];
  });
}
