// The calculator demo (issue 16): a second built-in model, tiny-calculator, that learned in pretraining to
// call a calculator but does so rarely and carelessly, and a dataset of 3-digit additions that it cannot
// do in its head. GRPO with a numeric_match reward teaches it to call the tool, and to copy the numbers
// into the call exactly.
//
//   prompt                "123+456="
//   answer in its head    "123</s>"                 the careless writer repeats one of the numbers
//   with the calculator   "[123+456](579)579</s>"   "[...]" is the call; "(579)" is the tool's result,
//                                                   inserted by the engine (pattern format: open "[",
//                                                   close "]", result template "({result})"); then the
//                                                   model copies the result as its answer
//
// The corpus (calculatorCorpus below): a share of the rows use the calculator (CALL_RATE, or
// CALC_WARMUP_CALL_RATE while the model learns to copy numbers), the rest answer without it; COPY_SLIPS of the
// calls copy one operand digit wrong (so the tool adds the wrong numbers, and the answer is wrong). The
// tool's result is context only in pretraining (its tokens are masked out of the loss), so the model never
// learns to add: without the tool it has no way to the right sum. The demo dataset's prompts
// (public/datasets/calculator.jsonl) never appear in the corpus.
// The committed model (README: "The calculator demo"): the warm-up phase taught it to copy; its last phase
// (scripts/pretrain_calculator.ts --decide 0.15) trained the choice to call alone, on a corpus that calls in
// 15% of its rows, beside the warm-up corpus's calls with the choice masked out, so that it calls in about
// 15% of its answers (sampled at T=1 on held-out prompts) and still copies (carelessly: about 4 calls of 10
// right when sampled). Ending on the CALL_RATE corpus with every token trained wiped out its copying within
// 20 steps (with either guess style), and so did training the choice alone.

import { Rng } from '../util/random';
import type { TaskRow } from './corpus';

/** The characters of tiny-calculator's tokenizer (one token per character, after the 4 special tokens). */
export const CALC_CHARSET = '0123456789+=[]() ';

/** The call format (the config's tool_call_format "pattern" settings). */
export const CALC_PATTERN = Object.freeze({ open: '[', close: ']', resultTemplate: '({result})' });

/** The calculator tool, as a tools file (public/datasets/calculator.tools.js, and the demo config's
 * tools_source). One tool: with a single tool the pattern format passes a plain call body as {"input": body}. */
export const CALCULATOR_TOOLS_SOURCE = `// The calculator demo's tool (public/datasets/calculator.tools.js): the built-in tiny-calculator model calls it
// as [123+456] and reads its result back as (579). Use it from the command line with
//   npx grpo-playground train --model public/models/tiny-calculator --dataset public/datasets/calculator.jsonl --tools public/datasets/calculator.tools.js ...
[
  {
    name: 'calc',
    description: 'Adds two whole numbers written as a+b, e.g. 123+456; anything else gives an empty result',
    parameters: { type: 'object', properties: { input: { type: 'string', description: 'the sum to work out, a+b' } }, required: ['input'] },
    // a call it cannot read gives an empty result, "()": the model's tokenizer has digits and + = [ ] ( )
    // only, so an error message would reach it as a run of unknown tokens
    run: ({ input }) => {
      const m = /^\\s*(\\d{1,9})\\s*\\+\\s*(\\d{1,9})\\s*$/.exec(input);
      return m ? Number(m[1]) + Number(m[2]) : '';
    },
  },
]
`;

/** Share of the corpus's rows that call the calculator (the rest guess). */
export const CALL_RATE = 0.3;
/** The share of calls in the first phase of pretraining, where the model learns to copy the numbers. */
export const CALC_WARMUP_CALL_RATE = 0.9;
/** Share of the corpus's calls that copy one operand digit wrong. */
export const COPY_SLIPS = 0.4;

export const CALC_DEMO_SEED = 20261202;
export const CALC_DEMO_ROWS = 1000;
export const CALC_CORPUS_SEED = 4321;
export const CALC_CORPUS_SIZE = 20000;

function threeDigits(rng: Rng): number {
  return 100 + rng.int(900);
}

export function calculatorRow(rng: Rng): TaskRow {
  const a = threeDigits(rng);
  const b = threeDigits(rng);
  return { prompt: `${a}+${b}=`, answer: String(a + b) };
}

/** The demo dataset: CALC_DEMO_ROWS distinct 3-digit additions. */
export function calculatorDataset(seed = CALC_DEMO_SEED, rows = CALC_DEMO_ROWS): TaskRow[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: TaskRow[] = [];
  while (out.length < rows) {
    const r = calculatorRow(rng);
    if (seen.has(r.prompt)) continue;
    seen.add(r.prompt);
    out.push(r);
  }
  return out;
}

/** One corpus row: the completion as segments, each trained on (the model writes it) or not (the tool's
 * result, inserted by the engine). */
export interface CalcCorpusRow {
  prompt: string;
  segments: { text: string; trained: boolean }[];
  /** 'call': used the calculator (slip: copied a digit wrong); 'guess': answered in its head */
  kind: 'call' | 'guess';
  slip: boolean;
}

/** A careless copy: one digit of the two operands replaced by a different digit. */
function slipCopy(rng: Rng, a: string, b: string): [string, string] {
  const digits = [...a, ...b];
  const at = rng.int(digits.length);
  const was = Number(digits[at]);
  let d = rng.int(9);
  if (d >= was) d++;
  // no leading zero: the hundreds digit of an operand stays 1-9
  if (d === 0 && (at === 0 || at === a.length)) d = was === 1 ? 2 : 1;
  digits[at] = String(d);
  return [digits.slice(0, a.length).join(''), digits.slice(a.length).join('')];
}

/** An answer without the calculator: the careless writer repeats one of the two numbers (never the sum; and
 * unlike random digits it does not teach the model to write digits at random, which wipes out its copying). */
function guess(rng: Rng, a: number, b: number): string {
  return String(rng.uniform() < 0.5 ? a : b);
}

/** The first stages of the committed model's pretraining guessed differently: the sum's first digit, then
 * random digits (kept so that the recipe in the README reproduces the model). */
function randomDigitsGuess(rng: Rng, sum: number): string {
  const s = String(sum);
  let out = s[0];
  for (let i = 1; i < s.length; i++) out += String(rng.int(10));
  return out;
}

export type GuessStyle = 'repeat' | 'random_digits';

/** The pretraining corpus. callRate (default CALL_RATE) is the share of rows that call the calculator:
 * pretraining first learns to copy numbers from a corpus that calls most of the time (CALC_WARMUP_CALL_RATE),
 * then ends on the careless writer's rare calls. */
export function calculatorCorpus(opts: { seed?: number; size?: number; exclude?: ReadonlySet<string>; callRate?: number; guesses?: GuessStyle } = {}): CalcCorpusRow[] {
  const rng = new Rng(opts.seed ?? CALC_CORPUS_SEED);
  const callRate = opts.callRate ?? CALL_RATE;
  const size = opts.size ?? CALC_CORPUS_SIZE;
  const exclude = opts.exclude ?? new Set(calculatorDataset().map((r) => r.prompt));
  const out: CalcCorpusRow[] = [];
  while (out.length < size) {
    const a = threeDigits(rng);
    const b = threeDigits(rng);
    const prompt = `${a}+${b}=`;
    if (exclude.has(prompt)) continue;
    if (rng.uniform() < callRate) {
      const slip = rng.uniform() < COPY_SLIPS;
      const [ca, cb] = slip ? slipCopy(rng, String(a), String(b)) : [String(a), String(b)];
      const result = String(Number(ca) + Number(cb));
      out.push({
        prompt,
        kind: 'call',
        slip,
        segments: [
          { text: `${CALC_PATTERN.open}${ca}+${cb}${CALC_PATTERN.close}`, trained: true },
          { text: CALC_PATTERN.resultTemplate.replace('{result}', result), trained: false },
          { text: result, trained: true },
        ],
      });
    } else {
      const text = opts.guesses === 'random_digits' ? randomDigitsGuess(rng, a + b) : guess(rng, a, b);
      out.push({ prompt, kind: 'guess', slip: false, segments: [{ text, trained: true }] });
    }
  }
  return out;
}

/** The row's prompt followed by a right call and the tool's result, "123+456=[123+456](579)": what the model
 * reads before it copies the result as its answer. */
export function withRightCall(row: TaskRow): string {
  return `${row.prompt}${CALC_PATTERN.open}${row.prompt.slice(0, -1)}${CALC_PATTERN.close}${CALC_PATTERN.resultTemplate.replace('{result}', row.answer)}`;
}

/** What a completion did, read from its text: a call (with its operands copied right or not), or a guess. */
export function readCompletion(prompt: string, completion: string): { called: boolean; copiedRight: boolean } {
  const at = completion.indexOf(CALC_PATTERN.open);
  const end = completion.indexOf(CALC_PATTERN.close, at + 1);
  if (at !== 0 || end < 0) return { called: false, copiedRight: false };
  return { called: true, copiedRight: `${completion.slice(at + 1, end)}=` === prompt };
}
