import { ropeKvCacheWrite } from '../../gpu/kernels/rope_kv_cache_write';
import { ropeForward, ropeInvFreq, type RopeConvention } from '../../gpu/kernels/rope';
import { kvCacheWrite } from '../../gpu/kernels/attention';
import * as ref from '../../reference/rope_kv_cache_write';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randn } from '../../util/random';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

// as rope's checks: f32 rotation against float64 cos/sin
const TOL = { atol: 1e-5, rtol: 1e-5 };
const EXACT = { atol: 0, rtol: 0 };

export const check: KernelCheck = {
  kernel: 'rope_kv_cache_write',
  async run(gpu) {
    const rng = new Rng(37);
    const results: CaseResult[] = [];
    // [B, NH, NKV, HS, TMAX, convention]: stories260K's heads; grouped-query with a position past TMAX;
    // SmolLM2's 9/3 heads of 64 (rotate-half); one row, one head of 2
    const cases: [number, number, number, number, number, RopeConvention][] = [
      [3, 8, 4, 8, 16, 'interleaved'],
      [4, 6, 2, 4, 9, 'half'],
      [2, 9, 3, 64, 5, 'half'],
      [1, 1, 1, 2, 3, 'interleaved'],
    ];
    for (const [B, NH, NKV, HS, TMAX, conv] of cases) {
      const QD = NH * HS;
      const KVD = NKV * HS;
      const qkv = randn(B * (QD + 2 * KVD), rng);
      // distinct positions per row; the second case's last row lies past the cache (its writes are skipped)
      const positions = Uint32Array.from({ length: B }, (_, b) => (b === 3 && TMAX === 9 ? TMAX + 2 : (b * 5 + 1) % TMAX));
      const inv = ropeInvFreq(HS, 10000);
      const cache0 = randn(B * TMAX * KVD, rng);
      const tQkv = gpu.upload(qkv, [B, QD + 2 * KVD], 'qkv');
      const tPos = gpu.upload(positions, [B], 'positions', 'u32');
      const tInv = gpu.upload(inv, [HS / 2], 'inv_freq');
      const tQr = gpu.tensor([B, QD], 'qr');
      const tK = gpu.upload(cache0, [B, TMAX, KVD], 'k_cache');
      const tV = gpu.upload(cache0, [B, TMAX, KVD], 'v_cache');
      const dims = { B, NH, NKV, HS, TMAX };
      const name = `B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} ${conv}`;
      ropeKvCacheWrite(gpu, tQr, tK, tV, tQkv, tPos, tInv, dims, conv);
      const qr = new Float32Array(B * QD);
      const kc = cache0.slice();
      const vc = cache0.slice();
      ref.ropeKvCacheWrite(qr, kc, vc, qkv, positions, inv, dims, conv);
      const got = { qr: await gpu.read(tQr), k: await gpu.read(tK), v: await gpu.read(tV) };
      results.push(merge([
        compare('rope_kv_cache_write', name, 'qr', got.qr, qr, TOL),
        compare('rope_kv_cache_write', name, 'k_cache', got.k, kc, TOL),
        compare('rope_kv_cache_write', name, 'v_cache', got.v, vc, EXACT),
      ]));

      // bit-for-bit the four dispatches it replaces: rope_forward twice and kv_cache_write twice
      const split = (from: number, width: number) => {
        const out = new Float32Array(B * width);
        for (let b = 0; b < B; b++) out.set(qkv.subarray(b * (QD + 2 * KVD) + from, b * (QD + 2 * KVD) + from + width), b * width);
        return out;
      };
      const tq = gpu.upload(split(0, QD), [B, QD], 'q');
      const tk = gpu.upload(split(QD, KVD), [B, KVD], 'k');
      const tv = gpu.upload(split(QD + KVD, KVD), [B, KVD], 'v');
      const tQr2 = gpu.tensor([B, QD], 'qr unfused');
      const tKr2 = gpu.tensor([B, KVD], 'kr unfused');
      const tK2 = gpu.upload(cache0, [B, TMAX, KVD], 'k_cache unfused');
      const tV2 = gpu.upload(cache0, [B, TMAX, KVD], 'v_cache unfused');
      ropeForward(gpu, tQr2, tq, tPos, tInv, NH, HS, conv);
      ropeForward(gpu, tKr2, tk, tPos, tInv, NKV, HS, conv);
      kvCacheWrite(gpu, tK2, tKr2, tPos, { B, T: 1, NKV, HS, TMAX });
      kvCacheWrite(gpu, tV2, tv, tPos, { B, T: 1, NKV, HS, TMAX });
      const unfused = `${name} equals rope_forward x2 + kv_cache_write x2`;
      results.push(merge([
        compare('rope_kv_cache_write', unfused, 'qr', got.qr, await gpu.read(tQr2), sameAs(gpu)),
        compare('rope_kv_cache_write', unfused, 'k_cache', got.k, await gpu.read(tK2), sameAs(gpu)),
        compare('rope_kv_cache_write', unfused, 'v_cache', got.v, await gpu.read(tV2), EXACT),
      ]));
      gpu.release(tQkv, tPos, tInv, tQr, tK, tV, tq, tk, tv, tQr2, tKr2, tK2, tV2);
    }
    return results;
  },
};
