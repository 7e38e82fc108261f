// What parsing a dataset file gives: the usable rows, and an account of every record that was not used.

export type DatasetFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';

export interface DatasetRow {
  prompt: string;
  answer: string;
  /** line in the file where the record starts (1-based; for CSV the line where the record's first field is) */
  line: number;
  /** the record with all its columns (custom rewards receive it as `row`) */
  raw: Record<string, unknown>;
  /** preference datasets (src/data/preference.ts): `answer` is the chosen completion, this the rejected one */
  rejected?: string;
  /** unpaired preference datasets (KTO): `answer` is the completion, this whether it is desirable */
  label?: boolean;
  /** the prompt's pass rate in a difficulty scan (src/grpo/difficulty.ts), when one was joined to the rows */
  passRate?: number;
}

/** What a dataset's rows are: prompt/answer (GRPO, SFT), prompt/chosen/rejected pairs, or prompt/completion/label. */
export type DatasetKind = 'prompt_answer' | 'preference' | 'unpaired';

export interface DatasetIssue {
  line: number;
  /** the column concerned, when there is one */
  field?: string;
  message: string;
}

export interface ColumnMapping {
  prompt: string;
  /** the answer column; in a preference dataset the chosen column, in an unpaired one the completion column */
  answer: string;
  /** preference datasets: the rejected column */
  rejected?: string;
  /** unpaired preference datasets: the label column */
  label?: string;
}

export interface DatasetCounts {
  /** records seen: kept + invalid + empty + duplicates dropped */
  total: number;
  kept: number;
  /** records rejected with an issue (bad JSON, missing or empty prompt/answer, wrong type, wrong field count) */
  invalid: number;
  /** records with the same prompt and answer as an earlier record (kept or dropped per dropDuplicates) */
  duplicate: number;
  /** blank lines and records whose fields are all empty, skipped */
  empty: number;
}

export interface ParsedDataset {
  rows: DatasetRow[];
  /** every column seen, in order of first appearance (CSV: the header) */
  columns: string[];
  mapping: ColumnMapping;
  issues: DatasetIssue[];
  /** issues beyond maxIssues, counted but not listed */
  issuesOmitted: number;
  counts: DatasetCounts;
  format: DatasetFormat;
}

export interface ParseOptions {
  /** which columns hold the prompt and the answer; a missing one is detected from the column names */
  mapping?: Partial<ColumnMapping>;
  /** drop records with the same prompt and answer as an earlier one (default false: keep, but count) */
  dropDuplicates?: boolean;
  /** list at most this many issues (default 1000); the rest are counted in issuesOmitted */
  maxIssues?: number;
  /** force a format instead of going by the file name and content */
  format?: DatasetFormat;
  /** what the rows are (default prompt_answer); preference kinds read TRL's columns (src/data/preference.ts) */
  kind?: DatasetKind;
}

/** A problem with the file as a whole (empty, not UTF-8, no usable columns): nothing can be loaded. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
