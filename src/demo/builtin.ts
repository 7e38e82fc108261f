// The built-in models and demo datasets that the playground's first screen offers, and each demo's
// default GRPO config. tiny-puzzles is pretrained by `npm run pretrain` (scripts/pretrain.ts) on the corpus
// of src/demo/corpus.ts; tiny-calculator by `npm run pretrain:calculator` (scripts/pretrain_calculator.ts) on
// the calculator corpus of src/demo/calculator.ts. The preference demo (reverse_pairs, src/demo/preference.ts)
// trains tiny-puzzles with DPO on pairs of the main demo's prompts. `npm run demo:report [-- --demo calculator|dpo]`
// measures each demo's effect.

import { defaultConfig, type GrpoConfig, type RewardFuncConfig } from '../grpo/config';
import { CALC_PATTERN, CALCULATOR_TOOLS_SOURCE } from './calculator';
import { dpoDemoConfig } from './preference';

export interface BuiltinModel {
  name: string;
  /** folder under the site's base URL (public/ in the repository), ending in '/' */
  path: string;
  /** files of the Hugging Face folder, relative to path */
  files: string[];
  /** one line for the model panel */
  description: string;
}

const HF_FILES = ['config.json', 'model.safetensors', 'tokenizer.json'];

export const BUILTIN_MODEL: Readonly<BuiltinModel> = Object.freeze({
  name: 'tiny-puzzles',
  path: 'models/tiny-puzzles/',
  files: HF_FILES,
  description: 'a small Llama-style model (0.5M parameters, one token per character) pretrained from scratch on letter reversals and small additions',
});

export const CALCULATOR_MODEL: Readonly<BuiltinModel> = Object.freeze({
  name: 'tiny-calculator',
  path: 'models/tiny-calculator/',
  files: HF_FILES,
  description:
    'the same shape (0.5M parameters), pretrained on 3-digit additions where it calls a calculator tool as [123+456] and reads ' +
    '(579) back: it copies the numbers into the call carelessly, sometimes answers without calling, and cannot add in its head',
});

/** Every built-in model; the first is the one the first screen loads. */
export const BUILTIN_MODELS: readonly Readonly<BuiltinModel>[] = Object.freeze([BUILTIN_MODEL, CALCULATOR_MODEL]);

/** The built-in model of that name (throws for an unknown one). */
export function builtinModel(name: string): Readonly<BuiltinModel> {
  const m = BUILTIN_MODELS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown built-in model ${JSON.stringify(name)}; the built-in models are ${BUILTIN_MODELS.map((x) => x.name).join(', ')}`);
  return m;
}

export interface DemoDataset {
  id: string;
  name: string;
  /** JSONL file (fields prompt, answer) under the site's base URL */
  path: string;
  description: string;
  rewardFuncs: RewardFuncConfig[];
  /** the built-in model it is made for (BUILTIN_MODELS' name) */
  model: string;
  /** the demo gives the model tools (their source is in demoConfig's tools_source) */
  tools?: boolean;
  /** a preference demo: the file holds pairs (prompt, chosen, rejected) and demoConfig trains this algorithm */
  algorithm?: 'dpo';
}

export const DEMO_DATASETS: readonly DemoDataset[] = Object.freeze([
  {
    id: 'reverse',
    name: 'Reverse 3 letters',
    path: 'datasets/reverse.jsonl',
    description:
      'Write three letters backwards, e.g. "rev kqz=" → "zqk". The built-in model learned reversing from a careless corpus that ' +
      'swaps the last two letters half the time ("zkq"), so it is right only part of the time; exact_match rewards the right answer ' +
      'and GRPO lifts held-out accuracy within a few hundred steps.',
    rewardFuncs: [{ name: 'exact_match', weight: 1, params: {} }],
    model: BUILTIN_MODEL.name,
  },
  {
    id: 'reverse4',
    name: 'Reverse 4 letters (harder)',
    path: 'datasets/reverse4.jsonl',
    description: 'Write four letters backwards, e.g. "rev kqzt=" → "tzqk". Harder for the built-in model, which often gets letters wrong as well. Rewarded by exact_match.',
    rewardFuncs: [{ name: 'exact_match', weight: 1, params: {} }],
    model: BUILTIN_MODEL.name,
  },
  {
    id: 'addition',
    name: 'Addition (2-digit)',
    path: 'datasets/addition.jsonl',
    description: 'Add two two-digit numbers, e.g. "35+48=" → "83". Rewarded by numeric_match (1 when the number is right). The built-in model is rarely right here: a hard task.',
    rewardFuncs: [{ name: 'numeric_match', weight: 1, params: {} }],
    model: BUILTIN_MODEL.name,
  },
  {
    id: 'calculator',
    name: 'Calculator tool (3-digit addition)',
    path: 'datasets/calculator.jsonl',
    description:
      'Add two 3-digit numbers, e.g. "123+456=" → "579", with a calculator tool. For the built-in tiny-calculator model, which cannot add ' +
      'in its head: it calls the tool as [123+456], the engine runs it and inserts (579), and the model copies the result. It copies the ' +
      'numbers into the call carelessly and sometimes answers without calling; numeric_match rewards the right sum, and GRPO teaches it to ' +
      'call, and to copy exactly.',
    rewardFuncs: [{ name: 'numeric_match', weight: 1, params: {} }],
    model: CALCULATOR_MODEL.name,
    tools: true,
  },
  {
    id: 'reverse_pairs',
    name: 'Prefer the right reversal (DPO)',
    path: 'datasets/reverse_pairs.jsonl',
    description:
      'The main demo\'s prompts as preference pairs: the right reversal (chosen, "zqk") against the slipped one the built-in model ' +
      'writes out of habit (rejected, "zkq"). DPO (with the sft term) trains on the pairs, no sampling: held-out pair accuracy ' +
      'climbs to about 100% and greedy accuracy rises (46% -> 99% in `npm run demo:report -- --demo dpo`).',
    rewardFuncs: [{ name: 'exact_match', weight: 1, params: {} }],
    model: BUILTIN_MODEL.name,
    algorithm: 'dpo',
  },
]);

/** The main demo, selected on the first screen. */
export const DEFAULT_DEMO_DATASET_ID = 'reverse';

/** The demo's default GRPO config for a dataset id of DEMO_DATASETS (throws for an unknown id). */
export function demoConfig(datasetId: string = DEFAULT_DEMO_DATASET_ID): GrpoConfig {
  const ds = DEMO_DATASETS.find((d) => d.id === datasetId);
  if (!ds) throw new Error(`unknown demo dataset ${JSON.stringify(datasetId)}; the demo datasets are ${DEMO_DATASETS.map((d) => d.id).join(', ')}`);
  const c = defaultConfig();
  c.num_generations = 8;
  c.prompts_per_step = 4;
  c.max_prompt_length = 16;
  c.max_completion_length = 8;
  c.temperature = 1.0;
  c.learning_rate = 3e-3;
  c.lora_r = 8;
  c.lora_alpha = 16;
  c.max_steps = 300;
  c.eval_interval = 25;
  // a fifth of the prompts held out: about 100 for the main demo
  c.eval_split = 0.2;
  c.eval_max_samples = 100;
  // pass@1 as the reward measures it: one completion sampled at the training temperature
  c.eval_temperature = c.temperature;
  c.use_chat_template = false;
  c.reward_funcs = ds.rewardFuncs.map((r) => ({ name: r.name, weight: r.weight, params: structuredClone(r.params) }));
  if (ds.tools) {
    // "[123+456](579)579" and the stop token: 18 tokens at most
    c.max_completion_length = 24;
    c.tools_source = CALCULATOR_TOOLS_SOURCE;
    c.tool_call_format = 'pattern';
    c.tool_call_open = CALC_PATTERN.open;
    c.tool_call_close = CALC_PATTERN.close;
    c.tool_result_template = CALC_PATTERN.resultTemplate;
    c.max_tool_calling_iterations = 1;
    c.max_steps = 200;
    // copying the numbers exactly takes more than the attention projections: LoRA r=16 on all seven
    // (measured: 26% held-out pass@1 at step 50 with r=8 on q/k/v/o, 42% with r=16 on all seven at a
    // constant 3e-3, from the same 8% start). At a constant 3e-3 that run collapsed after step 130 (tool
    // calls 1.00 -> 0.03, reward 0); 2e-3 decaying on a cosine stayed stable (docs/demo/calculator/report.json)
    c.learning_rate = 2e-3;
    c.lr_scheduler_type = 'cosine';
    c.lora_r = 16;
    c.lora_alpha = 32;
    c.lora_target_modules = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  }
  return ds.algorithm === 'dpo' ? dpoDemoConfig(c) : c;
}
