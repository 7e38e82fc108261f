// JSON import: a config file's values merged onto the defaults; unknown keys (with the closest known key,
// or what TRL's name is called here), wrong types and failed validation reported together.

import { BUILTIN_REWARD_NAMES, CUSTOM_REWARD_NAME } from '../rewards/registry';
import { closestMatch } from '../rewards/text';
import type { ValueKind } from './fields';
import { CONFIG_KEYS, FIELDS, defaultConfig, type GrpoConfig, type RewardFuncConfig } from './schema';
import { validateConfig, type ValidationContext } from './validate';

/** Keys from TRL / PEFT / HF that this config names differently, with what to write instead. */
const FOREIGN_KEYS: Record<string, string> = {
  per_device_train_batch_size: 'use prompts_per_step = per_device_train_batch_size / num_generations (the number of prompts, not completions)',
  generation_batch_size: 'use prompts_per_step, gradient_accumulation_steps and steps_per_generation (a rollout is prompts_per_step × gradient_accumulation_steps × steps_per_generation prompts)',
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

function typeProblem(key: string, kind: ValueKind, v: unknown): string | null {
  const isNumber = typeof v === 'number' && Number.isFinite(v);
  switch (kind.kind) {
    case 'int':
    case 'number':
      return isNumber ? null : `${key} must be a number, got ${describeValue(v)}`;
    case 'int_or_null':
    case 'number_or_null':
      return v === null || isNumber ? null : `${key} must be a number or null, got ${describeValue(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `${key} must be true or false, got ${describeValue(v)}`;
    case 'enum':
      return typeof v === 'string' && kind.choices.includes(v) ? null : `${key} must be one of ${kind.choices.map((x) => JSON.stringify(x)).join(', ')}, got ${describeValue(v)}`;
    case 'string_or_null':
      return v === null || typeof v === 'string' ? null : `${key} must be a string or null, got ${describeValue(v)}`;
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
    const kind = FIELDS[key as keyof GrpoConfig].type;
    const problem = typeProblem(key, kind, v);
    if (problem) {
      problems.push(problem);
      continue;
    }
    if (kind.kind === 'reward_funcs') out[key] = parseRewardFuncs(v as unknown[], problems);
    else if (kind.kind === 'modules') out[key] = [...(v as string[])];
    else out[key] = v;
  }
  if (problems.length === 0) problems.push(...validateConfig(config, ctx));
  if (problems.length) {
    throw new Error(`${source}: ${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the config:\n${problems.map((m) => `- ${m}`).join('\n')}`);
  }
  return config;
}
