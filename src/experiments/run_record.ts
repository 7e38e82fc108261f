// A run as the runs library keeps it (and as one exported file holds it): its name, config, the model's
// and dataset's identity, every step's metrics, the evaluations, a sample of rollouts, and optionally its
// final adapter. `parseRunFile` checks a file from anywhere (another browser, a hand edit, a foreign
// JSON) before anything is stored, and names what is wrong.

import type { GrpoConfig } from '../grpo/config';
import { parseConfigJson } from '../grpo/config';

export const RUN_FILE_FORMAT = 'grpo-playground-run';
export const RUN_FILE_VERSION = 1;

export type RunRecordStatus = 'running' | 'paused' | 'finished' | 'stopped' | 'error';

export interface RolloutSample {
  step: number;
  prompt: string;
  answer: string;
  completions: { text: string; reward: number }[];
}

export interface EvalRecord {
  step: number;
  passAt1: number;
  rewardMean: number;
  atK?: Record<string, number>;
}

export interface RunRecord {
  id: string;
  name: string;
  starred: boolean;
  createdAt: number;
  updatedAt: number;
  status: RunRecordStatus;
  config: GrpoConfig;
  model: { name: string; fingerprint: string };
  dataset: { name: string; fingerprint: string; evalFile?: string | null };
  /** every step's metrics (TRL's names) */
  history: ({ step: number } & Record<string, number>)[];
  evals: EvalRecord[];
  rollouts: RolloutSample[];
  steps: number;
  maxSteps: number;
  /** training time, ms (the page's run clock) */
  durationMs: number;
  /** when the run belongs to a sweep */
  sweep?: { id: string; name: string; arm: string; value: unknown; seed: number } | null;
  /** an adapter is stored with the run (in the adapters store, by id) */
  hasAdapter: boolean;
  /** the run whose adapter this run's LoRA started from (an SFT run continued with GRPO / DPO): its record id
   * (null when it was not recorded), name and algorithm */
  parent?: { id: string | null; name: string; algorithm: string } | null;
}

/** The exported file: the record, and its adapter's files when kept (base64). */
export interface RunFile {
  format: typeof RUN_FILE_FORMAT;
  version: number;
  run: RunRecord;
  adapter?: { weights: string; config: string } | null;
}

export function base64Encode(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64Decode(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** A run file's text, checked: throws an Error naming the file and every problem found (nothing is stored). */
export function parseRunFile(text: string, fileName: string): { run: RunRecord; adapter: { weights: Uint8Array; config: string } | null } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${fileName} is not a run file: it is not JSON (${(e as Error).message}). Export a run from the Runs panel to get one.`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${fileName} is not a run file: it holds ${kind(json)}, not an object.`);
  const f = json as Partial<RunFile>;
  if (f.format !== RUN_FILE_FORMAT) throw new Error(`${fileName} is not a GRPO Playground run file (its "format" is ${JSON.stringify(f.format ?? null)}, expected "${RUN_FILE_FORMAT}").`);
  if (f.version !== RUN_FILE_VERSION) throw new Error(`${fileName} is a run file of version ${JSON.stringify(f.version)}; this page reads version ${RUN_FILE_VERSION}.`);
  const r = f.run as Partial<RunRecord> | undefined;
  const p: string[] = [];
  if (!r || typeof r !== 'object') throw new Error(`${fileName}: the run file has no "run" object.`);
  if (typeof r.id !== 'string' || !r.id) p.push('run.id must be a non-empty string');
  if (typeof r.name !== 'string') p.push('run.name must be a string');
  for (const k of ['createdAt', 'updatedAt', 'steps', 'maxSteps', 'durationMs'] as const) if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) p.push(`run.${k} must be a number, got ${kind(r[k])}`);
  if (!['running', 'paused', 'finished', 'stopped', 'error'].includes(r.status as string)) p.push(`run.status must be running, paused, finished, stopped or error, got ${JSON.stringify(r.status)}`);
  for (const k of ['model', 'dataset'] as const) {
    const x = r[k] as { name?: unknown; fingerprint?: unknown } | undefined;
    if (!x || typeof x.name !== 'string' || typeof x.fingerprint !== 'string') p.push(`run.${k} must be {"name", "fingerprint"} strings`);
  }
  if (!Array.isArray(r.history)) p.push(`run.history must be an array of metric rows, got ${kind(r.history)}`);
  else {
    const bad = r.history.findIndex((h) => !h || typeof h !== 'object' || typeof (h as { step?: unknown }).step !== 'number' || Object.values(h).some((v) => v !== null && typeof v !== 'number'));
    if (bad >= 0) p.push(`run.history[${bad}] must be an object of numbers with a "step"`);
  }
  if (!Array.isArray(r.evals)) p.push(`run.evals must be an array, got ${kind(r.evals)}`);
  else {
    const bad = r.evals.findIndex((e) => !e || typeof e.step !== 'number' || typeof e.passAt1 !== 'number' || typeof e.rewardMean !== 'number');
    if (bad >= 0) p.push(`run.evals[${bad}] must have numbers step, passAt1 and rewardMean`);
  }
  if (r.rollouts !== undefined && !Array.isArray(r.rollouts)) p.push(`run.rollouts must be an array, got ${kind(r.rollouts)}`);
  let config: GrpoConfig | null = null;
  try {
    config = parseConfigJson(r.config, 'run.config');
  } catch (e) {
    p.push((e as Error).message.replace(/\n/g, ' '));
  }
  let adapter: { weights: Uint8Array; config: string } | null = null;
  if (f.adapter) {
    try {
      if (typeof f.adapter.weights !== 'string' || typeof f.adapter.config !== 'string') throw new Error('bad types');
      adapter = { weights: base64Decode(f.adapter.weights), config: f.adapter.config };
    } catch {
      p.push('adapter must hold base64 "weights" and a "config" string');
    }
  }
  if (p.length) throw new Error(`${fileName} is a damaged run file (nothing was stored): ${p.join('; ')}.`);
  const run: RunRecord = {
    ...(r as RunRecord),
    config: config!,
    // JSON turns NaN into null: back to NaN, so every metric is a number again
    history: (r.history as Record<string, number | null>[]).map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v === null ? NaN : v]))) as RunRecord['history'],
    rollouts: r.rollouts ?? [],
    starred: !!r.starred,
    hasAdapter: !!adapter,
    sweep: r.sweep ?? null,
  };
  return { run, adapter };
}

/** A run as one file's text. */
export function runFileText(run: RunRecord, adapter: { weights: Uint8Array; config: string } | null): string {
  const file: RunFile = {
    format: RUN_FILE_FORMAT,
    version: RUN_FILE_VERSION,
    run,
    adapter: adapter ? { weights: base64Encode(adapter.weights), config: adapter.config } : null,
  };
  return JSON.stringify(file);
}

/** Held-out pass@1 of a run: best (over evaluations after step 0; the only one otherwise) and last. */
export function passSummary(evals: readonly EvalRecord[]): { best: number | null; last: number | null } {
  const ok = evals.filter((e) => Number.isFinite(e.passAt1)).sort((a, b) => a.step - b.step);
  const after = ok.filter((e) => e.step >= 1);
  const pool = after.length ? after : ok;
  return { best: pool.length ? Math.max(...pool.map((e) => e.passAt1)) : null, last: ok.length ? ok[ok.length - 1].passAt1 : null };
}
