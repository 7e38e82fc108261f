// The safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of JSON
//   { "__metadata__": { str: str }, "<tensor>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
// then the tensor bytes; offsets are relative to the first byte after the header. F32, F16 and BF16
// tensors are decoded to Float32Array. Every failure is one Error naming the file and the tensor.

import type { HostTensor, WeightMap } from './weights';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
/** dtypes the format defines that we do not decode (a clearer message than "unknown") */
const OTHER_DTYPES = new Set(['F64', 'F8_E4M3', 'F8_E5M2', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL']);

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** byte offsets relative to the start of the data section */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** absolute byte offset of the data section (8 + header length) */
  dataOffset: number;
}

export interface SafetensorsFile {
  tensors: WeightMap;
  metadata: Record<string, string>;
  /** the dtypes found, e.g. {'BF16'} */
  dtypes: Set<SafetensorsDtype>;
}

function asBytes(buf: ArrayBuffer | Uint8Array): Uint8Array {
  return buf instanceof Uint8Array ? buf : new Uint8Array(buf);
}

/** Parses and checks the header against the file's length; reads no tensor data. */
export function parseSafetensorsHeader(buf: ArrayBuffer | Uint8Array, source: string): SafetensorsHeader {
  const bytes = asBytes(buf);
  if (bytes.length < 8) {
    throw new Error(`${source}: truncated file (${bytes.length} bytes): a safetensors file starts with an 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  if (headerLen > bytes.length - 8) {
    throw new Error(`${source}: header length ${headerLen} goes beyond the end of the file (${bytes.length} bytes): truncated or not a safetensors file`);
  }
  const dataOffset = 8 + headerLen;
  const dataLen = bytes.length - dataOffset;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataOffset)));
  } catch (e) {
    throw new Error(`${source}: invalid JSON header (${headerLen} bytes): ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: invalid header: expected a JSON object of tensors`);
  }
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new Error(`${source}: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `${source}: tensor ${name}`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${where}: header entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
      const why = typeof dtype === 'string' && OTHER_DTYPES.has(dtype) ? 'is not supported' : 'is unknown';
      throw new Error(`${where}: dtype ${JSON.stringify(dtype)} ${why} (supported: F32, F16, BF16)`);
    }
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) {
      throw new Error(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      offsets.some((o) => typeof o !== 'number' || !Number.isInteger(o) || o < 0)
    ) {
      throw new Error(`${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] out of range (data section holds ${dataLen} bytes)`);
    }
    const dt = dtype as SafetensorsDtype;
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * DTYPE_BYTES[dt];
    if (end - begin !== want) {
      throw new Error(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dt} [${shape.join(', ')}] needs ${want}`);
    }
    entries.push({ name, dtype: dt, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new Error(
        `${source}: tensor ${cur.name} data_offsets [${cur.begin}, ${cur.end}] overlap tensor ${prev.name} [${prev.begin}, ${prev.end}]`,
      );
    }
  }
  return { entries, metadata, dataOffset };
}

let f16Table: Float32Array | null = null;

/** IEEE half-precision bits -> float (subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decodeF16(src: Uint8Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32(i);
  }
  const table = f16Table;
  const n = src.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = table[src[2 * i] | (src[2 * i + 1] << 8)];
  return out;
}

function decodeBf16(src: Uint8Array): Float32Array {
  const n = src.length >> 1;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = ((src[2 * i] | (src[2 * i + 1] << 8)) << 16) >>> 0;
  return new Float32Array(bits.buffer);
}

function decodeF32(src: Uint8Array): Float32Array {
  // slice() copies into a fresh, aligned buffer (the data section need not be 4-byte aligned)
  const copy = src.slice();
  return new Float32Array(copy.buffer, 0, copy.length >> 2);
}

/** Decodes one tensor of a parsed file to float32. */
export function decodeTensor(buf: ArrayBuffer | Uint8Array, header: SafetensorsHeader, entry: SafetensorsEntry): HostTensor {
  const bytes = asBytes(buf);
  const src = bytes.subarray(header.dataOffset + entry.begin, header.dataOffset + entry.end);
  const data = entry.dtype === 'F32' ? decodeF32(src) : entry.dtype === 'F16' ? decodeF16(src) : decodeBf16(src);
  return { shape: [...entry.shape], data };
}

/** Reads every tensor (or those `keep` accepts) of a safetensors file as float32. */
export function readSafetensors(
  buf: ArrayBuffer | Uint8Array,
  source: string,
  keep: (name: string) => boolean = () => true,
): SafetensorsFile {
  const header = parseSafetensorsHeader(buf, source);
  const tensors: WeightMap = new Map();
  const dtypes = new Set<SafetensorsDtype>();
  for (const e of header.entries) {
    if (!keep(e.name)) continue;
    tensors.set(e.name, decodeTensor(buf, header, e));
    dtypes.add(e.dtype);
  }
  return { tensors, metadata: header.metadata, dtypes };
}

/** Writes F32 tensors (in the map's order) as a safetensors file; the header is padded with spaces to a
 * multiple of 8 bytes so every tensor starts aligned. */
export function writeSafetensors(
  tensors: Map<string, { shape: number[]; data: Float32Array }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error('writeSafetensors: "__metadata__" is not a valid tensor name');
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== numel) {
      throw new Error(`writeSafetensors: tensor ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}] (${numel})`);
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + numel * 4] };
    offset += numel * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, 0, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
