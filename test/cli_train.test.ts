// `grpo-playground train` / `eval` as a newcomer runs them: files written, progress lines, metrics with
// TRL's names, an adapter that eval and generate load back, and one-line errors for bad inputs.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSafetensorsHeader } from '../src/model/safetensors';
import { STORIES, STORY_PROMPTS } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.trim() && !l.startsWith('Warning:') && !l.startsWith(' - ') && !/^\s+at /.test(l));

describe('grpo-playground train / eval', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-cli-'));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, STORY_PROMPTS.slice(0, 8).map((p) => JSON.stringify({ question: p, answer: 'dog' })).join('\n') + '\n');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    num_generations: 4, max_completion_length: 8, prompts_per_step: 2, learning_rate: 0.003, lora_r: 4, lora_alpha: 8,
    lora_target_modules: ['q_proj', 'v_proj'], reward_funcs: [{ name: 'contains', weight: 1, params: {} }],
    eval_split: 0.25, eval_interval: 0, use_chat_template: false,
  }));
  const out = join(dir, 'out');

  test('train writes the adapter, config and per-step metrics, printing a line per step', () => {
    const r = cli('train', '--model', STORIES, '--dataset', data, '--config', config, '--steps', '2', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 1\/2 .*reward/);
    expect(r.stdout).toMatch(/step 2\/2 .*reward/);
    expect(r.stdout).toMatch(/question.*answer/); // the recognised columns are reported
    const header = parseSafetensorsHeader(readFileSync(join(out, 'adapter_model.safetensors')), 'adapter');
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.entries.map((e) => e.name)).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'))).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ max_steps: 2, num_generations: 4 });
    const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 1, 2]);
    expect(lines[0]).toHaveProperty(['eval/pass@1']);
    for (const name of ['reward', 'reward_std', 'rewards/contains/mean', 'rewards/contains/std', 'frac_reward_zero_std', 'kl', 'entropy',
      'clip_ratio/low_mean', 'clip_ratio/high_mean', 'clip_ratio/region_mean', 'completions/mean_length', 'completions/min_length',
      'completions/max_length', 'completions/clipped_ratio', 'loss', 'grad_norm', 'learning_rate', 'num_tokens', 'step_time']) {
      expect(lines[1], name).toHaveProperty([name]);
    }
    expect(lines[2]).toHaveProperty(['eval/pass@1']);
  });

  test('eval --json and generate --adapter load the trained adapter', () => {
    const r = cli('eval', '--model', STORIES, '--adapter', out, '--dataset', data, '--config', config, '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.n).toBe(8);
    expect(e['pass@1']).toBeGreaterThanOrEqual(0);
    expect(e['pass@1']).toBeLessThanOrEqual(1);
    expect(typeof e.reward_mean).toBe('number');
    const g = cli('generate', '--model', STORIES, '--adapter', out, '--prompt', 'Tom saw a big', '--max-new-tokens', '6', '--json');
    expect(g.code, g.stderr).toBe(0);
    expect(JSON.parse(g.stdout).completion_ids.length).toBeGreaterThan(0);
  });

  test('bad data, config, model and adapter files print one clear line and exit non-zero', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"prompt": "a"}\n{not json\n');
    const badConfig = join(dir, 'bad.json');
    writeFileSync(badConfig, JSON.stringify({ num_generations: 1, learnin_rate: 0.1 }));
    const notJson = join(dir, 'notjson.json');
    writeFileSync(notJson, '{');
    const truncated = join(dir, 'truncated.bin');
    writeFileSync(truncated, readFileSync(STORIES).subarray(0, 5000));
    writeFileSync(join(dir, 'tokenizer.bin'), readFileSync(STORIES.replace('stories260K.bin', 'tok512.bin')));
    const cases: [string[], RegExp][] = [
      [['train', '--model', STORIES, '--dataset', bad, '--out', join(dir, 'o1')], /which column holds the answer/],
      [['train', '--model', STORIES, '--dataset', bad, '--answer-column', 'solution', '--out', join(dir, 'o1')], /solution/],
      [['train', '--model', STORIES, '--dataset', join(dir, 'missing.jsonl'), '--out', join(dir, 'o2')], /missing\.jsonl: dataset file not found/],
      [['train', '--model', STORIES, '--dataset', data, '--config', badConfig, '--out', join(dir, 'o3')], /num_generations|learnin_rate/],
      [['train', '--model', STORIES, '--dataset', data, '--config', notJson, '--out', join(dir, 'o4')], /notjson\.json: not valid JSON/],
      [['train', '--model', truncated, '--dataset', data, '--out', join(dir, 'o5')], /truncated/],
      [['eval', '--model', STORIES, '--adapter', join(dir, 'nowhere'), '--dataset', data], /adapter_model\.safetensors: not found/],
      [['train', '--model', STORIES, '--dataset', data], /--out is required/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = errorLines(r.stderr);
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(message);
    }
    expect(existsSync(join(dir, 'o1', 'adapter_model.safetensors'))).toBe(false);
  });
});
