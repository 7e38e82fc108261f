// GGUF container reader (llama.cpp's format, ggml docs/gguf.md): little-endian; magic "GGUF", version (2 or
// 3), u64 tensor count, u64 key/value count, the key/values, the tensor infos (name, dims innermost first,
// ggml type, offset from the data section), then the data section at the next multiple of
// general.alignment (default 32). Nothing here allocates by a count the file claims before the count is
// checked against what the remaining bytes could hold; every error names the file and the key or tensor.

import { ggmlByteSize, ggmlTypeById, ggmlTypeName, SUPPORTED_GGML_TYPES, type GgmlType } from '../../ops/ggml_types';

/** A metadata value: numbers (u64/i64 as number when safe), booleans, strings, or arrays of them. */
export type GgufValue = number | bigint | boolean | string | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the innermost (row length); Hugging Face's shape is dims reversed */
  dims: number[];
  type: GgmlType;
  /** absolute byte offset of the tensor's data in the file */
  offset: number;
  byteSize: number;
  /** number of values */
  count: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  dataOffset: number;
}

/** Bounds on what a file may claim (far above any real model: Llama-3-405B has 1,138 tensors, ~50 keys). */
export const GGUF_LIMITS = { tensors: 1 << 16, keys: 1 << 16, stringBytes: 1 << 26, dims: 4 };

const TYPE_NAMES = ['u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'f32', 'bool', 'string', 'array', 'u64', 'i64', 'f64'];
/** bytes of one element of a value type (strings: at least their 8-byte length) */
const MIN_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

class Cursor {
  pos = 0;
  private readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }); // a token may start with U+FEFF (Gemma's do)

  constructor(
    readonly bytes: Uint8Array,
    private readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.left) {
      throw new Error(`${this.source}: truncated GGUF file: ${what} needs ${n} bytes at offset ${this.pos}, but the file ends after ${this.left}`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** a u64 that must fit a JavaScript number exactly */
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${this.source}: ${what} is ${v}, beyond any plausible value`);
    return Number(v);
  }

  string(what: string): string {
    const n = this.u64(`the length of ${what}`);
    if (n > GGUF_LIMITS.stringBytes) throw new Error(`${this.source}: ${what} claims ${n} bytes (at most ${GGUF_LIMITS.stringBytes} accepted)`);
    this.need(n, what);
    const s = this.decoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }

  value(type: number, what: string): GgufValue {
    const v = this.view;
    switch (type) {
      case 0: return this.u8(what);
      case 1: this.need(1, what); return v.getInt8(this.pos++);
      case 2: this.need(2, what); this.pos += 2; return v.getUint16(this.pos - 2, true);
      case 3: this.need(2, what); this.pos += 2; return v.getInt16(this.pos - 2, true);
      case 4: return this.u32(what);
      case 5: this.need(4, what); this.pos += 4; return v.getInt32(this.pos - 4, true);
      case 6: this.need(4, what); this.pos += 4; return v.getFloat32(this.pos - 4, true);
      case 7: {
        const b = this.u8(what);
        if (b > 1) throw new Error(`${this.source}: ${what} is a bool holding ${b} (0 or 1 expected)`);
        return b === 1;
      }
      case 8: return this.string(what);
      case 9: {
        const elemType = this.u32(`the element type of ${what}`);
        if (elemType >= TYPE_NAMES.length) throw new Error(`${this.source}: ${what} is an array of unknown value type ${elemType}`);
        if (elemType === 9) throw new Error(`${this.source}: ${what} is an array of arrays (not supported)`);
        const n = this.u64(`the length of ${what}`);
        // bounded before allocation: each element takes at least MIN_SIZE bytes of what is left
        if (n * MIN_SIZE[elemType] > this.left) {
          throw new Error(`${this.source}: truncated GGUF file: ${what} claims ${n} ${TYPE_NAMES[elemType]} elements, more than the ${this.left} bytes left can hold`);
        }
        const out: GgufValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(elemType, what);
        return out;
      }
      case 10: this.need(8, what); this.pos += 8; return safe(v.getBigUint64(this.pos - 8, true));
      case 11: this.need(8, what); this.pos += 8; return safe(v.getBigInt64(this.pos - 8, true));
      case 12: this.need(8, what); this.pos += 8; return v.getFloat64(this.pos - 8, true);
      default:
        throw new Error(`${this.source}: ${what} has unknown value type ${type}`);
    }
  }
}

function safe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

const MAGIC = 0x46554747; // "GGUF" read as a little-endian u32

/** One metadata value from the first bytes of a GGUF file (a Hub download's first range, before the rest moves):
 * the key/values are read in order until `key`; undefined when the bytes end first or the key is not there.
 * Throws as readGgufHeader does for what is not GGUF at all (magic, version, a value type nobody knows). */
export function peekGgufMetadata(prefix: Uint8Array, source: string, key: string): GgufValue | undefined {
  const c = new Cursor(prefix, source);
  if (prefix.length < 4 || c.u32('the magic') !== MAGIC) throw new Error(`${source}: not a GGUF file (it does not start with the magic "GGUF")`);
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) throw new Error(`${source}: GGUF version ${version} is not supported (versions 2 and 3 are)`);
  try {
    c.u64('the tensor count');
    const nKeys = Math.min(c.u64('the metadata key/value count'), GGUF_LIMITS.keys);
    for (let i = 0; i < nKeys; i++) {
      const k = c.string(`metadata key #${i}`);
      const type = c.u32(`the value type of ${k}`);
      if (type >= TYPE_NAMES.length) throw new Error(`${source}: metadata ${k} has unknown value type ${type}`);
      const v = c.value(type, `metadata ${k}`);
      if (k === key) return v;
    }
  } catch (e) {
    if (/truncated GGUF file/.test((e as Error).message)) return undefined; // the prefix ended first
    throw e;
  }
  return undefined;
}

/** Parses the header, metadata and tensor infos, and checks every tensor's type, shape and byte range. */
export function readGgufHeader(buf: ArrayBuffer | Uint8Array, source: string): GgufFile {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const c = new Cursor(bytes, source);
  if (bytes.length < 4 || c.u32('the magic') !== MAGIC) {
    throw new Error(`${source}: not a GGUF file (it does not start with the magic "GGUF")`);
  }
  const version = c.u32('the version');
  if (version !== 2 && version !== 3) {
    const swapped = version === 0x03000000 || version === 0x02000000 ? ' (a big-endian file: only little-endian GGUF is supported)' : '';
    throw new Error(`${source}: GGUF version ${version} is not supported (versions 2 and 3 are)${swapped}`);
  }
  const nTensors = c.u64('the tensor count');
  const nKeys = c.u64('the metadata key/value count');
  if (nTensors > GGUF_LIMITS.tensors) throw new Error(`${source}: the file claims ${nTensors} tensors (at most ${GGUF_LIMITS.tensors} accepted)`);
  if (nKeys > GGUF_LIMITS.keys) throw new Error(`${source}: the file claims ${nKeys} metadata keys (at most ${GGUF_LIMITS.keys} accepted)`);
  // each key/value takes at least 8 + 4 + 1 bytes, each tensor info at least 8 + 4 + 8 + 4 + 8
  if (nKeys * 13 + nTensors * 32 > c.left) {
    throw new Error(`${source}: truncated GGUF file: ${nKeys} key/values and ${nTensors} tensor infos cannot fit in the ${c.left} bytes left`);
  }

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < nKeys; i++) {
    const key = c.string(`metadata key #${i}`);
    const type = c.u32(`the value type of ${key}`);
    if (type >= TYPE_NAMES.length) throw new Error(`${source}: metadata ${key} has unknown value type ${type}`);
    if (metadata.has(key)) throw new Error(`${source}: metadata key ${key} appears twice`);
    metadata.set(key, c.value(type, `metadata ${key}`));
  }
  let alignment = 32;
  const a = metadata.get('general.alignment');
  if (a !== undefined) {
    if (typeof a !== 'number' || !Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0 || a > 1 << 16) {
      throw new Error(`${source}: metadata general.alignment must be a power of two, got ${String(a)}`);
    }
    alignment = a;
  }

  const raw: { name: string; dims: number[]; typeId: number; rel: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = c.string(`the name of tensor #${i}`);
    if (names.has(name)) throw new Error(`${source}: tensor ${name} appears twice`);
    names.add(name);
    const nDims = c.u32(`the dimension count of tensor ${name}`);
    if (nDims < 1 || nDims > GGUF_LIMITS.dims) throw new Error(`${source}: tensor ${name} has ${nDims} dimensions (1 to ${GGUF_LIMITS.dims} accepted)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(`dimension ${d} of tensor ${name}`));
    const typeId = c.u32(`the type of tensor ${name}`);
    const rel = c.u64(`the data offset of tensor ${name}`);
    raw.push({ name, dims, typeId, rel });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const dataBytes = bytes.length - dataOffset;
  const supported = SUPPORTED_GGML_TYPES.map((t) => t.name).join(', ');
  const tensors: GgufTensorInfo[] = raw.map(({ name, dims, typeId, rel }) => {
    const type = ggmlTypeById(typeId);
    if (!type) throw new Error(`${source}: tensor ${name} has type ${ggmlTypeName(typeId)}, which is not supported (supported: ${supported})`);
    let count = 1;
    for (const d of dims) {
      if (d < 1) throw new Error(`${source}: tensor ${name} has a zero dimension [${dims.join(', ')}]`);
      count *= d;
    }
    if (count > 2 ** 40) throw new Error(`${source}: tensor ${name} claims ${count} values`);
    if (dims[0] % type.blockSize !== 0) {
      throw new Error(`${source}: tensor ${name} (${type.name}) has rows of ${dims[0]} values, not a multiple of its block size ${type.blockSize}`);
    }
    if (rel % alignment !== 0) throw new Error(`${source}: tensor ${name} starts at data offset ${rel}, not a multiple of the alignment ${alignment}`);
    const byteSize = ggmlByteSize(type, count);
    if (rel + byteSize > dataBytes) {
      throw new Error(
        `${source}: truncated GGUF file: tensor ${name} (${type.name} [${dims.join(', ')}], ${byteSize} bytes at data offset ${rel}) ` +
          `runs past the end of the file (${Math.max(0, dataBytes)} data bytes)`,
      );
    }
    return { name, dims, type, offset: dataOffset + rel, byteSize, count };
  });
  const sorted = [...tensors].sort((x, y) => x.offset - y.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteSize) {
      throw new Error(`${source}: tensor ${sorted[i].name} overlaps tensor ${prev.name} (a tensor's byte size does not match its type and shape)`);
    }
    // writers pad each tensor's data to the alignment: a larger gap means the sizes disagree with the types
    const end = Math.ceil((prev.offset + prev.byteSize) / alignment) * alignment;
    if (sorted[i].offset !== end) {
      throw new Error(
        `${source}: tensor ${prev.name} (${prev.type.name} [${prev.dims.join(', ')}]) holds ${prev.byteSize} bytes by its type and shape, ` +
          `but the next tensor (${sorted[i].name}) starts ${sorted[i].offset - prev.offset} bytes after it: the byte size does not match`,
      );
    }
  }
  return { version, metadata, tensors, alignment, dataOffset };
}
