// num_generations_eval and --eval-dataset from the command line, on the built-in model: the metrics carry
// eval/pass@k and eval/mean@k for k = 1..n, evaluation runs on the separate test file (all of it), and
// `eval` on the saved adapter reproduces the last evaluation's numbers.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('evaluation with k samples per prompt on a separate test file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-evalk-'));
  const lines = readFileSync(join(ROOT, 'public/datasets/reverse.jsonl'), 'utf8').trim().split('\n');
  const trainFile = join(dir, 'train.jsonl');
  const testFile = join(dir, 'test.jsonl');
  writeFileSync(trainFile, lines.slice(0, 40).join('\n') + '\n');
  writeFileSync(testFile, lines.slice(400, 406).join('\n') + '\n');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    ...JSON.parse(readFileSync(join(ROOT, 'docs/demo/config.json'), 'utf8')),
    max_steps: 2, eval_interval: 0, eval_max_samples: 100, num_generations_eval: 4, eval_temperature: 1, checkpoint_interval: 0,
  }));
  const out = join(dir, 'run');

  test('train writes eval/pass@k and eval/mean@k measured on the test file', () => {
    const r = cli('train', '--model', 'public/models/tiny-puzzles', '--dataset', trainFile, '--eval-dataset', testFile, '--config', config, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test\.jsonl: 6 rows .*held out for evaluation/);
    expect(r.stdout).toMatch(/40 train \/ 6 eval prompts/);
    expect(r.stdout).toMatch(/eval @ step 0: pass@1 \S+  pass@4 \S+  maj@4 \S+ .*\(n=6 x 4\)/);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.step)).toEqual([0, 1, 2]);
    for (const row of [rows[0], rows[2]]) {
      for (let k = 1; k <= 4; k++) {
        expect(row, `pass@${k}`).toHaveProperty([`eval/pass@${k}`]);
        expect(row, `mean@${k}`).toHaveProperty([`eval/mean@${k}`]);
        expect(row, `maj@${k}`).toHaveProperty([`eval/maj@${k}`]);
      }
      // one sample's majority is itself: maj@1 is the share of prompts whose first sample passed (exact_match
      // reads the answer as maj@k does), a multiple of 1/6
      expect(Math.abs(row['eval/maj@1'] * 6 - Math.round(row['eval/maj@1'] * 6))).toBeLessThan(1e-9);
      // pass@k grows with k; mean@n and pass@1 are both the share of passing samples
      for (let k = 2; k <= 4; k++) expect(row[`eval/pass@${k}`]).toBeGreaterThanOrEqual(row[`eval/pass@${k - 1}`] - 1e-12);
      expect(row['eval/mean@4']).toBeCloseTo(row['eval/pass@1'], 12);
      // 6 prompts x 4 samples: pass@1 is a multiple of 1/24
      expect(Math.abs(row['eval/pass@1'] * 24 - Math.round(row['eval/pass@1'] * 24))).toBeLessThan(1e-9);
    }
    expect(rows[1]).not.toHaveProperty(['eval/pass@1']);
  });

  test('eval on the saved adapter gives the last evaluation\'s pass@k', () => {
    const r = cli('eval', '--model', 'public/models/tiny-puzzles', '--adapter', out, '--dataset', testFile, '--config', config, '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    const last = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    expect(e.n).toBe(6);
    expect(e['pass@1']).toBeCloseTo(last['eval/pass@1'], 12);
    for (let k = 2; k <= 4; k++) expect(e[`pass@${k}`]).toBeCloseTo(last[`eval/pass@${k}`], 12);
    for (let k = 1; k <= 4; k++) expect(e[`maj@${k}`]).toBeCloseTo(last[`eval/maj@${k}`], 12);
    const text = cli('eval', '--model', 'public/models/tiny-puzzles', '--adapter', out, '--dataset', testFile, '--config', config);
    expect(text.stdout).toMatch(/pass@4 \S+ .*maj@4 \S+/);
  });

  test('num_generations_eval > 1 with greedy evaluation is refused with a message', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ num_generations_eval: 4, eval_temperature: 0 }));
    const r = cli('train', '--model', 'public/models/tiny-puzzles', '--dataset', trainFile, '--config', bad, '--out', join(dir, 'bad'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/num_generations_eval 4 with eval_temperature 0/);
  });
});
