// The GRPO run's configuration: one typed object with TRL's (GRPOConfig, PEFT LoraConfig) snake_case
// names, its defaults (sized for a small model in a browser tab), documentation of every field for the
// UI, validation with messages that say what to change, JSON import (merged onto the defaults, unknown
// keys and wrong types rejected) and export in TRL's names.

import { checkCustomRewardSource } from './rewards/custom';
import { CUSTOM_REWARD_NAME, BUILTIN_REWARD_NAMES, checkParamsFor, isBuiltinReward } from './rewards/registry';
import { closestMatch } from './rewards/text';

export type LrSchedulerType = 'constant' | 'linear' | 'cosine';
export type LossType = 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
export type ScaleRewards = 'group' | 'batch' | 'none';
export type LongPrompts = 'truncate_left' | 'skip';
export const LONG_PROMPTS: readonly LongPrompts[] = ['truncate_left', 'skip'];
export type LoraTargetModule = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';

export const LR_SCHEDULER_TYPES: readonly LrSchedulerType[] = ['constant', 'linear', 'cosine'];
export const LOSS_TYPES: readonly LossType[] = ['grpo', 'bnpo', 'dr_grpo', 'dapo'];
export const SCALE_REWARDS: readonly ScaleRewards[] = ['group', 'batch', 'none'];
export const LORA_TARGET_MODULES: readonly LoraTargetModule[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** One reward function of the run: a built-in's name (see REWARD_FUNCS) or 'custom'. */
export interface RewardFuncConfig {
  name: string;
  weight: number;
  params: Record<string, unknown>;
}

export interface GrpoConfig {
  // generation
  num_generations: number;
  max_prompt_length: number;
  long_prompts: LongPrompts;
  max_completion_length: number;
  temperature: number;
  top_p: number;
  top_k: number;
  // optimizer
  learning_rate: number;
  lr_scheduler_type: LrSchedulerType;
  warmup_ratio: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  max_grad_norm: number;
  // batch
  prompts_per_step: number;
  gradient_accumulation_steps: number;
  num_iterations: number;
  // GRPO loss
  beta: number;
  epsilon: number;
  epsilon_high: number;
  loss_type: LossType;
  scale_rewards: ScaleRewards;
  mask_truncated_completions: boolean;
  dynamic_sampling: boolean;
  // rewards
  reward_funcs: RewardFuncConfig[];
  // LoRA
  lora_r: number;
  lora_alpha: number;
  lora_dropout: number;
  lora_target_modules: LoraTargetModule[];
  use_rslora: boolean;
  // run
  seed: number;
  max_steps: number;
  // evaluation
  eval_split: number;
  eval_interval: number;
  eval_max_samples: number;
  eval_temperature: number;
  // experiments: new fields
  /** completions per held-out prompt at evaluation (pass@k for k = 1..n); null: one, as before */
  num_generations_eval: number | null;
  // prompt
  system_prompt: string | null;
  prompt_template: string | null;
  use_chat_template: boolean;
  // checkpoints and logging
  checkpoint_interval: number;
  max_consecutive_skips: number;
  log_completions: boolean;
}

export const DEFAULT_CONFIG: Readonly<GrpoConfig> = Object.freeze({
  num_generations: 8,
  max_prompt_length: 256,
  long_prompts: 'truncate_left',
  max_completion_length: 64,
  temperature: 1.0,
  top_p: 1.0,
  top_k: 0,
  learning_rate: 5e-4,
  lr_scheduler_type: 'constant',
  warmup_ratio: 0.0,
  weight_decay: 0.0,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  adam_epsilon: 1e-8,
  max_grad_norm: 1.0,
  prompts_per_step: 2,
  gradient_accumulation_steps: 1,
  num_iterations: 1,
  beta: 0.0,
  epsilon: 0.2,
  epsilon_high: 0.2,
  loss_type: 'dapo',
  scale_rewards: 'group',
  mask_truncated_completions: false,
  dynamic_sampling: false,
  reward_funcs: [{ name: 'numeric_match', weight: 1, params: {} }],
  lora_r: 8,
  lora_alpha: 16,
  lora_dropout: 0.0,
  lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  use_rslora: false,
  seed: 42,
  max_steps: 100,
  eval_split: 0.1,
  eval_interval: 25,
  eval_max_samples: 32,
  eval_temperature: 0,
  num_generations_eval: null, // experiments: new fields
  system_prompt: null,
  prompt_template: null,
  use_chat_template: true,
  checkpoint_interval: 50,
  max_consecutive_skips: 3,
  log_completions: true,
} satisfies GrpoConfig);

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): GrpoConfig {
  return cloneConfig(DEFAULT_CONFIG);
}

export function cloneConfig(c: Readonly<GrpoConfig>): GrpoConfig {
  return {
    ...c,
    reward_funcs: c.reward_funcs.map((r) => ({ name: r.name, weight: r.weight, params: structuredClone(r.params) })),
    lora_target_modules: [...c.lora_target_modules],
  };
}

// ---------------------------------------------------------------------------------------------------
// Documentation

type Kind =
  | { kind: 'int' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'enum'; choices: readonly string[] }
  | { kind: 'string_or_null' }
  | { kind: 'int_or_null' } // experiments: new fields
  | { kind: 'reward_funcs' }
  | { kind: 'modules' };

interface FieldSpec {
  type: Kind;
  group: string;
  doc: string;
  source?: string;
}

const DEEPSEEKMATH = 'DeepSeekMath (Shao et al. 2024), which introduced GRPO';
const DR_GRPO = 'Dr. GRPO: "Understanding R1-Zero-Like Training" (Liu et al. 2025)';
const DAPO = 'DAPO (Yu et al. 2025)';
const TRL = 'TRL GRPOConfig';
const HF = 'Hugging Face TrainingArguments (used by TRL)';
const PEFT = 'PEFT LoraConfig';
const LORA = 'LoRA (Hu et al. 2021)';

const FIELDS: Record<keyof GrpoConfig, FieldSpec> = {
  num_generations: {
    type: { kind: 'int' },
    group: 'Generation',
    doc:
      'Completions sampled per prompt (G, the group). Each completion\'s advantage is its reward compared with ' +
      'the others in its group, so at least 2 are needed; more gives a better baseline but costs generation time ' +
      'in proportion.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
  },
  max_prompt_length: {
    type: { kind: 'int' },
    group: 'Generation',
    doc: 'Longest prompt in tokens (after the chat template); longer prompts are cut from the left, keeping their end.',
    source: TRL,
  },
  max_completion_length: {
    type: { kind: 'int' },
    group: 'Generation',
    doc:
      'Most tokens generated per completion. A completion that reaches it without an end-of-sequence token is ' +
      '"truncated" (see mask_truncated_completions). Also the constant divisor of the dr_grpo loss.',
    source: TRL,
  },
  temperature: {
    type: { kind: 'number' },
    group: 'Generation',
    doc:
      'Sampling temperature: higher gives more varied completions (and so more to learn from), lower gives more ' +
      'likely ones. Log-probabilities in the loss are computed at the same temperature.',
    source: TRL,
  },
  top_p: {
    type: { kind: 'number' },
    group: 'Generation',
    doc: 'Nucleus sampling: sample only from the most likely tokens whose probabilities add up to top_p. 1.0 turns it off.',
    source: TRL,
  },
  top_k: {
    type: { kind: 'int' },
    group: 'Generation',
    doc: 'Sample only from the k most likely tokens. 0 turns it off.',
    source: TRL,
  },
  learning_rate: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc:
      'AdamW step size for the LoRA weights. LoRA adapters on small models train well around 1e-4 to 1e-3; full ' +
      'fine-tuning of large models uses far less (TRL\'s default 1e-6).',
    source: HF,
  },
  lr_scheduler_type: {
    type: { kind: 'enum', choices: LR_SCHEDULER_TYPES },
    group: 'Optimizer',
    doc: 'How the learning rate changes after warmup: "constant", "linear" decay to 0 at max_steps, or "cosine" decay to 0.',
    source: HF,
  },
  warmup_ratio: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'Fraction of max_steps over which the learning rate rises linearly from 0 to learning_rate.',
    source: HF,
  },
  weight_decay: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'AdamW decoupled weight decay on the LoRA weights; 0 turns it off.',
    source: HF,
  },
  adam_beta1: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'AdamW decay rate of the gradient\'s running mean.',
    source: HF,
  },
  adam_beta2: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'AdamW decay rate of the squared gradient\'s running mean.',
    source: HF,
  },
  adam_epsilon: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'AdamW\'s small constant added to the denominator for numerical safety.',
    source: HF,
  },
  max_grad_norm: {
    type: { kind: 'number' },
    group: 'Optimizer',
    doc: 'Gradients are scaled down when their global L2 norm exceeds this; 0 turns clipping off.',
    source: HF,
  },
  prompts_per_step: {
    type: { kind: 'int' },
    group: 'Batch',
    doc:
      'Prompts per micro-step; each brings its group of num_generations completions. TRL expresses this as ' +
      'per_device_train_batch_size = prompts_per_step × num_generations completions.',
    source: TRL,
  },
  gradient_accumulation_steps: {
    type: { kind: 'int' },
    group: 'Batch',
    doc:
      'Micro-steps whose gradients are added up before one optimizer step, so an optimizer step sees ' +
      'prompts_per_step × gradient_accumulation_steps prompts without holding them in memory at once.',
    source: HF,
  },
  num_iterations: {
    type: { kind: 'int' },
    group: 'Batch',
    doc:
      'Optimizer passes over each batch of generations (μ). With 1 the policy ratio is exactly 1 and clipping ' +
      'never acts; above 1 the same completions are reused and clipping keeps the updates close.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
  },
  beta: {
    type: { kind: 'number' },
    group: 'GRPO loss',
    doc:
      'Weight of the KL penalty that keeps the policy close to the starting model. 0 (TRL\'s default) skips the ' +
      'reference model\'s forward pass entirely; DeepSeekMath used 0.04.',
    source: `${DEEPSEEKMATH}; ${TRL}`,
  },
  epsilon: {
    type: { kind: 'number' },
    group: 'GRPO loss',
    doc: 'Clip range below 1 of the policy ratio: ratios under 1 - epsilon get no further push (PPO-style clipping).',
    source: `${DEEPSEEKMATH}; ${TRL}`,
  },
  epsilon_high: {
    type: { kind: 'number' },
    group: 'GRPO loss',
    doc:
      'Clip range above 1 of the policy ratio (1 + epsilon_high). Equal to epsilon is symmetric clipping; DAPO\'s ' +
      '"clip-higher" uses 0.28 so that unlikely but good tokens can grow, keeping exploration alive. TRL\'s ' +
      'default (None) means "same as epsilon".',
    source: `${DAPO}; ${TRL}`,
  },
  long_prompts: {
    type: { kind: 'enum', choices: LONG_PROMPTS },
    group: 'Generation',
    doc:
      'What happens to a prompt longer than max_prompt_length tokens: "truncate_left" keeps its last tokens (as TRL ' +
      'does; the beginning of BOS stays), "skip" leaves the row out. Either way the rows are counted and reported.',
    source: TRL,
  },
  loss_type: {
    type: { kind: 'enum', choices: LOSS_TYPES },
    group: 'GRPO loss',
    doc:
      'How per-token losses are averaged. "grpo": mean over each completion\'s tokens, then over completions ' +
      '(short completions weigh more per token, a length bias). "bnpo": sum over the micro-batch divided by its ' +
      'active tokens. "dr_grpo": sum divided by completions × max_completion_length, a constant, removing the ' +
      'length bias. "dapo" (TRL\'s default): sum divided by the active tokens of the whole accumulated batch.',
    source: `${DEEPSEEKMATH}; ${DR_GRPO}; ${DAPO}; ${TRL}`,
  },
  scale_rewards: {
    type: { kind: 'enum', choices: SCALE_REWARDS },
    group: 'GRPO loss',
    doc:
      'How advantages are scaled after subtracting the group\'s mean reward. "group": divide by the group\'s ' +
      'standard deviation (GRPO). "batch": by the whole batch\'s. "none": do not divide, as Dr. GRPO recommends, ' +
      'because dividing by the group\'s spread over-weights prompts that are nearly always right or wrong.',
    source: `${DEEPSEEKMATH}; ${DR_GRPO}; ${TRL}`,
  },
  mask_truncated_completions: {
    type: { kind: 'boolean' },
    group: 'GRPO loss',
    doc:
      'Leave completions that hit max_completion_length out of the loss, so an answer cut off mid-way is not ' +
      'punished as if it were wrong ("overlong filtering").',
    source: `${DAPO}; ${TRL}`,
  },
  dynamic_sampling: {
    type: { kind: 'boolean' },
    group: 'GRPO loss',
    doc:
      'Drop groups whose completions all got the same reward: their advantages are all 0, so they only dilute ' +
      'the batch. DAPO refills the batch with new prompts; here the step trains on the groups that remain.',
    source: `${DAPO} (not in TRL)`,
  },
  reward_funcs: {
    type: { kind: 'reward_funcs' },
    group: 'Rewards',
    doc:
      'Reward functions with weights; a completion\'s reward is the weighted sum of their values, skipping ' +
      'functions that return null (not applicable) for it. Built-ins: ' +
      `${BUILTIN_REWARD_NAMES.join(', ')}; or "custom" with your own JavaScript in params.source.`,
    source: `${TRL} (reward_funcs, reward_weights)`,
  },
  lora_r: {
    type: { kind: 'int' },
    group: 'LoRA',
    doc: 'Rank of the LoRA update B·A added to each target weight. Higher can learn more, with more parameters to train.',
    source: `${LORA}; ${PEFT}`,
  },
  lora_alpha: {
    type: { kind: 'number' },
    group: 'LoRA',
    doc: 'Scale of the LoRA update: the update is multiplied by lora_alpha / lora_r (or lora_alpha / √lora_r with use_rslora).',
    source: `${LORA}; ${PEFT}`,
  },
  lora_dropout: {
    type: { kind: 'number' },
    group: 'LoRA',
    doc: 'Dropout probability on the LoRA branch\'s input during training; 0 turns it off.',
    source: PEFT,
  },
  lora_target_modules: {
    type: { kind: 'modules' },
    group: 'LoRA',
    doc:
      'Which linear layers get an adapter: attention (q_proj, k_proj, v_proj, o_proj) and MLP (gate_proj, up_proj, ' +
      'down_proj). More modules train more parameters.',
    source: PEFT,
  },
  use_rslora: {
    type: { kind: 'boolean' },
    group: 'LoRA',
    doc: 'Rank-stabilised LoRA: scale by lora_alpha / √lora_r instead of lora_alpha / lora_r, which keeps higher ranks learning.',
    source: `rsLoRA (Kalajdzievski 2023); ${PEFT}`,
  },
  seed: {
    type: { kind: 'int' },
    group: 'Run',
    doc: 'Seed for the LoRA initialisation, the data order, the train/eval split and sampling: the same seed, config and data give the same run.',
    source: HF,
  },
  max_steps: {
    type: { kind: 'int' },
    group: 'Run',
    doc: 'Number of optimizer steps to train for.',
    source: HF,
  },
  eval_split: {
    type: { kind: 'number' },
    group: 'Evaluation',
    doc: 'Fraction of the dataset held out for evaluation (0 to 0.5); never trained on. 0 means no evaluation.',
  },
  eval_interval: {
    type: { kind: 'int' },
    group: 'Evaluation',
    doc: 'Evaluate every this many optimizer steps, and always before the first and after the last step. 0 evaluates only before and after.',
    source: `${HF} (eval_steps)`,
  },
  eval_max_samples: {
    type: { kind: 'int' },
    group: 'Evaluation',
    doc: 'At most this many held-out prompts per evaluation, to keep evaluation quick.',
  },  eval_temperature: {
    type: { kind: 'number' },
    group: 'Evaluation',
    doc: 'Temperature of the evaluation\'s completions. 0 is greedy decoding (pass@1 = greedy accuracy); above 0, pass@1 is the share of ' +
      'single sampled completions that pass (as DeepSeek-R1 reports it), with the same seed at every evaluation so that curves compare like with like. ' +
      'Setting it to the training temperature measures what the reward curve measures, on held-out prompts.',
  },
  // experiments: new fields
  num_generations_eval: {
    type: { kind: 'int_or_null' },
    group: 'Evaluation',
    doc: 'Completions sampled per held-out prompt at each evaluation (at eval_temperature, which should then be above 0). With n of them, ' +
      'eval/pass@k for k = 1..n is the unbiased estimate of Chen et al. 2021 (1 - C(n-c, k)/C(n, k), c passing), and eval/mean@k the mean ' +
      'accuracy of the first k; eval/pass@1 becomes c/n averaged over prompts. null: one completion per prompt (eval/pass@1 as before).',
  },

  system_prompt: {
    type: { kind: 'string_or_null' },
    group: 'Prompt',
    doc: 'System message put before every prompt (as the chat template\'s system turn, or as plain text above the prompt); null for none.',
  },
  prompt_template: {
    type: { kind: 'string_or_null' },
    group: 'Prompt',
    doc: 'Text wrapped around each dataset prompt, with {prompt} where the prompt goes, e.g. "Question: {prompt}\\nAnswer:"; null uses the prompt as it is.',
  },
  use_chat_template: {
    type: { kind: 'boolean' },
    group: 'Prompt',
    doc:
      'Format prompts with the model\'s chat template (system and user turns, then the start of the assistant\'s ' +
      'turn) when the model has one; base models without a template get the plain text.',
    source: TRL,
  },
  checkpoint_interval: {
    type: { kind: 'int' },
    group: 'Logging and checkpoints',
    doc: 'Save the LoRA adapter every this many optimizer steps (and at the end); 0 saves only at the end.',
    source: `${HF} (save_steps)`,
  },
  max_consecutive_skips: {
    type: { kind: 'int' },
    group: 'Logging and checkpoints',
    doc:
      'An update whose loss or gradient norm is not finite (NaN or infinite) is skipped and counted; after this ' +
      'many skipped steps in a row the run pauses with a message, its last good weights and optimizer state intact.',
  },
  log_completions: {
    type: { kind: 'boolean' },
    group: 'Logging and checkpoints',
    doc: 'Keep every step\'s prompts, completions and rewards for display, so you can read what the model writes as it learns.',
    source: TRL,
  },
};

export interface ConfigFieldDoc {
  doc: string;
  group: string;
  default: unknown;
  source?: string;
}

/** Help text of every field, for the UI: what it does, its default, and where it comes from. */
export const CONFIG_DOCS: Record<keyof GrpoConfig, ConfigFieldDoc> = Object.fromEntries(
  (Object.keys(FIELDS) as (keyof GrpoConfig)[]).map((k) => [
    k,
    { doc: FIELDS[k].doc, group: FIELDS[k].group, default: DEFAULT_CONFIG[k], ...(FIELDS[k].source ? { source: FIELDS[k].source } : {}) },
  ]),
) as Record<keyof GrpoConfig, ConfigFieldDoc>;

export const CONFIG_KEYS = Object.keys(FIELDS) as (keyof GrpoConfig)[];

// ---------------------------------------------------------------------------------------------------
// Validation

export interface ValidationContext {
  /** the model's context length: prompt and completion must fit in it together */
  maxSequenceLength?: number;
}

/** Every problem with a (well-typed) config, each saying what to change; [] when it is usable. */
export function validateConfig(c: GrpoConfig, ctx: ValidationContext = {}): string[] {
  const p: string[] = [];
  const whole = (k: keyof GrpoConfig, min: number, why = ''): boolean => {
    const v = c[k] as number;
    if (!Number.isInteger(v)) {
      p.push(`${k} must be a whole number, got ${v}${why}`);
      return false;
    }
    if (v < min) {
      p.push(`${k} must be at least ${min}, got ${v}${why}`);
      return false;
    }
    return true;
  };
  const range = (k: keyof GrpoConfig, lo: number, hi: number, loOpen: boolean, hiOpen: boolean, advice: string): void => {
    const v = c[k] as number;
    const ok = Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
    if (!ok) p.push(`${k} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}; ${advice}`);
  };

  // generation
  if (Number.isInteger(c.num_generations) && c.num_generations < 2) {
    p.push(`num_generations must be at least 2 for GRPO: a group of ${c.num_generations} has no variance to compare completions with; set it to 2 or more (8 is typical)`);
  } else whole('num_generations', 2);
  whole('max_prompt_length', 1);
  whole('max_completion_length', 1);
  if (ctx.maxSequenceLength !== undefined && c.max_prompt_length + c.max_completion_length > ctx.maxSequenceLength) {
    p.push(
      `max_prompt_length + max_completion_length = ${c.max_prompt_length + c.max_completion_length} tokens is more than the model's context of ` +
        `${ctx.maxSequenceLength}; lower one of them so that they add up to at most ${ctx.maxSequenceLength}`,
    );
  }
  if (!(Number.isFinite(c.temperature) && c.temperature > 0)) {
    p.push(`temperature must be greater than 0, got ${c.temperature}; for nearly greedy sampling use a small value such as 0.1`);
  } else if (c.temperature > 10) p.push(`temperature ${c.temperature} samples close to uniformly random tokens; use a value between 0.1 and 2`);
  range('top_p', 0, 1, true, false, 'use 1.0 to turn nucleus sampling off');
  whole('top_k', 0, ' (0 turns top-k off)');

  // optimizer
  range('learning_rate', 0, 1, true, false, 'LoRA usually trains well with 1e-4 to 1e-3');
  range('warmup_ratio', 0, 1, false, false, 'it is the fraction of max_steps spent warming up; 0 means no warmup');
  if (!(Number.isFinite(c.weight_decay) && c.weight_decay >= 0)) p.push(`weight_decay must be 0 or more, got ${c.weight_decay}; 0 turns it off`);
  range('adam_beta1', 0, 1, false, true, 'the usual value is 0.9');
  range('adam_beta2', 0, 1, false, true, 'the usual value is 0.999');
  if (!(Number.isFinite(c.adam_epsilon) && c.adam_epsilon > 0)) p.push(`adam_epsilon must be greater than 0, got ${c.adam_epsilon}; the usual value is 1e-8`);
  if (!(Number.isFinite(c.max_grad_norm) && c.max_grad_norm >= 0)) p.push(`max_grad_norm must be 0 or more, got ${c.max_grad_norm}; 0 turns gradient clipping off, 1.0 is usual`);

  // batch
  if (Number.isFinite(c.prompts_per_step) && !Number.isInteger(c.prompts_per_step)) {
    p.push(
      `prompts_per_step must be a whole number, got ${c.prompts_per_step}: every micro-step trains on whole groups, and TRL requires the ` +
        `generation batch (here ${c.prompts_per_step} × ${c.num_generations} = ${c.prompts_per_step * c.num_generations} completions) to be divisible ` +
        `by num_generations (${c.num_generations}); round prompts_per_step to ${Math.max(1, Math.round(c.prompts_per_step))}`,
    );
  } else whole('prompts_per_step', 1);
  whole('gradient_accumulation_steps', 1);
  whole('num_iterations', 1, ' (1 means one optimizer pass per batch of generations)');

  // loss
  if (!(Number.isFinite(c.beta) && c.beta >= 0)) p.push(`beta must be 0 or more, got ${c.beta}; 0 turns the KL penalty off, DeepSeekMath used 0.04`);
  range('epsilon', 0, 1, true, true, 'the usual value is 0.2');
  if (!(Number.isFinite(c.epsilon_high) && c.epsilon_high > 0)) {
    p.push(`epsilon_high must be greater than 0, got ${c.epsilon_high}; set it equal to epsilon for symmetric clipping`);
  } else if (Number.isFinite(c.epsilon) && c.epsilon_high < c.epsilon) {
    p.push(
      `epsilon_high (${c.epsilon_high}) is smaller than epsilon (${c.epsilon}): the upper clip range should be at least the lower one; ` +
        `set epsilon_high to ${c.epsilon} for symmetric clipping, or higher (DAPO uses 0.28 with epsilon 0.2)`,
    );
  }

  // rewards
  checkRewardFuncs(c, p);

  // LoRA
  whole('lora_r', 1);
  if (!(Number.isFinite(c.lora_alpha) && c.lora_alpha > 0)) {
    p.push(`lora_alpha must be greater than 0, got ${c.lora_alpha}: the update is scaled by lora_alpha / lora_r; a common choice is 2 × lora_r (${2 * c.lora_r})`);
  }
  range('lora_dropout', 0, 1, false, true, '0 turns dropout off');
  if (c.lora_target_modules.length === 0) {
    p.push(`lora_target_modules is empty: LoRA would train nothing; choose at least one of ${LORA_TARGET_MODULES.join(', ')}`);
  }
  const seen = new Set<string>();
  for (const m of c.lora_target_modules) {
    if (!(LORA_TARGET_MODULES as readonly string[]).includes(m)) {
      const hint = closestMatch(m, LORA_TARGET_MODULES);
      p.push(`lora_target_modules has unknown module ${JSON.stringify(m)}${hint ? ` (did you mean ${hint}?)` : ''}; the modules are ${LORA_TARGET_MODULES.join(', ')}`);
    } else if (seen.has(m)) p.push(`lora_target_modules lists ${m} twice; list each module once`);
    seen.add(m);
  }

  // run
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff) p.push(`seed must be a whole number from 0 to 4294967295, got ${c.seed}`);
  whole('max_steps', 1);

  // evaluation
  range('eval_split', 0, 0.5, false, false, 'hold out at most half of the data for evaluation; 0 turns evaluation off');
  whole('eval_interval', 0, ' (0 evaluates only before the first and after the last step)');
  whole('eval_max_samples', 1);
  range('eval_temperature', 0, 2, false, false, '0 is greedy decoding');
  // experiments: new fields
  if (c.num_generations_eval !== null && (!Number.isInteger(c.num_generations_eval) || c.num_generations_eval < 1 || c.num_generations_eval > 64)) {
    p.push(`num_generations_eval must be a whole number from 1 to 64 (samples per held-out prompt), or null for one, got ${c.num_generations_eval}`);
  } else if (c.num_generations_eval !== null && c.num_generations_eval > 1 && c.eval_temperature === 0) {
    p.push(`num_generations_eval is ${c.num_generations_eval} but eval_temperature is 0 (greedy), so every sample of a prompt is the same; set eval_temperature above 0 (e.g. 1) or num_generations_eval to null`);
  }

  // prompt
  if (c.prompt_template !== null && !c.prompt_template.includes('{prompt}')) {
    p.push(`prompt_template must contain {prompt} where the dataset's prompt goes, e.g. "Question: {prompt}\\nAnswer:"; set it to null to use prompts as they are`);
  }

  whole('checkpoint_interval', 0, ' (0 saves only at the end)');
  whole('max_consecutive_skips', 1, '');
  return p;
}

function checkRewardFuncs(c: GrpoConfig, p: string[]): void {
  if (c.reward_funcs.length === 0) {
    p.push(`reward_funcs is empty: GRPO needs at least one reward; add one of ${BUILTIN_REWARD_NAMES.join(', ')} or ${CUSTOM_REWARD_NAME}`);
    return;
  }
  c.reward_funcs.forEach((r, i) => {
    const at = `reward_funcs[${i}] (${r.name})`;
    if (!isBuiltinReward(r.name) && r.name !== CUSTOM_REWARD_NAME) {
      const hint = closestMatch(r.name, [...BUILTIN_REWARD_NAMES, CUSTOM_REWARD_NAME]);
      p.push(`reward_funcs[${i}]: unknown reward ${JSON.stringify(r.name)}${hint ? ` (did you mean ${hint}?)` : ''}; use one of ${BUILTIN_REWARD_NAMES.join(', ')} or ${CUSTOM_REWARD_NAME}`);
      return;
    }
    if (!Number.isFinite(r.weight)) p.push(`${at}: weight must be a finite number, got ${r.weight}`);
    p.push(...checkParamsFor(r.name, r.params).map((m) => `reward_funcs[${i}]: ${m}`));
    if (r.name === CUSTOM_REWARD_NAME) {
      const source = r.params.source;
      if (typeof source !== 'string') p.push(`${at}: params.source must hold the function's JavaScript, e.g. "(prompt, completion, answer, row) => 1"`);
      else {
        const problem = checkCustomRewardSource(source);
        if (problem) p.push(`${at}: ${problem}`);
      }
    }
    if (r.name === 'soft_overlong') {
      const max = r.params.max_completion_length;
      const cache = r.params.cache_length ?? 16;
      const effMax = typeof max === 'number' ? max : c.max_completion_length;
      if (typeof max === 'number' && max > c.max_completion_length) {
        p.push(
          `${at}: params.max_completion_length (${max}) is larger than the run's max_completion_length (${c.max_completion_length}), ` +
            `so completions are cut before the punishment reaches -1; set it to at most ${c.max_completion_length}, or null to use the run's value`,
        );
      }
      if (typeof cache === 'number' && cache >= effMax) {
        p.push(`${at}: params.cache_length (${cache}) must be smaller than max_completion_length (${effMax}); DAPO used a fifth of it (e.g. ${Math.max(1, Math.floor(effMax / 5))})`);
      }
    }
  });
  if (c.reward_funcs.every((r) => r.weight === 0)) p.push('every reward weight is 0, so every completion gets reward 0 and nothing is learned; give at least one reward a non-zero weight');
}

// ---------------------------------------------------------------------------------------------------
// JSON import

/** Keys from TRL / PEFT / HF that this config names differently, with what to write instead. */
const FOREIGN_KEYS: Record<string, string> = {
  per_device_train_batch_size: 'use prompts_per_step = per_device_train_batch_size / num_generations (the number of prompts, not completions)',
  generation_batch_size: 'use prompts_per_step and gradient_accumulation_steps (one generation batch per optimizer step)',
  steps_per_generation: 'generations are made once per optimizer step here; use gradient_accumulation_steps',
  reward_weights: 'put each weight in its reward_funcs entry: {"name": ..., "weight": ...}',
  r: 'use lora_r',
  target_modules: 'use lora_target_modules',
  warmup_steps: 'use warmup_ratio = warmup_steps / max_steps',
  eval_steps: 'use eval_interval',
  save_steps: 'use checkpoint_interval',
  num_train_epochs: 'use max_steps (optimizer steps)',
};

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function typeProblem(key: string, kind: Kind, v: unknown): string | null {
  switch (kind.kind) {
    case 'int':
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `${key} must be a number, got ${describeValue(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `${key} must be true or false, got ${describeValue(v)}`;
    case 'enum':
      return typeof v === 'string' && kind.choices.includes(v) ? null : `${key} must be one of ${kind.choices.map((x) => JSON.stringify(x)).join(', ')}, got ${describeValue(v)}`;
    case 'string_or_null':
      return v === null || typeof v === 'string' ? null : `${key} must be a string or null, got ${describeValue(v)}`;
    case 'int_or_null': // experiments: new fields
      return v === null || (typeof v === 'number' && Number.isFinite(v)) ? null : `${key} must be a number or null, got ${describeValue(v)}`;
    case 'modules':
      return Array.isArray(v) && v.every((m) => typeof m === 'string') ? null : `${key} must be an array of module names such as ["q_proj", "v_proj"], got ${describeValue(v)}`;
    case 'reward_funcs':
      return Array.isArray(v) ? null : `${key} must be an array of {"name", "weight", "params"} objects, got ${describeValue(v)}`;
  }
}

function parseRewardFuncs(v: unknown[], problems: string[]): RewardFuncConfig[] {
  const out: RewardFuncConfig[] = [];
  v.forEach((item, i) => {
    const at = `reward_funcs[${i}]`;
    if (typeof item === 'string') {
      out.push({ name: item, weight: 1, params: {} });
      return;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${at} must be an object like {"name": "exact_match", "weight": 1, "params": {}}, got ${describeValue(item)}`);
      return;
    }
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['name', 'weight', 'params'].includes(k)) {
        const hint = closestMatch(k, ['name', 'weight', 'params']);
        problems.push(`${at} has unknown key ${JSON.stringify(k)}${hint ? ` (did you mean ${hint}?)` : ''}; an entry has name, weight and params`);
      }
    }
    if (typeof o.name !== 'string') {
      problems.push(`${at}.name must be the name of a reward function (${BUILTIN_REWARD_NAMES.join(', ')}, ${CUSTOM_REWARD_NAME}), got ${describeValue(o.name)}`);
      return;
    }
    if (o.weight !== undefined && (typeof o.weight !== 'number' || !Number.isFinite(o.weight))) {
      problems.push(`${at}.weight must be a number, got ${describeValue(o.weight)}`);
      return;
    }
    if (o.params !== undefined && (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params))) {
      problems.push(`${at}.params must be an object, got ${describeValue(o.params)}`);
      return;
    }
    out.push({ name: o.name, weight: (o.weight as number | undefined) ?? 1, params: structuredClone((o.params as Record<string, unknown> | undefined) ?? {}) });
  });
  return out;
}

/** A config from JSON (a parsed value, or its text): merged onto the defaults, unknown keys (with the
 * closest known key), wrong types and failed validation all reported together in one thrown Error whose
 * message starts with `source`. */
export function parseConfigJson(json: unknown, source: string, ctx: ValidationContext = {}): GrpoConfig {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${source}: a config must be a JSON object of settings such as {"learning_rate": 0.0005}, got ${describeValue(value)}`);
  }
  const problems: string[] = [];
  const config = defaultConfig();
  const out = config as unknown as Record<string, unknown>;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!Object.prototype.hasOwnProperty.call(FIELDS, key)) {
      const foreign = FOREIGN_KEYS[key];
      const hint = closestMatch(key, CONFIG_KEYS);
      problems.push(
        foreign ? `unknown key ${JSON.stringify(key)}: ${foreign}` : `unknown key ${JSON.stringify(key)}${hint ? `; did you mean ${hint}?` : '; see the list of settings for the known keys'}`,
      );
      continue;
    }
    const spec = FIELDS[key as keyof GrpoConfig];
    const problem = typeProblem(key, spec.type, v);
    if (problem) {
      problems.push(problem);
      continue;
    }
    if (spec.type.kind === 'reward_funcs') out[key] = parseRewardFuncs(v as unknown[], problems);
    else if (spec.type.kind === 'modules') out[key] = [...(v as string[])];
    else out[key] = v;
  }
  if (problems.length === 0) problems.push(...validateConfig(config, ctx));
  if (problems.length) {
    throw new Error(`${source}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the config:\n${problems.map((m) => `- ${m}`).join('\n')}`);
  }
  return config;
}

// ---------------------------------------------------------------------------------------------------
// Export in TRL's names

export interface TrlExport {
  /** keyword arguments of trl.GRPOConfig */
  grpo_config: Record<string, unknown>;
  /** keyword arguments of peft.LoraConfig */
  lora_config: Record<string, unknown>;
  /** the reward functions in order (their weights are grpo_config.reward_weights) */
  reward_funcs: { name: string; params: Record<string, unknown> }[];
  /** settings of this playground that TRL does not have */
  not_in_trl: Record<string, unknown>;
}

export function configToTrlJson(c: GrpoConfig): TrlExport {
  return {
    grpo_config: {
      num_generations: c.num_generations,
      max_prompt_length: c.max_prompt_length,
      max_completion_length: c.max_completion_length,
      temperature: c.temperature,
      top_p: c.top_p,
      top_k: c.top_k,
      learning_rate: c.learning_rate,
      // Hugging Face's "constant" ignores warmup; ours warms up first, which HF calls constant_with_warmup.
      lr_scheduler_type: c.lr_scheduler_type === 'constant' && c.warmup_ratio > 0 ? 'constant_with_warmup' : c.lr_scheduler_type,
      warmup_ratio: c.warmup_ratio,
      weight_decay: c.weight_decay,
      adam_beta1: c.adam_beta1,
      adam_beta2: c.adam_beta2,
      adam_epsilon: c.adam_epsilon,
      max_grad_norm: c.max_grad_norm,
      per_device_train_batch_size: c.prompts_per_step * c.num_generations,
      gradient_accumulation_steps: c.gradient_accumulation_steps,
      num_iterations: c.num_iterations,
      beta: c.beta,
      epsilon: c.epsilon,
      epsilon_high: c.epsilon_high,
      loss_type: c.loss_type,
      scale_rewards: c.scale_rewards,
      mask_truncated_completions: c.mask_truncated_completions,
      reward_weights: c.reward_funcs.map((r) => r.weight),
      seed: c.seed,
      max_steps: c.max_steps,
      eval_strategy: c.eval_split > 0 ? 'steps' : 'no',
      ...(c.eval_split > 0 && c.eval_interval > 0 ? { eval_steps: c.eval_interval } : {}),
      save_strategy: c.checkpoint_interval > 0 ? 'steps' : 'no',
      ...(c.checkpoint_interval > 0 ? { save_steps: c.checkpoint_interval } : {}),
      log_completions: c.log_completions,
      logging_steps: 1,
    },
    lora_config: {
      task_type: 'CAUSAL_LM',
      r: c.lora_r,
      lora_alpha: c.lora_alpha,
      lora_dropout: c.lora_dropout,
      target_modules: [...c.lora_target_modules],
      use_rslora: c.use_rslora,
      bias: 'none',
    },
    reward_funcs: c.reward_funcs.map((r) => ({ name: r.name, params: structuredClone(r.params) })),
    not_in_trl: {
      dynamic_sampling: c.dynamic_sampling,
      eval_split: c.eval_split,
      eval_max_samples: c.eval_max_samples,
      eval_temperature: c.eval_temperature,
      system_prompt: c.system_prompt,
      prompt_template: c.prompt_template,
      use_chat_template: c.use_chat_template,
    },
  };
}
