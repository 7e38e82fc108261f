// How each config field is edited, and which validation messages belong to which field. Typed as a Record
// over every key of GrpoConfig, so a new field does not compile until it has an input here.

import {
  CONFIG_DOCS,
  LORA_TARGET_MODULES,
  LOSS_TYPES,
  LONG_PROMPTS, LR_SCHEDULER_TYPES,
  SCALE_REWARDS,
  type GrpoConfig,
} from '../../grpo/config';

export type FieldInput =
  | { kind: 'int'; min?: number }
  | { kind: 'number'; min?: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'text' }
  | { kind: 'modules'; choices: readonly string[] }
  | { kind: 'rewards' }
  | { kind: 'int_or_null'; min: number; whenSet: number }; // experiments: new fields

export const FIELD_INPUTS: Record<keyof GrpoConfig, FieldInput> = {
  num_generations: { kind: 'int', min: 2 },
  max_prompt_length: { kind: 'int', min: 1 },
  long_prompts: { kind: 'enum', choices: LONG_PROMPTS },
  max_completion_length: { kind: 'int', min: 1 },
  temperature: { kind: 'number', min: 0 },
  top_p: { kind: 'number', min: 0 },
  top_k: { kind: 'int', min: 0 },
  learning_rate: { kind: 'number', min: 0 },
  lr_scheduler_type: { kind: 'enum', choices: LR_SCHEDULER_TYPES },
  warmup_ratio: { kind: 'number', min: 0 },
  weight_decay: { kind: 'number', min: 0 },
  adam_beta1: { kind: 'number', min: 0 },
  adam_beta2: { kind: 'number', min: 0 },
  adam_epsilon: { kind: 'number', min: 0 },
  max_grad_norm: { kind: 'number', min: 0 },
  prompts_per_step: { kind: 'int', min: 1 },
  gradient_accumulation_steps: { kind: 'int', min: 1 },
  num_iterations: { kind: 'int', min: 1 },
  beta: { kind: 'number', min: 0 },
  epsilon: { kind: 'number', min: 0 },
  epsilon_high: { kind: 'number', min: 0 },
  loss_type: { kind: 'enum', choices: LOSS_TYPES },
  scale_rewards: { kind: 'enum', choices: SCALE_REWARDS },
  mask_truncated_completions: { kind: 'boolean' },
  dynamic_sampling: { kind: 'boolean' },
  reward_funcs: { kind: 'rewards' },
  lora_r: { kind: 'int', min: 1 },
  lora_alpha: { kind: 'number', min: 0 },
  lora_dropout: { kind: 'number', min: 0 },
  lora_target_modules: { kind: 'modules', choices: LORA_TARGET_MODULES },
  use_rslora: { kind: 'boolean' },
  seed: { kind: 'int', min: 0 },
  max_steps: { kind: 'int', min: 1 },
  eval_split: { kind: 'number', min: 0 },
  eval_interval: { kind: 'int', min: 0 },
  eval_max_samples: { kind: 'int', min: 1 },
  eval_temperature: { kind: 'number', min: 0 },
  num_generations_eval: { kind: 'int_or_null', min: 1, whenSet: 4 }, // experiments: new fields
  system_prompt: { kind: 'text' },
  prompt_template: { kind: 'text' },
  use_chat_template: { kind: 'boolean' },
  checkpoint_interval: { kind: 'int', min: 0 },
  max_consecutive_skips: { kind: 'int', min: 1 },
  log_completions: { kind: 'boolean' },
};

/** The config's groups in the order their fields are declared, each with its fields. */
export function fieldGroups(): { group: string; keys: (keyof GrpoConfig)[] }[] {
  const groups: { group: string; keys: (keyof GrpoConfig)[] }[] = [];
  for (const key of Object.keys(CONFIG_DOCS) as (keyof GrpoConfig)[]) {
    const g = CONFIG_DOCS[key].group;
    let entry = groups.find((x) => x.group === g);
    if (!entry) groups.push((entry = { group: g, keys: [] }));
    entry.keys.push(key);
  }
  return groups;
}

/** The fields every run touches, shown above the full list. */
export const ESSENTIAL_FIELDS: readonly (keyof GrpoConfig)[] = ['max_steps', 'learning_rate', 'num_generations', 'max_completion_length', 'prompts_per_step'];

/** validateConfig's messages sorted by the field they are about (the key they start with, or the
 * reward_funcs entry they name); the rest under "general". */
export function problemsByField(problems: readonly string[]): { byField: Partial<Record<keyof GrpoConfig, string[]>>; general: string[] } {
  const keys = (Object.keys(FIELD_INPUTS) as (keyof GrpoConfig)[]).sort((a, b) => b.length - a.length);
  const byField: Partial<Record<keyof GrpoConfig, string[]>> = {};
  const general: string[] = [];
  for (const p of problems) {
    const key = keys.find((k) => p.startsWith(`${k} `) || p.startsWith(`${k}[`) || p.startsWith(`${k}:`) || p.startsWith(`${k} (`));
    const rewards = !key && /reward weight/.test(p) ? 'reward_funcs' : undefined;
    const k = key ?? rewards;
    if (k) (byField[k] ??= []).push(p);
    else general.push(p);
  }
  return { byField, general };
}

/** A number as the person typed it: accepts 5e-4, 0.0005, 1_000 is refused. NaN when it is not a number. */
export function parseNumber(text: string): number {
  const t = text.trim();
  if (t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

/** How a number is shown in an input: as written in the docs (5e-4 stays readable). */
export function formatNumberInput(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential().replace(/\.?0+e/, 'e').replace('e-', 'e-');
  return String(v);
}
