// The built-in preference demo (src/demo/preference.ts): its file of pairs is the main demo's prompts, the
// right reversal against the slipped one, exactly as generated; it parses as TRL's preference format with
// no bad row; its config is the one `npm run demo:report -- --demo dpo` measured (docs/demo/dpo/config.json),
// so the page's demo is the reported one.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DEMO_DATASETS, demoConfig } from '../../src/demo/builtin';
import { pairsJsonl, reversePairs, slipped } from '../../src/demo/preference';
import { parseDataset } from '../../src/data';
import { validateConfig } from '../../src/grpo/config';

const read = (path: string) => readFileSync(new URL(`../../public/${path}`, import.meta.url), 'utf8');

describe('the preference demo', () => {
  const demo = DEMO_DATASETS.find((d) => d.id === 'reverse_pairs')!;

  test('is listed for tiny-puzzles with DPO, and its file is the reverse demo\'s prompts as generated pairs', () => {
    expect(demo).toMatchObject({ model: 'tiny-puzzles', algorithm: 'dpo', path: 'datasets/reverse_pairs.jsonl' });
    const rows = parseDataset(read('datasets/reverse.jsonl'), 'reverse.jsonl').rows;
    expect(read(demo.path)).toBe(pairsJsonl(reversePairs(rows)));
    expect(slipped('zqk')).toBe('zkq');
    expect(reversePairs([{ prompt: 'rev bba=', answer: 'abb' }, { prompt: 'rev abc=', answer: 'cba' }])).toEqual([{ prompt: 'rev abc=', chosen: 'cba', rejected: 'cab' }]);
  });

  test('parses as preference pairs with no bad row, chosen and rejected always differing', () => {
    const ds = parseDataset(read(demo.path), 'reverse_pairs.jsonl', { kind: 'preference' });
    expect(ds.mapping).toMatchObject({ prompt: 'prompt', answer: 'chosen', rejected: 'rejected' });
    expect(ds.counts.invalid + ds.counts.duplicate).toBe(0);
    expect(ds.counts.kept).toBeGreaterThan(450);
    expect(ds.rows.filter((r) => r.answer === r.rejected)).toEqual([]);
  });

  test('its config is the measured demo\'s (docs/demo/dpo/config.json) and validates', () => {
    const c = demoConfig('reverse_pairs');
    expect(validateConfig(c, { maxSequenceLength: 64 })).toEqual([]);
    expect(JSON.parse(JSON.stringify(c))).toEqual(JSON.parse(readFileSync(new URL('../../docs/demo/dpo/config.json', import.meta.url), 'utf8')));
    expect(c).toMatchObject({ algorithm: 'dpo', beta: 0.1, dpo_loss_type: 'sigmoid', sft_loss_weight: 1, max_steps: 200 });
    // the main demo keeps GRPO
    expect(demoConfig('reverse').algorithm).toBe('grpo');
  });
});
