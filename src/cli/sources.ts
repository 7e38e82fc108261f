// Where the command line's --model and --dataset come from: a path on disk, or a Hub id
// (--model hf:ORG/NAME[@REVISION], --dataset hf:ORG/NAME[:CONFIG][/SPLIT]; see src/hub/node.ts).
import { readFile } from 'node:fs/promises';
import { isParquetBundleName, isParquetName, parseDatasetBytes, parseParquetData, type ColumnMapping, type DatasetKind, type ParsedDataset } from '../data';
import { hasParquetMagic } from '../data/parquet';
import { isHubArg, loadHubDataset, loadHubModel } from '../hub/node';
import type { LoadedModel } from '../model/load';
import { loadModelFromPath } from '../model/load_node';

const stderr = (s: string) => process.stderr.write(s + '\n');

export async function loadModelArg(arg: string, tokenizer?: string, log: (s: string) => void = stderr): Promise<LoadedModel> {
  if (isHubArg(arg)) return loadHubModel(arg, log);
  return loadModelFromPath(arg, tokenizer);
}

/** A dataset file (JSONL, JSON, CSV, parquet, a .zip of parquet files) or a Hub dataset, parsed. */
export async function readDatasetArg(arg: string, mapping: Partial<ColumnMapping>, log: (s: string) => void = stderr, kind?: DatasetKind): Promise<{ label: string; dataset: ParsedDataset }> {
  const opts = { mapping, ...(kind ? { kind } : {}) };
  if (isHubArg(arg)) return loadHubDataset(arg, opts, log);
  let bytes: Buffer;
  try {
    bytes = await readFile(arg);
  } catch {
    throw new Error(`${arg}: dataset file not found`);
  }
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parquet = isParquetName(arg) || isParquetBundleName(arg) || hasParquetMagic(data);
  return { label: arg, dataset: parquet ? await parseParquetData(data, arg, opts) : parseDatasetBytes(data, arg, opts) };
}
