// The built-in model and demo datasets that the playground's first screen selects, and the demo's
// default GRPO config. The model is pretrained by `npm run pretrain` (scripts/pretrain.ts) from random
// initialisation on the corpus of src/demo/corpus.ts; `npm run demo:report` measures the demo's effect.

import { defaultConfig, type GrpoConfig, type RewardFuncConfig } from '../grpo/config';

export interface BuiltinModel {
  name: string;
  /** folder under the site's base URL (public/ in the repository), ending in '/' */
  path: string;
  /** files of the Hugging Face folder, relative to path */
  files: string[];
}

export const BUILTIN_MODEL: Readonly<BuiltinModel> = Object.freeze({
  name: 'tiny-puzzles',
  path: 'models/tiny-puzzles/',
  files: ['config.json', 'model.safetensors', 'tokenizer.json'],
});

export interface DemoDataset {
  id: string;
  name: string;
  /** JSONL file (fields prompt, answer) under the site's base URL */
  path: string;
  description: string;
  rewardFuncs: RewardFuncConfig[];
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
  },
  {
    id: 'reverse4',
    name: 'Reverse 4 letters (harder)',
    path: 'datasets/reverse4.jsonl',
    description: 'Write four letters backwards, e.g. "rev kqzt=" → "tzqk". Harder for the built-in model, which often gets letters wrong as well. Rewarded by exact_match.',
    rewardFuncs: [{ name: 'exact_match', weight: 1, params: {} }],
  },
  {
    id: 'addition',
    name: 'Addition (2-digit)',
    path: 'datasets/addition.jsonl',
    description: 'Add two two-digit numbers, e.g. "35+48=" → "83". Rewarded by numeric_match (1 when the number is right). The built-in model is rarely right here: a hard task.',
    rewardFuncs: [{ name: 'numeric_match', weight: 1, params: {} }],
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
  return c;
}
