// Issue 24 (TRL fidelity), the parts without a GPU: REINFORCE++ as verl and OpenRLHF publish it (numbers worked
// out by hand), dynamic sampling deciding from the advantages used, frac_reward_zero_std as TRL logs it, and the
// settings TRL accepts (or refuses) with the messages that say so.
import { describe, expect, test } from 'vitest';
import { rewardAdvantages, type AdvantageSettings } from '../../src/grpo/advantages';
import { configWarnings, defaultConfig, validateConfig, type GrpoConfig } from '../../src/grpo/config';
import { applyPreset } from '../../src/grpo/presets';
import { sequenceWeights } from '../../src/grpo/loss_weights';
import { trlScript, TRL_CHECKED_VERSION } from '../../src/export/trl_script';
import { PRESETS } from '../../src/grpo/presets';
import { configDocsMarkdown } from '../../src/grpo/config/docs';
import { CONFIG_KEYS, FIELDS } from '../../src/grpo/config/schema';

const problems = (over: Partial<GrpoConfig>) => validateConfig({ ...defaultConfig(), ...over });
const warnings = (over: Partial<GrpoConfig>) => configWarnings({ ...defaultConfig(), ...over }).map((w) => w.message).join('\n');
const settings = (over: Partial<AdvantageSettings>): AdvantageSettings => ({ scale: 'group', estimator: 'grpo', aggregation: 'sum_then_normalize', ...over });

describe('REINFORCE++ advantages, token-weighted as published', () => {
  // rewards [1, 0 | 1, 0], completion lengths [10, 1, 10, 1]. Group-centred: c = [.5, -.5, .5, -.5].
  // Over the 22 tokens: mean mu = (10*.5 - .5) * 2 / 22 = 9/22; sum of squares around it
  // = 20 (.5 - 9/22)^2 + 2 (-.5 - 9/22)^2 = 20/121 + 200/121 = 220/121 = 20/11.
  const rewards = [[1, 0, 1, 0]];
  const lengths = [10, 1, 10, 1];
  const mu = 9 / 22;
  const ss = 20 / 11;

  test('verl masked_whiten (reinforce_pp_verl): unbiased variance, 1e-8 inside the root: +0.309 / -3.09', () => {
    const a = rewardAdvantages(rewards, [1], 2, settings({ estimator: 'reinforce_pp_verl' }), lengths).advantages;
    const sd = Math.sqrt(ss / 21 + 1e-8);
    expect(a[0]).toBeCloseTo((0.5 - mu) / sd, 10);
    expect(a[1]).toBeCloseTo((-0.5 - mu) / sd, 10);
    expect(a[0]).toBeCloseTo(0.309, 3);
    expect(a[1]).toBeCloseTo(-3.09, 2);
    expect(a[2]).toBe(a[0]);
  });

  test('OpenRLHF reinforce_baseline (reinforce_pp): biased variance clamped at 1e-8: +0.316 / -3.16', () => {
    const a = rewardAdvantages(rewards, [1], 2, settings({ estimator: 'reinforce_pp' }), lengths).advantages;
    const sd = Math.sqrt(ss / 22);
    expect(a[0]).toBeCloseTo((0.5 - mu) / sd, 10);
    expect(a[1]).toBeCloseTo((-0.5 - mu) / sd, 10);
    expect(a[0]).toBeCloseTo(0.3162, 4);
    expect(a[1]).toBeCloseTo(-3.1623, 4);
  });
});

describe('dynamic sampling and frac_reward_zero_std', () => {
  test('normalize_then_sum: a group whose weighted reward sum is constant but whose advantages differ is kept', () => {
    // group 0: f1 [2, 0, 0], f2 [0, 1, 1], weights [1, 2]: the weighted sum is 2 for all three, but the
    // per-function z-scores [1.15, -.58, -.58] and [-1.15, .58, .58] sum to [-1.15, .58, .58]: a signal.
    // group 1: every reward 1: no signal.
    const f1 = [2, 0, 0, 1, 1, 1];
    const f2 = [0, 1, 1, 1, 1, 1];
    const r = rewardAdvantages([f1, f2], [1, 2], 3, settings({ aggregation: 'normalize_then_sum' }));
    expect(r.zeroStd[0]).toBe(true); // the weighted sum is constant...
    expect(r.flat).toEqual([false, true]); // ...but only group 1 has equal advantages
    expect(r.advantages[0]).not.toBeCloseTo(r.advantages[1], 3);
    // TRL logs is_std_zero from the std of the summed normalised rewards over the batch: not zero here
    expect(r.loggedZeroStd).toEqual([false, false]);
  });

  test('frac_reward_zero_std follows the std TRL divides by: the group\'s, or the batch\'s under scale_rewards "batch"', () => {
    const rewards = [[1, 1, 0, 1]]; // group 0 constant, group 1 not
    expect(rewardAdvantages(rewards, [1], 2, settings({ scale: 'group' })).loggedZeroStd).toEqual([true, false]);
    expect(rewardAdvantages(rewards, [1], 2, settings({ scale: 'none' })).loggedZeroStd).toEqual([true, false]);
    expect(rewardAdvantages(rewards, [1], 2, settings({ scale: 'batch' })).loggedZeroStd).toEqual([false, false]);
    expect(rewardAdvantages([[1, 1, 1, 1]], [1], 2, settings({ scale: 'batch' })).loggedZeroStd).toEqual([true, true]);
    // sum_then_normalize: no signal exactly when the rewards are equal
    expect(rewardAdvantages(rewards, [1], 2, settings({ scale: 'batch' })).flat).toEqual([true, false]);
  });
});

describe('settings as TRL accepts them', () => {
  test('sapo with importance_sampling_level "sequence" is accepted (TRL computes it)', () => {
    expect(problems({ loss_type: 'sapo', importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 100 })).toEqual([]);
  });

  test('delta with cispo or sapo is ignored with a warning, as TRL ignores it', () => {
    expect(problems({ loss_type: 'cispo', epsilon_high: 5, delta: 4 })).toEqual([]);
    expect(problems({ loss_type: 'sapo', delta: 1.1 })).toEqual([]);
    expect(warnings({ loss_type: 'sapo', delta: 4 })).toMatch(/loss_type "sapo" ignores it \(as TRL does\)/);
  });

  test('GSPO with tools is accepted: its ratio leaves the inserted tokens out (trl_fidelity_loss.test.ts)', () => {
    expect(problems({ importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 100, tools_source: '[]' })).toEqual([]);
    expect(problems({ importance_sampling_level: 'sequence', steps_per_generation: 4, max_steps: 100, env_source: '() => ({})' })).toEqual([]);
  });

  test('top_entropy_quantile 0 is accepted (only the highest-entropy tokens keep their loss)', () => {
    expect(problems({ top_entropy_quantile: 0 })).toEqual([]);
  });

  test('RLOO with tools or an environment is refused: RLOOTrainer has no tools', () => {
    expect(problems({ advantage_estimator: 'rloo', tools_source: '[]' }).join('\n')).toMatch(/RLOOTrainer, which has no tools.*set advantage_estimator to "grpo"/);
    expect(problems({ advantage_estimator: 'rloo', env_source: '() => ({})' }).join('\n')).toMatch(/RLOOTrainer/);
    expect(problems({ advantage_estimator: 'rloo' })).toEqual([]);
  });

  test('the on-policy sequence-level warning says what is true: no warning with an entropy mask', () => {
    expect(warnings({ importance_sampling_level: 'sequence' })).toMatch(/same update as "token" on-policy without an entropy mask/);
    expect(warnings({ importance_sampling_level: 'sequence', top_entropy_quantile: 0.5 })).not.toMatch(/same update/);
    expect(warnings({ importance_sampling_level: 'sequence', steps_per_generation: 2, max_steps: 100 })).not.toMatch(/same update/);
  });

  test('the CISPO preset scales rewards by the batch std, as TRL\'s ScaleRL recipe', () => {
    expect(applyPreset(defaultConfig(), 'cispo').scale_rewards).toBe('batch');
  });

  test('luspo needs sequence level and beta 0 (TRL\'s requirement; its padded mean with beta is not reproduced)', () => {
    expect(problems({ loss_type: 'luspo' }).join('\n')).toMatch(/TRL requires importance_sampling_level "sequence"/);
    expect(problems({ loss_type: 'luspo', importance_sampling_level: 'sequence', beta: 0.04 }).join('\n')).toMatch(/set beta to 0/);
    expect(problems({ loss_type: 'luspo', importance_sampling_level: 'sequence' })).toEqual([]);
    expect(problems({ loss_type: 'vespo' })).toEqual([]);
  });

  test('luspo weighs each kept token 1 / (completions x micro-batches); vespo aggregates as dapo', () => {
    expect(sequenceWeights('luspo', [[3, 2], [4]], 8)).toEqual([[0.25, 0.25], [0.5]]);
    expect(sequenceWeights('vespo', [[3, 2], [4]], 8)).toEqual([[1 / 9, 1 / 9], [1 / 9]]);
    expect(sequenceWeights('vespo', [[3, 2]], 8, 20)).toEqual([[1 / 20, 1 / 20]]);
  });

  test('RLOO is TRL\'s RLOOTrainer: beta is accepted (a penalty on the reward); the GRPO loss settings are not used', () => {
    expect(problems({ advantage_estimator: 'rloo', beta: 0.05 })).toEqual([]);
    expect(warnings({ advantage_estimator: 'rloo', loss_type: 'dapo' })).toMatch(/TRL's RLOO loss/);
    expect(warnings({ ...applyPreset(defaultConfig(), 'rloo') })).not.toMatch(/TRL's RLOO loss/);
    expect(applyPreset(defaultConfig(), 'rloo').loss_type).toBe('grpo');
  });

  test('the TRL export refuses RLOO with tools (RLOOTrainer has no tools argument)', () => {
    const c = { ...applyPreset(defaultConfig(), 'rloo'), tools_source: '[]' };
    const input = { config: c, modelName: 'm', dataset: { name: 'd.jsonl', format: 'jsonl' as const, promptColumn: 'prompt', answerColumn: 'answer' }, stepsTrained: 1 };
    expect(() => trlScript(input)).toThrow(/RLOOTrainer, which has no tools/);
    expect(trlScript({ ...input, config: applyPreset(defaultConfig(), 'rloo') })).toContain('RLOOTrainer');
  });

  test('the "TRL default" preset is TRL\'s GRPOConfig defaults, with a LoRA-sized learning rate and its reason', () => {
    // TRL main (f2cd577), trl/trainer/grpo_config.py: loss_type "dapo", beta 0.0, epsilon 0.2, epsilon_high None (= epsilon),
    // scale_rewards "group", num_generations 8, learning_rate 1e-6
    const c = applyPreset(defaultConfig(), 'trl_default');
    expect({ loss_type: c.loss_type, beta: c.beta, epsilon: c.epsilon, epsilon_high: c.epsilon_high, scale_rewards: c.scale_rewards, num_generations: c.num_generations })
      .toEqual({ loss_type: 'dapo', beta: 0, epsilon: 0.2, epsilon_high: 0.2, scale_rewards: 'group', num_generations: 8 });
    expect(c.learning_rate).toBe(1e-5);
    expect(PRESETS.find((p) => p.id === 'trl_default')!.description).toMatch(/LoRA's best learning rate is about 10 times/);
  });

  test('the exported script names the TRL version it was checked against', () => {
    const input = { config: defaultConfig(), modelName: 'm', dataset: { name: 'd.jsonl', format: 'jsonl' as const, promptColumn: 'prompt', answerColumn: 'answer' }, stepsTrained: 1 };
    expect(TRL_CHECKED_VERSION).toMatch(/f2cd577/);
    expect(trlScript(input)).toContain(`Checked against ${TRL_CHECKED_VERSION}.`);
  });

  test('docs/CONFIG.md says, for every TRL keyword, "as TRL" or how it differs', () => {
    const md = configDocsMarkdown();
    for (const k of CONFIG_KEYS) {
      const d = FIELDS[k].trl as { trl?: string; differs?: string };
      if (!d.trl) continue;
      const section = md.slice(md.indexOf(`### \`${k}\``)).split('\n### ')[0];
      expect(section, k).toMatch(d.differs ? /differs from TRL: / : /, as TRL \|/);
    }
    expect(md).toMatch(/`entropy_coef`; differs from TRL: a fixed coefficient only/);
  });
});
