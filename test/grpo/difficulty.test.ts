// Difficulty scans (src/grpo/difficulty.ts) and curricula (src/grpo/curriculum.ts): records from an evaluation,
// a scan file read back with every field checked, pass-rate bands, and the orders the trainer draws prompts in.
import { describe, expect, test } from 'vitest';
import {
  difficultyRecords, inBand, joinScan, parseBand, parseScanJsonl, passRateHistogram, rowKey, scanToJsonl, selectByDifficulty, type DifficultyRecord,
} from '../../src/grpo/difficulty';
import { curriculumOrder } from '../../src/grpo/curriculum';
import { defaultConfig, validateConfig } from '../../src/grpo/config';
import { GrpoTrainer } from '../../src/grpo/trainer';
import { GpuTransformer } from '../../src/model/transformer';
import { createRewardScorer } from '../../src/grpo/rewards_scorer';
import { preparePrompts } from '../../src/grpo/prompts';
import type { DatasetRow } from '../../src/data';
import type { PromptExample } from '../../src/grpo/rollout';
import { testGpu } from '../gpu';
import { loadStories, storyRows, wordConfig } from './fixtures';

const rows = (n: number): DatasetRow[] => Array.from({ length: n }, (_, i) => ({ prompt: `p${i}`, answer: `a${i}`, line: i + 2, raw: { prompt: `p${i}`, answer: `a${i}`, level: [3, 1, 2, 1][i % 4] } }));

describe('difficulty scan records', () => {
  test('pass rate and mean reward per prompt from sample-major samples', () => {
    const rs = rows(3);
    // k = 2: samples[j * 3 + p]
    const pass = [true, false, false, true, false, false];
    const reward = [1, 0.5, 0, 1, 0, 0.25];
    const recs = difficultyRecords(rs, { samples: pass.map((p, i) => ({ prompt: '', completion: '', answer: '', pass: p, reward: reward[i] })) }, 2);
    expect(recs.map((r) => r.pass_rate)).toEqual([1, 0, 0]);
    expect(recs.map((r) => r.reward_mean)).toEqual([1, 0.25, 0.125]);
    expect(recs.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(recs[0].key).toBe(rowKey('p0', 'a0'));
    expect(() => difficultyRecords(rs, { samples: [] }, 2)).toThrow(/0 samples for 3 prompts x 2/);
  });

  test('keys tell apart prompt and answer, and are 16 hex digits', () => {
    expect(rowKey('ab', 'c')).not.toBe(rowKey('a', 'bc'));
    expect(rowKey('x', 'y')).toMatch(/^[0-9a-f]{16}$/);
    expect(rowKey('x', 'y')).toBe(rowKey('x', 'y'));
  });

  test('a scan written and read back is the same; hostile lines are refused naming the line and field', () => {
    const recs: DifficultyRecord[] = [{ key: rowKey('p', 'a'), line: 1, k: 4, pass_rate: 0.25, reward_mean: 0.5, prompt: 'p' }];
    const back = parseScanJsonl(scanToJsonl(recs), 'scan.jsonl');
    expect([...back.values()]).toEqual(recs);
    const good = JSON.stringify(recs[0]);
    const bad: [string, RegExp][] = [
      ['{"key": 1}', /scan\.jsonl line 2: field "key"/],
      [JSON.stringify({ ...recs[0], key: '../../etc/passwd' }), /line 2: field "key"/],
      [JSON.stringify({ ...recs[0], pass_rate: 1.5 }), /line 2: field "pass_rate"/],
      [JSON.stringify({ ...recs[0], pass_rate: 'NaN' }), /line 2: field "pass_rate"/],
      [JSON.stringify({ ...recs[0], k: 0 }), /line 2: field "k"/],
      [JSON.stringify({ ...recs[0], k: 2.5 }), /line 2: field "k"/],
      [JSON.stringify({ ...recs[0], reward_mean: null }), /line 2: field "reward_mean"/],
      ['[1, 2]', /line 2: not a JSON object/],
      ['{oops', /line 2: not JSON/],
    ];
    for (const [line, msg] of bad) expect(() => parseScanJsonl(`${good}\n${line}\n`, 'scan.jsonl'), line).toThrow(msg);
    expect(() => parseScanJsonl('x'.repeat(256 * 2 ** 20 + 1), 'big.jsonl')).toThrow(/big\.jsonl: .* at most/);
  });

  test('bands in interval notation', () => {
    const open = parseBand('(0, 1)');
    expect(open).toEqual({ lo: 0, hi: 1, loOpen: true, hiOpen: true });
    if (typeof open === 'string') throw new Error(open);
    expect([0, 0.125, 0.875, 1].map((p) => inBand(p, open))).toEqual([false, true, true, false]);
    const closed = parseBand('[0.2,0.8]');
    if (typeof closed === 'string') throw new Error(closed);
    expect([0.19, 0.2, 0.8, 0.81].map((p) => inBand(p, closed))).toEqual([false, true, true, false]);
    for (const bad of ['0..1', '(1, 0)', '(0.5, 0.5)', '[0, 2]', '(-1, 1)', 'x']) expect(typeof parseBand(bad), bad).toBe('string');
    expect(validateConfig({ ...defaultConfig(), pass_rate_band: '0 < p < 1' }).join(' ')).toMatch(/pass_rate_band "0 < p < 1" is not a band: write it in interval notation/);
    expect(validateConfig({ ...defaultConfig(), pass_rate_band: '[0.25, 0.75]' })).toEqual([]);
    expect(validateConfig({ ...defaultConfig(), curriculum: 'by_column' }).join(' ')).toMatch(/curriculum_column/);
  });

  test('a band keeps the rows inside it (with their pass rates) and counts the rest', () => {
    const rs = rows(4);
    const scan = new Map<string, DifficultyRecord>();
    [0, 0.5, 1].forEach((p, i) => scan.set(rowKey(`p${i}`, `a${i}`), { key: rowKey(`p${i}`, `a${i}`), line: i, k: 2, pass_rate: p, reward_mean: p, prompt: '' }));
    const band = parseBand('(0, 1)');
    if (typeof band === 'string') throw new Error(band);
    const sel = selectByDifficulty(rs, scan, band, 's.jsonl');
    expect(sel.rows.map((r) => [r.prompt, r.passRate])).toEqual([['p1', 0.5]]);
    expect([sel.outside, sel.unscanned]).toEqual([2, 1]);
    // no band: every row stays, the scanned ones with their pass rate
    expect(selectByDifficulty(rs, scan, null, 's.jsonl').rows.map((r) => r.passRate)).toEqual([0, 0.5, 1, undefined]);
    const none = parseBand('[0.6, 0.9]');
    if (typeof none === 'string') throw new Error(none);
    expect(() => selectByDifficulty(rs, scan, none, 's.jsonl')).toThrow(/s\.jsonl: the pass-rate band keeps no training prompt \(3 outside it, 1 not in the scan of 4\)/);
  });

  test('histogram over 10 bins, 1 in the last', () => {
    expect(passRateHistogram([0, 0.05, 0.1, 0.99, 1])).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
  });
});

describe('joining a scan to the training rows (train --scan and the page\'s runs)', () => {
  const rs = rows(4);
  const scan = { source: 'scan.jsonl', records: new Map([0, 1, 2].map((i) => [rowKey(`p${i}`, `a${i}`), { key: rowKey(`p${i}`, `a${i}`), line: i + 2, k: 4, pass_rate: [0, 0.5, 1][i], reward_mean: 0, prompt: '' }])) };
  test('without a scan: the rows as they are, or a refusal naming what needs one', () => {
    const c = defaultConfig();
    expect(joinScan(rs, null, c, 'scan it')).toEqual({ rows: rs, note: null });
    expect(() => joinScan(rs, null, { ...c, curriculum: 'easy_to_hard' }, 'scan it')).toThrow('curriculum "easy_to_hard" needs a difficulty scan: scan it');
    expect(() => joinScan(rs, null, { ...c, pass_rate_band: '(0, 1)' }, 'scan it')).toThrow('pass_rate_band "(0, 1)" needs a difficulty scan: scan it');
  });
  test('with a scan and a band: the kept rows with pass rates, and the run log\'s line', () => {
    const j = joinScan(rs, scan, { ...defaultConfig(), pass_rate_band: '(0, 1)' }, '');
    expect(j.rows.map((r) => [r.prompt, r.passRate])).toEqual([['p1', 0.5]]);
    expect(j.note).toBe('scan.jsonl: 3 scanned prompts; 1 of 4 training prompts kept (pass rate in (0, 1): 2 outside, 1 not in the scan)');
    const all = joinScan(rs, scan, defaultConfig(), '');
    expect(all.rows).toHaveLength(4);
    expect(all.note).toBe('scan.jsonl: 3 scanned prompts; 4 of 4 training prompts kept (1 not in the scan)');
    expect(() => joinScan(rs, scan, { ...defaultConfig(), pass_rate_band: '(1, 0)' }, '')).toThrow('pass_rate_band: it holds no pass rate');
  });
});

describe('curricula', () => {
  const ex = (passRate: number | undefined, raw: Record<string, unknown>): PromptExample => ({ text: '', ids: [1], answer: '', raw, ...(passRate !== undefined ? { passRate } : {}) });
  test('easy_to_hard: highest pass rate first, ties in file order; needs a scan', () => {
    const es = [ex(0.5, {}), ex(1, {}), ex(0.5, {}), ex(0, {})];
    expect(curriculumOrder(es, { curriculum: 'easy_to_hard', curriculum_column: null })).toEqual([1, 0, 2, 3]);
    expect(curriculumOrder(es, { curriculum: 'shuffle', curriculum_column: null })).toBeNull();
    expect(() => curriculumOrder([ex(0.5, {}), ex(undefined, {})], { curriculum: 'easy_to_hard', curriculum_column: null })).toThrow(/training prompt 2 has none: scan the dataset first/);
  });
  test('by_column: numbers (and numeric text) numerically, text by code point, missing values named', () => {
    expect(curriculumOrder([ex(undefined, { l: 10 }), ex(undefined, { l: 2 }), ex(undefined, { l: 2 })], { curriculum: 'by_column', curriculum_column: 'l' })).toEqual([1, 2, 0]);
    expect(curriculumOrder([ex(undefined, { l: '10' }), ex(undefined, { l: '9' })], { curriculum: 'by_column', curriculum_column: 'l' })).toEqual([1, 0]);
    expect(curriculumOrder([ex(undefined, { l: 'hard' }), ex(undefined, { l: 'easy' })], { curriculum: 'by_column', curriculum_column: 'l' })).toEqual([1, 0]);
    expect(() => curriculumOrder([ex(undefined, { l: 1 }), ex(undefined, {})], { curriculum: 'by_column', curriculum_column: 'l' })).toThrow(/training prompt 2 has no value in column "l"/);
    expect(() => curriculumOrder([ex(undefined, { l: 1 }), ex(undefined, { l: 'x' })], { curriculum: 'by_column', curriculum_column: 'l' })).toThrow(/mixes numbers and text/);
    expect(() => curriculumOrder([ex(undefined, { l: { a: 1 } })], { curriculum: 'by_column', curriculum_column: 'l' })).toThrow(/not a number or text/);
  });

  test('the trainer draws prompts in the curriculum\'s order every epoch (and a seeded shuffle without one)', async () => {
    const gpu = await testGpu();
    const loaded = await loadStories();
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const base = storyRows('dog').slice(0, 6).map((r, i) => ({ ...r, raw: { ...r.raw, level: [5, 3, 9, 1, 7, 2][i] } }));
    const draw = (over: Parameters<typeof wordConfig>[0]) => {
      const config = wordConfig(over);
      const train = preparePrompts(base, loaded, config).examples;
      const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
      const trainer = new GrpoTrainer({ gpu, model, tokenizer: loaded.tokenizer, config, train, eval: [], scorer });
      const next = (trainer as unknown as { nextPrompts(n: number): PromptExample[] }).nextPrompts.bind(trainer);
      const got = next(12).map((e) => e.raw.level);
      trainer.release();
      scorer.dispose();
      return got;
    };
    expect(draw({ curriculum: 'by_column', curriculum_column: 'level' })).toEqual([1, 2, 3, 5, 7, 9, 1, 2, 3, 5, 7, 9]);
    const shuffledDraw = draw({});
    expect(shuffledDraw.slice(0, 6).sort()).toEqual([1, 2, 3, 5, 7, 9]);
    expect(shuffledDraw.slice(0, 6)).not.toEqual([1, 2, 3, 5, 7, 9]);
    expect(() => draw({ curriculum: 'easy_to_hard' })).toThrow(/scan the dataset first/);
    model.release?.();
  });
});
