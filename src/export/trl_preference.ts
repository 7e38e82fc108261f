// The TRL script for the preference algorithms, by TRL's trainer (TRL v1.9, commit f2cd577): "dpo" ->
// DPOTrainer / DPOConfig, "simpo" -> CPOTrainer / CPOConfig with loss_type "simpo" (trl.experimental.cpo),
// "orpo" -> ORPOTrainer / ORPOConfig (trl.experimental.orpo), "kto" -> KTOTrainer / KTOConfig. Only keywords
// those configs accept are passed (test/export/trl_keywords.test.ts checks them against the field lists):
// the TrainingArguments part of the GRPO export (configToTrlJson) with the batch size counted in pairs, plus
// each trainer's own fields; the LoraConfig is the GRPO export's.

import { configToTrlJson, type GrpoConfig } from '../grpo/config';
import type { PreferenceAlgorithm } from '../grpo/config/enums';
import TEMPLATE from './templates/train_preference.py?raw';
import { baseLoading, fillTemplate, pyLiteral, type TrlScriptInput } from './trl_script';
import { pyComment, pyDocstring, pyIdentifier } from './py_escape';

/** TrainingArguments keywords the GRPO export writes that mean the same for a preference trainer. */
const TRAINING_KEYS = [
  'learning_rate', 'lr_scheduler_type', 'warmup_steps', 'max_steps', 'gradient_accumulation_steps', 'adam_beta1', 'adam_beta2',
  'adam_epsilon', 'weight_decay', 'max_grad_norm', 'seed', 'eval_strategy', 'eval_steps', 'eval_on_start', 'save_strategy', 'save_steps',
];

export const PREFERENCE_TRAINERS: Record<PreferenceAlgorithm, { trainer: string; config: string; module: string }> = {
  dpo: { trainer: 'DPOTrainer', config: 'DPOConfig', module: 'trl' },
  simpo: { trainer: 'CPOTrainer', config: 'CPOConfig', module: 'trl.experimental.cpo' },
  orpo: { trainer: 'ORPOTrainer', config: 'ORPOConfig', module: 'trl.experimental.orpo' },
  kto: { trainer: 'KTOTrainer', config: 'KTOConfig', module: 'trl' },
  reward_model: { trainer: 'RewardTrainer', config: 'RewardConfig', module: 'trl' },
};

/** The trainer config's keyword arguments for a preference run. */
export function preferenceConfigKwargs(c: GrpoConfig & { algorithm: PreferenceAlgorithm }): Record<string, unknown> {
  const grpo = configToTrlJson(c).grpo_config;
  const out: Record<string, unknown> = {};
  for (const k of TRAINING_KEYS) if (k in grpo) out[k] = grpo[k];
  out.per_device_train_batch_size = c.prompts_per_step;
  if (c.eval_split > 0) out.per_device_eval_batch_size = c.prompts_per_step;
  out.logging_steps = 1;
  // the playground keeps prompt + completion within max_prompt_length + max_completion_length
  out.max_length = c.max_prompt_length + c.max_completion_length;
  if (c.algorithm !== 'reward_model') out.beta = c.beta;
  switch (c.algorithm) {
    case 'dpo':
      out.loss_type = c.sft_loss_weight > 0 ? [c.dpo_loss_type, 'sft'] : [c.dpo_loss_type];
      if (c.sft_loss_weight > 0) out.loss_weights = [1, c.sft_loss_weight];
      out.label_smoothing = c.label_smoothing;
      out.precompute_ref_log_probs = true;
      break;
    case 'simpo':
      out.loss_type = 'simpo';
      out.simpo_gamma = c.simpo_gamma;
      out.cpo_alpha = c.cpo_alpha;
      out.label_smoothing = c.label_smoothing;
      out.max_completion_length = c.max_completion_length;
      break;
    case 'orpo':
      out.max_completion_length = c.max_completion_length;
      break;
    case 'kto':
      out.desirable_weight = c.desirable_weight;
      out.undesirable_weight = c.undesirable_weight;
      out.precompute_ref_log_probs = true;
      // KTO's KL baseline pairs each prompt with the previous example's completion: TRL requires sequential order
      out.train_sampling_strategy = 'sequential';
      break;
    case 'reward_model':
      // 0 is TRL's None (no centring term)
      out.center_rewards_coefficient = c.center_rewards_coefficient > 0 ? c.center_rewards_coefficient : null;
      break;
  }
  return out;
}

/** The whole script for a preference run. Names from outside (model, dataset, columns) enter only as string
 * literals (pyLiteral), escaped docstring text or one-line comments. */
export function preferenceScript(input: TrlScriptInput & { config: GrpoConfig & { algorithm: PreferenceAlgorithm } }): string {
  const { config: c, dataset } = input;
  const t = PREFERENCE_TRAINERS[c.algorithm];
  const unpaired = c.algorithm === 'kto';
  const want = unpaired ? ['prompt', 'completion', 'label'] : ['prompt', 'chosen', 'rejected'];
  const have = dataset ? [dataset.promptColumn, dataset.answerColumn, (unpaired ? dataset.labelColumn : dataset.rejectedColumn) ?? want[2]] : want;
  const rename = want.map((w, i) => [have[i], w]).filter(([h, w]) => h !== w).map(([h, w]) => `${pyLiteral(h)}: ${pyLiteral(w)}`);
  const reward = c.algorithm === 'reward_model';
  // a reward model is a sequence-classification model (num_labels 1) whose LoRA saves the score head too
  const lora = reward ? { ...configToTrlJson(c).lora_config, task_type: 'SEQ_CLS', modules_to_save: ['score'] } : configToTrlJson(c).lora_config;
  const kw = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `    ${k}=${pyLiteral(v)},`).join('\n');
  const header = [
    `Continue a GRPO Playground ${c.algorithm.toUpperCase()} run with TRL + PEFT (${t.trainer}).`,
    ``,
    `Exported from GRPO Playground${input.exportedAt ? ` on ${input.exportedAt}` : ''}: base model ${input.modelName}` +
      `${dataset ? `, dataset ${dataset.name}` : ''}, ` +
      (input.stepsTrained === null ? `max_steps ${c.max_steps}.` : `${input.stepsTrained} of ${c.max_steps} steps trained in the browser.`),
    `The ${t.config} and LoraConfig below hold the browser run's values in TRL's names (TRL v1.9, transformers v5, PEFT).`,
    reward
      ? `The reward is a scalar head (score) on the last token; the saved adapter is a PEFT SEQ_CLS adapter with the head in modules_to_save.`
      : `The reference model is the base model with the adapter off, as in the playground.`,
    ``,
    `    pip install "trl>=1.9" peft datasets`,
    `    python train_${c.algorithm}.py`,
  ].join('\n');
  const format = dataset?.format === 'csv' || dataset?.format === 'tsv' ? 'csv' : 'json';
  return fillTemplate(TEMPLATE, {
    docstring: pyDocstring(header),
    trl_module: t.module,
    config_class: pyIdentifier(t.config, 'the config class'),
    trainer_class: pyIdentifier(t.trainer, 'the trainer class'),
    model_class: reward ? 'AutoModelForSequenceClassification' : 'AutoModelForCausalLM',
    model_kwargs: reward ? 'num_labels=1, ' : '',
    model_source: input.modelSource ? ` In the playground: ${pyComment(input.modelSource)}.` : '',
    model: pyLiteral(input.modelName),
    data_file: pyLiteral(dataset?.name ?? 'data.jsonl'),
    system_prompt: pyLiteral(c.system_prompt),
    prompt_template: pyLiteral(c.prompt_template),
    use_chat_template: pyLiteral(c.use_chat_template),
    eval_split: pyLiteral(c.eval_split),
    eval_max_samples: pyLiteral(c.eval_max_samples),
    seed: pyLiteral(c.seed),
    ...baseLoading(c.base_precision),
    unpaired: pyLiteral(unpaired),
    columns: want.join(' / '),
    file_format: pyLiteral(format),
    load_options: dataset?.format === 'tsv' ? ', delimiter="\\t"' : '',
    rename_columns: rename.length ? `dataset = dataset.rename_columns({${rename.join(', ')}})\n` : '',
    output_dir: `${c.algorithm}-output`,
    config_kwargs: kw(preferenceConfigKwargs(c)),
    lora_kwargs: kw(lora),
  }, 'train_preference.py');
}

/** OnlineDPOConfig's fields (TRL v1.9, trl/experimental/online_dpo/online_dpo_config.py) that the GRPO export's
 * keywords may carry over unchanged; TrainingArguments' own keywords (TRAINING_KEYS) pass too. */
const ONLINE_DPO_SHARED = ['temperature', 'top_p', 'top_k', 'reward_weights'];

/** OnlineDPOConfig keywords for an online_dpo run, from the GRPO export's keywords (grpo) and the config. */
export function onlineDpoConfigKwargs(c: GrpoConfig, grpo: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of [...TRAINING_KEYS, ...ONLINE_DPO_SHARED]) if (k in grpo) out[k] = grpo[k];
  // OnlineDPOTrainer samples two completions per prompt; the batch is counted in prompts
  out.per_device_train_batch_size = c.prompts_per_step;
  if (c.eval_split > 0) out.per_device_eval_batch_size = c.prompts_per_step;
  out.logging_steps = 1;
  out.max_new_tokens = c.max_completion_length;
  out.beta = c.beta;
  out.loss_type = c.dpo_loss_type;
  out.missing_eos_penalty = c.missing_eos_penalty;
  return out;
}
