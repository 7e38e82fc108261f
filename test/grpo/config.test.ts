import { describe, expect, it } from 'vitest';
import {
  CONFIG_DOCS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  LORA_TARGET_MODULES,
  configToTrlJson,
  defaultConfig,
  parseConfigJson,
  validateConfig,
  type GrpoConfig,
} from '../../src/grpo/config';
import { PRESETS, applyPreset, matchingPreset } from '../../src/grpo/presets';
import { checkConfig, configWarnings } from '../../src/grpo/config';
import { int } from '../../src/grpo/config/fields';

function withChange(change: Partial<GrpoConfig>): GrpoConfig {
  return { ...defaultConfig(), ...change };
}

/** The problems of a config that differs from the defaults by `change`; asserts there is exactly one. */
function oneProblem(change: Partial<GrpoConfig>): string {
  const problems = validateConfig(withChange(change));
  expect(problems, JSON.stringify(change)).toHaveLength(1);
  return problems[0];
}

describe('DEFAULT_CONFIG and CONFIG_DOCS', () => {
  it('the defaults are valid and match the documented choices', () => {
    expect(validateConfig(defaultConfig())).toEqual([]);
    expect(DEFAULT_CONFIG.num_generations).toBe(8);
    expect(DEFAULT_CONFIG.max_completion_length).toBe(64);
    expect(DEFAULT_CONFIG.learning_rate).toBe(5e-4);
    expect(DEFAULT_CONFIG.lora_r).toBe(8);
    expect(DEFAULT_CONFIG.beta).toBe(0);
    expect(DEFAULT_CONFIG.epsilon).toBe(0.2);
    expect(DEFAULT_CONFIG.loss_type).toBe('dapo');
    expect(DEFAULT_CONFIG.scale_rewards).toBe('group');
  });

  it('documents every field with its group, its default and a non-trivial text', () => {
    const keys = Object.keys(defaultConfig()).sort();
    expect(Object.keys(CONFIG_DOCS).sort()).toEqual(keys);
    expect([...CONFIG_KEYS].sort()).toEqual(keys);
    for (const k of CONFIG_KEYS) {
      expect(CONFIG_DOCS[k].doc.length, k).toBeGreaterThan(30);
      expect(CONFIG_DOCS[k].group, k).not.toBe('');
      expect(CONFIG_DOCS[k].default, k).toEqual(DEFAULT_CONFIG[k]);
    }
    expect(CONFIG_DOCS.loss_type.source).toMatch(/Dr\. GRPO/);
    expect(CONFIG_DOCS.loss_type.source).toMatch(/DAPO/);
    expect(CONFIG_DOCS.use_rslora.source).toMatch(/Kalajdzievski 2023/);
    expect(CONFIG_DOCS.lora_r.source).toMatch(/Hu et al\. 2021/);
    expect(CONFIG_DOCS.num_generations.source).toMatch(/DeepSeekMath/);
  });

  it('defaultConfig() returns an independent copy', () => {
    const a = defaultConfig();
    a.reward_funcs[0].weight = 5;
    a.lora_target_modules.push('up_proj');
    expect(DEFAULT_CONFIG.reward_funcs[0].weight).toBe(1);
    expect(DEFAULT_CONFIG.lora_target_modules).not.toContain('up_proj');
  });
});

describe('validateConfig', () => {
  it('num_generations below 2 explains why and what to set', () => {
    expect(oneProblem({ num_generations: 1 })).toBe(
      'num_generations must be at least 2 for GRPO: a group of 1 has no variance to compare completions with; set it to 2 or more (8 is typical)',
    );
    expect(oneProblem({ num_generations: 2.5 })).toMatch(/num_generations must be a whole number/);
  });

  it('lengths must be positive whole numbers and fit the model context', () => {
    expect(oneProblem({ max_prompt_length: 0 })).toMatch(/max_prompt_length must be at least 1/);
    expect(oneProblem({ max_completion_length: 12.5 })).toMatch(/max_completion_length must be a whole number/);
    const c = withChange({ max_prompt_length: 400, max_completion_length: 200 });
    expect(validateConfig(c)).toEqual([]);
    const p = validateConfig(c, { maxSequenceLength: 512 });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/600 tokens is more than the model's context of 512/);
  });

  it('sampling settings', () => {
    expect(oneProblem({ temperature: 0 })).toMatch(/temperature must be greater than 0.*0\.1/);
    expect(oneProblem({ temperature: 50 })).toMatch(/temperature 50/);
    expect(oneProblem({ top_p: 0 })).toMatch(/top_p must be in \(0, 1\]/);
    expect(oneProblem({ top_p: 1.5 })).toMatch(/top_p/);
    expect(oneProblem({ top_k: -1 })).toMatch(/top_k must be at least 0/);
    expect(validateConfig(withChange({ top_p: 1, top_k: 0 }))).toEqual([]);
  });

  it('optimizer settings', () => {
    expect(oneProblem({ learning_rate: 0 })).toMatch(/learning_rate must be in \(0, 1\].*1e-4 to 1e-3/);
    expect(oneProblem({ learning_rate: -1e-4 })).toMatch(/learning_rate/);
    expect(oneProblem({ learning_rate: 2 })).toMatch(/learning_rate/);
    expect(validateConfig(withChange({ learning_rate: 1 }))).toEqual([]);
    expect(oneProblem({ warmup_ratio: -0.1 })).toMatch(/warmup_ratio must be in \[0, 1\]/);
    expect(oneProblem({ warmup_ratio: 1.5 })).toMatch(/warmup_ratio/);
    expect(validateConfig(withChange({ warmup_ratio: 1 }))).toEqual([]);
    expect(oneProblem({ weight_decay: -0.01 })).toMatch(/weight_decay must be 0 or more/);
    expect(oneProblem({ adam_beta1: 1 })).toMatch(/adam_beta1 must be in \[0, 1\)/);
    expect(oneProblem({ adam_beta2: -0.5 })).toMatch(/adam_beta2/);
    expect(oneProblem({ adam_epsilon: 0 })).toMatch(/adam_epsilon must be greater than 0/);
    expect(oneProblem({ max_grad_norm: -1 })).toMatch(/max_grad_norm must be 0 or more/);
    expect(validateConfig(withChange({ max_grad_norm: 0 }))).toEqual([]);
  });

  it('batch settings, including whole groups per micro-step (TRL divisibility)', () => {
    const p = oneProblem({ prompts_per_step: 1.5 });
    expect(p).toMatch(/prompts_per_step must be a whole number/);
    expect(p).toMatch(/1\.5 × 8 = 12 completions\) to be divisible by num_generations \(8\)/);
    expect(p).toMatch(/round prompts_per_step to 2/);
    expect(oneProblem({ prompts_per_step: 0 })).toMatch(/prompts_per_step must be at least 1/);
    expect(oneProblem({ gradient_accumulation_steps: 0 })).toMatch(/gradient_accumulation_steps must be at least 1/);
    expect(oneProblem({ num_iterations: 0 })).toMatch(/num_iterations must be at least 1/);
  });

  it('loss settings: beta, epsilon, epsilon_high not below epsilon', () => {
    expect(oneProblem({ beta: -0.01 })).toMatch(/beta must be 0 or more/);
    expect(oneProblem({ epsilon: 0 })).toMatch(/epsilon must be in \(0, 1\)/);
    expect(oneProblem({ epsilon_high: 0.1 })).toBe(
      'epsilon_high (0.1) is smaller than epsilon (0.2): the upper clip range should be at least the lower one; set epsilon_high to 0.2 for symmetric clipping, or higher (DAPO uses 0.28 with epsilon 0.2)',
    );
    expect(oneProblem({ epsilon_high: 0 })).toMatch(/epsilon_high must be greater than 0/);
    expect(validateConfig(withChange({ epsilon_high: 0.28 }))).toEqual([]);
  });

  it('reward functions: known names, finite weights, valid params, custom source, soft_overlong sizes', () => {
    expect(oneProblem({ reward_funcs: [] })).toMatch(/reward_funcs is empty/);
    expect(oneProblem({ reward_funcs: [{ name: 'exact_mach', weight: 1, params: {} }] })).toMatch(/unknown reward "exact_mach" \(did you mean exact_match\?\)/);
    expect(oneProblem({ reward_funcs: [{ name: 'exact_match', weight: Number.NaN, params: {} }] })).toMatch(/weight must be a finite number/);
    expect(oneProblem({ reward_funcs: [{ name: 'exact_match', weight: 0, params: {} }] })).toMatch(/every reward weight is 0/);
    expect(oneProblem({ reward_funcs: [{ name: 'numeric_match', weight: 1, params: { tolerence: 0.1 } }] })).toMatch(
      /reward numeric_match: unknown parameter "tolerence" \(did you mean tolerance\?\)/,
    );
    expect(oneProblem({ reward_funcs: [{ name: 'numeric_match', weight: 1, params: { tolerance: -1 } }] })).toMatch(/tolerance must be at least 0/);
    expect(oneProblem({ reward_funcs: [{ name: 'format', weight: 1, params: { pattern: '([a-z' } }] })).toMatch(/pattern is not a valid regular expression/);
    expect(oneProblem({ reward_funcs: [{ name: 'exact_match', weight: 1, params: { case_sensitive: 'yes' } }] })).toMatch(/case_sensitive must be true or false/);
    expect(oneProblem({ reward_funcs: [{ name: 'custom', weight: 1, params: {} }] })).toMatch(/params\.source must hold the function's JavaScript/);
    expect(oneProblem({ reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => {' } }] })).toMatch(/does not compile/);
    expect(validateConfig(withChange({ reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => c.length', timeout_ms: 100 } }] }))).toEqual([]);
    expect(oneProblem({ reward_funcs: [{ name: 'soft_overlong', weight: 1, params: { max_completion_length: 100 } }] })).toMatch(
      /max_completion_length \(100\) is larger than the run's max_completion_length \(64\)/,
    );
    expect(oneProblem({ reward_funcs: [{ name: 'soft_overlong', weight: 1, params: { cache_length: 64 } }] })).toMatch(/cache_length \(64\) must be smaller than max_completion_length \(64\)/);
    expect(
      validateConfig(
        withChange({
          reward_funcs: [
            { name: 'numeric_match', weight: 1, params: {} },
            { name: 'soft_overlong', weight: 0.5, params: { cache_length: 16 } },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('LoRA settings', () => {
    expect(oneProblem({ lora_r: 0 })).toMatch(/lora_r must be at least 1/);
    expect(oneProblem({ lora_alpha: 0 })).toMatch(/lora_alpha must be greater than 0.*2 × lora_r \(16\)/);
    expect(oneProblem({ lora_alpha: -8 })).toMatch(/lora_alpha/);
    expect(oneProblem({ lora_dropout: 1 })).toMatch(/lora_dropout must be in \[0, 1\)/);
    expect(oneProblem({ lora_target_modules: [] })).toMatch(/lora_target_modules is empty/);
    expect(oneProblem({ lora_target_modules: ['q_prj' as never] })).toMatch(/unknown module "q_prj" \(did you mean q_proj\?\)/);
    expect(oneProblem({ lora_target_modules: ['q_proj', 'q_proj'] })).toMatch(/lists q_proj twice/);
    expect(validateConfig(withChange({ lora_target_modules: [...LORA_TARGET_MODULES] }))).toEqual([]);
  });

  it('run, evaluation, prompt and checkpoint settings', () => {
    expect(oneProblem({ seed: -1 })).toMatch(/seed must be a whole number from 0 to 4294967295/);
    expect(oneProblem({ seed: 1.5 })).toMatch(/seed/);
    expect(oneProblem({ max_steps: 0 })).toMatch(/max_steps must be at least 1/);
    expect(oneProblem({ eval_split: 0.6 })).toMatch(/eval_split must be in \[0, 0\.5\]/);
    expect(oneProblem({ eval_split: -0.1 })).toMatch(/eval_split/);
    expect(validateConfig(withChange({ eval_split: 0, eval_interval: 0 }))).toEqual([]);
    expect(oneProblem({ eval_interval: -5 })).toMatch(/eval_interval must be at least 0/);
    expect(oneProblem({ eval_max_samples: 0 })).toMatch(/eval_max_samples must be at least 1/);
    expect(oneProblem({ prompt_template: 'Question: {question}' })).toMatch(/prompt_template must contain \{prompt\}/);
    expect(validateConfig(withChange({ prompt_template: 'Q: {prompt}\nA:', system_prompt: 'Be brief.' }))).toEqual([]);
    expect(oneProblem({ checkpoint_interval: -1 })).toMatch(/checkpoint_interval must be at least 0/);
  });

  it('reports every problem at once', () => {
    const p = validateConfig(withChange({ num_generations: 1, learning_rate: 0, lora_alpha: 0, epsilon_high: 0.1 }));
    expect(p).toHaveLength(4);
  });
});

describe('parseConfigJson', () => {
  it('merges onto the defaults, from an object or JSON text', () => {
    const c = parseConfigJson({ learning_rate: 1e-4, loss_type: 'grpo' }, 'test.json');
    expect(c.learning_rate).toBe(1e-4);
    expect(c.loss_type).toBe('grpo');
    expect(c.num_generations).toBe(DEFAULT_CONFIG.num_generations);
    const t = parseConfigJson('{"num_generations": 4, "reward_funcs": [{"name": "format"}, "exact_match"]}', 'text');
    expect(t.num_generations).toBe(4);
    expect(t.reward_funcs).toEqual([
      { name: 'format', weight: 1, params: {} },
      { name: 'exact_match', weight: 1, params: {} },
    ]);
  });

  it('round-trips a whole config', () => {
    const c = withChange({ system_prompt: 'Think.', lora_target_modules: ['q_proj', 'up_proj'], reward_funcs: [{ name: 'contains', weight: 2, params: { text: 'x' } }] });
    expect(parseConfigJson(JSON.parse(JSON.stringify(c)), 'saved')).toEqual(c);
  });

  it('rejects unknown keys, naming them and the closest known key', () => {
    expect(() => parseConfigJson({ learning_rat: 1e-4 }, 'my.json')).toThrow(/^my\.json: a problem in the config:\n- unknown key "learning_rat"; did you mean learning_rate\?$/);
    expect(() => parseConfigJson({ zzzzzzzz: 1 }, 'x')).toThrow(/unknown key "zzzzzzzz"; see the list of settings/);
    expect(() => parseConfigJson({ per_device_train_batch_size: 16 }, 'trl.json')).toThrow(/prompts_per_step = per_device_train_batch_size \/ num_generations/);
  });

  it('rejects wrong types, with every problem in one error', () => {
    let message = '';
    try {
      parseConfigJson({ learning_rate: '1e-4', use_rslora: 'yes', loss_type: 'ppo', lora_target_modules: 'q_proj', system_prompt: 5, reward_funcs: [{ name: 'format', wieght: 2 }] }, 'bad.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^bad\.json: 6 problems in the config:/);
    expect(message).toMatch(/- learning_rate must be a number, got the string "1e-4"/);
    expect(message).toMatch(/- use_rslora must be true or false, got the string "yes"/);
    expect(message).toMatch(/- loss_type must be one of "grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo", got the string "ppo"/);
    expect(message).toMatch(/- lora_target_modules must be an array of module names/);
    expect(message).toMatch(/- system_prompt must be a string or null, got number 5/);
    expect(message).toMatch(/- reward_funcs\[0\] has unknown key "wieght" \(did you mean weight\?\)/);
  });

  it('rejects values that fail validation, and non-objects', () => {
    expect(() => parseConfigJson({ num_generations: 1 }, 'c')).toThrow(/num_generations must be at least 2 for GRPO/);
    expect(() => parseConfigJson([1, 2], 'c')).toThrow(/a config must be a JSON object/);
    expect(() => parseConfigJson('{"a": ', 'c')).toThrow(/^c: not valid JSON/);
    expect(() => parseConfigJson({ max_prompt_length: 1000 }, 'c', { maxSequenceLength: 512 })).toThrow(/model's context of 512/);
  });
});

describe('configToTrlJson', () => {
  it('exports TRL GRPOConfig and PEFT LoraConfig names', () => {
    const c = withChange({ prompts_per_step: 3, num_generations: 4, epsilon_high: 0.28, checkpoint_interval: 0, reward_funcs: [{ name: 'exact_match', weight: 1, params: {} }, { name: 'format', weight: 0.5, params: {} }] });
    const t = configToTrlJson(c);
    expect(t.grpo_config.per_device_train_batch_size).toBe(12);
    expect(t.grpo_config.num_generations).toBe(4);
    expect(t.grpo_config.epsilon_high).toBe(0.28);
    expect(t.grpo_config.reward_weights).toEqual([1, 0.5]);
    expect(t.grpo_config.loss_type).toBe('dapo');
    expect(t.grpo_config.save_strategy).toBe('no');
    expect(t.grpo_config.eval_steps).toBe(25);
    expect(t.lora_config).toEqual({ task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, lora_dropout: 0, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], use_rslora: false, bias: 'none' });
    expect(t.reward_funcs.map((r) => r.name)).toEqual(['exact_match', 'format']);
    expect(t.not_in_trl.dynamic_sampling).toBe(false);
    // The generation batch (completions per optimizer step) holds whole groups, as TRL requires.
    const generationBatch = (t.grpo_config.per_device_train_batch_size as number) * (t.grpo_config.gradient_accumulation_steps as number);
    expect(generationBatch % c.num_generations).toBe(0);
  });

  it('names a constant schedule with warmup as Hugging Face does', () => {
    expect(configToTrlJson(withChange({ lr_scheduler_type: 'constant', warmup_ratio: 0.1 })).grpo_config.lr_scheduler_type).toBe('constant_with_warmup');
    expect(configToTrlJson(withChange({ lr_scheduler_type: 'constant', warmup_ratio: 0 })).grpo_config.lr_scheduler_type).toBe('constant');
    expect(configToTrlJson(withChange({ lr_scheduler_type: 'cosine', warmup_ratio: 0.1 })).grpo_config.lr_scheduler_type).toBe('cosine');
  });
});

describe('PRESETS', () => {
  it('GRPO (DeepSeekMath): per-sequence mean, group std, KL 0.04', () => {
    const c = applyPreset(defaultConfig(), 'grpo');
    expect(c.loss_type).toBe('grpo');
    expect(c.scale_rewards).toBe('group');
    expect(c.beta).toBe(0.04);
    expect(c.epsilon_high).toBe(c.epsilon);
    expect(c.dynamic_sampling).toBe(false);
  });

  it('Dr. GRPO: constant normaliser, no std scaling, no KL', () => {
    const c = applyPreset(defaultConfig(), 'dr_grpo');
    expect(c.loss_type).toBe('dr_grpo');
    expect(c.scale_rewards).toBe('none');
    expect(c.beta).toBe(0);
  });

  it('DAPO: clip-higher 0.28, dynamic sampling, token-level loss, overlong filtering, no KL', () => {
    const c = applyPreset(defaultConfig(), 'dapo');
    expect(c.loss_type).toBe('dapo');
    expect(c.epsilon).toBe(0.2);
    expect(c.epsilon_high).toBe(0.28);
    expect(c.dynamic_sampling).toBe(true);
    expect(c.mask_truncated_completions).toBe(true);
    expect(c.beta).toBe(0);
  });

  it('every preset is valid, cites its paper, sets the same fields, and is recognised after applying', () => {
    const fields = Object.keys(PRESETS[0].overrides).sort();
    for (const p of PRESETS) {
      // the TRL default also takes TRL's group size and a LoRA-sized learning rate (issue 24)
      const sizes = p.id === 'trl_default' ? ['learning_rate', 'num_generations'] : [];
      expect(Object.keys(p.overrides).sort(), p.id).toEqual([...fields, ...sizes].sort());
      expect(p.description, p.id).toMatch(/arXiv \d{4}\.\d{5}/);
      const c = applyPreset(defaultConfig(), p.id);
      expect(validateConfig(c), p.id).toEqual([]);
      expect(matchingPreset(c)?.id).toBe(p.id);
    }
    // Switching presets leaves nothing of the previous one behind.
    expect(applyPreset(applyPreset(defaultConfig(), 'dapo'), 'grpo')).toEqual(applyPreset(defaultConfig(), 'grpo'));
    expect(() => applyPreset(defaultConfig(), 'ppo')).toThrow(/unknown preset "ppo"; the presets are grpo, dr_grpo, dapo/);
  });
});

describe('the schema table', () => {
  it('declares the issue-15 fields with the agreed defaults', () => {
    expect(DEFAULT_CONFIG).toMatchObject({
      importance_sampling_level: 'token',
      sapo_temperature_pos: 1.0,
      sapo_temperature_neg: 1.05,
      delta: null,
      top_entropy_quantile: 1.0,
      entropy_coef: 0.0,
      multi_objective_aggregation: 'sum_then_normalize',
      steps_per_generation: 1,
      advantage_estimator: 'grpo',
      algorithm: 'grpo',
      expert_reward_threshold: 1.0,
      num_generations_eval: null,
      base_precision: 'auto',
      kv_precision: 'auto',
      recompute: 'auto',
      memory_budget_bytes: null,
    });
    for (const k of ['importance_sampling_level', 'delta', 'top_entropy_quantile', 'advantage_estimator', 'algorithm', 'num_generations_eval', 'base_precision'] as const) {
      expect(CONFIG_DOCS[k].doc.length, k).toBeGreaterThan(30);
      expect(CONFIG_DOCS[k].source, k).toBeTruthy();
    }
    expect(CONFIG_DOCS.importance_sampling_level.source).toMatch(/2507\.18071/);
    expect(CONFIG_DOCS.advantage_estimator.doc).toMatch(/not a TRL name/);
  });

  it('a field without an export decision does not compile', () => {
    // @ts-expect-error `trl` (the export decision) is required on every entry
    const entry = int({ default: 1, group: 'Run', doc: 'a field with no TRL decision' });
    expect(entry.type.kind).toBe('int');
  });

  it('checkConfig keys every problem by field; validateConfig gives the same messages', () => {
    const c = withChange({ num_generations: 1, top_entropy_quantile: 1.5, delta: 0.5, sapo_temperature_neg: 0, num_generations_eval: 0, memory_budget_bytes: 1.5, steps_per_generation: 0 });
    const p = checkConfig(c);
    expect(p.map((x) => x.field).sort()).toEqual(['delta', 'memory_budget_bytes', 'num_generations', 'num_generations_eval', 'sapo_temperature_neg', 'steps_per_generation', 'top_entropy_quantile']);
    expect(p.map((x) => x.message)).toEqual(validateConfig(c));
    expect(p.find((x) => x.field === 'delta')!.message).toMatch(/delta must be greater than 1, got 0\.5; .*INTELLECT-2/);
    expect(p.find((x) => x.field === 'num_generations_eval')!.message).toMatch(/num_generations_eval must be at least 1, got 0 \(null samples one/);
    expect(validateConfig(withChange({ delta: null, num_generations_eval: null, memory_budget_bytes: null }))).toEqual([]);
    expect(oneProblem({ expert_reward_threshold: Number.NaN })).toMatch(/expert_reward_threshold must be a finite number/);
    expect(oneProblem({ entropy_coef: -0.1 })).toMatch(/entropy_coef must be 0 or more/);
  });

  it('cross-field checks say what to change', () => {
    const sapoSeq = checkConfig(withChange({ loss_type: 'sapo', importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 100 }));
    expect(sapoSeq).toEqual([]); // TRL computes SAPO at sequence level too (issue 24)
    const delta = checkConfig(withChange({ delta: 1.1, epsilon_high: 0.28 }));
    expect(delta).toEqual([{ field: 'delta', message: expect.stringMatching(/set delta above 1\.28/) }]);
    const passk = checkConfig(withChange({ num_generations_eval: 4, eval_temperature: 0 }));
    expect(passk[0].field).toBe('num_generations_eval');
    expect(passk[0].message).toMatch(/set eval_temperature above 0/);
    expect(validateConfig(withChange({ num_generations_eval: 4, eval_temperature: 1 }))).toEqual([]);
  });

  it('warnings advise without blocking', () => {
    expect(configWarnings(defaultConfig())).toEqual([]);
    const gspoWithDapo = withChange({ importance_sampling_level: 'sequence', loss_type: 'dapo', steps_per_generation: 4 });
    expect(validateConfig(gspoWithDapo)).toEqual([]);
    expect(configWarnings(gspoWithDapo)).toEqual([{ field: 'loss_type', message: expect.stringMatching(/GSPO uses loss_type "grpo"/) }]);
    expect(configWarnings(withChange({ importance_sampling_level: 'sequence', loss_type: 'grpo' }))[0].message).toMatch(/raise steps_per_generation or num_iterations/);
    expect(configWarnings(withChange({ steps_per_generation: 3, max_steps: 100 }))[0]).toEqual({ field: 'steps_per_generation', message: expect.stringMatching(/set max_steps to 102/) });
    const ei = configWarnings(withChange({ algorithm: 'expert_iteration', beta: 0.04, loss_type: 'grpo' }));
    expect(ei).toEqual([{ field: 'algorithm', message: expect.stringMatching(/do not apply: beta 0\.04, loss_type "grpo"/) }]);
  });
});

describe('configToTrlJson for TRL v1.9', () => {
  it('uses only names TRL v1.9 / transformers v5 accept: no max_prompt_length, warmup_steps not warmup_ratio', () => {
    const t = configToTrlJson(withChange({ warmup_ratio: 0.1, max_steps: 25 }));
    expect(t.grpo_config).not.toHaveProperty('max_prompt_length');
    expect(t.grpo_config).not.toHaveProperty('warmup_ratio');
    expect(t.grpo_config.warmup_steps).toBe(3); // ceil(0.1 × 25), as src/grpo/schedule.ts warms up
    expect(t.trainer).toBe('GRPOTrainer');
  });

  it('lists every setting TRL lacks, with what the script does instead (long_prompts, max_consecutive_skips included)', () => {
    const t = configToTrlJson(withChange({ long_prompts: 'skip', max_consecutive_skips: 5 }));
    expect(t.not_in_trl).toMatchObject({ long_prompts: 'skip', max_consecutive_skips: 5, max_prompt_length: 256, dynamic_sampling: false, advantage_estimator: 'grpo', algorithm: 'grpo', base_precision: 'auto' });
    for (const k of Object.keys(t.not_in_trl)) expect(t.not_in_trl_why[k], k).toBeTruthy();
  });

  it('the new fields go out by their TRL names; steps_per_generation counts micro-batches in TRL', () => {
    const t = configToTrlJson(withChange({ importance_sampling_level: 'sequence', loss_type: 'cispo', delta: 4, top_entropy_quantile: 0.2, entropy_coef: 0.01, steps_per_generation: 4, gradient_accumulation_steps: 2, num_generations_eval: 2, eval_temperature: 1 }));
    expect(t.grpo_config).toMatchObject({ importance_sampling_level: 'sequence', loss_type: 'cispo', delta: 4, top_entropy_quantile: 0.2, entropy_coef: 0.01, steps_per_generation: 8, num_generations_eval: 2 });
    expect(t.grpo_config.per_device_eval_batch_size).toBe(2 * 2); // prompts_per_step × num_generations_eval: whole groups
    expect(configToTrlJson(defaultConfig()).grpo_config).not.toHaveProperty('num_generations_eval');
  });

  it('advantage_estimator rloo exports for RLOOTrainer, leaving out what RLOOConfig lacks', () => {
    const t = configToTrlJson(withChange({ advantage_estimator: 'rloo' }));
    expect(t.trainer).toBe('RLOOTrainer');
    expect(t.config_class).toBe('RLOOConfig');
    expect(t.grpo_config).not.toHaveProperty('loss_type');
    expect(t.grpo_config).not.toHaveProperty('scale_rewards');
    expect(t.not_in_trl).toMatchObject({ loss_type: 'dapo', scale_rewards: 'group' });
  });

  it('eval_interval 0 evaluates at the end, not every logging step', () => {
    expect(configToTrlJson(withChange({ eval_interval: 0, max_steps: 40 })).grpo_config).toMatchObject({ eval_strategy: 'steps', eval_steps: 40, eval_on_start: true });
    expect(configToTrlJson(withChange({ eval_split: 0 })).grpo_config.eval_strategy).toBe('no');
  });
});

describe('checkpoints made before the issue-15 fields', () => {
  it('resume with the new fields at their defaults (a config missing them would fail validation)', async () => {
    const { readCheckpointState } = await import('../../src/grpo/checkpoint');
    const { writeSafetensors } = await import('../../src/model/safetensors');
    const old: Record<string, unknown> = { ...defaultConfig(), learning_rate: 0.003 };
    for (const k of ['steps_per_generation', 'delta', 'importance_sampling_level', 'algorithm', 'num_generations_eval', 'base_precision']) delete old[k];
    const bytes = writeSafetensors(new Map(), { format: 'pt', grpo_playground_state: JSON.stringify({ version: 1, config: old, progress: {}, datasetFingerprint: 'x' }) });
    const state = readCheckpointState(bytes, 'old.safetensors');
    expect(state.config.learning_rate).toBe(0.003);
    expect(state.config.steps_per_generation).toBe(1);
    expect(state.config.delta).toBeNull();
    expect(validateConfig(state.config)).toEqual([]);
  });
});
