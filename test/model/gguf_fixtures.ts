// An independent GGUF writer and ggml quantisers for the tests (written from ggml's docs/gguf.md,
// ggml-common.h and ggml-quants.c's quantize_row_*_ref; nothing here calls the project's GGUF reader or its
// dequantisation). Each quantiser returns the block bytes and the values ggml's dequantize_row_* gives for
// them, computed from the quantiser's own integers and scales (not by decoding the bytes).

const f = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> IEEE half bits, round to nearest even (GGML_FP32_TO_FP16). */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

export interface Quantised {
  bytes: Uint8Array;
  /** what ggml's dequantize_row gives for these blocks */
  values: Float32Array;
}

const truncI8 = (x: number) => Math.trunc(x); // C's (int8_t) cast of an in-range float
const roundAway = (x: number) => (x < 0 ? -Math.round(-x) : Math.round(x)) | 0; // roundf: halves away from zero

function blocks(x: Float32Array, qk: number, size: number) {
  if (x.length % qk) throw new Error(`length ${x.length} is not a multiple of ${qk}`);
  return { nb: x.length / qk, bytes: new Uint8Array((x.length / qk) * size), values: new Float32Array(x.length) };
}

/** quantize_row_q8_0_ref */
export function quantQ8_0(x: Float32Array): Quantised {
  const { nb, bytes, values } = blocks(x, 32, 34);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[i * 32 + j]));
    const d = f(amax / 127);
    const id = d ? f(1 / d) : 0;
    const dh = toHalf(d);
    bytes[i * 34] = dh & 0xff;
    bytes[i * 34 + 1] = dh >> 8;
    for (let j = 0; j < 32; j++) {
      const q = roundAway(f(x[i * 32 + j] * id));
      bytes[i * 34 + 2 + j] = q & 0xff;
      values[i * 32 + j] = f(q * fromHalf(dh));
    }
  }
  return { bytes, values };
}

/** quantize_row_q4_0_ref / q5_0 (bits 4 or 5: d = max / -8 or -16, values (q - 8 or 16) * d) */
function quantSym(x: Float32Array, bits: 4 | 5): Quantised {
  const size = bits === 4 ? 18 : 22;
  const { nb, bytes, values } = blocks(x, 32, size);
  const half = 1 << (bits - 1);
  for (let i = 0; i < nb; i++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[i * 32 + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = f(max / -half);
    const id = d ? f(1 / d) : 0;
    const dh = toHalf(d);
    const o = i * size;
    bytes[o] = dh & 0xff;
    bytes[o + 1] = dh >> 8;
    const qs = o + (bits === 4 ? 2 : 6);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(2 * half - 1, truncI8(f(f(x[i * 32 + j] * id) + half + 0.5)));
      const q1 = Math.min(2 * half - 1, truncI8(f(f(x[i * 32 + 16 + j] * id) + half + 0.5)));
      bytes[qs + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
      values[i * 32 + j] = f((q0 - half) * fromHalf(dh));
      values[i * 32 + 16 + j] = f((q1 - half) * fromHalf(dh));
    }
    if (bits === 5) for (let k = 0; k < 4; k++) bytes[o + 2 + k] = (qh >>> (8 * k)) & 0xff;
  }
  return { bytes, values };
}

/** quantize_row_q4_1_ref / q5_1 (d = (max - min) / 15 or 31, values q * d + min) */
function quantAsym(x: Float32Array, bits: 4 | 5): Quantised {
  const size = bits === 4 ? 20 : 24;
  const { nb, bytes, values } = blocks(x, 32, size);
  const top = (1 << bits) - 1;
  for (let i = 0; i < nb; i++) {
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < 32; j++) {
      min = Math.min(min, x[i * 32 + j]);
      max = Math.max(max, x[i * 32 + j]);
    }
    const d = f(f(max - min) / top);
    const id = d ? f(1 / d) : 0;
    const dh = toHalf(d);
    const mh = toHalf(min);
    const o = i * size;
    bytes[o] = dh & 0xff;
    bytes[o + 1] = dh >> 8;
    bytes[o + 2] = mh & 0xff;
    bytes[o + 3] = mh >> 8;
    const qs = o + (bits === 4 ? 4 : 8);
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const c0 = Math.trunc(f(f(f(x[i * 32 + j] - min) * id) + 0.5));
      const c1 = Math.trunc(f(f(f(x[i * 32 + 16 + j] - min) * id) + 0.5));
      const q0 = bits === 4 ? Math.min(15, c0) : c0 & 0xff;
      const q1 = bits === 4 ? Math.min(15, c1) : c1 & 0xff;
      bytes[qs + j] = (q0 & 15) | ((q1 & 15) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + 16);
      const lo0 = bits === 4 ? q0 : q0 & 31;
      const lo1 = bits === 4 ? q1 : q1 & 31;
      values[i * 32 + j] = f(f(lo0 * fromHalf(dh)) + fromHalf(mh));
      values[i * 32 + 16 + j] = f(f(lo1 * fromHalf(dh)) + fromHalf(mh));
    }
    if (bits === 5) for (let k = 0; k < 4; k++) bytes[o + 4 + k] = (qh >>> (8 * k)) & 0xff;
  }
  return { bytes, values };
}

export const quantQ4_0 = (x: Float32Array) => quantSym(x, 4);
export const quantQ5_0 = (x: Float32Array) => quantSym(x, 5);
export const quantQ4_1 = (x: Float32Array) => quantAsym(x, 4);
export const quantQ5_1 = (x: Float32Array) => quantAsym(x, 5);

/** The fields of one Q4_K / Q5_K block: super scales (f16 bits), 8 six-bit scales and mins, 256 quants. */
export interface KBlockFields {
  d: number;
  dmin: number;
  sc: number[];
  mn: number[];
  q: number[];
}

/** Q4_K (bits 4, 144 bytes) or Q5_K (bits 5, 176 bytes) blocks from their fields, with ggml's values. */
export function packK45(fields: KBlockFields[], bits: 4 | 5): Quantised {
  const size = bits === 4 ? 144 : 176;
  const bytes = new Uint8Array(fields.length * size);
  const values = new Float32Array(fields.length * 256);
  fields.forEach((b, i) => {
    const o = i * size;
    bytes[o] = b.d & 0xff;
    bytes[o + 1] = b.d >> 8;
    bytes[o + 2] = b.dmin & 0xff;
    bytes[o + 3] = b.dmin >> 8;
    const s = o + 4;
    for (let j = 0; j < 4; j++) {
      bytes[s + j] = b.sc[j] | ((b.sc[j + 4] >> 4) << 6);
      bytes[s + j + 4] = b.mn[j] | ((b.mn[j + 4] >> 4) << 6);
      bytes[s + j + 8] = (b.sc[j + 4] & 15) | ((b.mn[j + 4] & 15) << 4);
    }
    const qh = o + 16;
    const qs = o + (bits === 4 ? 16 : 48);
    for (let e = 0; e < 256; e++) {
      const chunk = e >> 6;
      const hi = (e >> 5) & 1; // second 32 of a 64-chunk: the high nibble
      const l = e & 31;
      bytes[qs + chunk * 32 + l] |= (b.q[e] & 15) << (4 * hi);
      if (bits === 5 && b.q[e] & 16) bytes[qh + l] |= 1 << (2 * chunk + hi);
      const sub = e >> 5;
      const dl = f(fromHalf(b.d) * b.sc[sub]);
      const ml = f(fromHalf(b.dmin) * b.mn[sub]);
      values[i * 256 + e] = f(f(dl * b.q[e]) - ml);
    }
  });
  return { bytes, values };
}

/** One Q6_K block's fields: d (f16 bits), 16 int8 scales, 256 quants 0..63 (value q - 32). */
export interface Q6KFields {
  d: number;
  sc: number[];
  q: number[];
}

export function packQ6K(fields: Q6KFields[]): Quantised {
  const bytes = new Uint8Array(fields.length * 210);
  const values = new Float32Array(fields.length * 256);
  fields.forEach((b, i) => {
    const o = i * 210;
    for (let e = 0; e < 256; e++) {
      const n = e >> 7;
      const k = e & 127;
      const g = k >> 5;
      const l = k & 31;
      bytes[o + n * 64 + l + (g & 1) * 32] |= (b.q[e] & 15) << (g >= 2 ? 4 : 0);
      bytes[o + 128 + n * 32 + l] |= ((b.q[e] >> 4) & 3) << (2 * g);
      const sc = b.sc[n * 8 + (l >> 4) + 2 * g];
      values[i * 256 + e] = f(f(fromHalf(b.d) * sc) * (b.q[e] - 32));
    }
    for (let j = 0; j < 16; j++) bytes[o + 192 + j] = b.sc[j] & 0xff;
    bytes[o + 208] = b.d & 0xff;
    bytes[o + 209] = b.d >> 8;
  });
  return { bytes, values };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** A simple Q4_K / Q5_K encoder of floats (not ggml's search, but valid blocks). */
export function quantK45(x: Float32Array, bits: 4 | 5): Quantised {
  const top = (1 << bits) - 1;
  const fields: KBlockFields[] = [];
  for (let i = 0; i < x.length / 256; i++) {
    const scales: number[] = [];
    const mins: number[] = [];
    for (let s = 0; s < 8; s++) {
      const sub = x.subarray(i * 256 + s * 32, i * 256 + s * 32 + 32);
      const mn = Math.max(0, -Math.min(...sub));
      mins.push(mn);
      scales.push((Math.max(...sub) + mn) / top);
    }
    const d = toHalf(Math.max(...scales) / 63);
    const dmin = toHalf(Math.max(...mins) / 63);
    const sc = scales.map((s) => (fromHalf(d) ? clamp(Math.round(s / fromHalf(d)), 0, 63) : 0));
    const mn = mins.map((m) => (fromHalf(dmin) ? clamp(Math.round(m / fromHalf(dmin)), 0, 63) : 0));
    const q: number[] = [];
    for (let e = 0; e < 256; e++) {
      const s = e >> 5;
      const step = fromHalf(d) * sc[s];
      q.push(step ? clamp(Math.round((x[i * 256 + e] + fromHalf(dmin) * mn[s]) / step), 0, top) : 0);
    }
    fields.push({ d, dmin, sc, mn, q });
  }
  return packK45(fields, bits);
}

/** A simple Q6_K encoder of floats. */
export function quantQ6K(x: Float32Array): Quantised {
  const fields: Q6KFields[] = [];
  for (let i = 0; i < x.length / 256; i++) {
    const scales: number[] = [];
    for (let s = 0; s < 16; s++) {
      let amax = 0;
      for (let e = 0; e < 16; e++) amax = Math.max(amax, Math.abs(x[i * 256 + s * 16 + e]));
      scales.push(amax / 31);
    }
    const d = toHalf(Math.max(...scales) / 127);
    const sc = scales.map((s) => (fromHalf(d) ? clamp(Math.round(s / fromHalf(d)), -128, 127) : 0));
    const q: number[] = [];
    for (let e = 0; e < 256; e++) {
      // the scale of element e: ggml's layout puts element e of a 128-half in sub-block (l >> 4) + 2g
      const step = fromHalf(d) * sc[q6Sub(e)];
      q.push(step ? clamp(Math.round(x[i * 256 + e] / step), -32, 31) + 32 : 32);
    }
    fields.push({ d, sc, q });
  }
  return packQ6K(fields);
}

/** Q6_K's scale index of element e of a block, from its layout (it works out as e >> 4: 16 consecutive values share one) */
export function q6Sub(e: number): number {
  const n = e >> 7;
  const k = e & 127;
  return n * 8 + ((k & 31) >> 4) + 2 * (k >> 5);
}

export function quantF16(x: Float32Array): Quantised {
  const bytes = new Uint8Array(x.length * 2);
  const values = new Float32Array(x.length);
  x.forEach((v, i) => {
    const h = toHalf(v);
    bytes[2 * i] = h & 0xff;
    bytes[2 * i + 1] = h >> 8;
    values[i] = fromHalf(h);
  });
  return { bytes, values };
}

export function quantBF16(x: Float32Array): Quantised {
  const bytes = new Uint8Array(x.length * 2);
  const values = new Float32Array(x.length);
  x.forEach((v, i) => {
    f32[0] = v;
    const b = u32[0];
    const h = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    bytes[2 * i] = h & 0xff;
    bytes[2 * i + 1] = h >> 8;
    u32[0] = h << 16;
    values[i] = f32[0];
  });
  return { bytes, values };
}

export function quantF32(x: Float32Array): Quantised {
  const values = Float32Array.from(x);
  return { bytes: new Uint8Array(values.slice().buffer), values };
}

export const QUANTISERS = {
  F32: { id: 0, q: quantF32 },
  F16: { id: 1, q: quantF16 },
  Q4_0: { id: 2, q: quantQ4_0 },
  Q4_1: { id: 3, q: quantQ4_1 },
  Q5_0: { id: 6, q: quantQ5_0 },
  Q5_1: { id: 7, q: quantQ5_1 },
  Q8_0: { id: 8, q: quantQ8_0 },
  Q4_K: { id: 12, q: (x: Float32Array) => quantK45(x, 4) },
  Q5_K: { id: 13, q: (x: Float32Array) => quantK45(x, 5) },
  Q6_K: { id: 14, q: quantQ6K },
  BF16: { id: 30, q: quantBF16 },
} as const;

export type QuantName = keyof typeof QUANTISERS;

// ---- the container -------------------------------------------------------------------------------

export type KvValue =
  | { t: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'string'; v: string }
  | { t: 'array'; of: 'string'; v: string[] }
  | { t: 'array'; of: 'i32' | 'u32' | 'f32'; v: number[] };

const VT: Record<string, number> = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 };

export interface WriterTensor {
  name: string;
  /** ggml order: innermost first */
  dims: number[];
  type: number;
  bytes: Uint8Array;
}

class Bytes {
  private buf = new Uint8Array(1 << 16);
  len = 0;
  private grow(n: number) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  raw(b: Uint8Array) {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  num(kind: string, v: number | bigint) {
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    const sizes: Record<string, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };
    switch (kind) {
      case 'u8': dv.setUint8(0, Number(v)); break;
      case 'i8': dv.setInt8(0, Number(v)); break;
      case 'u16': dv.setUint16(0, Number(v), true); break;
      case 'i16': dv.setInt16(0, Number(v), true); break;
      case 'u32': dv.setUint32(0, Number(v), true); break;
      case 'i32': dv.setInt32(0, Number(v), true); break;
      case 'f32': dv.setFloat32(0, Number(v), true); break;
      case 'u64': dv.setBigUint64(0, BigInt(v), true); break;
      case 'i64': dv.setBigInt64(0, BigInt(v), true); break;
      case 'f64': dv.setFloat64(0, Number(v), true); break;
    }
    this.raw(b.subarray(0, sizes[kind]));
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.num('u64', b.length);
    this.raw(b);
  }
  pad(align: number) {
    while (this.len % align) this.raw(new Uint8Array([0]));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export interface GgufSpec {
  kv: [string, KvValue][];
  tensors: WriterTensor[];
  version?: number;
  alignment?: number;
}

/** The bytes of a GGUF file (little-endian, data aligned to `alignment`, each tensor padded to it). */
export function writeGguf(spec: GgufSpec): Uint8Array {
  const align = spec.alignment ?? 32;
  const out = new Bytes();
  out.raw(new TextEncoder().encode('GGUF'));
  out.num('u32', spec.version ?? 3);
  out.num('u64', spec.tensors.length);
  out.num('u64', spec.kv.length);
  for (const [key, val] of spec.kv) {
    out.str(key);
    out.num('u32', VT[val.t]);
    if (val.t === 'string') out.str(val.v);
    else if (val.t === 'bool') out.num('u8', val.v ? 1 : 0);
    else if (val.t === 'array') {
      out.num('u32', VT[val.of]);
      out.num('u64', val.v.length);
      for (const x of val.v) {
        if (val.of === 'string') out.str(x as string);
        else out.num(val.of, x as number);
      }
    } else out.num(val.t, val.v);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of spec.tensors) {
    offsets.push(offset);
    offset += Math.ceil(t.bytes.length / align) * align;
  }
  spec.tensors.forEach((t, i) => {
    out.str(t.name);
    out.num('u32', t.dims.length);
    for (const d of t.dims) out.num('u64', d);
    out.num('u32', t.type);
    out.num('u64', offsets[i]);
  });
  out.pad(align);
  for (const t of spec.tensors) {
    out.raw(t.bytes);
    out.pad(align);
  }
  return out.done();
}

/** GPT-2's byte -> printable character table (bytes_to_unicode), for byte-level BPE vocabularies. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 33; b <= 126; b++) keep.push(b);
  for (let b = 161; b <= 172; b++) keep.push(b);
  for (let b = 174; b <= 255; b++) keep.push(b);
  const table: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep.includes(b) ? b : 256 + n++);
  return table;
}
