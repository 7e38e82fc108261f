// A ready-to-run Python script that continues a playground run with TRL v1.9 + PEFT on real GPUs: the
// same GRPOConfig (or RLOOConfig) values (configToTrlJson), the LoraConfig, the dataset with its columns
// mapped to prompt and answer, the prompt formatting and long-prompt handling, and the reward functions,
// written out in Python with the playground's semantics (custom JavaScript rewards become stubs that carry
// the JavaScript as a comment). The Python lives in templates/*.py, filled by name ({{name}}).

import { configToTrlJson, DEFAULT_CONFIG, type GrpoConfig, type RewardFuncConfig } from '../grpo/config';
import TRAIN_TEMPLATE from './templates/train_grpo.py?raw';
import REWARD_HELPERS from './templates/rewards.py?raw';
import REWARD_MODEL_HELPERS from './templates/reward_model.py?raw';
import CUSTOM_REWARD_TEMPLATE from './templates/custom_reward.py?raw';
import DATA_SELECTION_TEMPLATE from './templates/data_selection.py?raw';
import { parseBand } from '../grpo/difficulty';
import { toolsPython, type ToolExport } from './tools_py';
import { isPyIdentifier, pyComment, pyCommentLines, pyDocstring, pyIdentifier, pyString } from './py_escape';
import { isPreferenceAlgorithm } from '../grpo/config/enums';
import { onlineDpoConfigKwargs, preferenceScript } from './trl_preference';
import { sftScript } from './trl_sft';

export interface TrlScriptInput {
  config: GrpoConfig;
  /** the base model's name as the playground knows it (a Hugging Face id when it came from the Hub) */
  modelName: string;
  /** where the model came from, for the comment above MODEL */
  modelSource?: string;
  /** answerColumn is the chosen (KTO: completion) column of a preference dataset; rejectedColumn / labelColumn its others */
  dataset: { name: string; format: string; promptColumn: string; answerColumn: string; rejectedColumn?: string; labelColumn?: string } | null;
  /** optimizer steps already trained in the browser (0: the script starts from scratch; null: not known,
   * as when the command line exports a config and an adapter) */
  stepsTrained: number | null;
  /** a date for the header; omitted in tests */
  exportedAt?: string;
  /** the run's tools (tools_source, loaded in the sandbox), written as Python functions or stubs */
  tools?: ToolExport[];
}

/** A JSON value as a Python literal (None, True, False, strings, numbers, lists, dicts). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'float("nan")';
    if (!Number.isFinite(v)) return v > 0 ? 'float("inf")' : '-float("inf")';
    return String(v);
  }
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyString(k)}: ${pyLiteral(x)}`)
      .join(', ')}}`;
  }
  return pyString(String(v));
}

function kwargs(obj: Record<string, unknown>, indent: string): string {
  return Object.entries(obj)
    .map(([k, v]) => `${indent}${pyIdentifier(k, 'the keyword')}=${pyLiteral(v)},`)
    .join('\n');
}

/** Python identifiers for the reward functions, unique like the trainer's names (numeric_match_2, ...). */
function rewardNames(funcs: readonly RewardFuncConfig[]): string[] {
  const names: string[] = [];
  for (const f of funcs) {
    let base = f.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!isPyIdentifier(base)) base = `reward_${base}`; // a leading digit, a keyword or an empty name
    let name = base;
    for (let k = 2; names.includes(name); k++) name = `${base}_${k}`;
    names.push(name);
  }
  return names;
}

function rewardLine(f: RewardFuncConfig, name: string, c: GrpoConfig): string {
  const p = f.params;
  const args = (entries: [string, unknown][]) =>
    [JSON.stringify(name), ...entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${pyLiteral(v)}`)].join(', ');
  switch (f.name) {
    case 'exact_match':
      return `make_exact_match(${args([['case_sensitive', p.case_sensitive], ['strip_punctuation', p.strip_punctuation], ['extract', p.extract]])})`;
    case 'numeric_match':
      return `make_numeric_match(${args([['tolerance', p.tolerance], ['relative_tolerance', p.relative_tolerance]])})`;
    case 'contains':
      return `make_contains(${args([['text', p.text], ['case_sensitive', p.case_sensitive]])})`;
    case 'partial_credit':
      return `make_partial_credit(${args([['case_sensitive', p.case_sensitive], ['extract', p.extract]])})`;
    case 'format':
      return `make_format(${args([
        ['pattern', p.pattern ?? '^<think>[\\s\\S]*?</think>\\s*<answer>[\\s\\S]*?</answer>$'],
        ['flags', p.flags],
        ['trim', p.trim],
      ])})`;
    case 'majority_vote':
      return `make_majority_vote(${args([['extract', p.extract], ['case_sensitive', p.case_sensitive]])})`;
    case 'length_penalty':
      return `make_length_penalty(${args([['target', p.target], ['floor', p.floor]])})`;
    case 'reward_model': {
      // one adapter: the merged model itself (TRL scores it with reward_processing_classes); several: an ensemble function
      const paths = String(p.adapters ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      if (paths.length === 1) return `load_reward_model(${pyLiteral(paths[0])})`;
      return `make_reward_model_ensemble(${args([['paths', paths], ['reduce', p.reduce ?? 'mean'], ['std_coef', p.std_coef ?? 1]])})`;
    }
    case 'soft_overlong':
      return `make_soft_overlong(${args([
        ['max_completion_length', typeof p.max_completion_length === 'number' ? p.max_completion_length : c.max_completion_length],
        ['cache_length', p.cache_length],
      ])})`;
    default:
      return name;
  }
}

/** The template with each {{name}} replaced by values[name]; every placeholder must have a value and every
 * value a placeholder, so a renamed placeholder fails loudly instead of leaving {{...}} in the script. */
export function fillTemplate(template: string, values: Record<string, string>, what: string): string {
  const used = new Set<string>();
  const out = template.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`${what}: no value for the placeholder {{${name}}}`);
    used.add(name);
    return values[name];
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`${what}: no placeholder for ${unused.join(', ')}`);
  return out;
}

function customStub(name: string, source: string): string {
  return fillTemplate(CUSTOM_REWARD_TEMPLATE, { name: pyIdentifier(name, 'the reward function'), js_source: pyCommentLines(source, '#     ') }, 'custom_reward.py');
}

/** How the script loads the base for a base_precision: the torch dtype, and for "nf4" / "nf4_dq" QLoRA's
 * BitsAndBytesConfig (bitsandbytes' NF4, the absmax double-quantised under "nf4_dq", bf16 compute). */
export function baseLoading(p: GrpoConfig['base_precision']): { base_dtype: string; quantization_config: string } {
  // q8_0 / q4_k: the script loads the base in bf16 (no bitsandbytes quantisation written for it)
  const dtype = { auto: 'auto', f32: 'float32', bf16: 'bfloat16', f16: 'float16', q8_0: 'bfloat16', q4_k: 'bfloat16', nf4: 'bfloat16', nf4_dq: 'bfloat16' }[p];
  const quant =
    p === 'nf4' || p === 'nf4_dq'
      ? [
          `# base_precision ${pyLiteral(p)}: the playground quantised the frozen base to bitsandbytes' NF4 at load (64-value blocks, f32`,
          `# absmax${p === 'nf4_dq' ? ', double-quantised to 8 bits in blocks of 256' : ''}), as this config does. What differs: the playground`,
          `# multiplies in f32 (this script computes in bfloat16), quantises the f32/16-bit values of the file (transformers`,
          `# first casts them to bfloat16), keeps matrices whose rows are not whole 64-value blocks in bf16, and quantises`,
          `# the embedding and lm_head too (transformers leaves them unquantised).`,
          `# Needs bitsandbytes (pip install bitsandbytes) and a CUDA GPU.`,
          `QUANTIZATION_CONFIG = BitsAndBytesConfig(`,
          `    load_in_4bit=True,`,
          `    bnb_4bit_quant_type="nf4",`,
          `    bnb_4bit_use_double_quant=${p === 'nf4_dq' ? 'True' : 'False'},`,
          `    bnb_4bit_compute_dtype=torch.bfloat16,`,
          `)`,
        ].join('\n')
      : 'QUANTIZATION_CONFIG = None  # the base is loaded unquantised (base_precision ' + pyLiteral(p) + ')';
  return { base_dtype: pyLiteral(dtype), quantization_config: quant };
}

/** Settings TRL has no counterpart for and the script does not do, when the run changed them from the defaults. */
function notReproduced(c: GrpoConfig, notInTrl: Record<string, unknown>, why: Record<string, string>): string[] {
  const out: string[] = [];
  if (c.algorithm === 'online_dpo') out.push(`online_dpo paired the best and worst of num_generations = ${c.num_generations} completions per prompt; OnlineDPOTrainer samples two`);
  if (c.base_precision === 'q8_0' || c.base_precision === 'q4_k') out.push(`base_precision "${c.base_precision}": the playground quantised the frozen base to ggml's ${c.base_precision === 'q8_0' ? 'Q8_0' : 'Q4_K'} blocks at load; this script loads it in bfloat16 (for a 4-bit base on a GPU, PEFT + bitsandbytes' BitsAndBytesConfig is the usual route)`);
  if (c.reward_funcs.some((f) => f.name === 'reward_model')) out.push('reward_model rewards: the playground scores with the policy\'s own base weights and each reward adapter (LoRA + head); this script loads each reward model as its own merged copy of the base');
  if (c.sft_coef > 0) out.push(`sft_coef = ${c.sft_coef} (sft_on "${c.sft_on}"${c.sft_column !== null ? `, sft_column "${c.sft_column}"` : ''}): the playground added sft_coef x the mean NLL of the reference answers ${c.sft_on === 'all' ? 'of every prompt of a step' : 'of the prompts whose completions all got reward 0'} to the GRPO loss, in the same optimizer step; TRL's GRPOTrainer has no SFT term, so this script trains on the policy loss alone (a custom compute_loss or an SFTTrainer run before GRPO would be needed)`);
  if (c.dynamic_sampling) out.push('dynamic_sampling was on in the playground (drop groups whose rewards are all equal); TRL has no such switch');
  if (c.advantage_estimator === 'reinforce_pp' || c.advantage_estimator === 'reinforce_pp_verl') out.push(`advantage_estimator "${c.advantage_estimator}" (REINFORCE++): TRL has no such advantage; GRPO's group advantages are used`);
  if (c.eval_temperature !== DEFAULT_CONFIG.eval_temperature) out.push(`eval_temperature ${c.eval_temperature}: TRL evaluates at the training temperature`);
  for (const [k, v] of Object.entries(notInTrl)) {
    if (why[k]?.startsWith("TRL's RLOOConfig") && JSON.stringify(v) !== JSON.stringify(DEFAULT_CONFIG[k as keyof GrpoConfig])) out.push(`${k} = ${JSON.stringify(v)}: ${why[k]}`);
  }
  return out;
}

/** The TRL the export (keywords, trainer classes, loss semantics) was checked against. */
export const TRL_CHECKED_VERSION = 'TRL v1.9 (huggingface/trl main at commit f2cd577, 1.10.0.dev0, July 2026)';

/** pass_rate_band and curriculum in Python, on the training split as the playground applies them
 * (src/grpo/difficulty.ts, src/grpo/curriculum.ts); empty when neither is set. The scan's pass rates reach the
 * script as the dataset's pass_rate column (export-trl --scan writes it). */
function dataSelectionPython(c: GrpoConfig): string {
  if (c.pass_rate_band === null && c.curriculum === 'shuffle') return '';
  const band = c.pass_rate_band === null ? null : parseBand(c.pass_rate_band);
  if (typeof band === 'string') throw new Error(`pass_rate_band: ${band}`);
  const needsScan = band !== null || c.curriculum === 'easy_to_hard';
  return fillTemplate(DATA_SELECTION_TEMPLATE, {
    band: band ? `(${pyLiteral(band.lo)}, ${pyLiteral(band.hi)}, ${pyLiteral(band.loOpen)}, ${pyLiteral(band.hiOpen)})` : 'None',
    curriculum: pyLiteral(c.curriculum),
    column: pyLiteral(c.curriculum_column),
    needs_scan: pyLiteral(needsScan),
  }, 'data_selection.py');
}

/** A reward_model entry with one adapter: passed to TRL as a model, scored with reward_processing_classes. */
function isSingleRewardModel(f: RewardFuncConfig): boolean {
  return f.name === 'reward_model' && String(f.params.adapters ?? '').split(',').filter((x) => x.trim()).length === 1;
}

/** The whole script. */
export function trlScript(input: TrlScriptInput): string {
  const { config: c, dataset } = input;
  // DPO, SimPO, ORPO, KTO: their own TRL trainers (trl_preference.ts)
  if (isPreferenceAlgorithm(c.algorithm)) return preferenceScript({ ...input, config: { ...c, algorithm: c.algorithm } });
  // supervised fine-tuning: TRL's SFTTrainer (trl_sft.ts)
  if (c.algorithm === 'sft') return sftScript(input);
  // online DPO: this script (rollouts and rewards as GRPO's) with TRL's OnlineDPOTrainer
  const online = c.algorithm === 'online_dpo';
  const trl = configToTrlJson(c);
  const names = rewardNames(c.reward_funcs);
  const customs = c.reward_funcs
    .map((f, i) => (f.name === 'custom' ? customStub(names[i], String(f.params.source ?? '')) : ''))
    .filter(Boolean)
    .join('\n\n');
  if (c.advantage_estimator === 'rloo' && (input.tools?.length || (c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '')) {
    throw new Error('advantage_estimator "rloo" exports to TRL\'s RLOOTrainer, which has no tools or environments: set advantage_estimator to "grpo" to export this run');
  }
  const tools = input.tools?.length ? toolsPython(input.tools) : null;
  const rewardModels = c.reward_funcs.some((f) => f.name === 'reward_model');
  const singleModels = c.reward_funcs.some(isSingleRewardModel);
  const toolNotes: string[] = [];
  if (tools) {
    toolNotes.push('', `Tools: ${input.tools!.map((t) => t.name).join(', ')} are passed to the trainer (tools=TOOLS).`);
    if (tools.stubs.length) {
      const one = tools.stubs.length === 1;
      toolNotes.push(`NOT TRANSLATED: ${tools.stubs.join(', ')} ${one ? 'is a stub that raises' : 'are stubs that raise'} NotImplementedError; ${one ? 'its JavaScript is in a comment' : 'their JavaScript is in comments'}`,
        `above ${one ? 'it' : 'them'}: translate ${one ? 'it' : 'them'} to Python before running.`);
    }
  } else if ((c.tools_source ?? '').trim() !== '') {
    toolNotes.push('', 'NOT EXPORTED: the run has JavaScript tools (tools_source) that were not loaded for this export; pass them as tools=... yourself.');
  }
  if ((c.env_source ?? '').trim() !== '') toolNotes.push('', 'NOT EXPORTED: the run\'s JavaScript environment (env_source); TRL takes one as environment_factory=...');
  const rename: string[] = [];
  if (dataset && dataset.promptColumn !== 'prompt') rename.push(`${pyString(dataset.promptColumn)}: "prompt"`);
  if (dataset && dataset.answerColumn !== 'answer') rename.push(`${pyString(dataset.answerColumn)}: "answer"`);
  const header = [
    `Continue a GRPO Playground run with TRL + PEFT.`,
    ``,
    `Exported from GRPO Playground${input.exportedAt ? ` on ${input.exportedAt}` : ''}: base model ${input.modelName}` +
      `${dataset ? `, dataset ${dataset.name}` : ''}, ` +
      (input.stepsTrained === null ? `max_steps ${c.max_steps}.` : `${input.stepsTrained} of ${c.max_steps} steps trained in the browser.`),
    `The ${online ? 'OnlineDPOConfig' : trl.config_class} and LoraConfig below hold the browser run's values, in TRL's names (TRL v1.9,`,
    `transformers v5, PEFT); what TRL does not have is listed below the settings.`,
    `Checked against ${TRL_CHECKED_VERSION}.`,
    ``,
    `    pip install "trl>=1.9" peft datasets`,
    `    python train_grpo.py            # or: accelerate launch train_grpo.py`,
    ``,
    `Put adapter_model.safetensors and adapter_config.json (the playground's export) in ./adapter to continue`,
    `from the browser's adapter, and the dataset file beside this script.`,
    ...toolNotes,
  ].join('\n');
  const notInTrl = Object.entries(trl.not_in_trl).map(([k, v]) => `#   ${pyComment(`${k} = ${pyLiteral(v)}: ${trl.not_in_trl_why[k]}`)}`);
  const format = dataset?.format === 'csv' || dataset?.format === 'tsv' ? 'csv' : 'json';
  return fillTemplate(
    TRAIN_TEMPLATE,
    {
      docstring: pyDocstring(header),
      trl_module: online ? 'trl.experimental.online_dpo' : 'trl',
      config_class: pyIdentifier(online ? 'OnlineDPOConfig' : trl.config_class, 'the config class'),
      trainer_class: pyIdentifier(online ? 'OnlineDPOTrainer' : trl.trainer, 'the trainer class'),
      model_source: input.modelSource ? ` In the playground: ${pyComment(input.modelSource)}.` : '',
      model: pyLiteral(input.modelName),
      data_file: pyLiteral(dataset?.name ?? 'data.jsonl'),
      system_prompt: pyLiteral(c.system_prompt),
      prompt_template: pyLiteral(c.prompt_template),
      use_chat_template: pyLiteral(c.use_chat_template),
      max_prompt_length: pyLiteral(c.max_prompt_length),
      long_prompts: pyLiteral(c.long_prompts),
      eval_split: pyLiteral(c.eval_split),
      eval_max_samples: pyLiteral(c.eval_max_samples),
      seed: pyLiteral(c.seed),
      max_consecutive_skips: pyLiteral(c.max_consecutive_skips),
      ...baseLoading(c.base_precision),
      algorithm: pyLiteral(c.algorithm),
      not_in_trl: notInTrl.join('\n'),
      not_reproduced: pyLiteral(notReproduced(c, trl.not_in_trl, trl.not_in_trl_why)),
      file_format: pyLiteral(format),
      load_options: dataset?.format === 'tsv' ? ', delimiter="\\t"' : '',
      data_selection: dataSelectionPython(c),
      rename_columns: rename.length ? `dataset = dataset.rename_columns({${rename.join(', ')}})\n` : '',
      reward_helpers: REWARD_HELPERS,
      custom_rewards: customs ? `\n${customs}\n` : '',
      tools_code: tools ? `\n# ---- tools (from the playground's JavaScript tools) ----\n\n${tools.code}\n\n\nTOOLS = [${input.tools!.map((t) => t.name).join(', ')}]\n\n` : '',
      tools_arg: tools ? '\n    tools=TOOLS,' : '',
      reward_model_helpers: rewardModels ? `\n${REWARD_MODEL_HELPERS}\n` : '',
      reward_processing_arg: singleModels ? `\n    reward_processing_classes=[${c.reward_funcs.map((f) => (isSingleRewardModel(f) ? 'tokenizer' : 'None')).join(', ')}],` : '',
      reward_funcs: c.reward_funcs.map((f, i) => `    ${rewardLine(f, names[i], c)},`).join('\n'),
      // the Trainer replaces non-finite logged losses unless told not to; the callback needs to see them
      config_kwargs: kwargs({ ...(online ? onlineDpoConfigKwargs(c, trl.grpo_config) : trl.grpo_config), logging_nan_inf_filter: false }, '    '),
      lora_kwargs: kwargs(trl.lora_config, '    '),
    },
    'train_grpo.py',
  );
}
