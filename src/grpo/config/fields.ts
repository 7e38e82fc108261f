// The vocabulary of the config schema: what one field's entry says (its value kind, default, range,
// group, documentation, source paper, settings-panel input and TRL export decision) and the builders
// that keep each entry's value type, so that GrpoConfig can be inferred from the table (schema.ts).

/** The settings panel's groups, in the order the panel shows them (first appearance in the table). */
export type Group =
  | 'Generation'
  | 'Optimizer'
  | 'Batch'
  | 'GRPO loss'
  | 'Algorithm'
  | 'Rewards'
  | 'LoRA'
  | 'Run'
  | 'Evaluation'
  | 'Prompt'
  | 'Data selection'
  | 'Memory'
  | 'Logging and checkpoints';

/** What a field's value is; JSON import checks it, the panel picks its input from it. */
export type ValueKind =
  | { kind: 'int' }
  | { kind: 'number' }
  | { kind: 'int_or_null' }
  | { kind: 'number_or_null' }
  | { kind: 'boolean' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'string_or_null' }
  | { kind: 'reward_funcs' }
  | { kind: 'modules'; choices: readonly string[] };

/**
 * The values a number field accepts (null, for a nullable field, is always accepted). validate.ts words
 * each kind's message; the docs page and the panel's inputs read it too.
 * - whole: a whole number at least `whole` (`why` is appended to the message)
 * - interval: lo..hi with open or closed ends, then advice
 * - atLeast / above: >= or > a bound, then advice
 * - finite: any finite number, then advice
 */
export type Range =
  | { whole: number; why?: string }
  | { lo: number; hi: number; loOpen: boolean; hiOpen: boolean; advice: string }
  | { atLeast: number; advice: string }
  | { above: number; advice: string }
  | { finite: string };

/**
 * How a field reaches the exported TRL script. Required on every entry, so a field without an export
 * decision does not compile.
 * - trl: passed to trl.GRPOConfig under this name, value unchanged (null becomes None)
 * - peft: passed to peft.LoraConfig under this name
 * - computed: written by a mapping function in trl.ts (TRL_MAPPINGS, typed over exactly these fields), to
 *   the TRL keywords named here
 * - notInTrl: TRL has no such setting; the text says what the script does instead (listed in its comment)
 */
/** How the export passes a field to TRL. `trl`: by that GRPOConfig name, meaning the same as in TRL unless
 * `differs` says how and why it does not. */
export type TrlDecision = { trl: string; differs?: string } | { peft: string } | { computed: readonly string[]; note: string } | { notInTrl: string };

export interface FieldEntry<T> {
  type: ValueKind;
  default: T;
  group: Group;
  /** what it does, for the panel's help and docs/CONFIG.md */
  doc: string;
  /** where it comes from: paper(s), TRL / PEFT / Hugging Face */
  source?: string;
  range?: Range;
  /** for a nullable field: the value the settings panel puts in when it is switched on */
  suggest?: number;
  trl: TrlDecision;
}

type Entry<T> = Omit<FieldEntry<T>, 'type'>;
type Built<T, F> = Omit<F, 'default' | 'type'> & { type: ValueKind; default: T };

function make<T>(type: ValueKind) {
  return <F extends Entry<T>>(f: F): Built<T, F> => ({ ...f, type }) as unknown as Built<T, F>;
}

export const int = make<number>({ kind: 'int' });
export const num = make<number>({ kind: 'number' });
export const intOrNull = make<number | null>({ kind: 'int_or_null' });
export const numOrNull = make<number | null>({ kind: 'number_or_null' });
export const bool = make<boolean>({ kind: 'boolean' });
export const textOrNull = make<string | null>({ kind: 'string_or_null' });
export function oneOf<const C extends readonly string[]>(choices: C) {
  return make<C[number]>({ kind: 'enum', choices });
}
export function listOf<const C extends readonly string[]>(choices: C) {
  return make<C[number][]>({ kind: 'modules', choices });
}
export function rewardList<R>() {
  return make<R[]>({ kind: 'reward_funcs' });
}

// Sources cited by several fields
export const DEEPSEEKMATH = 'DeepSeekMath (Shao et al. 2024), which introduced GRPO';
export const DR_GRPO = 'Dr. GRPO: "Understanding R1-Zero-Like Training" (Liu et al. 2025)';
export const DAPO = 'DAPO (Yu et al. 2025)';
export const TRL = 'TRL GRPOConfig';
export const HF = 'Hugging Face TrainingArguments (used by TRL)';
export const PEFT = 'PEFT LoraConfig';
export const LORA = 'LoRA (Hu et al. 2021)';
export const GSPO = 'GSPO: "Group Sequence Policy Optimization" (Zheng et al. 2025, arXiv 2507.18071)';
export const CISPO = 'CISPO: MiniMax-M1 (MiniMax 2025, arXiv 2506.13585)';
export const SAPO = 'SAPO: "Soft Adaptive Policy Optimization" (arXiv 2511.20347)';
export const LUSPO = 'LUSPO: "Length-Unbiased Sequence Policy Optimization" (arXiv 2602.05261)';
export const VESPO = 'VESPO: "Variational Sequence-Level Soft Policy Optimization" (arXiv 2602.10693)';
export const PLAYGROUND = 'this playground (not in TRL)';
export const LIMR = 'LIMR: "Less is More for RL Scaling" (Li et al. 2025, arXiv 2502.11886)';
