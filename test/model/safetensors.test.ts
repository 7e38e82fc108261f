// safetensors: F32 round trip through the writer, F16/BF16 decoding, and one clear error per kind of
// malformed file.
import { describe, expect, test } from 'vitest';
import { f16ToF32, parseSafetensorsHeader, readSafetensors, writeSafetensors } from '../../src/model/safetensors';
import { Rng } from '../../src/util/random';

/** A safetensors file from a header object and raw data bytes (no validation: for malformed files). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  test('writeSafetensors round-trips tensors, shapes and metadata', () => {
    const rng = new Rng(1);
    const tensors = new Map([
      ['model.embed_tokens.weight', { shape: [5, 3], data: Float32Array.from({ length: 15 }, () => rng.normal()) }],
      ['scalar', { shape: [], data: Float32Array.of(3.5) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ['odd', { shape: [7], data: Float32Array.from({ length: 7 }, () => rng.normal()) }],
    ]);
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const headerLen = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLen % 8).toBe(0);
    const back = readSafetensors(bytes, 'rt.safetensors');
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.dtypes).toEqual(new Set(['F32']));
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [name, t] of tensors) {
      expect(back.tensors.get(name)!.shape, name).toEqual(t.shape);
      expect(back.tensors.get(name)!.data, name).toEqual(t.data);
    }
    // an ArrayBuffer works as well as a Uint8Array, and `keep` filters
    const only = readSafetensors(bytes.slice().buffer, 'rt.safetensors', (n) => n === 'odd');
    expect([...only.tensors.keys()]).toEqual(['odd']);
    expect(() => writeSafetensors(new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]))).toThrow(/tensor x has 3 values for shape \[2, 2\]/);
  });

  test('F32 data at an unaligned offset decodes', () => {
    // header of 45 bytes: the data section starts at byte 53
    const header = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const text = JSON.stringify(header).padEnd(45, ' ');
    const file = rawFile(null, new Uint8Array(Float32Array.of(1.5, -2.25).buffer), text);
    expect(readSafetensors(file, 'u.safetensors').tensors.get('a')!.data).toEqual(Float32Array.of(1.5, -2.25));
  });

  test('F16 and BF16 decode exactly, specials included', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
    const f16 = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x3555);
    const bf16 = Uint16Array.of(0x3f80, 0xc040, 0x4049, 0x0001); // 1, -3, 3.140625, smallest bf16 subnormal
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [4], data_offsets: [8, 16] },
      },
      new Uint8Array([...new Uint8Array(f16.buffer), ...new Uint8Array(bf16.buffer)]),
    );
    const got = readSafetensors(file, 'half.safetensors');
    expect(got.dtypes).toEqual(new Set(['F16', 'BF16']));
    expect([...got.tensors.get('h')!.data]).toEqual([1, -2, 2 ** -24, 0.333251953125]);
    expect(got.tensors.get('h')!.shape).toEqual([2, 2]);
    expect([...got.tensors.get('b')!.data]).toEqual([1, -3, 3.140625, 2 ** -133]);
  });

  test('every malformed file gives one clear error naming file and tensor', () => {
    const data8 = new Uint8Array(8);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', new Uint8Array(5), /t.safetensors: truncated file \(5 bytes\)/],
      ['header beyond file', (() => {
        const f = rawFile({});
        new DataView(f.buffer).setUint32(0, 1000, true);
        return f;
      })(), /t.safetensors: header length 1000 goes beyond the end of the file \(10 bytes\)/],
      ['header length above 2^32', (() => {
        const f = rawFile({});
        new DataView(f.buffer).setUint32(4, 1, true);
        return f;
      })(), /header length 4294967298 goes beyond the end of the file/],
      ['invalid JSON', rawFile(null, data8, '{"a": {'), /t.safetensors: invalid JSON header \(7 bytes\)/],
      ['not an object', rawFile([1, 2]), /t.safetensors: invalid header: expected a JSON object/],
      ['unknown dtype', rawFile({ w: { dtype: 'F17', shape: [2], data_offsets: [0, 8] } }, data8),
        /t.safetensors: tensor w: dtype "F17" is unknown \(supported: F32, F16, BF16\)/],
      ['unsupported dtype', rawFile({ w: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, data8),
        /t.safetensors: tensor w: dtype "I64" is not supported/],
      ['offsets out of range', rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
        /t.safetensors: tensor w: data_offsets \[0, 16\] out of range \(data section holds 8 bytes\)/],
      ['offsets reversed', rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data8),
        /tensor w: data_offsets \[8, 4\] out of range/],
      ['overlapping', rawFile({
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F16', shape: [2], data_offsets: [4, 8] },
      }, data8), /t.safetensors: tensor b data_offsets \[4, 8\] overlap tensor a \[0, 8\]/],
      ['wrong byte count', rawFile({ w: { dtype: 'BF16', shape: [3], data_offsets: [0, 8] } }, data8),
        /t.safetensors: tensor w: data_offsets \[0, 8\] hold 8 bytes, but BF16 \[3\] needs 6/],
      ['bad shape', rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data8),
        /tensor w: shape must be a list of non-negative integers/],
      ['bad offsets', rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8),
        /tensor w: data_offsets must be \[begin, end\]/],
      ['bad metadata', rawFile({ __metadata__: { format: 1 } }), /__metadata__.format must be a string/],
    ];
    for (const [name, file, message] of cases) {
      expect(() => parseSafetensorsHeader(file, 't.safetensors'), name).toThrow(message);
    }
  });
});
