// Validation of a (well-typed) config: each field's range from the schema, the checks a range cannot
// say (with advice specific to the field), and cross-field checks that say what to change. Problems are
// keyed by the field they concern, so the settings panel shows each at its field; warnings are advice
// that does not stop a run.

import { checkCustomRewardSource } from '../rewards/custom';
import { BUILTIN_REWARD_NAMES, CUSTOM_REWARD_NAME, REWARD_MODEL_NAME, checkParamsFor, isBuiltinReward, rewardModelAdapters } from '../rewards/registry';
import { closestMatch } from '../rewards/text';
import { loraModuleHome, modelLoraModules } from '../../model/lora';
import type { ModelConfig } from '../../model/config';
import { isPreferenceAlgorithm, LORA_TARGET_MODULES } from './enums';
import type { Range } from './fields';
import { parseBand } from '../difficulty';
import { parseMixture, parsePhases } from '../prompt_schedule';
import { CONFIG_KEYS, FIELDS, type ConfigKey, type GrpoConfig } from './schema';

export interface ValidationContext {
  /** the model's context length: prompt and completion must fit in it together */
  maxSequenceLength?: number;
  /** the loaded model's LoRA-able modules (src/model/lora.ts modelLoraModules) and its family (model_type or
   * architecture), for naming a target module it does not have */
  model?: { loraModules: readonly string[]; family: string };
}

/** The context a loaded model gives: its context length, and the LoRA modules it has. */
export function modelValidationContext(m: ModelConfig): ValidationContext {
  return { maxSequenceLength: m.maxPositionEmbeddings, model: { loraModules: modelLoraModules(m), family: m.modelType ?? m.architecture } };
}

/** The same from the page's model summary (src/worker/protocol.ts ModelSummary), or {} with no model. */
export function summaryValidationContext(s: { maxPositions: number; architecture: string; loraModules?: { name: string }[] } | null | undefined): ValidationContext {
  if (!s) return {};
  return { maxSequenceLength: s.maxPositions, ...(s.loraModules ? { model: { loraModules: s.loraModules.map((m) => m.name), family: s.architecture } } : {}) };
}

export interface ConfigProblem {
  field: ConfigKey;
  message: string;
}

/** The message of a value outside its range, or null when it is inside. */
export function rangeProblem(key: string, range: Range, v: number): string | null {
  if ('whole' in range) {
    if (!Number.isInteger(v)) return `${key} must be a whole number, got ${v}${range.why ?? ''}`;
    if (v < range.whole) return `${key} must be at least ${range.whole}, got ${v}${range.why ?? ''}`;
    return null;
  }
  if ('lo' in range) {
    const ok = Number.isFinite(v) && (range.loOpen ? v > range.lo : v >= range.lo) && (range.hiOpen ? v < range.hi : v <= range.hi);
    return ok ? null : `${key} must be in ${range.loOpen ? '(' : '['}${range.lo}, ${range.hi}${range.hiOpen ? ')' : ']'}, got ${v}; ${range.advice}`;
  }
  if ('atLeast' in range) {
    const bound = range.atLeast === 0 ? '0 or more' : `${range.atLeast} or more`;
    return Number.isFinite(v) && v >= range.atLeast ? null : `${key} must be ${bound}, got ${v}; ${range.advice}`;
  }
  if ('above' in range) return Number.isFinite(v) && v > range.above ? null : `${key} must be greater than ${range.above}, got ${v}; ${range.advice}`;
  return Number.isFinite(v) ? null : `${key} must be a finite number, got ${v}; ${range.finite}`;
}

type Check = (c: GrpoConfig) => string[] | null;

/**
 * Field checks that replace the schema range's generic message with a field-specific one. A check returns
 * its messages, or null to fall back to the range.
 */
const FIELD_CHECKS: Partial<Record<ConfigKey, Check>> = {
  num_generations: (c) =>
    Number.isInteger(c.num_generations) && c.num_generations < 2
      ? [`num_generations must be at least 2 for GRPO: a group of ${c.num_generations} has no variance to compare completions with; set it to 2 or more (8 is typical)`]
      : null,
  temperature: (c) => {
    if (!(Number.isFinite(c.temperature) && c.temperature > 0)) return null;
    return c.temperature > 10 ? [`temperature ${c.temperature} samples close to uniformly random tokens; use a value between 0.1 and 2`] : [];
  },
  prompts_per_step: (c) =>
    Number.isFinite(c.prompts_per_step) && !Number.isInteger(c.prompts_per_step)
      ? [
          `prompts_per_step must be a whole number, got ${c.prompts_per_step}: every micro-step trains on whole groups, and TRL requires the ` +
            `generation batch (here ${c.prompts_per_step} × ${c.num_generations} = ${c.prompts_per_step * c.num_generations} completions) to be divisible ` +
            `by num_generations (${c.num_generations}); round prompts_per_step to ${Math.max(1, Math.round(c.prompts_per_step))}`,
        ]
      : null,
  epsilon_high: (c) => {
    if (!(Number.isFinite(c.epsilon_high) && c.epsilon_high > 0)) return null;
    if (Number.isFinite(c.epsilon) && c.epsilon_high < c.epsilon) {
      return [
        `epsilon_high (${c.epsilon_high}) is smaller than epsilon (${c.epsilon}): the upper clip range should be at least the lower one; ` +
          `set epsilon_high to ${c.epsilon} for symmetric clipping, or higher (DAPO uses 0.28 with epsilon 0.2)`,
      ];
    }
    return [];
  },
  lora_alpha: (c) =>
    Number.isFinite(c.lora_alpha) && c.lora_alpha > 0
      ? []
      : [`lora_alpha must be greater than 0, got ${c.lora_alpha}: the update is scaled by lora_alpha / lora_r; a common choice is 2 × lora_r (${2 * c.lora_r})`],
  lora_target_modules: (c) => {
    const p: string[] = [];
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
    return p;
  },
  seed: (c) => (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff ? [`seed must be a whole number from 0 to 4294967295, got ${c.seed}`] : []),
  prompt_template: (c) =>
    c.prompt_template !== null && !c.prompt_template.includes('{prompt}')
      ? [`prompt_template must contain {prompt} where the dataset's prompt goes, e.g. "Question: {prompt}\\nAnswer:"; set it to null to use prompts as they are`]
      : [],
  reward_funcs: (c) => rewardFuncProblems(c),
};

function rewardFuncProblems(c: GrpoConfig): string[] {
  const p: string[] = [];
  if (c.reward_funcs.length === 0) {
    return [`reward_funcs is empty: GRPO needs at least one reward; add one of ${BUILTIN_REWARD_NAMES.join(', ')} or ${CUSTOM_REWARD_NAME}`];
  }
  c.reward_funcs.forEach((r, i) => {
    const at = `reward_funcs[${i}] (${r.name})`;
    if (!isBuiltinReward(r.name) && r.name !== CUSTOM_REWARD_NAME && r.name !== REWARD_MODEL_NAME) {
      const hint = closestMatch(r.name, [...BUILTIN_REWARD_NAMES, CUSTOM_REWARD_NAME, REWARD_MODEL_NAME]);
      p.push(`reward_funcs[${i}]: unknown reward ${JSON.stringify(r.name)}${hint ? ` (did you mean ${hint}?)` : ''}; use one of ${BUILTIN_REWARD_NAMES.join(', ')}, ${CUSTOM_REWARD_NAME} or ${REWARD_MODEL_NAME}`);
      return;
    }
    if (r.name === REWARD_MODEL_NAME && typeof r.params.adapters === 'string' && rewardModelAdapters(r.params).length === 0) {
      p.push(`${at}: params.adapters must name at least one reward adapter (a folder, or a saved reward_model run on the page)`);
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
  // (an environment's reward, env_reward_weight, may be the only one)
  const envRewards = (c.env_source ?? '').trim() !== '' && c.env_reward_weight !== 0;
  if (!envRewards && c.reward_funcs.every((r) => r.weight === 0)) p.push('every reward weight is 0, so every completion gets reward 0 and nothing is learned; give at least one reward a non-zero weight');
  return p;
}

/** Checks between fields; each problem is keyed by the field to change. */
function crossFieldProblems(c: GrpoConfig, ctx: ValidationContext): ConfigProblem[] {
  const p: ConfigProblem[] = [];
  if (ctx.model) {
    const { loraModules, family } = ctx.model;
    for (const m of new Set(c.lora_target_modules)) {
      if (!(LORA_TARGET_MODULES as readonly string[]).includes(m) || loraModules.includes(m)) continue;
      p.push({
        field: 'lora_target_modules',
        message: `lora_target_modules has ${m}, which this ${family} model does not have: ${loraModuleHome(m)}; its modules are ${loraModules.join(', ')}`,
      });
    }
  }
  if (ctx.maxSequenceLength !== undefined && c.max_prompt_length + c.max_completion_length > ctx.maxSequenceLength) {
    p.push({
      field: 'max_prompt_length',
      message:
        `max_prompt_length + max_completion_length = ${c.max_prompt_length + c.max_completion_length} tokens is more than the model's context of ` +
        `${ctx.maxSequenceLength}; lower one of them so that they add up to at most ${ctx.maxSequenceLength}`,
    });
  }
  if (c.algorithm === 'online_dpo' && c.dpo_loss_type !== 'sigmoid' && c.dpo_loss_type !== 'ipo') {
    p.push({ field: 'dpo_loss_type', message: `online DPO has the losses "sigmoid" and "ipo" (TRL's OnlineDPOTrainer); "${c.dpo_loss_type}" is offline DPO's only: set dpo_loss_type to "sigmoid" or "ipo"` });
  }
  if (c.algorithm === 'online_dpo' && ((c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '')) {
    p.push({ field: 'algorithm', message: 'online DPO pairs single-turn completions; tools and environments are supported with algorithm "grpo": remove tools_source / env_source or pick grpo' });
  }
  if (c.algorithm === 'sft' && ((c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '')) {
    p.push({ field: 'algorithm', message: 'algorithm "sft" trains on the dataset\'s answers, without rollouts: remove tools_source / env_source or pick grpo' });
  }
  if (c.sft_coef > 0 && c.algorithm !== 'grpo') {
    p.push({ field: 'sft_coef', message: `sft_coef adds an SFT term to the GRPO loss (algorithm "grpo"); algorithm "${c.algorithm}" does not take it: set sft_coef to 0${c.algorithm === 'dpo' ? ' (DPO\'s own SFT term is sft_loss_weight)' : c.algorithm === 'expert_iteration' ? ' (expert iteration is supervised already)' : ''}` });
  }
  if (c.sft_coef > 0 && ((c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '')) {
    p.push({ field: 'sft_coef', message: 'sft_coef trains on single-turn reference answers; with tools or an environment the turns would not match: set sft_coef to 0 or remove tools_source / env_source' });
  }
  if (((isPreferenceAlgorithm(c.algorithm) && c.algorithm !== 'reward_model') || c.algorithm === 'online_dpo') && !(c.beta > 0)) {
    p.push({
      field: 'beta',
      message: `algorithm "${c.algorithm}" uses beta as its temperature (${c.algorithm === 'orpo' ? 'ORPO\'s lambda' : 'the preference loss\'s scale'}), so it must be above 0; TRL's default is 0.1`,
    });
  }
  if (c.delta !== null && Number.isFinite(c.delta) && c.delta > 1 && Number.isFinite(c.epsilon_high) && c.delta <= 1 + c.epsilon_high && c.loss_type !== 'cispo' && c.loss_type !== 'sapo') {
    p.push({
      field: 'delta',
      message:
        `delta (${c.delta}) is not above 1 + epsilon_high (${1 + c.epsilon_high}): it would clamp ratios that clipping already handles; ` +
        `set delta above ${1 + c.epsilon_high} (INTELLECT-2 used 4), or null to turn it off`,
    });
  }
  if (c.loss_type === 'cispo' && Number.isFinite(c.epsilon_high) && c.epsilon_high <= 1) {
    p.push({
      field: 'epsilon_high',
      message:
        `loss_type "cispo" uses epsilon_high as the cap on the importance weight itself (min(rho, epsilon_high)), so epsilon_high ${c.epsilon_high} ` +
        'would shrink every weight below 1; set epsilon_high above 1 (MiniMax-M1 and TRL recommend 5.0)',
    });
  }
  if (c.multi_objective_aggregation === 'normalize_then_sum' && c.advantage_estimator !== 'grpo') {
    p.push({
      field: 'multi_objective_aggregation',
      message:
        `multi_objective_aggregation "normalize_then_sum" defines the advantage itself (normalised over the batch); it does not combine with ` +
        `advantage_estimator "${c.advantage_estimator}": set advantage_estimator to "grpo" or multi_objective_aggregation to "sum_then_normalize"`,
    });
  }
  if (c.algorithm === 'grpo' && c.loss_type === 'luspo' && c.advantage_estimator !== 'rloo') {
    if (c.importance_sampling_level !== 'sequence') {
      p.push({
        field: 'importance_sampling_level',
        message: 'loss_type "luspo" scales each completion\'s sequence-level loss by its length: TRL requires importance_sampling_level "sequence"; set it to "sequence"',
      });
    }
    if (c.beta !== 0) {
      p.push({
        field: 'beta',
        message:
          'loss_type "luspo" with beta > 0 makes TRL\'s loss per token, which it then averages over the padded (completions × longest) grid, ' +
          'padding included: a value this playground does not reproduce; set beta to 0',
      });
    }
  }
  if (c.algorithm === 'grpo' && c.advantage_estimator === 'rloo' && ((c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '')) {
    p.push({
      field: 'advantage_estimator',
      message:
        'advantage_estimator "rloo" exports to TRL\'s RLOOTrainer, which has no tools or environments (its script would not run): ' +
        'set advantage_estimator to "grpo", or remove tools_source and env_source',
    });
  }
  if (c.pass_rate_band !== null) {
    const band = parseBand(c.pass_rate_band);
    if (typeof band === 'string') p.push({ field: 'pass_rate_band', message: `pass_rate_band "${c.pass_rate_band.slice(0, 40)}" is not a band: ${band}` });
  }
  if (c.curriculum === 'by_column' && !(c.curriculum_column ?? '').trim()) {
    p.push({ field: 'curriculum_column', message: 'curriculum "by_column" orders prompts by a column: name it in curriculum_column' });
  }
  if (c.step_advantage === 'per_turn_discounted') {
    const why: string[] = [];
    if (c.algorithm !== 'grpo') why.push(`algorithm "${c.algorithm}"`);
    if (c.advantage_estimator !== 'grpo') why.push(`advantage_estimator "${c.advantage_estimator}"`);
    if (c.multi_objective_aggregation !== 'sum_then_normalize') why.push(`multi_objective_aggregation "${c.multi_objective_aggregation}"`);
    if (c.scale_rewards === 'batch') why.push('scale_rewards "batch"');
    if (why.length) {
      p.push({
        field: 'step_advantage',
        message: `step_advantage "per_turn_discounted" takes GRPO's group baseline per turn index (scale_rewards "group" or "none"); it does not combine with ${why.join(', ')}`,
      });
    }
  }
  if (c.step_separator !== null && c.step_separator === '') {
    p.push({ field: 'step_separator', message: 'step_separator is empty: give the text that ends a step (e.g. "\\n"), or null for no process rewards' });
  }
  if (c.process_credit === 'per_step') {
    const why: string[] = [];
    if (c.step_separator === null) why.push('step_separator is null');
    if (c.reward_funcs.length !== 1 || c.reward_funcs[0].name !== CUSTOM_REWARD_NAME) why.push('reward_funcs must be exactly one custom reward (the one that returns the steps)');
    if (c.algorithm !== 'grpo') why.push(`algorithm "${c.algorithm}"`);
    if (c.advantage_estimator !== 'grpo') why.push(`advantage_estimator "${c.advantage_estimator}"`);
    if (c.scale_rewards === 'batch') why.push('scale_rewards "batch"');
    if (c.step_advantage !== 'episode') why.push('step_advantage "per_turn_discounted" (one kind of per-token credit at a time)');
    if (why.length) p.push({ field: 'process_credit', message: `process_credit "per_step" credits each step of a process reward against its group: ${why.join('; ')}` });
  }
  if (c.curriculum_phases !== null) {
    const ph = parsePhases(c.curriculum_phases);
    if (typeof ph === 'string') p.push({ field: 'curriculum_phases', message: `curriculum_phases ${ph}` });
    if (c.curriculum !== 'shuffle') p.push({ field: 'curriculum_phases', message: `curriculum_phases draw each phase's prompts in their own seeded order; curriculum "${c.curriculum}" would order them too: set curriculum to "shuffle"` });
    if (c.mixture_weights !== null) p.push({ field: 'curriculum_phases', message: 'curriculum_phases and mixture_weights both choose the next prompt: keep one of them' });
  }
  if (c.mixture_weights !== null) {
    const mix = parseMixture(c.mixture_weights);
    if (typeof mix === 'string') p.push({ field: 'mixture_weights', message: `mixture_weights ${mix}` });
    if (!(c.mixture_column ?? '').trim()) p.push({ field: 'mixture_column', message: 'mixture_weights weigh the values of a column: name it in mixture_column' });
    if (c.curriculum !== 'shuffle') p.push({ field: 'mixture_weights', message: `mixture_weights draw from each source in its own seeded order; set curriculum to "shuffle"` });
  }
  if (c.num_generations_eval !== null && c.num_generations_eval > 1 && c.eval_temperature === 0) {
    p.push({
      field: 'num_generations_eval',
      message:
        `num_generations_eval ${c.num_generations_eval} with eval_temperature 0 samples the same greedy completion ${c.num_generations_eval} times: ` +
        'set eval_temperature above 0 (e.g. the training temperature) for pass@k, or num_generations_eval to null',
    });
  }
  return p;
}

/** Advice that does not stop a run: settings that have no effect together, or that TRL warns about. */
export function configWarnings(c: GrpoConfig): ConfigProblem[] {
  const w: ConfigProblem[] = [];
  const offPolicy = c.num_iterations > 1 || c.steps_per_generation > 1;
  if (c.algorithm === 'grpo' && c.importance_sampling_level === 'sequence' && ['bnpo', 'dr_grpo', 'dapo', 'cispo'].includes(c.loss_type)) {
    w.push({
      field: 'loss_type',
      message:
        `with importance_sampling_level "sequence", loss_type "${c.loss_type}" sums per-token terms, weighting each completion by its length ` +
        '(TRL warns about this): GSPO uses loss_type "grpo"',
    });
  }
  if (c.algorithm === 'grpo' && c.importance_sampling_level === 'sequence' && !offPolicy && c.top_entropy_quantile >= 1) {
    w.push({
      field: 'importance_sampling_level',
      message:
        'importance_sampling_level "sequence" gives the same update as "token" on-policy without an entropy mask (every ratio is 1 and ' +
        'each completion\'s tokens share one loss weight): raise steps_per_generation or num_iterations above 1 for GSPO ' +
        '(with top_entropy_quantile < 1 it differs even on-policy: the shared ratio passes the kept tokens\' gradient to the masked ones)',
    });
  }
  const perRollout = c.steps_per_generation * (c.algorithm === 'grpo' ? c.num_iterations : 1);
  if (perRollout > 1 && Number.isInteger(c.max_steps) && c.max_steps % perRollout !== 0) {
    const up = Math.ceil(c.max_steps / perRollout) * perRollout;
    w.push({
      field: 'steps_per_generation',
      message:
        `max_steps (${c.max_steps}) is not a multiple of steps_per_generation × num_iterations (${perRollout}): the last rollout's prompts are generated ` +
        `but only partly trained on; set max_steps to ${up}`,
    });
  }
  if (c.multi_objective_aggregation === 'normalize_then_sum' && c.reward_funcs.length < 2) {
    w.push({ field: 'multi_objective_aggregation', message: 'normalize_then_sum only differs from sum_then_normalize with two or more reward functions' });
  }
  if (c.algorithm === 'expert_iteration') {
    const ignored: string[] = [];
    if (c.beta !== 0) ignored.push(`beta ${c.beta}`);
    if (c.loss_type !== 'dapo') ignored.push(`loss_type "${c.loss_type}"`);
    if (c.importance_sampling_level !== 'token') ignored.push('importance_sampling_level "sequence"');
    if (c.delta !== null) ignored.push(`delta ${c.delta}`);
    if (c.entropy_coef !== 0) ignored.push(`entropy_coef ${c.entropy_coef}`);
    if (c.top_entropy_quantile !== 1) ignored.push(`top_entropy_quantile ${c.top_entropy_quantile}`);
    if (c.advantage_estimator !== 'grpo') ignored.push(`advantage_estimator "${c.advantage_estimator}"`);
    if (c.dynamic_sampling) ignored.push('dynamic_sampling');
    if (ignored.length) {
      w.push({
        field: 'algorithm',
        message: `expert_iteration trains with cross-entropy on the kept completions, so these GRPO loss settings do not apply: ${ignored.join(', ')}; reset them or pick the "Expert iteration" preset`,
      });
    }
  }
  if (c.algorithm === 'grpo' && c.advantage_estimator === 'rloo' && (c.loss_type !== 'grpo' || c.importance_sampling_level !== 'token' || c.delta !== null)) {
    w.push({
      field: 'advantage_estimator',
      message:
        'advantage_estimator "rloo" trains with TRL\'s RLOO loss (one summed log-ratio per completion, clipped, mean over completions), ' +
        'so loss_type, importance_sampling_level and delta are not used',
    });
  }
  if (c.algorithm === 'grpo' && c.delta !== null && (c.loss_type === 'cispo' || c.loss_type === 'sapo' || c.loss_type === 'vespo')) {
    w.push({ field: 'delta', message: `delta caps the ratio of the clipped losses only; loss_type "${c.loss_type}" ignores it (as TRL does)` });
  }
  if (c.loss_type !== 'sapo' && (c.sapo_temperature_pos !== 1.0 || c.sapo_temperature_neg !== 1.05)) {
    w.push({ field: 'loss_type', message: `sapo_temperature_pos / sapo_temperature_neg only act with loss_type "sapo" (now "${c.loss_type}")` });
  }
  return w;
}

/** Every problem with a (well-typed) config, keyed by field, each saying what to change; [] when it is usable. */
export function checkConfig(c: GrpoConfig, ctx: ValidationContext = {}): ConfigProblem[] {
  const p: ConfigProblem[] = [];
  for (const key of CONFIG_KEYS) {
    const custom = FIELD_CHECKS[key]?.(c);
    if (custom) {
      for (const message of custom) p.push({ field: key, message });
      continue;
    }
    const range = (FIELDS[key] as { range?: Range }).range;
    const v = c[key];
    if (!range || v === null) continue;
    const message = rangeProblem(key, range, v as number);
    if (message) p.push({ field: key, message });
  }
  p.push(...crossFieldProblems(c, ctx));
  return p;
}

/** The messages of checkConfig (the form the CLI, the worker and the run's Start check print). */
export function validateConfig(c: GrpoConfig, ctx: ValidationContext = {}): string[] {
  return checkConfig(c, ctx).map((p) => p.message);
}
