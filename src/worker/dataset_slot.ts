// The worker's dataset slot: the parsed dataset the next run trains on, with its file name and bytes (kept
// so that a saved run can store the file for resuming after a reload). CPU only.

import { parseDatasetBytes, parseDatasetStream, type ColumnMapping, type DatasetKind, type ParsedDataset } from '../data';
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
}

export class DatasetSlot {
  private current: LoadedDataset | null = null;
  /** a separate test file held out for evaluation (experiments); null: the dataset's eval_split */
  private evalFile: ParsedDataset | null = null;

  get evalDataset(): ParsedDataset | null {
    return this.evalFile;
  }

  /** A separate test file for evaluation (null drops it): the whole dataset then trains. */
  setEvalDataset(name: string | null, bytes: Uint8Array | null, mapping?: Partial<ColumnMapping>): DatasetSummary | null {
    if (!name || !bytes) {
      this.evalFile = null;
      return null;
    }
    const ds = parseDatasetBytes(bytes, name, { mapping });
    if (ds.rows.length === 0) throw new Error(`${name}: no usable rows${ds.issues[0] ? ` (line ${ds.issues[0].line}: ${ds.issues[0].message})` : ''}`);
    this.evalFile = ds;
    return { ...summaryOf(name, ds), preview: [] };
  }

  get dataset(): LoadedDataset | null {
    return this.current;
  }

  /** The loaded dataset; throws `message` when there is none. */
  require(message = 'load a dataset first'): LoadedDataset {
    if (!this.current) throw new Error(message);
    return this.current;
  }

  load(name: string, bytes: Uint8Array, mapping?: Partial<ColumnMapping>): DatasetSummary {
    return this.keep(name, bytes, parseDatasetBytes(bytes, name, { mapping }));
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
