import { ropeKvCacheWrite } from '../../gpu/kernels/rope_kv_cache_write';
import { ropeForward, ropeInvFreq, type RopeConvention } from '../../gpu/kernels/rope';
import { kvCacheWrite } from '../../gpu/kernels/attention';
import * as ref from '../../reference/rope_kv_cache_write';
import { pack16, unpack16 } from '../../reference/packed16';
import { compare, merge, type KernelCheck, type CaseResult, type Tolerance } from '../check';
import type { GpuRuntime } from '../../gpu/runtime';
import { Rng, randn } from '../../util/random';

/** Fused against the kernels it replaces: bit for bit on software adapters (where it was checked); other
 * shader compilers may contract a * b + c into an fma differently per shader, so elsewhere within ~1 ulp. */
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 1e-6 });

// as rope's checks: f32 rotation against float64 cos/sin
const TOL = { atol: 1e-5, rtol: 1e-5 };
const EXACT = { atol: 0, rtol: 0 };

/** [B, NH, NKV, HS, TMAX, convention]: stories260K's heads; grouped-query with a position past TMAX;
 * SmolLM2's 9/3 heads of 64 (rotate-half); one row, one head of 2 */
const CASES: [number, number, number, number, number, RopeConvention][] = [
  [3, 8, 4, 8, 16, 'interleaved'],
  [4, 6, 2, 4, 9, 'half'],
  [2, 9, 3, 64, 5, 'half'],
  [1, 1, 1, 2, 3, 'interleaved'],
];

export const checks: KernelCheck[] = [];

checks.push({
  kernel: 'rope_kv_cache_write',
  async run(gpu) {
    const rng = new Rng(37);
    const results: CaseResult[] = [];
    for (const [B, NH, NKV, HS, TMAX, conv] of CASES) {
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
});

/** 16-bit caches: against the reference (the rotation within TOL, then rounded: within one 16-bit step), and
 * the caches bit for bit the f32 kernel's caches rounded to nearest even (qr bit for bit the f32 kernel's). */
checks.push({
  kernel: 'rope_kv_cache_write_packed16',
  async run(gpu) {
    const rng = new Rng(38);
    const results: CaseResult[] = [];
    for (const format of ['bf16', 'f16'] as const) {
      for (const [B, NH, NKV, HS, TMAX, conv] of CASES) {
        const QD = NH * HS;
        const KVD = NKV * HS;
        const qkv = randn(B * (QD + 2 * KVD), rng);
        const positions = Uint32Array.from({ length: B }, (_, b) => (b === 3 && TMAX === 9 ? TMAX + 2 : (b * 5 + 1) % TMAX));
        const inv = ropeInvFreq(HS, 10000);
        const cache0 = randn(B * TMAX * KVD, rng);
        const packed0 = pack16(cache0, format);
        const tQkv = gpu.upload(qkv, [B, QD + 2 * KVD], 'qkv');
        const tPos = gpu.upload(positions, [B], 'positions', 'u32');
        const tInv = gpu.upload(inv, [HS / 2], 'inv_freq');
        const tQr = gpu.tensor([B, QD], 'qr');
        const tK = gpu.upload(packed0, [B, TMAX, KVD / 2], 'k_cache', 'u32');
        const tV = gpu.upload(packed0, [B, TMAX, KVD / 2], 'v_cache', 'u32');
        const dims = { B, NH, NKV, HS, TMAX, kvFormat: format };
        const name = `${format} B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} ${conv}`;
        ropeKvCacheWrite(gpu, tQr, tK, tV, tQkv, tPos, tInv, dims, conv);
        const got = { qr: await gpu.read(tQr), k: await gpu.readU32(tK), v: await gpu.readU32(tV) };
        const qr = new Float32Array(B * QD);
        const kc = packed0.slice();
        const vc = packed0.slice();
        ref.ropeKvCacheWrite(qr, kc, vc, qkv, positions, inv, dims, conv);
        const step = format === 'bf16' ? 2 ** -7 : 2 ** -10; // one 16-bit step, relative
        results.push(merge([
          compare('rope_kv_cache_write_packed16', name, 'qr', got.qr, qr, TOL),
          compare('rope_kv_cache_write_packed16', name, 'k_cache', unpack16(got.k, format), unpack16(kc, format), { atol: 1e-5, rtol: step }),
          compare('rope_kv_cache_write_packed16', name, 'v_cache', got.v, vc, EXACT),
        ]));
        // the f32 kernel on the same input, its caches rounded
        const tQr32 = gpu.tensor([B, QD], 'qr f32');
        const tK32 = gpu.upload(cache0, [B, TMAX, KVD], 'k_cache f32');
        const tV32 = gpu.upload(cache0, [B, TMAX, KVD], 'v_cache f32');
        ropeKvCacheWrite(gpu, tQr32, tK32, tV32, tQkv, tPos, tInv, { B, NH, NKV, HS, TMAX }, conv);
        const same = `${name} equals the f32 kernel, rounded`;
        const k32 = pack16(await gpu.read(tK32), format);
        results.push(merge([
          compare('rope_kv_cache_write_packed16', same, 'qr', got.qr, await gpu.read(tQr32), EXACT),
          gpu.adapter.isSoftware
            ? compare('rope_kv_cache_write_packed16', same, 'k_cache', got.k, k32, EXACT)
            : compare('rope_kv_cache_write_packed16', same, 'k_cache', unpack16(got.k, format), unpack16(k32, format), { atol: 1e-6, rtol: step }),
          compare('rope_kv_cache_write_packed16', same, 'v_cache', got.v, pack16(await gpu.read(tV32), format), EXACT),
        ]));
        gpu.release(tQkv, tPos, tInv, tQr, tK, tV, tQr32, tK32, tV32);
      }
    }
    return results;
  },
});

/** The _split kernels (q, k, v in three tensors: decode steps that do not stack q/k/v, e.g. a 16-bit base):
 * against the reference, and equal to the stacked kernel on the same values (every format). */
checks.push({
  kernel: 'rope_kv_cache_write_split',
  async run(gpu) {
    const rng = new Rng(39);
    const results: CaseResult[] = [];
    for (const format of ['f32', 'bf16', 'f16'] as const) {
      for (const [B, NH, NKV, HS, TMAX, conv] of CASES) {
        const QD = NH * HS;
        const KVD = NKV * HS;
        const qkv = randn(B * (QD + 2 * KVD), rng);
        const part = (from: number, width: number) => {
          const out = new Float32Array(B * width);
          for (let b = 0; b < B; b++) out.set(qkv.subarray(b * (QD + 2 * KVD) + from, b * (QD + 2 * KVD) + from + width), b * width);
          return out;
        };
        const positions = Uint32Array.from({ length: B }, (_, b) => (b === 3 && TMAX === 9 ? TMAX + 2 : (b * 5 + 1) % TMAX));
        const inv = ropeInvFreq(HS, 10000);
        const cache0 = randn(B * TMAX * KVD, rng);
        const init = format === 'f32' ? cache0 : pack16(cache0, format);
        const words = format === 'f32' ? KVD : KVD / 2;
        const dtype = format === 'f32' ? 'f32' : 'u32';
        const tQkv = gpu.upload(qkv, [B, QD + 2 * KVD], 'qkv');
        const tq = gpu.upload(part(0, QD), [B, QD], 'q');
        const tk = gpu.upload(part(QD, KVD), [B, KVD], 'k');
        const tv = gpu.upload(part(QD + KVD, KVD), [B, KVD], 'v');
        const tPos = gpu.upload(positions, [B], 'positions', 'u32');
        const tInv = gpu.upload(inv, [HS / 2], 'inv_freq');
        const outs = [0, 1].map((i) => ({
          qr: gpu.tensor([B, QD], `qr ${i}`),
          k: gpu.upload(init, [B, TMAX, words], `k_cache ${i}`, dtype),
          v: gpu.upload(init, [B, TMAX, words], `v_cache ${i}`, dtype),
        }));
        const dims = { B, NH, NKV, HS, TMAX, kvFormat: format };
        const name = `${format} B=${B} NH=${NH} NKV=${NKV} HS=${HS} TMAX=${TMAX} ${conv}`;
        ropeKvCacheWrite(gpu, outs[0].qr, outs[0].k, outs[0].v, { q: tq, k: tk, v: tv }, tPos, tInv, dims, conv);
        ropeKvCacheWrite(gpu, outs[1].qr, outs[1].k, outs[1].v, tQkv, tPos, tInv, dims, conv);
        const read = (t: typeof outs[0]['k']) => (format === 'f32' ? gpu.read(t) : gpu.readU32(t));
        const [s, f] = [outs[0], outs[1]];
        const qr = new Float32Array(B * QD);
        const kc = init.slice();
        const vc = init.slice();
        ref.ropeKvCacheWrite(qr, kc, vc, qkv, positions, inv, dims, conv);
        const gotQr = await gpu.read(s.qr);
        const gotK = await read(s.k);
        const step = format === 'bf16' ? 2 ** -7 : format === 'f16' ? 2 ** -10 : 1e-5;
        results.push(merge([
          compare('rope_kv_cache_write_split', name, 'qr', gotQr, qr, TOL),
          format === 'f32'
            ? compare('rope_kv_cache_write_split', name, 'k_cache', gotK as Float32Array, kc as Float32Array, TOL)
            : compare('rope_kv_cache_write_split', name, 'k_cache', unpack16(gotK as Uint32Array, format), unpack16(kc as Uint32Array, format), { atol: 1e-5, rtol: step }),
          compare('rope_kv_cache_write_split', name, 'v_cache', await read(s.v), vc, EXACT),
        ]));
        const same = `${name} equals the stacked kernel`;
        results.push(merge([
          compare('rope_kv_cache_write_split', same, 'qr', gotQr, await gpu.read(f.qr), sameAs(gpu)),
          compare('rope_kv_cache_write_split', same, 'k_cache', gotK, await read(f.k), format === 'f32' ? sameAs(gpu) : EXACT),
          compare('rope_kv_cache_write_split', same, 'v_cache', await read(s.v), await read(f.v), EXACT),
        ]));
        gpu.release(tQkv, tq, tk, tv, tPos, tInv, ...outs.flatMap((o) => [o.qr, o.k, o.v]));
      }
    }
    return results;
  },
});
