// Parquet datasets (the Hub's format: every Hub dataset is converted to parquet) read with hyparquet, a
// maintained pure-JavaScript reader, into the same prompt/answer rows, column mapping and row issues as
// the text formats. A row's "line" is its 1-based row number in the split. A split of several parquet
// files travels as one uncompressed .zip of them (bundleParquetFiles), read in name order.

import { unzipSync, zipSync } from 'fflate';
import { parquetSchema, type FileMetaData } from 'hyparquet';
import { PARQUET_TIME_LIMIT_MS, readParquetGuarded } from './parquet_guard';
import { RowCollector } from './collector';
import { DatasetError, type ParseOptions, type ParsedDataset } from './types';

export function isParquetName(name: string): boolean {
  return /\.parquet$/i.test(name);
}

/** A .zip of parquet files (a split of several files, or a person's upload). */
export function isParquetBundleName(name: string): boolean {
  return /\.zip$/i.test(name);
}

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

export function hasParquetMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

function endsWithMagic(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 12 && MAGIC.every((b, i) => bytes[n - 4 + i] === b);
}

/** Several parquet files as one .zip (stored, not compressed: parquet is compressed already). */
export function bundleParquetFiles(files: { name: string; bytes: Uint8Array }[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { level: 0 }]> = {};
  files.forEach((f, i) => (entries[`${String(i).padStart(5, '0')}-${f.name.replace(/[\\/]/g, '_')}`] = [f.bytes, { level: 0 }]));
  return zipSync(entries);
}

/** Values a JSON preview and a custom reward can take: bigint -> number (or text when too big), Date -> ISO. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

interface Column {
  name: string;
  /** e.g. "STRING", "INT64", "LIST" */
  type: string;
  text: boolean;
}

function topColumns(meta: FileMetaData): Column[] {
  return parquetSchema(meta).children.map((c) => {
    const e = c.element;
    const logical = e.logical_type?.type;
    const text = e.type === 'BYTE_ARRAY' && (logical === 'STRING' || e.converted_type === 'UTF8' || e.converted_type === 'JSON' || logical === 'JSON');
    const type = c.children.length ? (e.converted_type ?? logical ?? 'GROUP') : text ? 'STRING' : (logical ?? e.converted_type ?? e.type ?? '?');
    return { name: e.name, type: String(type), text };
  });
}

/** Limits on reading somebody else's parquet or zip file. */
export interface ParquetLimits {
  /** per parquet file: the worker reading it is stopped after this long (default PARQUET_TIME_LIMIT_MS) */
  timeLimitMs?: number;
  /** a .zip's parquet entries may inflate to at most this many bytes in all (default MAX_ZIP_INFLATED) */
  maxInflatedBytes?: number;
}

/** Reads one or more parquet files (in order) as one dataset. `label` names the dataset in messages. Each
 * file is read in a worker with a time limit (parquet_guard.ts). */
export async function parseParquetFiles(files: { name: string; bytes: Uint8Array }[], opts: ParseOptions = {}, limits: ParquetLimits = {}): Promise<ParsedDataset> {
  const collector = new RowCollector(opts, 'parquet');
  let rowBase = 0;
  let columns: string[] | null = null;
  for (const f of files) {
    const { name, bytes } = f;
    if (bytes.length === 0) throw new DatasetError(`${name} is empty (0 bytes)`);
    if (!hasParquetMagic(bytes)) throw new DatasetError(`${name} is not a parquet file (it does not start with the PAR1 marker)`);
    if (!endsWithMagic(bytes)) {
      throw new DatasetError(`${name} is truncated or damaged: a parquet file ends with its footer and the PAR1 marker, and this one (${bytes.length} bytes) does not; download it again`);
    }
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const limit = limits.timeLimitMs ?? PARQUET_TIME_LIMIT_MS;
    let reply;
    try {
      reply = await readParquetGuarded(buffer, limit);
    } catch (e) {
      throw new DatasetError(`${name}: the parquet file cannot be read (${(e as Error).message})`);
    }
    if (reply === null) {
      throw new DatasetError(`${name}: reading the parquet file took longer than ${limit / 1000} s and was stopped; the file is damaged or crafted (or too large to read here)`);
    }
    if (!reply.ok && reply.stage === 'footer') {
      throw new DatasetError(`${name}: the parquet footer cannot be read (${reply.message}); the file is truncated or damaged`);
    }
    const meta: FileMetaData = reply.meta;
    let cols: Column[];
    try {
      cols = topColumns(meta);
    } catch (e) {
      throw new DatasetError(`${name}: the parquet schema cannot be read (${(e as Error).message}); the file is damaged`);
    }
    if (!cols.some((c) => c.text)) {
      throw new DatasetError(`${name} has no text (string) columns: its columns are ${cols.map((c) => `"${c.name}" (${c.type})`).join(', ') || 'none'}; a dataset needs a text prompt column`);
    }
    const names = cols.map((c) => c.name);
    if (columns === null) {
      columns = names;
      collector.setColumns(names);
    } else if (names.join('\u0000') !== columns.join('\u0000')) {
      throw new DatasetError(`${name} has columns ${names.join(', ')}, unlike the split's first file (${columns.join(', ')})`);
    }
    if (!reply.ok) {
      throw new DatasetError(`${name}: the parquet data cannot be read (${reply.message}); the file is truncated, damaged or uses an unsupported encoding`);
    }
    const rows = reply.rows;
    for (let i = 0; i < rows.length; i++) {
      const raw = plain(rows[i]) as Record<string, unknown>;
      const empty = Object.values(raw).every((v) => v === null || v === undefined || (typeof v === 'string' && v.trim() === ''));
      if (empty) collector.empty();
      else collector.record(raw, rowBase + i + 1);
    }
    rowBase += Number(meta.num_rows);
  }
  return collector.finish();
}

/** A .zip's parquet entries inflate to at most this many bytes in all (by their declared sizes). */
export const MAX_ZIP_INFLATED = 4 * 1024 ** 3;

/** A .parquet file, or a .zip of them. Only the .zip's parquet entries are inflated (the others are skipped
 * unread, whatever their size), and only while their sizes stay under the cap. */
export async function parseParquetData(bytes: Uint8Array, fileName: string, opts: ParseOptions = {}, limits: ParquetLimits = {}): Promise<ParsedDataset> {
  if (hasParquetMagic(bytes) || !isParquetBundleName(fileName)) return parseParquetFiles([{ name: fileName, bytes }], opts, limits);
  const cap = limits.maxInflatedBytes ?? MAX_ZIP_INFLATED;
  const wanted = (n: string) => isParquetName(n) && !n.startsWith('__MACOSX/');
  const skipped: string[] = [];
  let total = 0;
  let tooBig: string | null = null;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      // decided from the central directory, before anything is inflated
      filter: (f) => {
        if (!wanted(f.name)) {
          skipped.push(f.name);
          return false;
        }
        total += f.originalSize;
        if (total > cap) tooBig ??= f.name;
        return tooBig === null;
      },
    });
  } catch (e) {
    throw new DatasetError(`${fileName}: not a readable .zip (${(e as Error).message})`);
  }
  if (tooBig !== null) {
    throw new DatasetError(`${fileName}: its parquet files would inflate to more than ${cap} bytes (at ${tooBig}); this is more than the playground reads from one .zip`);
  }
  const parts = Object.keys(entries)
    .filter(wanted)
    .sort()
    .map((n) => ({ name: `${fileName}/${n.replace(/^\d{5}-/, '')}`, bytes: entries[n] }));
  if (parts.length === 0) throw new DatasetError(`${fileName}: the .zip holds no .parquet files (it has ${skipped.slice(0, 5).join(', ') || 'nothing'})`);
  return parseParquetFiles(parts, opts, limits);
}
