// `train` with a preference dataset and algorithm dpo: TRL's metric names in metrics.jsonl, held-out pair
// accuracy, a PEFT adapter; a run stopped after 2 steps resumes from its checkpoint and matches an
// uninterrupted run exactly; export-trl writes the DPOTrainer script; a prompt/answer file is refused with the columns a preference dataset needs.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORIES, STORY_PROMPTS } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = (...a: string[]) => spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...a], { cwd: ROOT, encoding: 'utf8' });
const metrics = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'step_time')) as Record<string, number>);

describe('train with algorithm dpo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-dpo-'));
  const data = join(dir, 'pairs.jsonl');
  // conversational rows, an implicit-prompt row and a broken one: all through the same parser
  writeFileSync(data, [
    ...STORY_PROMPTS.slice(0, 8).map((p) => JSON.stringify({ prompt: [{ role: 'user', content: p }], chosen: [{ role: 'assistant', content: ' dog' }], rejected: [{ role: 'assistant', content: ' cat' }] })),
    JSON.stringify({ prompt: 'The dog and the', chosen: ' dog', rejected: ' dog' }),
  ].join('\n') + '\n');
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    algorithm: 'dpo', beta: 0.1, prompts_per_step: 2, learning_rate: 0.01, lora_r: 4, lora_alpha: 8, max_completion_length: 8,
    eval_split: 0.25, eval_interval: 0, checkpoint_interval: 2, lr_scheduler_type: 'constant', warmup_ratio: 0, use_chat_template: false,
    eval_max_samples: 2, reward_funcs: [{ name: 'contains', weight: 1, params: {} }],
  }));

  test('trains, logs TRL\'s preference metrics, and resumes exactly from a checkpoint', () => {
    const full = join(dir, 'full');
    const r = run('train', '--model', STORIES, '--dataset', data, '--config', config, '--steps', '4', '--out', full);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8 pairs \(jsonl, prompt="prompt", chosen="chosen", rejected="rejected"\), 1 invalid skipped \(first: line 9, rejected: the chosen and rejected completions are the same/);
    const m = metrics(full);
    expect(m.map((x) => x.step)).toEqual([0, 1, 2, 3, 4]);
    for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/accuracies', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'grad_norm']) {
      expect(Number.isFinite(m[4][k]), k).toBe(true);
    }
    expect(m[1].loss).toBeCloseTo(Math.log(2), 5);
    expect(m[0]['eval_rewards/accuracies']).toBe(0); // policy = reference: no margin yet
    expect(m[4]['eval_rewards/accuracies']).toBeGreaterThan(0);
    expect(m[4]['eval_rewards/margins']).toBeGreaterThan(m[0]['eval_rewards/margins']);
    expect(existsSync(join(full, 'adapter_model.safetensors'))).toBe(true);

    const part = join(dir, 'part');
    const a = run('train', '--model', STORIES, '--dataset', data, '--config', config, '--steps', '2', '--out', part);
    expect(a.status, a.stderr).toBe(0);
    const b = run('train', '--model', STORIES, '--dataset', data, '--resume', part, '--steps', '4');
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/resumed at step 2/);
    // (a constant learning rate: a 2-step run's schedule would differ from a 4-step run's) the 2-step run evaluated
    // at its end (step 2), the uninterrupted run did not: compare training metrics
    const strip = (xs: Record<string, unknown>[]) => xs.map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('eval'))));
    expect(strip(metrics(part))).toEqual(strip(m));
    expect(readFileSync(join(part, 'adapter_model.safetensors'))).toEqual(readFileSync(join(full, 'adapter_model.safetensors')));
  });

  test('export-trl writes a DPOTrainer script for the pairs', () => {
    const out = join(dir, 'export');
    const r = run('export-trl', '--model', STORIES, '--dataset', data, '--config', config, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/train_dpo\.py \(DPOTrainer\)/);
    const py = readFileSync(join(out, 'train_dpo.py'), 'utf8');
    expect(py).toContain('from trl import DPOConfig, DPOTrainer');
    expect(py).toContain('beta=0.1,');
  });

  test('a prompt/answer file is refused with the columns a preference dataset needs', () => {
    const qa = join(dir, 'qa.jsonl');
    writeFileSync(qa, JSON.stringify({ prompt: 'a', answer: 'b' }) + '\n');
    const r = run('train', '--model', STORIES, '--dataset', qa, '--config', config, '--out', join(dir, 'qa-out'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no chosen and rejected column: a preference dataset has the columns prompt\/chosen\/rejected/);
  });
});
