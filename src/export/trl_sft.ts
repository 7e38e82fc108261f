// The TRL script for a supervised run (algorithm "sft"): TRL's SFTTrainer / SFTConfig on the prompt-completion
// format (completion_only_loss: the loss covers the answer, as the playground's), with the LoRA of the GRPO
// export. Only keywords SFTConfig accepts are passed (test/export/trl_keywords.test.ts checks them against the
// field list of trl/trainer/sft_config.py): the TrainingArguments part of the GRPO export with the batch counted
// in rows, plus max_length, completion_only_loss and loss_type "nll".

import { configToTrlJson, type GrpoConfig } from '../grpo/config';
import TEMPLATE from './templates/train_sft.py?raw';
import { fillTemplate, pyLiteral, type TrlScriptInput, baseLoading } from './trl_script';
import { pyComment, pyDocstring } from './py_escape';

/** TrainingArguments keywords the GRPO export writes that mean the same for SFTTrainer. */
const TRAINING_KEYS = [
  'learning_rate', 'lr_scheduler_type', 'warmup_steps', 'max_steps', 'gradient_accumulation_steps', 'adam_beta1', 'adam_beta2',
  'adam_epsilon', 'weight_decay', 'max_grad_norm', 'seed', 'eval_strategy', 'eval_steps', 'eval_on_start', 'save_strategy', 'save_steps',
];

/** SFTConfig keywords for an SFT run. */
export function sftConfigKwargs(c: GrpoConfig): Record<string, unknown> {
  const grpo = configToTrlJson(c).grpo_config;
  const out: Record<string, unknown> = {};
  for (const k of TRAINING_KEYS) if (k in grpo) out[k] = grpo[k];
  // a step: gradient_accumulation_steps micro-batches of prompts_per_step rows (no completions to multiply by)
  out.per_device_train_batch_size = c.prompts_per_step;
  if (c.eval_split > 0) out.per_device_eval_batch_size = c.prompts_per_step;
  out.logging_steps = 1;
  out.logging_nan_inf_filter = false;
  // the playground keeps prompt + answer within max_prompt_length + max_completion_length
  out.max_length = c.max_prompt_length + c.max_completion_length;
  out.completion_only_loss = true;
  out.loss_type = 'nll';
  return out;
}

/** What the SFT script does not reproduce: the playground's settings that SFTTrainer has no counterpart for. */
function sftNotes(c: GrpoConfig): string[] {
  const out = [
    'prompts longer than max_prompt_length: the playground cut them from the left (long_prompts); SFTTrainer truncates the whole sequence at max_length, keeping its start',
    'the evaluation: the playground generated answers to the held-out prompts and scored them with the rewards (pass@1); SFTTrainer reports the eval loss',
  ];
  if (c.base_precision === 'q8_0' || c.base_precision === 'q4_k') out.push(`base_precision "${c.base_precision}": the playground quantised the frozen base; this script loads it in bfloat16`);
  return out;
}

/** The whole script for an SFT run. Names from outside (model, dataset, columns) enter only as string literals
 * (pyLiteral), escaped docstring text or one-line comments. */
export function sftScript(input: TrlScriptInput): string {
  const { config: c, dataset } = input;
  const want = ['prompt', 'completion'];
  const have = dataset ? [dataset.promptColumn, dataset.answerColumn] : want;
  const rename = want.map((w, i) => [have[i], w]).filter(([h, w]) => h !== w).map(([h, w]) => `${pyLiteral(h)}: ${pyLiteral(w)}`);
  const kw = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `    ${k}=${pyLiteral(v)},`).join('\n');
  const header = [
    `Continue a GRPO Playground SFT run with TRL + PEFT (SFTTrainer).`,
    ``,
    `Exported from GRPO Playground${input.exportedAt ? ` on ${input.exportedAt}` : ''}: base model ${input.modelName}` +
      `${dataset ? `, dataset ${dataset.name}` : ''}, ` +
      (input.stepsTrained === null ? `max_steps ${c.max_steps}.` : `${input.stepsTrained} of ${c.max_steps} steps trained in the browser.`),
    `The SFTConfig and LoraConfig below hold the browser run's values in TRL's names (TRL SFTConfig, transformers v5, PEFT).`,
    `The loss is the cross-entropy of the completion tokens (completion_only_loss), the stop token appended, as in the playground;`,
    `the metrics are the same names: loss, mean_token_accuracy, entropy, num_tokens.`,
    ``,
    `    pip install "trl>=1.9" peft datasets`,
    `    python train_sft.py`,
  ].join('\n');
  // nf4 / nf4_dq: bitsandbytes' 4-bit base, as the GRPO and preference scripts load it (trl_script.ts baseLoading)
  const loading = baseLoading(c.base_precision);
  const format = dataset?.format === 'csv' || dataset?.format === 'tsv' ? 'csv' : 'json';
  return fillTemplate(TEMPLATE, {
    docstring: pyDocstring(header),
    model_source: input.modelSource ? ` In the playground: ${pyComment(input.modelSource)}.` : '',
    model: pyLiteral(input.modelName),
    data_file: pyLiteral(dataset?.name ?? 'data.jsonl'),
    system_prompt: pyLiteral(c.system_prompt),
    prompt_template: pyLiteral(c.prompt_template),
    use_chat_template: pyLiteral(c.use_chat_template),
    eval_split: pyLiteral(c.eval_split),
    eval_max_samples: pyLiteral(c.eval_max_samples),
    seed: pyLiteral(c.seed),
    ...loading,
    not_in_trl: sftNotes(c).map((n) => `#   ${pyComment(n)}`).join('\n'),
    file_format: pyLiteral(format),
    load_options: dataset?.format === 'tsv' ? ', delimiter="\\t"' : '',
    rename_columns: rename.length ? `dataset = dataset.rename_columns({${rename.join(', ')}})\n` : '',
    config_kwargs: kw(sftConfigKwargs(c)),
    lora_kwargs: kw(configToTrlJson(c).lora_config),
  }, 'train_sft.py');
}
