// pass_rate_band and curricula in the exported TRL script: shuffle_dataset=False for a curriculum, and the
// script's Python selection of the training split (run here on a stand-in for datasets.Dataset) keeps and
// orders exactly the rows the playground trains on (src/grpo/difficulty.ts, src/grpo/curriculum.ts).
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { trlScript } from '../../src/export/trl_script';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { parseBand, rowKey, scannedJsonl, selectByDifficulty, type DifficultyRecord } from '../../src/grpo/difficulty';
import { curriculumOrder } from '../../src/grpo/curriculum';
import type { DatasetRow } from '../../src/data';

const python = spawnSync('python3', ['--version']).status === 0;

const rows: DatasetRow[] = [0.5, 1, 0, 0.25, 0.5, 0.75, 0.5].map((_, i) => ({ prompt: `q${i}`, answer: `a${i}`, line: i + 1, raw: { q: `q${i}`, a: `a${i}`, level: ['10', '9', '2', '30', '9', '1', '4'][i] } }));
const rates = [0.5, 1, 0, 0.25, 0.5, 0.75, 0.5];
// the last row is not in the scan
const scan = new Map<string, DifficultyRecord>(rows.slice(0, 6).map((r, i) => [rowKey(r.prompt, r.answer), { key: rowKey(r.prompt, r.answer), line: r.line, k: 4, pass_rate: rates[i], reward_mean: 0, prompt: '' }]));

const script = (over: Partial<GrpoConfig>) => trlScript({
  config: { ...defaultConfig(), eval_split: 0, ...over }, modelName: 'm',
  dataset: { name: 'd.scanned.jsonl', format: 'jsonl', promptColumn: 'q', answerColumn: 'a' }, stepsTrained: null,
});

/** The script's selection block run on a minimal stand-in for datasets.Dataset; the kept rows' prompts. */
function runSelection(src: string, jsonl: string): { out: string[]; stdout: string; stderr: string; code: number | null } {
  const block = src.slice(src.indexOf('# ---- which prompts, in which order'), src.indexOf('# ---- reward helpers'));
  const program = `
import json, sys
class DS:
    def __init__(self, rows): self.rows = rows
    column_names = property(lambda self: list(self.rows[0].keys()) if self.rows else [])
    def __len__(self): return len(self.rows)
    def __getitem__(self, col): return [r[col] for r in self.rows]
    def filter(self, f): return DS([r for r in self.rows if f(r)])
    def select(self, idx): return DS([self.rows[i] for i in idx])
train_dataset = DS([json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()])
${block}
print(json.dumps(train_dataset["q"]))
`;
  const r = spawnSync('python3', ['-c', program], { input: jsonl, encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { out: r.status === 0 ? JSON.parse(last) : [], stdout: r.stdout, stderr: r.stderr, code: r.status };
}

/** What the playground trains on, in order. */
function playground(c: Pick<GrpoConfig, 'pass_rate_band' | 'curriculum' | 'curriculum_column'>): string[] {
  const band = c.pass_rate_band === null ? null : parseBand(c.pass_rate_band);
  if (typeof band === 'string') throw new Error(band);
  const sel = selectByDifficulty(rows, scan, band, 's');
  const ex = sel.rows.map((r) => ({ raw: r.raw, text: '', ids: [], answer: r.answer, ...(r.passRate !== undefined ? { passRate: r.passRate } : {}) }));
  const order = curriculumOrder(ex, c) ?? ex.map((_, i) => i);
  return order.map((i) => sel.rows[i].prompt);
}

describe('data selection in the TRL export', () => {
  test('a curriculum turns TRL\'s shuffle off; the default leaves it and writes no selection', () => {
    expect(script({ curriculum: 'by_column', curriculum_column: 'level' })).toMatch(/shuffle_dataset=False/);
    const plain = script({});
    expect(plain).not.toMatch(/shuffle_dataset/);
    expect(plain).not.toContain('PASS_RATE_BAND');
  });

  test.skipIf(!python)('the script keeps and orders the rows the playground does', () => {
    const jsonl = scannedJsonl(rows, scan);
    expect(jsonl.split('\n')[6]).toBe('{"q":"q6","a":"a6","level":"4","pass_rate":null}');
    const cases: Pick<GrpoConfig, 'pass_rate_band' | 'curriculum' | 'curriculum_column'>[] = [
      { pass_rate_band: '(0, 1)', curriculum: 'shuffle', curriculum_column: null },
      { pass_rate_band: '[0.25, 0.5]', curriculum: 'easy_to_hard', curriculum_column: null },
      { pass_rate_band: '(0, 1]', curriculum: 'by_column', curriculum_column: 'level' },
      { pass_rate_band: null, curriculum: 'by_column', curriculum_column: 'level' },
    ];
    for (const c of cases) {
      const r = runSelection(script(c), jsonl);
      expect(r.stderr, JSON.stringify(c)).toBe('');
      expect(r.out, JSON.stringify(c)).toEqual(playground(c));
    }
    // hand-checked: band (0, 1) keeps q0 q3 q4 q5; by level numerically: 1 (q5), 2, 4 (q6), 9 (q1, q4), 10, 30
    expect(playground(cases[0])).toEqual(['q0', 'q3', 'q4', 'q5']);
    expect(playground(cases[3])).toEqual(['q5', 'q2', 'q6', 'q1', 'q4', 'q0', 'q3']);
    // a band without the pass_rate column stops with the reason
    const noScan = runSelection(script(cases[0]), rows.map((r) => JSON.stringify(r.raw)).join('\n'));
    expect(noScan.code).not.toBe(0);
    expect(noScan.stderr).toMatch(/export with grpo-playground export-trl --scan/);
  });
});
