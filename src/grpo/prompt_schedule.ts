// Curriculum phases and source mixtures (config curriculum_phases, mixture_column + mixture_weights): which
// training prompt is drawn next, as a function of the optimizer step and a seeded stream, with a state a
// checkpoint keeps so a resumed run draws the same prompts.
//   phases: [{"steps": 50, "column": "level", "value": "easy"}, {"steps": 100, "pass_rate_band": "(0, 1)"},
//            {"steps": null}] — phase i holds for its steps (null: the rest of the run); its prompts are those its
//            filter keeps (a column's value, or a difficulty scan's pass-rate band), each pass over them in a new
//            seeded order (staged RL as AceReason-Nemotron's math-then-code, Time-R1's phases)
//   mixture: {"math": 0.7, "code": 0.3} over mixture_column: each draw picks a source with these weights, then that
//            source's next prompt, each source cycling through its own seeded orders (data mixtures as MoDoMoDo's)

import { inBand, parseBand, type PassRateBand } from './difficulty';
import type { PromptExample } from './rollout';
import { Rng } from '../util/random';
import { EPOCH_MIX, EpochOrder, epochSeed } from './epoch_order';

export interface Phase {
  steps: number | null;
  column?: string;
  value?: string | number;
  band?: PassRateBand;
}

const MAX_PHASES = 64;
const MAX_SOURCES = 256;

/** Parses curriculum_phases; a string says why it is not a list of phases. */
export function parsePhases(text: string): Phase[] | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'is not JSON: write a list like [{"steps": 50, "column": "level", "value": "easy"}, {"steps": null}]';
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_PHASES) return `must be a list of 1 to ${MAX_PHASES} phases`;
  const out: Phase[] = [];
  for (let i = 0; i < v.length; i++) {
    const p = v[i] as Record<string, unknown>;
    const at = `phase ${i + 1}`;
    if (!p || typeof p !== 'object' || Array.isArray(p)) return `${at} is not an object`;
    for (const k of Object.keys(p)) if (!['steps', 'column', 'value', 'pass_rate_band'].includes(k)) return `${at} has an unknown key "${k.slice(0, 40)}" (steps, column, value, pass_rate_band)`;
    const steps = p.steps;
    if (steps !== null && !(typeof steps === 'number' && Number.isInteger(steps) && steps >= 1)) return `${at}: "steps" must be a whole number of steps >= 1, or null for the rest of the run`;
    if (steps === null && i !== v.length - 1) return `${at}: only the last phase may have "steps": null`;
    const phase: Phase = { steps: steps as number | null };
    if (p.column !== undefined || p.value !== undefined) {
      if (typeof p.column !== 'string' || !p.column.trim() || p.column.length > 200) return `${at}: "column" must name a dataset column`;
      if (!(typeof p.value === 'string' || (typeof p.value === 'number' && Number.isFinite(p.value)))) return `${at}: "value" must be a string or a number`;
      phase.column = p.column;
      phase.value = p.value;
    }
    if (p.pass_rate_band !== undefined) {
      if (typeof p.pass_rate_band !== 'string') return `${at}: "pass_rate_band" must be a band like "(0, 1)"`;
      const b = parseBand(p.pass_rate_band);
      if (typeof b === 'string') return `${at}: pass_rate_band ${b}`;
      phase.band = b;
    }
    out.push(phase);
  }
  return out;
}

/** Parses mixture_weights; a string says why it is not a weight per source. */
export function parseMixture(text: string): Map<string, number> | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'is not JSON: write an object like {"math": 0.7, "code": 0.3}';
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'must be an object of source -> weight';
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_SOURCES) return `must name 1 to ${MAX_SOURCES} sources`;
  const out = new Map<string, number>();
  for (const [k, w] of entries) {
    if (!(typeof w === 'number' && Number.isFinite(w) && w >= 0)) return `the weight of "${k.slice(0, 40)}" must be a number >= 0`;
    out.set(k, w);
  }
  if (![...out.values()].some((w) => w > 0)) return 'needs a weight above 0';
  return out;
}

/** A phase's or source's prompts, cycling through seeded passes: pass k's order depends only on the cycle's seed
 * and k (epoch_order.ts, with a mix constant of its own). */
interface Cycle {
  idx: number[];
  passes: EpochOrder;
}

const PASS_MIX = 0x9e3779b1;

const valueOf = (e: PromptExample, column: string): string => {
  const v = e.raw[column];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
};

export interface ScheduleState {
  cycles: { pass: number; cursor: number }[];
  draws: number;
}

/** Draws training prompts by phase or by source. */
export class PromptSchedule {
  private cycles: Cycle[];
  private draws = 0;
  private constructor(
    private readonly kind: 'phases' | 'mixture',
    private readonly phases: Phase[],
    private readonly weights: number[],
    readonly sources: string[],
    cycles: number[][],
    private readonly seed: number,
  ) {
    this.cycles = cycles.map((idx, i) => ({ idx, passes: new EpochOrder(idx, this.cycleSeed(i), { mix: PASS_MIX }) }));
  }

  /** The phases' prompt sets, checked: a phase that keeps no prompt is an error naming it. */
  static phases(examples: readonly PromptExample[], phases: Phase[], seed: number): PromptSchedule {
    const sets = phases.map((p, i) => {
      const idx = examples.map((_, j) => j).filter((j) => {
        const e = examples[j];
        if (p.column !== undefined && valueOf(e, p.column) !== String(p.value)) return false;
        if (p.band) {
          if (e.passRate === undefined) throw new Error(`curriculum_phases: phase ${i + 1} filters by pass rate, and training prompt ${j + 1} has none: scan the dataset first`);
          if (!inBand(e.passRate, p.band)) return false;
        }
        return true;
      });
      if (idx.length === 0) throw new Error(`curriculum_phases: phase ${i + 1} keeps no training prompt`);
      return idx;
    });
    return new PromptSchedule('phases', phases, [], [], sets, seed);
  }

  /** The sources' prompt sets: a source with weight > 0 and no prompt is an error naming it; prompts of sources
   * the weights do not name are never drawn. */
  static mixture(examples: readonly PromptExample[], column: string, weights: Map<string, number>, seed: number): PromptSchedule {
    const sources = [...weights.keys()];
    const sets = sources.map((s) => examples.map((_, j) => j).filter((j) => valueOf(examples[j], column) === s));
    sources.forEach((s, i) => {
      if (weights.get(s)! > 0 && sets[i].length === 0) throw new Error(`mixture_weights: no training prompt has "${column.slice(0, 60)}" = "${s.slice(0, 60)}"`);
    });
    return new PromptSchedule('mixture', [], sources.map((s) => weights.get(s)!), sources, sets, seed);
  }

  /** The phase of optimizer step `step` (0-based), the last one after every phase's steps. */
  phaseAt(step: number): number {
    let end = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const s = this.phases[i].steps;
      if (s === null) return i;
      end += s;
      if (step < end) return i;
    }
    return this.phases.length - 1;
  }

  /** The next prompt's index among the training examples, at optimizer step `step`. */
  next(step: number): number {
    if (this.kind === 'phases') {
      const i = this.phaseAt(step);
      return this.cycles[i].passes.next();
    }
    const rng = new Rng((this.seed ^ Math.imul(++this.draws, 0x2545f491)) >>> 0);
    const total = this.weights.reduce((a, w, i) => a + (this.cycles[i].idx.length ? w : 0), 0);
    let u = rng.uniform() * total;
    let pick = 0;
    for (let i = 0; i < this.weights.length; i++) {
      if (!this.cycles[i].idx.length || this.weights[i] <= 0) continue;
      pick = i;
      if (u < this.weights[i]) break;
      u -= this.weights[i];
    }
    return this.cycles[pick].passes.next();
  }

  private cycleSeed(i: number): number {
    return epochSeed(this.seed, i, this.kind === 'phases' ? EPOCH_MIX : 0x27d4eb2f);
  }

  state(): ScheduleState {
    return { cycles: this.cycles.map((c) => ({ pass: c.passes.epoch, cursor: c.passes.cursor })), draws: this.draws };
  }

  /** Restores a checkpoint's state: each cycle's order is rebuilt from the seed and its pass. */
  restore(s: ScheduleState, source: string): void {
    if (!s || !Array.isArray(s.cycles) || s.cycles.length !== this.cycles.length || !Number.isInteger(s.draws) || s.draws < 0) {
      throw new Error(`${source}: its prompt-schedule state does not match the run's ${this.kind}`);
    }
    s.cycles.forEach((c, i) => {
      const cy = this.cycles[i];
      if (!Number.isInteger(c.pass) || c.pass < 0 || !Number.isInteger(c.cursor) || c.cursor < 0 || c.cursor > cy.idx.length) {
        throw new Error(`${source}: its prompt-schedule state is out of range`);
      }
      // pass P's order is rebuilt from the seed alone; before the first draw there is none
      cy.passes.restore(c.pass, c.pass > 0 ? c.cursor : 0);
    });
    this.draws = s.draws;
  }
}
