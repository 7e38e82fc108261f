// Prompt difficulty from a scan: k completions sampled for every prompt (the evaluation path, at the training
// temperature), each prompt's pass rate (share of completions the first reward gives full marks) and mean
// reward. A scan is saved as JSONL beside the dataset (one record per prompt, keyed by the row's prompt and
// answer text, so a reordered or extended file still matches), read back with every field checked, and used
// to keep a pass-rate band (LIMR's "less is more", DeepMath-style 0 < p < 1 bands) and to order prompts
// easy to hard (curriculum, trainer.ts).

import type { DatasetRow } from '../data';
import type { EvalReport } from './evaluate';
import type { GrpoConfig } from './config';

export interface DifficultyRecord {
  /** fnv1a-64 of the row's prompt and answer (rowKey) */
  key: string;
  /** the row's line in the scanned file (for people; matching uses the key) */
  line: number;
  /** completions sampled */
  k: number;
  /** share of them that passed (first reward >= 1) */
  pass_rate: number;
  reward_mean: number;
  /** the prompt's first 120 characters (for people) */
  prompt: string;
}

/** FNV-1a over UTF-16 code units, two independent 32-bit lanes, as 16 hex digits. Not cryptographic: it only
 * matches a scan's rows to a dataset's, and a collision only mislabels a prompt's difficulty. */
export function rowKey(prompt: string, answer: string): string {
  const s = `${prompt}\u0000${answer}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193 ^ 0x2545f491) >>> 0;
  }
  return a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0');
}

/** The scan's records from an evaluation of `rows` (in order) with k samples per prompt (sample-major, as
 * evaluatePrompts returns them). */
export function difficultyRecords(rows: readonly DatasetRow[], report: Pick<EvalReport, 'samples'>, k: number): DifficultyRecord[] {
  const n = rows.length;
  if (report.samples.length !== n * k) throw new Error(`difficulty scan: ${report.samples.length} samples for ${n} prompts x ${k}`);
  return rows.map((row, p) => {
    let pass = 0;
    let reward = 0;
    for (let j = 0; j < k; j++) {
      const s = report.samples[j * n + p];
      if (s.pass) pass++;
      reward += s.reward;
    }
    return { key: rowKey(row.prompt, row.answer), line: row.line, k, pass_rate: pass / k, reward_mean: reward / k, prompt: row.prompt.slice(0, 120) };
  });
}

export function scanToJsonl(records: readonly DifficultyRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

/** Most completions per prompt a scan samples (the page's k field, the CLI's --k). */
export const SCAN_MAX_K = 1024;

/** Bounds on a scan file read back (it may come from anywhere). */
export const SCAN_LIMITS = { bytes: 256 * 2 ** 20, records: 2_000_000, k: 65536, promptChars: 1000 } as const;

/** A scan file read back: every line a record with every field checked; the first bad one is an error naming
 * the file, the line and the field. Blank lines are skipped. A key seen twice keeps its last record. */
export function parseScanJsonl(text: string, file: string): Map<string, DifficultyRecord> {
  if (text.length > SCAN_LIMITS.bytes) throw new Error(`${file}: ${text.length} characters; a scan file holds at most ${SCAN_LIMITS.bytes}`);
  const out = new Map<string, DifficultyRecord>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const at = `${file} line ${i + 1}`;
    if (out.size >= SCAN_LIMITS.records) throw new Error(`${at}: more than ${SCAN_LIMITS.records} records`);
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${at}: not JSON`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${at}: not a JSON object`);
    const o = v as Record<string, unknown>;
    const key = o.key;
    if (typeof key !== 'string' || !/^[0-9a-f]{16}$/.test(key)) throw new Error(`${at}: field "key" must be 16 lowercase hex digits`);
    const k = o.k;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > SCAN_LIMITS.k) throw new Error(`${at}: field "k" must be a whole number 1..${SCAN_LIMITS.k}`);
    const p = o.pass_rate;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`${at}: field "pass_rate" must be a number in [0, 1]`);
    const r = o.reward_mean;
    if (typeof r !== 'number' || !Number.isFinite(r)) throw new Error(`${at}: field "reward_mean" must be a finite number`);
    const ln = o.line ?? 0;
    if (typeof ln !== 'number' || !Number.isInteger(ln) || ln < 0) throw new Error(`${at}: field "line" must be a whole number`);
    const prompt = typeof o.prompt === 'string' ? o.prompt.slice(0, SCAN_LIMITS.promptChars) : '';
    out.set(key, { key, line: ln, k, pass_rate: p, reward_mean: r, prompt });
  }
  return out;
}

/** A pass-rate band in interval notation: "(0, 1)", "[0.2, 0.8]", "(0, 1]". */
export interface PassRateBand {
  lo: number;
  hi: number;
  loOpen: boolean;
  hiOpen: boolean;
}

/** Parses a band, or says why the text is not one (the config check words the message around it). */
export function parseBand(text: string): PassRateBand | string {
  const m = /^\s*([[(])\s*([0-9]*\.?[0-9]+)\s*,\s*([0-9]*\.?[0-9]+)\s*([\])])\s*$/.exec(text);
  if (!m) return 'write it in interval notation, e.g. "(0, 1)" (0 < p < 1) or "[0.2, 0.8]" (0.2 <= p <= 0.8)';
  const lo = Number(m[2]);
  const hi = Number(m[3]);
  if (!(lo >= 0 && hi <= 1)) return 'its ends must lie in [0, 1]';
  const band = { lo, hi, loOpen: m[1] === '(', hiOpen: m[4] === ')' };
  if (lo > hi || (lo === hi && (band.loOpen || band.hiOpen))) return 'it holds no pass rate';
  return band;
}

export function inBand(p: number, b: PassRateBand): boolean {
  return (b.loOpen ? p > b.lo : p >= b.lo) && (b.hiOpen ? p < b.hi : p <= b.hi);
}

export interface DifficultySelection {
  /** the rows kept, each with its scanned pass rate */
  rows: DatasetRow[];
  /** rows outside the band */
  outside: number;
  /** rows the scan has no record of (a scan of another file, or rows added since) */
  unscanned: number;
}

/**
 * Joins a scan to the training rows (each row gains `passRate`) and, with a band, keeps the rows inside it.
 * Rows without a record are kept out when a band is given (their difficulty is unknown) and counted; with no
 * band they stay, without a pass rate. Fewer than one row left is an error that says what the band kept.
 */
export function selectByDifficulty(rows: readonly DatasetRow[], scan: Map<string, DifficultyRecord>, band: PassRateBand | null, file: string): DifficultySelection {
  const kept: DatasetRow[] = [];
  let outside = 0;
  let unscanned = 0;
  for (const row of rows) {
    const rec = scan.get(rowKey(row.prompt, row.answer));
    if (!rec) {
      unscanned++;
      if (!band) kept.push(row);
      continue;
    }
    if (band && !inBand(rec.pass_rate, band)) {
      outside++;
      continue;
    }
    kept.push({ ...row, passRate: rec.pass_rate });
  }
  if (kept.length === 0) {
    throw new Error(`${file}: the pass-rate band keeps no training prompt (${outside} outside it, ${unscanned} not in the scan of ${rows.length})`);
  }
  return { rows: kept, outside, unscanned };
}

/** Pass rates in `bins` equal bins over [0, 1] (the last bin holds 1): the data panel's histogram. */
export function passRateHistogram(rates: readonly number[], bins = 10): number[] {
  const h = new Array<number>(bins).fill(0);
  for (const p of rates) h[Math.min(bins - 1, Math.max(0, Math.floor(p * bins)))]++;
  return h;
}

/** The rows as JSONL, each record with its scanned `pass_rate` (null when the scan has none): the dataset an
 * exported TRL script reads for pass_rate_band and curriculum "easy_to_hard". Big integers become text. */
export function scannedJsonl(rows: readonly DatasetRow[], scan: Map<string, DifficultyRecord>): string {
  const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x));
  return rows.map((r) => json({ ...r.raw, pass_rate: scan.get(rowKey(r.prompt, r.answer))?.pass_rate ?? null })).join('\n') + (rows.length ? '\n' : '');
}

/** What in the config needs a difficulty scan (pass_rate_band, curriculum "easy_to_hard"), or null. */
export function scanNeededBy(config: Pick<GrpoConfig, 'pass_rate_band' | 'curriculum'>): string | null {
  if (config.pass_rate_band !== null) return `pass_rate_band "${config.pass_rate_band}"`;
  if (config.curriculum === 'easy_to_hard') return 'curriculum "easy_to_hard"';
  return null;
}

/**
 * The training rows a run trains on, as the command line's `train --scan` and the page's runs both choose
 * them: without a scan the rows as they are (refused, with `howToScan` in the message, when the config needs
 * one); with one, each row joined to its pass rate and cut to pass_rate_band. `note` is the line a run log
 * shows ("N of M training prompts kept"); null without a scan.
 */
export function joinScan(
  rows: DatasetRow[],
  scan: { source: string; records: Map<string, DifficultyRecord> } | null,
  config: Pick<GrpoConfig, 'pass_rate_band' | 'curriculum'>,
  howToScan: string,
): { rows: DatasetRow[]; note: string | null } {
  if (!scan) {
    const needs = scanNeededBy(config);
    if (needs) throw new Error(`${needs} needs a difficulty scan: ${howToScan}`);
    return { rows, note: null };
  }
  const band = config.pass_rate_band === null ? null : parseBand(config.pass_rate_band);
  if (typeof band === 'string') throw new Error(`pass_rate_band: ${band}`);
  const sel = selectByDifficulty(rows, scan.records, band, scan.source);
  const note = `${scan.source}: ${scan.records.size} scanned prompts; ${sel.rows.length} of ${rows.length} training prompts kept` +
    (band ? ` (pass rate in ${config.pass_rate_band}: ${sel.outside} outside, ${sel.unscanned} not in the scan)` : sel.unscanned ? ` (${sel.unscanned} not in the scan)` : '');
  return { rows: sel.rows, note };
}
