// The part of parquet reading that a damaged or crafted file can make loop forever (hyparquet's footer and
// page decoding: about 2% of random 2-byte mutations of a small file never finish): one self-contained
// function, run inside a worker that is terminated at a time limit (parquet_guard.ts). It is serialised with
// Function.prototype.toString for Node's eval worker, so it must not refer to anything outside itself.

import type { FileMetaData } from 'hyparquet';

export type ParquetReply =
  | { ok: true; meta: FileMetaData; rows: Record<string, unknown>[] }
  | { ok: false; stage: 'footer'; message: string }
  | { ok: false; stage: 'data'; meta: FileMetaData; message: string };

export interface HyparquetApi {
  parquetMetadata(buffer: ArrayBuffer): FileMetaData;
  parquetReadObjects(opts: { file: ArrayBuffer; metadata: FileMetaData; rowFormat: 'object' }): Promise<Record<string, unknown>[]>;
}

export async function readParquetBuffer(h: HyparquetApi, buffer: ArrayBuffer): Promise<ParquetReply> {
  let meta: FileMetaData;
  try {
    meta = h.parquetMetadata(buffer);
  } catch (e) {
    return { ok: false, stage: 'footer', message: e instanceof Error ? e.message : String(e) };
  }
  try {
    const rows = await h.parquetReadObjects({ file: buffer, metadata: meta, rowFormat: 'object' });
    return { ok: true, meta, rows };
  } catch (e) {
    return { ok: false, stage: 'data', meta, message: e instanceof Error ? e.message : String(e) };
  }
}
