// Self-tests of the shared prompt-prefix decode layout (issue 30; decode_state.ts prefixGroupSize): the decode
// attention with override PREFIX (attention_decode*.wgsl, attention_decode_split*.wgsl: three passes, single pass,
// split; f32 and 16-bit caches) reading each row's prompt positions from its group's block and the rest from its
// own block through the per-row table prefix_rows, with the rows out of order (as after DecodeState.compact moved
// them) and a sliding window, against src/reference/attention_decode.ts on that layout and, bit for bit on software
// adapters, against the same kernel on per-row full-length caches holding the same values (only the loads'
// addresses differ); and the fused RoPE + cache write with override SLOTS (rope_kv_cache_write*.wgsl, stacked and
// split, every format) writing row b at slot positions[B + b], against its reference and the unfused
// rope_forward + kv_cache_write at those slots.
import * as gpuK from '../../gpu/kernels/attention_decode';
import { ropeKvCacheWrite } from '../../gpu/kernels/rope_kv_cache_write';
import { ropeForward, ropeInvFreq, type RopeConvention } from '../../gpu/kernels/rope';
import * as ref from '../../reference/attention_decode';
import * as refRope from '../../reference/rope_kv_cache_write';
import { pack16, unpack16 } from '../../reference/packed16';
import { PREFIX_ROW_WORDS, prefixCacheSlot, type DecodeDims, type KvFormat } from '../../ops/attention';
import { compare, merge, type CaseResult, type KernelCheck, type Tolerance } from '../check';
import { Rng, randn } from '../../util/random';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';

const TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };
const EXACT: Tolerance = { atol: 0, rtol: 0 };
const sameAs = (gpu: GpuRuntime): Tolerance => (gpu.adapter.isSoftware ? EXACT : { atol: 1e-6, rtol: 1e-6 });

/** A shared-prefix layout: groups' prompt blocks of PMAX slots, then own blocks of TROW slots; row b belongs to
 * group[b], owns block own[b] and sees seen[b] of its own positions (its length plen[group] + seen). */
export interface PrefixCase {
  NH: number;
  NKV: number;
  HS: number;
  PMAX: number;
  TROW: number;
  /** each group's prompt length (<= PMAX) */
  plen: number[];
  group: number[];
  own: number[];
  seen: number[];
  window?: number;
  kvFormat?: KvFormat;
}

export const PREFIX_CASES: PrefixCase[] = [
  // 6 rows of 2 groups in order, one row seeing its prompt only
  { NH: 4, NKV: 2, HS: 16, PMAX: 9, TROW: 5, plen: [7, 4], group: [0, 0, 0, 1, 1, 1], own: [0, 1, 2, 3, 4, 5], seen: [1, 5, 3, 0, 2, 5] },
  // rows moved (compacted): 4 rows left of 8, out of group order, own blocks 7, 2, 5, 0; past one workgroup of
  // 256 positions of the scores pass and one split of 256
  { NH: 2, NKV: 1, HS: 8, PMAX: 300, TROW: 21, plen: [300, 251], group: [1, 0, 1, 0], own: [7, 2, 5, 0], seen: [21, 1, 8, 19] },
  // a sliding window longer than the prompt's start (a non-ring sliding layer), 16 bits
  { NH: 4, NKV: 4, HS: 8, PMAX: 16, TROW: 6, plen: [13, 16, 3], group: [2, 0, 1], own: [1, 0, 2], seen: [6, 2, 4], window: 9, kvFormat: 'bf16' },
  { NH: 6, NKV: 2, HS: 64, PMAX: 40, TROW: 9, plen: [33, 40], group: [1, 1, 0], own: [3, 1, 0], seen: [9, 0, 4], kvFormat: 'f16' },
];

/** The layout's values, its table and the per-row full-length caches (B, TMAX) holding the same positions. */
export function prefixLayout(c: PrefixCase, rng: Rng) {
  const B = c.group.length;
  const C = c.NKV * c.HS;
  const TMAX = c.PMAX + c.TROW;
  const blocks = Math.max(...c.own) + 1;
  const slots = c.plen.length * c.PMAX + blocks * c.TROW;
  const table = new Uint32Array(PREFIX_ROW_WORDS * B);
  for (let b = 0; b < B; b++) table.set([c.plen[c.group[b]], c.group[b] * c.PMAX, c.plen.length * c.PMAX + c.own[b] * c.TROW], PREFIX_ROW_WORDS * b);
  const lengths = Uint32Array.from({ length: B }, (_, b) => c.plen[c.group[b]] + c.seen[b]);
  const k = randn(slots * C, rng);
  const v = randn(slots * C, rng);
  const perRow = (x: Float32Array) => {
    const full = new Float32Array(B * TMAX * C);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < c.plen[c.group[b]] + c.TROW; j++) {
        const s = prefixCacheSlot(table, b, j);
        full.set(x.subarray(s * C, (s + 1) * C), (b * TMAX + j) * C);
      }
    }
    return full;
  };
  return { B, C, TMAX, slots, table, lengths, k, v, kFull: perRow(k), vFull: perRow(v) };
}

function upload(gpu: GpuRuntime, x: Float32Array, rows: number, C: number, format: KvFormat, label: string): Tensor {
  return format === 'f32' ? gpu.upload(x, [rows, C], label) : gpu.upload(pack16(x, format), [rows, C / 2], label, 'u32');
}

async function prefixCase(gpu: GpuRuntime, c: PrefixCase, variant: gpuK.DecodeVariant, rng: Rng): Promise<CaseResult> {
  const format = c.kvFormat ?? 'f32';
  const L = prefixLayout(c, rng);
  const { B, C, TMAX } = L;
  const label = `${format} ${variant} B=${B} NH=${c.NH} NKV=${c.NKV} HS=${c.HS} groups=${c.plen.join(',')} own=${c.own.join(',')}${c.window ? ` window=${c.window}` : ''}`;
  const q = randn(B * c.NH * c.HS, rng, 1.5);
  const stored = (x: Float32Array) => (format === 'f32' ? x : pack16(x, format));
  const dims: DecodeDims = { B, NH: c.NH, NKV: c.NKV, HS: c.HS, TMAX, window: c.window, kvFormat: format };
  const want = new Float32Array(q.length);
  ref.attentionDecode(want, q, stored(L.k), stored(L.v), L.lengths, { ...dims, prefixSlots: L.slots }, L.table);
  const tq = gpu.upload(q, [B, c.NH, c.HS], 'q');
  const tk = upload(gpu, L.k, L.slots, C, format, 'kCache (shared prefix)');
  const tv = upload(gpu, L.v, L.slots, C, format, 'vCache (shared prefix)');
  const tkf = upload(gpu, L.kFull, B * TMAX, C, format, 'kCache (per row)');
  const tvf = upload(gpu, L.vFull, B * TMAX, C, format, 'vCache (per row)');
  const tlen = gpu.upload(L.lengths, [B], 'lengths', 'u32');
  const trows = gpu.upload(L.table, [B, PREFIX_ROW_WORDS], 'prefix rows', 'u32');
  const out = gpu.tensor([B, c.NH, c.HS], 'out');
  gpuK.attentionDecode(gpu, out, tq, tk, tv, tlen, { ...dims, prefixSlots: L.slots }, variant, trows);
  const got = await gpu.read(out);
  gpuK.attentionDecode(gpu, out, tq, tkf, tvf, tlen, dims, variant);
  const perRow = await gpu.read(out);
  const kernel = `attention_decode${variant === 'split' ? '_split' : ''}${format === 'f32' ? '' : '_packed16'} prefix`;
  const result = merge([
    compare(kernel, label, 'out', got, want, TOL),
    compare(kernel, `${label} equals per-row full-length caches`, 'out', got, perRow, sameAs(gpu)),
  ]);
  gpu.release(tq, tk, tv, tkf, tvf, tlen, trows, out);
  return result;
}

/** [B, NH, NKV, HS, slots, convention] of the SLOTS write cases */
const SLOT_CASES: [number, number, number, number, number, RopeConvention][] = [
  [4, 6, 2, 8, 22, 'half'],
  [3, 8, 4, 8, 13, 'interleaved'],
];

/** rope_kv_cache_write with SLOTS (stacked or split q/k/v): rows write slots out of order, the last one past the
 * cache (skipped). Against the reference, and the unfused rope_forward x2 + kv_cache_write x2 (one (1, slots)
 * cache, the rows at their slots). */
async function slotsCase(gpu: GpuRuntime, B: number, NH: number, NKV: number, HS: number, SLOTS: number, conv: RopeConvention, format: KvFormat, split: boolean, rng: Rng): Promise<CaseResult> {
  const QD = NH * HS;
  const KVD = NKV * HS;
  const W = QD + 2 * KVD;
  const qkv = randn(B * W, rng);
  const part = (from: number, width: number) => {
    const o = new Float32Array(B * width);
    for (let b = 0; b < B; b++) o.set(qkv.subarray(b * W + from, b * W + from + width), b * width);
    return o;
  };
  const positions = Uint32Array.from({ length: B }, (_, b) => 3 + 2 * b);
  const slots = Uint32Array.from({ length: B }, (_, b) => (b === B - 1 ? SLOTS + 1 : SLOTS - 1 - 3 * b));
  const posSlots = Uint32Array.from([...positions, ...slots]);
  const inv = ropeInvFreq(HS, 10000);
  const cache0 = randn(SLOTS * KVD, rng);
  const init = format === 'f32' ? cache0 : pack16(cache0, format);
  const words = format === 'f32' ? KVD : KVD / 2;
  const dtype = format === 'f32' ? 'f32' : 'u32';
  const cache = (label: string) => gpu.upload(init, [SLOTS, words], label, dtype);
  const read = async (t: Tensor) => (format === 'f32' ? gpu.read(t) : gpu.readU32(t));
  const label = `${format}${split ? ' split' : ''} B=${B} NH=${NH} NKV=${NKV} HS=${HS} slots=${SLOTS} ${conv}`;
  const tPS = gpu.upload(posSlots, [2 * B], 'positions and slots', 'u32');
  const tInv = gpu.upload(inv, [HS / 2], 'inv_freq');
  const tq = gpu.upload(part(0, QD), [B, QD], 'q');
  const tk = gpu.upload(part(QD, KVD), [B, KVD], 'k');
  const tv = gpu.upload(part(QD + KVD, KVD), [B, KVD], 'v');
  const tQkv = gpu.upload(qkv, [B, W], 'qkv');
  const tQr = gpu.tensor([B, QD], 'qr');
  const tK = cache('k_cache');
  const tV = cache('v_cache');
  const dims = { B, NH, NKV, HS, TMAX: SLOTS, kvFormat: format, slots: true };
  ropeKvCacheWrite(gpu, tQr, tK, tV, split ? { q: tq, k: tk, v: tv } : tQkv, tPS, tInv, dims, conv);
  const got = { qr: await gpu.read(tQr), k: await read(tK), v: await read(tV) };
  const qr = new Float32Array(B * QD);
  const kc = init.slice();
  const vc = init.slice();
  refRope.ropeKvCacheWrite(qr, kc, vc, qkv, posSlots, inv, dims, conv);
  const step = format === 'bf16' ? 2 ** -7 : format === 'f16' ? 2 ** -10 : 1e-5;
  const kernel = `rope_kv_cache_write${split ? '_split' : ''}${format === 'f32' ? '' : '_packed16'} slots`;
  const results = [
    compare(kernel, label, 'qr', got.qr, qr, { atol: 1e-5, rtol: 1e-5 }),
    format === 'f32'
      ? compare(kernel, label, 'k_cache', got.k as Float32Array, kc as Float32Array, { atol: 1e-5, rtol: 1e-5 })
      : compare(kernel, label, 'k_cache', unpack16(got.k as Uint32Array, format), unpack16(kc as Uint32Array, format), { atol: 1e-5, rtol: step }),
    compare(kernel, label, 'v_cache', got.v, vc, EXACT),
  ];
  // unfused: RoPE of q and k, then both cache writes into the (1, slots) caches at the rows' slots
  const tPos = gpu.upload(positions, [B], 'positions', 'u32');
  const tSlots = gpu.upload(slots, [B], 'slots', 'u32');
  const tQr2 = gpu.tensor([B, QD], 'qr unfused');
  const tKr2 = gpu.tensor([B, KVD], 'kr unfused');
  const tK2 = cache('k_cache unfused');
  const tV2 = cache('v_cache unfused');
  ropeForward(gpu, tQr2, tq, tPos, tInv, NH, HS, conv);
  ropeForward(gpu, tKr2, tk, tPos, tInv, NKV, HS, conv);
  const flat = { B: 1, T: B, NKV, HS, TMAX: SLOTS, kvFormat: format };
  gpuK.kvCacheWrite(gpu, tK2, tKr2, tSlots, flat);
  gpuK.kvCacheWrite(gpu, tV2, tv, tSlots, flat);
  const unfused = `${label} equals rope_forward x2 + kv_cache_write x2 at the slots`;
  results.push(
    compare(kernel, unfused, 'qr', got.qr, await gpu.read(tQr2), sameAs(gpu)),
    format === 'f32' || gpu.adapter.isSoftware
      ? compare(kernel, unfused, 'k_cache', got.k, await read(tK2), sameAs(gpu))
      : compare(kernel, unfused, 'k_cache', unpack16(got.k as Uint32Array, format), unpack16((await read(tK2)) as Uint32Array, format), { atol: 1e-6, rtol: step }),
    compare(kernel, unfused, 'v_cache', got.v, await read(tV2), EXACT),
  );
  gpu.release(tPS, tInv, tq, tk, tv, tQkv, tQr, tK, tV, tPos, tSlots, tQr2, tKr2, tK2, tV2);
  return merge(results);
}

export const checks: KernelCheck[] = [
  {
    kernel: 'attention_decode_prefix',
    async run(gpu) {
      const rng = new Rng(61);
      const results: CaseResult[] = [];
      for (const c of PREFIX_CASES) {
        for (const variant of ['three_pass', 'single_pass', 'split'] as const) results.push(await prefixCase(gpu, c, variant, rng));
      }
      return results;
    },
  },
  {
    kernel: 'rope_kv_cache_write_slots',
    async run(gpu) {
      const rng = new Rng(62);
      const results: CaseResult[] = [];
      for (const format of ['f32', 'bf16', 'f16'] as const) {
        for (const split of [false, true]) {
          for (const [B, NH, NKV, HS, SLOTS, conv] of SLOT_CASES) results.push(await slotsCase(gpu, B, NH, NKV, HS, SLOTS, conv, format, split, rng));
        }
      }
      return results;
    },
  },
];
