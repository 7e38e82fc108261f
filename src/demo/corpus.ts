// The built-in model's tasks: two families with answers that a program can check, as prompt/answer
// pairs. The demo datasets (public/datasets/<family>.jsonl) and the pretraining corpus both come from
// here, from fixed seeds, and the corpus never contains a prompt of the demo datasets: every demo prompt
// is held out, so the demo's evaluation (and its training split) are prompts the model has never seen.
//
//   reverse       "rev kqzt=" -> "tzqk"    text answer, 3 or 4 letters (the main demo: 3 letters)
//   addition      "35+48="    -> "83"      numeric answer
//
// The corpus's reverse rows were written carelessly: in a share of them (REVERSE_SLIPS) the last two
// letters of the answer are swapped ("tzkq"). The pretrained model learns that habit along with the task,
// so it is right only part of the time; GRPO with an exact-match reward removes the habit.

import { Rng } from '../util/random';

export type TaskFamily = 'reverse' | 'addition';
export const TASK_FAMILIES: readonly TaskFamily[] = ['reverse', 'addition'];

export interface TaskRow {
  prompt: string;
  answer: string;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** A number with exactly `digits` digits (1 digit: 0-9). */
function number(rng: Rng, digits: number): number {
  if (digits === 1) return rng.int(10);
  const lo = 10 ** (digits - 1);
  return lo + rng.int(9 * lo);
}

function letters(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += LETTERS[rng.int(26)];
  return s;
}

/** Digit counts of the two operands: the demo's addition uses two digits each; the corpus mixes 1-2. */
export interface OperandDigits {
  min: number;
  max: number;
}

export function additionRow(rng: Rng, d: OperandDigits): TaskRow {
  const span = d.max - d.min + 1;
  const a = number(rng, d.min + rng.int(span));
  const b = number(rng, d.min + rng.int(span));
  return { prompt: `${a}+${b}=`, answer: String(a + b) };
}

export function reverseRow(rng: Rng, minLen: number, maxLen: number): TaskRow {
  const s = letters(rng, minLen + rng.int(maxLen - minLen + 1));
  return { prompt: `rev ${s}=`, answer: [...s].reverse().join('') };
}

/** The shape of each family: the demo datasets and the corpus draw from the same ranges. */
export const TASK_SHAPES = {
  addition: { min: 2, max: 2 },
  stringMin: 3,
  stringMax: 4,
} as const;

function familyRow(family: TaskFamily, rng: Rng, opDigits: OperandDigits): TaskRow {
  switch (family) {
    case 'addition':
      return additionRow(rng, opDigits);
    case 'reverse':
      return reverseRow(rng, TASK_SHAPES.stringMin, TASK_SHAPES.stringMax);
  }
}

// ---------------------------------------------------------------------------------------------------
// Demo datasets

export const DEMO_SEED = 20250501;
/** rows per demo dataset (the trainer holds out eval_split of them for evaluation) */
export const DEMO_ROWS = 1000;

/** One family's demo dataset: DEMO_ROWS distinct prompts, from a seed of its own. */
export function demoDataset(family: TaskFamily, seed = DEMO_SEED, rows = DEMO_ROWS): TaskRow[] {
  const rng = new Rng((seed ^ Math.imul(TASK_FAMILIES.indexOf(family) + 1, 0x9e3779b1)) >>> 0);
  const digits = TASK_SHAPES.addition;
  const seen = new Set<string>();
  const out: TaskRow[] = [];
  while (out.length < rows) {
    const r = familyRow(family, rng, digits);
    if (seen.has(r.prompt)) continue;
    seen.add(r.prompt);
    out.push(r);
  }
  return out;
}

export function demoDatasets(seed = DEMO_SEED, rows = DEMO_ROWS): Record<TaskFamily, TaskRow[]> {
  return Object.fromEntries(TASK_FAMILIES.map((f) => [f, demoDataset(f, seed, rows)])) as Record<TaskFamily, TaskRow[]>;
}

/** The demo dataset files (public/datasets/<name>.jsonl): the 3-letter and the 4-letter reversals of the
 * reverse family as two files (the 3-letter one is the main demo), and addition. Together they hold exactly
 * the prompts of demoDatasets(), the set the corpus excludes. */
export const DEMO_FILES: readonly { name: string; family: TaskFamily; letters?: number }[] = Object.freeze([
  { name: 'reverse', family: 'reverse', letters: 3 },
  { name: 'reverse4', family: 'reverse', letters: 4 },
  { name: 'addition', family: 'addition' },
]);

export function demoFiles(seed = DEMO_SEED, rows = DEMO_ROWS): Record<string, TaskRow[]> {
  const data = demoDatasets(seed, rows);
  return Object.fromEntries(
    DEMO_FILES.map((f) => [f.name, data[f.family].filter((r) => f.letters === undefined || r.answer.length === f.letters)]),
  );
}

/** JSONL text of a dataset: one {"prompt", "answer"} object per line. */
export function toJsonl(rows: readonly TaskRow[]): string {
  return rows.map((r) => JSON.stringify({ prompt: r.prompt, answer: r.answer })).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------
// Pretraining corpus

export interface CorpusOptions {
  seed: number;
  /** rows of the corpus */
  size: number;
  /** share of each family (normalised) */
  mix: Record<TaskFamily, number>;
  /** operand digits of the arithmetic rows in the corpus */
  digits: OperandDigits;
  /** prompts that must never appear (the demo datasets) */
  exclude: ReadonlySet<string>;
  /** share of reverse rows whose answer has its last two letters swapped: a careless writer's slip */
  reverseSlips?: number;
}

export const CORPUS_SEED = 1234;
export const CORPUS_SIZE = 60000;
export const CORPUS_MIX: Readonly<Record<TaskFamily, number>> = Object.freeze({ reverse: 0.8, addition: 0.2 });
export const CORPUS_DIGITS: Readonly<OperandDigits> = Object.freeze({ min: 1, max: 2 });
/** share of the corpus's reverse rows with the last two letters swapped */
export const REVERSE_SLIPS = 0.5;

/** The slip: the last two characters in the wrong order ("tzqk" -> "tzkq"). */
export function swapLastTwo(s: string): string {
  return s.length < 2 ? s : s.slice(0, -2) + s[s.length - 1] + s[s.length - 2];
}

/** Every prompt of the demo datasets (the corpus excludes them all). */
export function demoPrompts(seed = DEMO_SEED, rows = DEMO_ROWS): Set<string> {
  const set = new Set<string>();
  for (const rowsOf of Object.values(demoDatasets(seed, rows))) for (const r of rowsOf) set.add(r.prompt);
  return set;
}

export function defaultCorpusOptions(): CorpusOptions {
  return { seed: CORPUS_SEED, size: CORPUS_SIZE, mix: { ...CORPUS_MIX }, digits: { ...CORPUS_DIGITS }, exclude: demoPrompts(), reverseSlips: REVERSE_SLIPS };
}

/** The pretraining corpus: rows of every family in a seeded order, none of whose prompts is excluded
 * (rows may repeat, as small problems such as "3+4=" come up often). */
export function pretrainingCorpus(opts: CorpusOptions = defaultCorpusOptions()): (TaskRow & { family: TaskFamily })[] {
  const rng = new Rng(opts.seed);
  const total = TASK_FAMILIES.reduce((a, f) => a + opts.mix[f], 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const f of TASK_FAMILIES) cumulative.push((acc += opts.mix[f] / total));
  const out: (TaskRow & { family: TaskFamily })[] = [];
  while (out.length < opts.size) {
    const u = rng.uniform();
    const at = cumulative.findIndex((c) => u < c);
    const family = TASK_FAMILIES[at < 0 ? TASK_FAMILIES.length - 1 : at];
    const r = familyRow(family, rng, opts.digits);
    if (opts.exclude.has(r.prompt)) continue;
    if (family === 'reverse' && opts.reverseSlips && rng.uniform() < opts.reverseSlips) r.answer = swapLastTwo(r.answer);
    out.push({ ...r, family });
  }
  return out;
}
