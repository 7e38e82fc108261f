// Dequantisation of ggml's tensor types on the host, value for value as ggml-quants.c's dequantize_row_* computes
// them in C floats (every product and sum rounded to f32 with Math.fround, in ggml's order). Used by
// the GGUF loader (production) and by the CPU reference of the quantised kernels (src/reference/dequant.ts). Block
// layouts: ggml_types.ts (ggml-common.h).

import { dequantizeAbsmax, dequantizeNf4, NF4_CODE, nf4DqParts } from './nf4_quantize';
import { blockWords, ggmlByteSize, ggmlType, type GgmlType, type GgmlTypeName } from './ggml_types';

const f = Math.fround;

let f16Table: Float32Array | null = null;

/** IEEE half bits -> f32 (exact; subnormals included), as GGML_FP16_TO_FP32. */
export function halfToFloat(h: number): number {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) {
      const sign = i & 0x8000 ? -1 : 1;
      const exp = (i >> 10) & 0x1f;
      const frac = i & 0x3ff;
      f16Table[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 0x1f ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
    }
  }
  return f16Table[h & 0xffff];
}

const u32 = new Uint32Array(1);
const f32v = new Float32Array(u32.buffer);
function bf16ToFloat(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32v[0];
}

/** scale and min j (0..7) of a K-quant block's 12 packed bytes (ggml's get_scale_min_k4). */
export function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** Dequantises `count` values of type `t` starting at byte `offset` of `bytes` into `out[outOffset..]`. */
export function dequantize(t: GgmlType, bytes: Uint8Array, offset: number, count: number, out: Float32Array, outOffset = 0): void {
  if (count % t.blockSize !== 0) throw new Error(`dequantize ${t.name}: ${count} values is not a multiple of the block size ${t.blockSize}`);
  const need = ggmlByteSize(t, count);
  if (offset + need > bytes.length) throw new Error(`dequantize ${t.name}: ${count} values need ${need} bytes at ${offset}, only ${bytes.length - offset} left`);
  const u16 = (p: number) => bytes[p] | (bytes[p + 1] << 8);
  const i8 = (p: number) => (bytes[p] << 24) >> 24;
  const nb = count / t.blockSize;
  let y = outOffset;
  switch (t.name) {
    case 'NF4_DQ': // its blocks' absmax lives in a side region after all of them: dequantWords
      throw new Error('dequantize: NF4_DQ blocks do not dequantise one by one (dequantWords reads the whole tensor)');
    case 'F32': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
      for (let i = 0; i < count; i++) out[y + i] = dv.getFloat32(4 * i, true);
      return;
    }
    case 'F16':
      for (let i = 0; i < count; i++) out[y + i] = halfToFloat(u16(offset + 2 * i));
      return;
    case 'BF16':
      for (let i = 0; i < count; i++) out[y + i] = bf16ToFloat(u16(offset + 2 * i));
      return;
    case 'Q8_0':
      for (let b = 0; b < nb; b++, y += 32) {
        const p = offset + b * 34;
        const d = halfToFloat(u16(p));
        for (let j = 0; j < 32; j++) out[y + j] = f(i8(p + 2 + j) * d);
      }
      return;
    case 'Q4_0':
    case 'Q4_1': {
      const hasMin = t.name === 'Q4_1';
      for (let b = 0; b < nb; b++, y += 32) {
        const p = offset + b * t.typeSize;
        const d = halfToFloat(u16(p));
        const m = hasMin ? halfToFloat(u16(p + 2)) : 0;
        const qs = p + (hasMin ? 4 : 2);
        for (let j = 0; j < 16; j++) {
          const lo = bytes[qs + j] & 0xf;
          const hi = bytes[qs + j] >> 4;
          out[y + j] = hasMin ? f(f(lo * d) + m) : f((lo - 8) * d);
          out[y + j + 16] = hasMin ? f(f(hi * d) + m) : f((hi - 8) * d);
        }
      }
      return;
    }
    case 'Q5_0':
    case 'Q5_1': {
      const hasMin = t.name === 'Q5_1';
      for (let b = 0; b < nb; b++, y += 32) {
        const p = offset + b * t.typeSize;
        const d = halfToFloat(u16(p));
        const m = hasMin ? halfToFloat(u16(p + 2)) : 0;
        const hp = p + (hasMin ? 4 : 2);
        const qh = (bytes[hp] | (bytes[hp + 1] << 8) | (bytes[hp + 2] << 16) | (bytes[hp + 3] << 24)) >>> 0;
        const qs = hp + 4;
        for (let j = 0; j < 16; j++) {
          const xh0 = ((qh >>> j) << 4) & 0x10;
          const xh1 = (qh >>> (j + 12)) & 0x10;
          const x0 = (bytes[qs + j] & 0xf) | xh0;
          const x1 = (bytes[qs + j] >> 4) | xh1;
          out[y + j] = hasMin ? f(f(x0 * d) + m) : f((x0 - 16) * d);
          out[y + j + 16] = hasMin ? f(f(x1 * d) + m) : f((x1 - 16) * d);
        }
      }
      return;
    }
    case 'Q4_K':
    case 'Q5_K': {
      const five = t.name === 'Q5_K';
      for (let b = 0; b < nb; b++) {
        const p = offset + b * t.typeSize;
        const d = halfToFloat(u16(p));
        const dmin = halfToFloat(u16(p + 2));
        const sc = p + 4;
        const qh = p + 16; // Q5_K only
        let ql = p + (five ? 48 : 16);
        let u1 = 1;
        let u2 = 2;
        for (let j = 0, is = 0; j < 256; j += 64, is += 2) {
          const [s1, m1i] = scaleMinK4(is, bytes, sc);
          const [s2, m2i] = scaleMinK4(is + 1, bytes, sc);
          const d1 = f(d * s1), m1 = f(dmin * m1i);
          const d2 = f(d * s2), m2 = f(dmin * m2i);
          for (let l = 0; l < 32; l++) {
            const q = (bytes[ql + l] & 0xf) + (five && bytes[qh + l] & u1 ? 16 : 0);
            out[y++] = f(f(d1 * q) - m1);
          }
          for (let l = 0; l < 32; l++) {
            const q = (bytes[ql + l] >> 4) + (five && bytes[qh + l] & u2 ? 16 : 0);
            out[y++] = f(f(d2 * q) - m2);
          }
          ql += 32;
          u1 <<= 2;
          u2 <<= 2;
        }
      }
      return;
    }
    case 'NF4': // our word-aligned NF4 block (ggml_types.ts LOAD_ONLY_TYPES): f32 absmax, then bitsandbytes' packed codes
      for (let b = 0; b < nb; b++, y += 64) {
        const p = offset + b * 36;
        const a = new DataView(bytes.buffer, bytes.byteOffset + p, 4).getFloat32(0, true);
        for (let j = 0; j < 32; j++) {
          out[y + 2 * j] = f(NF4_CODE[bytes[p + 4 + j] >> 4] * a);
          out[y + 2 * j + 1] = f(NF4_CODE[bytes[p + 4 + j] & 15] * a);
        }
      }
      return;
    case 'Q6_K':
      for (let b = 0; b < nb; b++) {
        const p = offset + b * 210;
        const d = halfToFloat(u16(p + 208));
        let ql = p;
        let qh = p + 128;
        let sc = p + 192;
        for (let n = 0; n < 256; n += 128) {
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const q1 = ((bytes[ql + l] & 0xf) | (((bytes[qh + l] >> 0) & 3) << 4)) - 32;
            const q2 = ((bytes[ql + l + 32] & 0xf) | (((bytes[qh + l] >> 2) & 3) << 4)) - 32;
            const q3 = ((bytes[ql + l] >> 4) | (((bytes[qh + l] >> 4) & 3) << 4)) - 32;
            const q4 = ((bytes[ql + l + 32] >> 4) | (((bytes[qh + l] >> 6) & 3) << 4)) - 32;
            out[y + l] = f(f(d * i8(sc + is)) * q1);
            out[y + l + 32] = f(f(d * i8(sc + is + 2)) * q2);
            out[y + l + 64] = f(f(d * i8(sc + is + 4)) * q3);
            out[y + l + 96] = f(f(d * i8(sc + is + 6)) * q4);
          }
          y += 128;
          ql += 64;
          qh += 32;
          sc += 8;
        }
      }
      return;
  }
}

/** The (R, K) f32 matrix of a quantised weight stored word-aligned (repackBlocks: each block padded to words). */
export function dequantWords(words: Uint32Array, type: GgmlTypeName, R: number, K: number): Float32Array {
  const t = ggmlType(type);
  const wpb = blockWords(t);
  const bytes = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const nb = (R * K) / t.blockSize;
  if (type === 'NF4_DQ') {
    // the code bytes of every block, then the double-quantised absmax values (nf4_quantize.ts nf4Words)
    const { packed, dq } = nf4DqParts(words, nb);
    return dequantizeNf4(packed, dequantizeAbsmax(dq));
  }
  const out = new Float32Array(R * K);
  if (words.length !== nb * wpb) throw new Error(`dequantWords ${type}: ${words.length} words do not hold ${R} x ${K} values (${nb * wpb} words)`);
  for (let b = 0; b < nb; b++) dequantize(t, bytes, b * wpb * 4, t.blockSize, out, b * t.blockSize);
  return out;
}
