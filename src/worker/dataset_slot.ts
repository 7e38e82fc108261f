// The worker's dataset slot: the parsed dataset the next run trains on, with its file name and bytes (kept
// so that a saved run can store the file for resuming after a reload). CPU only.

import { parseDatasetBytes, parseDatasetStream, type ColumnMapping, type DatasetKind, type DatasetRow, type ParsedDataset } from '../data';
import type { DifficultyRecord } from '../grpo/difficulty';
import type { DatasetLoadProgress, DatasetSummary } from './protocol';

const PREVIEW_ROWS = 20;
const MAX_ISSUES_SHOWN = 200;
/** Least time between two progress reports while a dataset loads. */
const PROGRESS_MS = 100;

/** A loaded dataset: replaced as a whole, never half-set. */
export interface LoadedDataset {
  name: string;
  bytes: Uint8Array;
  parsed: ParsedDataset;
  /** its difficulty scan in use (scan.ts), joined to the training rows when a run starts; a new dataset has none */
  scan?: LoadedScan | null;
}

/** A difficulty scan: where it came from (for messages) and its records by row key. */
export interface LoadedScan {
  source: string;
  records: Map<string, DifficultyRecord>;
}

interface EvalFile {
  name: string;
  bytes: Uint8Array;
  mapping: Partial<ColumnMapping> | undefined;
  kind: DatasetKind;
  parsed: ParsedDataset;
}

function parseEvalFile(name: string, bytes: Uint8Array, mapping: Partial<ColumnMapping> | undefined, kind: DatasetKind): ParsedDataset {
  let ds: ParsedDataset;
  try {
    ds = parseDatasetBytes(bytes, name, { mapping, ...(kind !== 'prompt_answer' ? { kind } : {}) });
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.startsWith(name) ? message : `${name}: ${message}`);
  }
  const what = kind === 'preference' ? ' preference pairs (prompt, chosen, rejected)' : kind === 'unpaired' ? ' labelled completions (prompt, completion, label)' : '';
  if (ds.rows.length === 0) throw new Error(`${name}: no usable${what} rows${ds.issues[0] ? ` (line ${ds.issues[0].line}: ${ds.issues[0].message})` : ''}`);
  return ds;
}

export class DatasetSlot {
  private current: LoadedDataset | null = null;
  /** a separate test file held out for evaluation (experiments), with its bytes so that it can be read
   * again as another kind; null: the dataset's eval_split */
  private evalFile: EvalFile | null = null;

  get evalDataset(): ParsedDataset | null {
    return this.evalFile?.parsed ?? null;
  }

  /** A separate test file for evaluation (null drops it): the whole dataset then trains. It is read as
   * `kind` (the training data's: prompt/answer, preference pairs or KTO's labelled completions). */
  setEvalDataset(name: string | null, bytes: Uint8Array | null, mapping?: Partial<ColumnMapping>, kind: DatasetKind = 'prompt_answer'): DatasetSummary | null {
    if (!name || !bytes) {
      this.evalFile = null;
      return null;
    }
    const parsed = parseEvalFile(name, bytes, mapping, kind);
    this.evalFile = { name, bytes, mapping, kind, parsed };
    return { ...summaryOf(name, parsed), preview: [] };
  }

  /** The test file's rows read as `kind` (read again when it was read as another kind; throws, naming the
   * file and the first bad line, when it has no usable rows of that kind); null without a test file. */
  evalRowsAs(kind: DatasetKind): DatasetRow[] | null {
    const f = this.evalFile;
    if (!f) return null;
    if (f.kind === kind) return f.parsed.rows;
    const parsed = parseEvalFile(f.name, f.bytes, f.mapping, kind);
    this.evalFile = { ...f, kind, parsed };
    return parsed.rows;
  }

  get dataset(): LoadedDataset | null {
    return this.current;
  }

  /** The loaded dataset; throws `message` when there is none. */
  require(message = 'load a dataset first'): LoadedDataset {
    if (!this.current) throw new Error(message);
    return this.current;
  }

  /** Sets (or, with null, drops) the loaded dataset's difficulty scan. */
  setScan(scan: LoadedScan | null): void {
    this.current = { ...this.require(), scan };
  }

  load(name: string, bytes: Uint8Array, mapping?: Partial<ColumnMapping>, kind?: DatasetKind): DatasetSummary {
    return this.keep(name, bytes, parseDatasetBytes(bytes, name, { mapping, ...(kind ? { kind } : {}) }));
  }

  /**
   * The same as load for a file read in chunks: each chunk is checked, decoded and parsed as it arrives
   * (yielding to the event loop now and then, so that other requests are answered), with `onProgress`
   * told the bytes done at most every PROGRESS_MS.
   */
  async loadStreamed(name: string, file: Blob, mapping: Partial<ColumnMapping> | undefined, onProgress?: (p: DatasetLoadProgress) => void, kind?: DatasetKind): Promise<DatasetSummary> {
    const total = file.size;
    const bytes = new Uint8Array(total);
    let filled = 0;
    async function* chunks(): AsyncIterable<Uint8Array> {
      const reader = file.stream().getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          if (filled + value.length > total) throw new Error(`${name} grew while it was being read`);
          bytes.set(value, filled);
          filled += value.length;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    }
    let last = -Infinity;
    onProgress?.({ bytes: 0, total });
    const ds = await parseDatasetStream(chunks(), name, (done) => {
      const now = performance.now();
      if (now - last < PROGRESS_MS && done < total) return;
      last = now;
      onProgress?.({ bytes: done, total });
    }, { mapping, ...(kind ? { kind } : {}) });
    return this.keep(name, filled === total ? bytes : bytes.subarray(0, filled), ds);
  }

  private keep(name: string, bytes: Uint8Array, ds: ParsedDataset): DatasetSummary {
    this.current = { name, bytes, parsed: ds };
    return summaryOf(name, ds);
  }
}

function summaryOf(name: string, ds: ParsedDataset): DatasetSummary {
    return {
      name,
      format: ds.format,
      columns: ds.columns,
      mapping: ds.mapping,
      counts: ds.counts,
      issues: ds.issues.slice(0, MAX_ISSUES_SHOWN),
      issuesOmitted: ds.issuesOmitted + Math.max(0, ds.issues.length - MAX_ISSUES_SHOWN),
      preview: ds.rows.slice(0, PREVIEW_ROWS).map((r) => ({
        line: r.line, prompt: r.prompt, answer: r.answer, raw: r.raw, ...(r.rejected !== undefined ? { rejected: r.rejected } : {}), ...(r.label !== undefined ? { label: r.label } : {}),
      })),
      ...(ds.mapping.rejected !== undefined ? { kind: 'preference' as const } : ds.mapping.label !== undefined ? { kind: 'unpaired' as const } : {}),
    };
}
