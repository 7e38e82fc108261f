// The issue-15 config fields: defaults (PREAMBLE's names), JSON import, and validation that says what to change.
import { describe, expect, test } from 'vitest';
import { defaultConfig, parseConfigJson, validateConfig, CONFIG_DOCS, type GrpoConfig } from '../../src/grpo/config';

const problems = (over: Partial<GrpoConfig>) => validateConfig({ ...defaultConfig(), ...over });

describe('recipes config fields', () => {
  test('defaults leave today\'s behaviour unchanged', () => {
    const c = defaultConfig();
    expect({
      importance_sampling_level: c.importance_sampling_level, sapo_temperature_pos: c.sapo_temperature_pos, sapo_temperature_neg: c.sapo_temperature_neg,
      delta: c.delta, top_entropy_quantile: c.top_entropy_quantile, entropy_coef: c.entropy_coef, multi_objective_aggregation: c.multi_objective_aggregation,
      steps_per_generation: c.steps_per_generation, advantage_estimator: c.advantage_estimator, algorithm: c.algorithm, expert_reward_threshold: c.expert_reward_threshold,
    }).toEqual({
      importance_sampling_level: 'token', sapo_temperature_pos: 1.0, sapo_temperature_neg: 1.05, delta: null, top_entropy_quantile: 1.0, entropy_coef: 0,
      multi_objective_aggregation: 'sum_then_normalize', steps_per_generation: 1, advantage_estimator: 'grpo', algorithm: 'grpo', expert_reward_threshold: 1.0,
    });
    expect(CONFIG_DOCS.advantage_estimator.doc).toMatch(/not a TRL name/);
    expect(CONFIG_DOCS.importance_sampling_level.source).toMatch(/GSPO/);
  });

  test('JSON import: delta as a number or null, enums checked', () => {
    expect(parseConfigJson({ delta: 4 }, 'c.json').delta).toBe(4);
    // TRL ignores delta with cispo (issue 24): accepted, with a warning
    expect(parseConfigJson({ delta: 4, loss_type: 'cispo', epsilon_high: 5 }, 'c.json').delta).toBe(4);
    expect(parseConfigJson({ delta: null }, 'c.json').delta).toBeNull();
    expect(() => parseConfigJson({ delta: 'big' }, 'c.json')).toThrow(/delta must be a number or null, got the string "big"/);
    expect(() => parseConfigJson({ importance_sampling_level: 'seq' }, 'c.json')).toThrow(/importance_sampling_level must be one of "token", "sequence"/);
    expect(() => parseConfigJson({ algorithm: 'ppo' }, 'c.json')).toThrow(/algorithm must be one of "grpo", "expert_iteration"/);
  });

  test('cross-field checks say what to change', () => {
    // GSPO's one ratio per completion averages over the model's own tokens only (issue 24): allowed with tools
    expect(problems({ importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 100, tools_source: '[]' })).toEqual([]);
    // one rollout samples steps_per_generation optimizer steps' prompts, so any whole number of steps is valid
    expect(problems({ steps_per_generation: 3 })).toEqual([]);
    expect(problems({ steps_per_generation: 0 }).join('\n')).toMatch(/steps_per_generation must be at least 1/);
    expect(problems({ loss_type: 'cispo' }).join('\n')).toMatch(/set epsilon_high above 1 \(MiniMax-M1 and TRL recommend 5.0\)/);
    expect(problems({ loss_type: 'cispo', epsilon_high: 5 })).toEqual([]);
    expect(problems({ delta: 1.1 }).join('\n')).toMatch(/delta \(1.1\) is not above 1 \+ epsilon_high .* or null to turn it off/);
    expect(problems({ top_entropy_quantile: -0.1 }).join('\n')).toMatch(/top_entropy_quantile must be in \[0, 1\]/);
    expect(problems({ multi_objective_aggregation: 'normalize_then_sum', advantage_estimator: 'rloo' }).join('\n')).toMatch(/set advantage_estimator to "grpo"/);
    expect(problems({ sapo_temperature_neg: 0 }).join('\n')).toMatch(/sapo_temperature_neg must be greater than 0/);
  });
});
