// CPU reference of rope_kv_cache_write.wgsl (same argument order as src/gpu/kernels/rope_kv_cache_write.ts):
// the rope and KV-cache references applied to the slices of the fused q/k/v rows (caches in f32 or 16 bits,
// as rope_kv_cache_write_packed16.wgsl stores them; with dims.slots the shared-prefix layout: positions holds the
// B positions then the B cache slots, and row b goes to slot positions[B + b] of caches of (TMAX, NKV*HS)).
import type { RopeConvention } from '../ops/rope';
import { ropeForward } from './rope';
import { kvCacheWrite, type CacheData } from './attention_decode';
import type { KvFormat } from '../ops/attention';

type Floats = Float32Array | Float64Array;

export function ropeKvCacheWrite(
  qr: Floats,
  kCache: CacheData,
  vCache: CacheData,
  qkv: Floats,
  positions: Uint32Array,
  invFreq: Floats,
  dims: { B: number; NH: number; NKV: number; HS: number; TMAX: number; kvFormat?: KvFormat; slots?: boolean },
  convention: RopeConvention,
): void {
  const { B, NH, NKV, HS, TMAX } = dims;
  const QD = NH * HS;
  const KVD = NKV * HS;
  const W = QD + 2 * KVD;
  const q = new Float64Array(B * QD);
  const k = new Float64Array(B * KVD);
  const v = new Float64Array(B * KVD);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < QD; c++) q[b * QD + c] = qkv[b * W + c];
    for (let c = 0; c < KVD; c++) {
      k[b * KVD + c] = qkv[b * W + QD + c];
      v[b * KVD + c] = qkv[b * W + QD + KVD + c];
    }
  }
  const kr = new Float64Array(B * KVD);
  const pos = positions.subarray(0, B);
  ropeForward(qr, q, pos, invFreq, B, NH, HS, convention);
  ropeForward(kr, k, pos, invFreq, B, NKV, HS, convention);
  // slots: one (1, TMAX) cache written at B rows' slots
  const [at, cache] = dims.slots ? [positions.subarray(B, 2 * B), { B: 1, T: B }] : [pos, { B, T: 1 }];
  kvCacheWrite(kCache, kr, at, { ...cache, NKV, HS, TMAX, kvFormat: dims.kvFormat });
  kvCacheWrite(vCache, v, at, { ...cache, NKV, HS, TMAX, kvFormat: dims.kvFormat });
}
