// A GGUF v3 writer for what this project exports (LoRA adapters for llama.cpp / Ollama): little-endian, string,
// numeric and string-array metadata, F32 tensors, data aligned to 32 bytes with every tensor padded to it.

export type GgufWriteValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string };

export interface GgufWriteTensor {
  name: string;
  /** Hugging Face order (outermost first); written innermost first as GGUF does */
  shape: number[];
  data: Float32Array;
}

const ALIGN = 32;
const VALUE_TYPE = { u32: 4, f32: 6, bool: 7, string: 8 } as const;

export function writeGgufFile(metadata: [string, GgufWriteValue][], tensors: GgufWriteTensor[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
  };
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    push(b);
  };
  const u64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    push(b);
  };
  const str = (s: string) => {
    const b = enc.encode(s);
    u64(b.length);
    push(b);
  };
  const pad = () => {
    const n = (ALIGN - (size % ALIGN)) % ALIGN;
    if (n) push(new Uint8Array(n));
  };
  push(enc.encode('GGUF'));
  u32(3);
  u64(tensors.length);
  u64(metadata.length + 1);
  for (const [key, v] of [...metadata, ['general.alignment', { type: 'u32', value: ALIGN }] as [string, GgufWriteValue]]) {
    str(key);
    u32(VALUE_TYPE[v.type]);
    if (v.type === 'string') str(v.value);
    else if (v.type === 'bool') push(new Uint8Array([v.value ? 1 : 0]));
    else if (v.type === 'u32') u32(v.value);
    else {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, v.value, true);
      push(b);
    }
  }
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`GGUF writer: tensor ${t.name} [${t.shape.join(', ')}] holds ${t.data.length} values`);
    str(t.name);
    u32(t.shape.length);
    for (const d of [...t.shape].reverse()) u64(d);
    u32(0); // F32
    u64(offset);
    offset += Math.ceil((n * 4) / ALIGN) * ALIGN;
  }
  pad();
  for (const t of tensors) {
    push(new Uint8Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength)));
    pad();
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
