// A GRPO run killed mid-way resumes from its last checkpoint (`train --resume DIR`) and produces exactly
// the metrics of an uninterrupted run; a checkpoint that does not fit is refused with one line.
import { describe, expect, test } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORIES, STORY_PROMPTS } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = (...a: string[]) => ['bin/grpo-playground.mjs', ...a];
const metrics = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'step_time' && !k.startsWith('tokens_per_second') && !k.startsWith('gpu/'))));

describe('train --resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-resume-'));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, STORY_PROMPTS.slice(0, 6).map((p) => JSON.stringify({ prompt: p, answer: 'dog' })).join('\n') + '\n');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    num_generations: 4, max_completion_length: 8, prompts_per_step: 2, learning_rate: 0.003, lora_r: 4, lora_alpha: 8,
    reward_funcs: [{ name: 'contains', weight: 1, params: {} }], eval_split: 0, checkpoint_interval: 2, lr_scheduler_type: 'cosine',
    warmup_ratio: 0.25, use_chat_template: false,
  }));

  test('a run killed after step 3 resumes from the step-2 checkpoint and matches an uninterrupted run', async () => {
    const full = join(dir, 'full');
    const r = spawnSync(process.execPath, args('train', '--model', STORIES, '--dataset', data, '--config', config, '--steps', '5', '--out', full), { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);

    const crashed = join(dir, 'crashed');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args('train', '--model', STORIES, '--dataset', data, '--config', config, '--steps', '5', '--out', crashed), { cwd: ROOT });
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
        if (out.includes('step 3/5')) child.kill('SIGKILL');
      });
      child.on('exit', () => (out.includes('step 3/5') ? resolve() : reject(new Error(`no step 3 before exit: ${out}`))));
    });
    expect(existsSync(join(crashed, 'checkpoint.safetensors'))).toBe(true);
    expect(metrics(crashed).map((m) => m.step)).toEqual([0, 1, 2, 3]);

    const resumed = spawnSync(process.execPath, args('train', '--model', STORIES, '--dataset', data, '--resume', crashed), { cwd: ROOT, encoding: 'utf8' });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/resumed at step 2/);
    expect(metrics(crashed)).toEqual(metrics(full));
    expect(readFileSync(join(crashed, 'adapter_model.safetensors'))).toEqual(readFileSync(join(full, 'adapter_model.safetensors')));
  });

  test('resuming with other data, or without a checkpoint, is refused with one line', () => {
    const other = join(dir, 'other.jsonl');
    writeFileSync(other, STORY_PROMPTS.slice(6, 12).map((p) => JSON.stringify({ prompt: p, answer: 'dog' })).join('\n') + '\n');
    const a = spawnSync(process.execPath, args('train', '--model', STORIES, '--dataset', other, '--resume', join(dir, 'full')), { cwd: ROOT, encoding: 'utf8' });
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/other training data/);
    const b = spawnSync(process.execPath, args('train', '--model', STORIES, '--dataset', data, '--resume', join(dir, 'nothing-here')), { cwd: ROOT, encoding: 'utf8' });
    expect(b.status).not.toBe(0);
    expect(b.stderr).toMatch(/no checkpoint to resume from/);
  });
});
