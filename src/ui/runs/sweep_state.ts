// A sweep queued in the page: its spec, its runs (arm x seed) and where each stands. Kept in
// localStorage, so a reload finds the queue and continues it (the run in progress resumes from its last
// checkpoint, as a single run does).

import { expandSweep, type SweepSpec } from '../../experiments/spec';
import type { GrpoConfig } from '../../grpo/config';

export type SweepRunStatus = 'queued' | 'running' | 'done' | 'failed';

export interface SweepRunState {
  name: string;
  arm: string;
  value: unknown;
  seed: number;
  config: GrpoConfig;
  status: SweepRunStatus;
  /** the runs library's record of this run, once it started */
  recordId: string | null;
  /** Date.now() when it started (a checkpoint older than this is not this run's) */
  startedAt: number | null;
  error?: string;
}

export interface SweepState {
  id: string;
  spec: SweepSpec;
  runs: SweepRunState[];
  /** running: the queue advances; paused: stopped by the person (or an error) until Continue */
  state: 'running' | 'paused' | 'finished';
  createdAt: number;
  note?: string;
}

const KEY = 'grpo-playground:sweep';

export function newSweep(spec: SweepSpec, maxSequenceLength?: number): SweepState {
  const runs = expandSweep(spec, { maxSequenceLength });
  return {
    id: `sweep-${Date.now().toString(36)}`,
    spec,
    runs: runs.map((r) => ({ name: r.name, arm: r.arm, value: r.value, seed: r.seed, config: r.config, status: 'queued', recordId: null, startedAt: null })),
    state: 'running',
    createdAt: Date.now(),
  };
}

export function loadSweep(): SweepState | null {
  try {
    const text = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null;
    return text ? (JSON.parse(text) as SweepState) : null;
  } catch {
    return null;
  }
}

export function saveSweep(s: SweepState | null): void {
  try {
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
  } catch {
    // storage off or full: the queue then lasts as long as the page
  }
}
