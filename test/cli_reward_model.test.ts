// The command line end to end: `train` with algorithm reward_model writes TRL's reward metrics and a PEFT
// SEQ_CLS adapter; a GRPO run scores with it (a reward_model entry naming the folder) beside a rule reward, and
// with an ensemble of two; export-trl writes the RewardTrainer script, and the GRPO script loads the reward model.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORIES, STORY_PROMPTS } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = (...a: string[]) => spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...a], { cwd: ROOT, encoding: 'utf8' });
const metrics = (dir: string) => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

describe('reward models from the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-rm-'));
  const pairs = join(dir, 'pairs.jsonl');
  writeFileSync(pairs, STORY_PROMPTS.slice(0, 12).map((p) => JSON.stringify({ prompt: p, chosen: ' dog', rejected: ' cat' })).join('\n') + '\n');
  const prompts = join(dir, 'prompts.jsonl');
  writeFileSync(prompts, STORY_PROMPTS.slice(0, 4).map((p) => JSON.stringify({ prompt: p, answer: 'dog' })).join('\n') + '\n');
  const rmConfig = (seed: number) => {
    const p = join(dir, `rm${seed}.json`);
    writeFileSync(p, JSON.stringify({
      algorithm: 'reward_model', prompts_per_step: 4, learning_rate: 0.01, lora_r: 4, lora_alpha: 8, max_completion_length: 8,
      eval_split: 0.25, eval_interval: 0, lr_scheduler_type: 'constant', warmup_ratio: 0, use_chat_template: false, seed,
      center_rewards_coefficient: 0.01,
    }));
    return p;
  };
  const rm1 = join(dir, 'rm1');
  const rm2 = join(dir, 'rm2');

  test('train --algorithm reward_model: RewardTrainer metrics, held-out accuracy, a SEQ_CLS adapter with the head', () => {
    const r = run('train', '--model', STORIES, '--dataset', pairs, '--config', rmConfig(1), '--steps', '4', '--out', rm1);
    expect(r.status, r.stderr).toBe(0);
    const m = metrics(rm1);
    for (const k of ['loss', 'accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward', 'grad_norm', 'num_tokens']) expect(Number.isFinite(m[4][k]), k).toBe(true);
    expect(m[4].eval_accuracy).toBeGreaterThan(m[0].eval_accuracy - 1e-9);
    expect(m[4].eval_margin).toBeGreaterThan(m[0].eval_margin);
    const cfg = JSON.parse(readFileSync(join(rm1, 'adapter_config.json'), 'utf8'));
    expect(cfg.task_type).toBe('SEQ_CLS');
    expect(cfg.modules_to_save).toEqual(['score']);
    expect(readFileSync(join(rm1, 'adapter_model.safetensors')).toString('latin1')).toContain('"base_model.model.score.weight"');
    const r2 = run('train', '--model', STORIES, '--dataset', pairs, '--config', rmConfig(2), '--steps', '2', '--out', rm2);
    expect(r2.status, r2.stderr).toBe(0);
  });

  for (const [name, params] of [['one reward model', { adapters: rm1 }], ['an ensemble (mean - std)', { adapters: `${rm1},${rm2}`, reduce: 'mean_minus_std', std_coef: 0.5 }]] as const) {
    test(`GRPO with ${name} beside a rule reward`, () => {
      const cfg = join(dir, `grpo-${params.adapters.length}.json`);
      writeFileSync(cfg, JSON.stringify({
        num_generations: 4, prompts_per_step: 2, max_completion_length: 6, lora_r: 2, eval_split: 0, use_chat_template: false,
        reward_funcs: [{ name: 'contains', weight: 1, params: {} }, { name: 'reward_model', weight: 1, params }],
      }));
      const out = join(dir, `grpo-out-${params.adapters.length}`);
      const r = run('train', '--model', STORIES, '--dataset', prompts, '--config', cfg, '--steps', '1', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`reward models: ${name.startsWith('one') ? '1 reward adapter ' : '2 reward adapters'}`));
      const m = metrics(out).find((x) => x.step === 1)!;
      expect(Number.isFinite(m['rewards/reward_model/mean'])).toBe(true);
      expect(Number.isFinite(m['rewards/contains/mean'])).toBe(true);
      expect(m['rewards/reward_model/std']).toBeGreaterThan(0);
    });
  }

  test('a reward_model entry naming a missing adapter folder is refused, naming it', () => {
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ num_generations: 2, prompts_per_step: 1, lora_r: 2, use_chat_template: false, reward_funcs: [{ name: 'reward_model', weight: 1, params: { adapters: join(dir, 'nope') } }] }));
    const r = run('train', '--model', STORIES, '--dataset', prompts, '--config', cfg, '--steps', '1', '--out', join(dir, 'bad-out'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nope.*adapter_model\.safetensors: not found/);
  });

  test('export-trl: the RewardTrainer script (SEQ_CLS LoRA with the score head in modules_to_save)', () => {
    const out = join(dir, 'export');
    const r = run('export-trl', '--model', STORIES, '--dataset', pairs, '--config', rmConfig(1), '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const py = readFileSync(join(out, 'train_reward_model.py'), 'utf8');
    expect(py).toContain('from trl import RewardConfig, RewardTrainer');
    expect(py).toMatch(/AutoModelForSequenceClassification\.from_pretrained\(\s*MODEL, num_labels=1, /);
    expect(py).toContain('task_type="SEQ_CLS",');
    expect(py).toContain('modules_to_save=["score"],');
    expect(py).toContain('center_rewards_coefficient=0.01,');
  });
});
