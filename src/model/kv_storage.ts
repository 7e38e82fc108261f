// How generation's KV caches store keys and values (config kv_precision): f32, or 16 bits (bfloat16 /
// IEEE half) packed two per u32 (attention_decode_packed16.wgsl unpacks them to f32).
//   'auto': f32 for models under AUTO_F32_BELOW parameters, the rule base_precision's 'auto' follows
//   (weight_storage.ts: stories260K and the built-in model keep their numbers), else f16 when the base is
//   stored in f16, else bf16.

import type { KvFormat } from '../ops/attention';
import type { ModelConfig } from './config';
import type { Format16 } from './pack16';
import { autoKeepsF32 } from './weight_storage';

export type KvPrecision = 'auto' | KvFormat;

/** The KV caches' format for a model whose base is stored as `base`, under a kv_precision setting. */
export function resolveKvPrecision(c: ModelConfig, kv: KvPrecision | undefined, base: 'f32' | Format16): KvFormat {
  const p = kv ?? 'auto';
  if (p !== 'auto') {
    if (p !== 'f32' && p !== 'bf16' && p !== 'f16') throw new Error(`kv_precision '${String(p)}' is not one of auto, f32, bf16, f16`);
    return p;
  }
  if (autoKeepsF32(c)) return 'f32';
  return base === 'f16' ? 'f16' : 'bf16';
}
