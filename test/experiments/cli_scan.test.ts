// `grpo-playground scan` and `train --scan` as a person runs them: a scan of every prompt, pass rates that agree
// with `eval` sampling the same completions, and a pass-rate band that cuts the training prompts.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScanJsonl, rowKey } from '../../src/grpo/difficulty';
import { STORIES, STORY_PROMPTS } from '../grpo/fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grpo-playground scan / train --scan', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-scan-'));
  const data = join(dir, 'data.jsonl');
  // "contains" rewards a completion holding the answer: common words pass sometimes, rare ones never
  const answers = ['the', 'a', 'zebra', 'and', 'was', 'xylophone', 'he', 'to'];
  writeFileSync(data, STORY_PROMPTS.slice(0, 8).map((p, i) => JSON.stringify({ question: p, answer: answers[i], level: 8 - i })).join('\n') + '\n');
  const config = join(dir, 'config.json');
  const base = {
    num_generations: 4, max_completion_length: 12, prompts_per_step: 2, learning_rate: 0.003, lora_r: 4, lora_alpha: 8,
    lora_target_modules: ['q_proj', 'v_proj'], reward_funcs: [{ name: 'contains', weight: 1, params: {} }],
    eval_split: 0, eval_interval: 0, use_chat_template: false, temperature: 1, eval_temperature: 1, num_generations_eval: 6, seed: 3,
  };
  writeFileSync(config, JSON.stringify(base));
  const scanFile = join(dir, 'scan.jsonl');

  test('scan writes one record per prompt whose pass rates average to eval\'s pass@1 on the same draws', () => {
    const r = cli('scan', '--model', STORIES, '--dataset', data, '--config', config, '--k', '6', '--out', scanFile);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*scan\.jsonl: 8 prompts; pass rate 0: \d+, 1: \d+, in between: \d+; histogram/);
    const scan = parseScanJsonl(readFileSync(scanFile, 'utf8'), 'scan.jsonl');
    expect(scan.size).toBe(8);
    const recs = [...scan.values()];
    expect(recs.map((x) => x.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(recs.every((x) => x.k === 6 && Number.isInteger(x.pass_rate * 6))).toBe(true);
    expect(recs[0].key).toBe(rowKey(STORY_PROMPTS[0], 'the'));
    // eval with eval_temperature = temperature and num_generations_eval = k samples exactly these completions
    const e = cli('eval', '--model', STORIES, '--dataset', data, '--config', config, '--json');
    expect(e.code, e.stderr).toBe(0);
    const mean = recs.reduce((a, x) => a + x.pass_rate, 0) / recs.length;
    expect(JSON.parse(e.stdout)['pass@1']).toBeCloseTo(mean, 12);
    // the rare words never appear
    expect(scan.get(rowKey(STORY_PROMPTS[5], 'xylophone'))!.pass_rate).toBe(0);
  });

  test('train --scan keeps the band\'s prompts; a band without a scan is refused', () => {
    const scan = parseScanJsonl(readFileSync(scanFile, 'utf8'), 'scan.jsonl');
    const inside = [...scan.values()].filter((x) => x.pass_rate > 0 && x.pass_rate < 1).length;
    const banded = join(dir, 'banded.json');
    writeFileSync(banded, JSON.stringify({ ...base, pass_rate_band: '(0, 1)', curriculum: 'easy_to_hard' }));
    const r = cli('train', '--model', STORIES, '--dataset', data, '--config', banded, '--scan', scanFile, '--steps', '1', '--out', join(dir, 'out'));
    expect(inside).toBeGreaterThan(0); // seed 3 draws a spread for at least one prompt
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`8 scanned prompts; ${inside} of 8 training prompts kept (pass rate in (0, 1): ${8 - inside} outside, 0 not in the scan)`);
    expect(r.stdout).toMatch(new RegExp(`${inside} train / 0 eval prompts`));
    const noScan = cli('train', '--model', STORIES, '--dataset', data, '--config', banded, '--steps', '1', '--out', join(dir, 'out2'));
    expect(noScan.code).toBe(2);
    expect(noScan.stderr).toMatch(/pass_rate_band "\(0, 1\)" needs a difficulty scan: run grpo-playground scan/);
    writeFileSync(join(dir, 'bad.jsonl'), '{"key":"zz"}\n');
    const bad = cli('train', '--model', STORIES, '--dataset', data, '--config', banded, '--scan', join(dir, 'bad.jsonl'), '--steps', '1', '--out', join(dir, 'out3'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.jsonl line 1: field "key" must be 16 lowercase hex digits/);
  });
});
