// `grpo-playground sweep` on the built-in model: a 2-arm x 2-seed sweep of 2 steps writes every run as
// `train --out` does, and summary.json's numbers are the runs' own metrics (recomputed here from each
// run's metrics.jsonl); a second call keeps the finished runs; a bad spec is refused with its problems.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rowsOf = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

describe('grpo-playground sweep', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-sweep-'));
  const demo = JSON.parse(readFileSync(join(ROOT, 'docs/demo/config.json'), 'utf8'));
  const spec = {
    name: 'tiny',
    model: 'public/models/tiny-puzzles',
    dataset: 'public/datasets/reverse.jsonl',
    config: { ...demo, prompts_per_step: 2, num_generations: 4, eval_interval: 0, eval_max_samples: 8, checkpoint_interval: 0 },
    sweep: { setting: 'loss_type', values: ['dapo', 'dr_grpo'] },
    seeds: [3, 4],
    steps: 5,
  };
  delete (spec.config as Record<string, unknown>).seed;
  const specFile = join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const out = join(dir, 'out');

  test('runs every arm x seed and summarises the runs\' own metrics', () => {
    const r = cli('sweep', '--spec', specFile, '--out', out, '--steps', '2', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 runs \(2 arms x 2 seeds\), 2 steps each/);
    const names = ['loss_type=dapo-seed3', 'loss_type=dapo-seed4', 'loss_type=dr_grpo-seed3', 'loss_type=dr_grpo-seed4'];
    for (const n of names) {
      for (const f of ['config.json', 'metrics.jsonl', 'adapter_model.safetensors', 'adapter_config.json', 'checkpoint.safetensors']) {
        expect(existsSync(join(out, 'runs', n, f)), `${n}/${f}`).toBe(true);
      }
      const cfg = JSON.parse(readFileSync(join(out, 'runs', n, 'config.json'), 'utf8'));
      expect(cfg.max_steps).toBe(2);
      expect(cfg.seed).toBe(n.endsWith('3') ? 3 : 4);
      expect(cfg.loss_type).toBe(n.includes('dr_grpo') ? 'dr_grpo' : 'dapo');
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.arms.map((a: { arm: string }) => a.arm)).toEqual(['loss_type=dapo', 'loss_type=dr_grpo']);
    for (const arm of summary.arms) {
      const runs = arm.runs.map((n: string) => rowsOf(join(out, 'runs', n)));
      const last = runs.map((rows: Record<string, number>[]) => rows.at(-1)!['eval/pass@1']);
      const before = runs.map((rows: Record<string, number>[]) => rows[0]['eval/pass@1']);
      const reward = runs.map((rows: Record<string, number>[]) => mean(rows.filter((x) => x.step >= 1).map((x) => x.reward)));
      const kl = runs.map((rows: Record<string, number>[]) => mean(rows.filter((x) => x.step >= 1).map((x) => x.kl)));
      expect(arm.pass_last.values).toEqual(last);
      expect(arm.pass_before.values).toEqual(before);
      expect(arm.pass_last.mean).toBeCloseTo(mean(last), 12);
      expect(arm.pass_last.std).toBeCloseTo(sampleStd(last), 12);
      expect(arm.reward_final.mean).toBeCloseTo(mean(reward), 12);
      expect(arm.reward_final.std).toBeCloseTo(sampleStd(reward), 12);
      expect(arm.kl_final.mean).toBeCloseTo(mean(kl), 12);
      expect(arm.seeds).toEqual([3, 4]);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|src=|href=/);
    // one line per run on the pass@1 and reward charts, a bar per arm
    expect(html.match(/<polyline class="series"/g)!.length).toBe(12);
    expect(html.match(/class="arm-bar"/g)!.length).toBe(6);
    expect(html).toContain('loss_type');
    expect(readFileSync(join(out, 'summary.csv'), 'utf8').split('\n')[0]).toMatch(/^arm,runs,pass_before_mean/);
  });

  test('a second call keeps the finished runs and writes the same summary', () => {
    const before = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const r = cli('sweep', '--spec', specFile, '--out', out, '--steps', '2', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/already finished/g)).toHaveLength(4);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(before);
  });

  test('a bad spec names its problems', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'x', model: 'public/models/tiny-puzzles', dataset: 'public/datasets/reverse.jsonl', sweep: { presets: ['grpo', 'ppo'] }, seeds: [] }));
    const r = cli('sweep', '--spec', bad, '--out', join(dir, 'bad'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/seeds must be a non-empty array/);
    expect(r.stderr).toMatch(/unknown preset "ppo"/);
  });
});
