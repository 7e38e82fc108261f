// Curriculum phases and source mixtures (src/grpo/prompt_schedule.ts): parsing with named errors, the prompts
// each phase draws, mixture frequencies by weight, a state that resumes the same draws, and the trainer using it.
import { describe, expect, test } from 'vitest';
import { parseMixture, parsePhases, PromptSchedule } from '../../src/grpo/prompt_schedule';
import type { PromptExample } from '../../src/grpo/rollout';
import { defaultConfig, validateConfig } from '../../src/grpo/config';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { GpuTransformer } from '../../src/model/transformer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from './fixtures';

const ex = (i: number, raw: Record<string, unknown>, passRate?: number): PromptExample => ({ text: `p${i}`, ids: [1], answer: '', raw, ...(passRate !== undefined ? { passRate } : {}) });
const data = Array.from({ length: 12 }, (_, i) => ex(i, { level: i < 4 ? 'easy' : i < 8 ? 'mid' : 'hard', source: i % 3 === 0 ? 'code' : 'math' }, i / 11));

describe('parsing', () => {
  test('phases and mixtures, with the problem named', () => {
    expect(parsePhases('[{"steps": 2, "column": "level", "value": "easy"}, {"steps": null, "pass_rate_band": "(0, 1)"}]')).toEqual([
      { steps: 2, column: 'level', value: 'easy' }, { steps: null, band: { lo: 0, hi: 1, loOpen: true, hiOpen: true } },
    ]);
    const bad: [string, RegExp][] = [
      ['x', /is not JSON/], ['[]', /list of 1 to 64/], ['[{"steps": 0}]', /phase 1: "steps" must be/],
      ['[{"steps": null}, {"steps": 1}]', /only the last phase/], ['[{"steps": 1, "when": 2}]', /unknown key "when"/],
      ['[{"steps": 1, "column": "l"}]', /"value" must be/], ['[{"steps": 1, "pass_rate_band": "0-1"}]', /pass_rate_band write it in interval/],
    ];
    for (const [t, m] of bad) expect(parsePhases(t), t).toMatch(m);
    expect(parseMixture('{"math": 0.7, "code": 0.3}')).toEqual(new Map([['math', 0.7], ['code', 0.3]]));
    expect(parseMixture('{"a": -1}')).toMatch(/weight of "a" must be a number >= 0/);
    expect(parseMixture('{"a": 0}')).toMatch(/needs a weight above 0/);
    expect(validateConfig({ ...defaultConfig(), mixture_weights: '{"a": 1}' }).join(' ')).toMatch(/name it in mixture_column/);
    expect(validateConfig({ ...defaultConfig(), curriculum_phases: '[{"steps": 1}]', curriculum: 'easy_to_hard' }).join(' ')).toMatch(/set curriculum to "shuffle"/);
    expect(validateConfig({ ...defaultConfig(), curriculum_phases: '[{"steps": 1}]' })).toEqual([]);
  });
});

describe('drawing', () => {
  test('each phase draws only its prompts, each pass a permutation, for its steps', () => {
    const phases = parsePhases('[{"steps": 2, "column": "level", "value": "easy"}, {"steps": 1, "pass_rate_band": "[0.7, 1]"}, {"steps": null}]');
    if (typeof phases === 'string') throw new Error(phases);
    const s = PromptSchedule.phases(data, phases, 5);
    const at = (step: number, n: number) => Array.from({ length: n }, () => s.next(step));
    const easy = at(0, 8);
    expect(easy.every((i) => i < 4)).toBe(true);
    expect(easy.slice(0, 4).sort()).toEqual([0, 1, 2, 3]);
    expect(easy.slice(4).sort()).toEqual([0, 1, 2, 3]);
    expect(at(2, 6).every((i) => data[i].passRate! >= 0.7)).toBe(true);
    expect([s.phaseAt(0), s.phaseAt(1), s.phaseAt(2), s.phaseAt(3), s.phaseAt(99)]).toEqual([0, 0, 1, 2, 2]);
    expect(new Set(at(3, 12)).size).toBe(12);
    const none = parsePhases('[{"steps": 1, "column": "level", "value": "x"}]');
    expect(() => PromptSchedule.phases(data, none as never, 1)).toThrow(/phase 1 keeps no training prompt/);
  });
  test('a mixture draws sources by weight; a checkpoint\'s state resumes the same draws', () => {
    const w = parseMixture('{"math": 0.75, "code": 0.25}') as Map<string, number>;
    const s = PromptSchedule.mixture(data, 'source', w, 9);
    const first = Array.from({ length: 2000 }, () => s.next(0));
    const code = first.filter((i) => data[i].raw.source === 'code').length / first.length;
    expect(code).toBeGreaterThan(0.22);
    expect(code).toBeLessThan(0.28);
    const state = JSON.parse(JSON.stringify(s.state()));
    const next = Array.from({ length: 50 }, () => s.next(0));
    const again = PromptSchedule.mixture(data, 'source', w, 9);
    again.restore(state, 'ck');
    expect(Array.from({ length: 50 }, () => again.next(0))).toEqual(next);
    expect(() => again.restore({ cycles: [{ pass: 1, cursor: 99 }, { pass: 0, cursor: 0 }], draws: 0 }, 'ck')).toThrow(/out of range/);
    expect(() => PromptSchedule.mixture(data, 'source', new Map([['bio', 1]]), 1)).toThrow(/no training prompt has "source" = "bio"/);
  });
});

describe('in the trainer', () => {
  test('phases pick the prompts, curriculum/phase and rewards_by_source are logged, progress round-trips', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const rows = storyRows('the').slice(0, 6).map((r, i) => ({ ...r, raw: { ...r.raw, level: i < 2 ? 'a' : 'b', source: i % 2 ? 'x' : 'y' } }));
    const config = wordConfig({ num_generations: 2, max_completion_length: 4, prompts_per_step: 2, curriculum_phases: '[{"steps": 1, "column": "level", "value": "a"}, {"steps": null, "column": "level", "value": "b"}]', mixture_column: 'source' });
    expect(validateConfig(config)).toEqual([]);
    const train = preparePrompts(rows, loaded, config).examples;
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
    try {
      const r1 = await trainer.trainStep();
      expect(r1.groups.map((g) => g.prompt.raw.level)).toEqual(['a', 'a']);
      expect(r1.metrics['curriculum/phase']).toBe(0);
      const r2 = await trainer.trainStep();
      expect(r2.groups.map((g) => g.prompt.raw.level)).toEqual(['b', 'b']);
      expect(r2.metrics['curriculum/phase']).toBe(1);
      expect(Object.keys(r2.metrics).filter((k) => k.startsWith('rewards_by_source/')).length).toBeGreaterThan(0);
      const p = JSON.parse(JSON.stringify(trainer.progress()));
      expect(p.selection.schedule.cycles).toHaveLength(2);
    } finally {
      trainer.release();
      scorer.dispose();
    }
  }, 300_000);
});
