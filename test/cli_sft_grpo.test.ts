// SFT followed by GRPO from the command line: `train` with algorithm "sft" (the page's supervised run: TRL's
// SFTTrainer metrics, an adapter), then `train --init-adapter` of a GRPO run with sft_coef starting from that
// adapter (its LoRA is the SFT one before the first update; the SFT term's metrics are logged).
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../src/model/safetensors';
import { STORIES, STORY_PROMPTS } from './grpo/fixtures';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('train: SFT, then GRPO from its adapter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grpo-cli-sft-'));
  const data = join(dir, 'data.jsonl');
  writeFileSync(data, STORY_PROMPTS.slice(0, 8).map((p) => JSON.stringify({ prompt: p, completion: 'a dog', solution: 'dog' })).join('\n') + '\n');
  const common = {
    num_generations: 4, max_completion_length: 8, prompts_per_step: 2, lora_r: 4, lora_alpha: 8,
    lora_target_modules: ['q_proj', 'v_proj'], reward_funcs: [{ name: 'contains', weight: 1, params: {} }],
    eval_split: 0.25, eval_interval: 0, use_chat_template: false,
  };
  const sftConfig = join(dir, 'sft.json');
  writeFileSync(sftConfig, JSON.stringify({ ...common, algorithm: 'sft', learning_rate: 0.01 }));
  const grpoConfig = join(dir, 'grpo.json');
  // a learning rate so small that the adapter after one step is the one it started from
  writeFileSync(grpoConfig, JSON.stringify({ ...common, learning_rate: 1e-12, sft_coef: 0.1, sft_column: 'solution', sft_on: 'all' }));
  const sftOut = join(dir, 'sft');
  const grpoOut = join(dir, 'grpo');
  const weights = (d: string) => {
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(join(d, 'adapter_model.safetensors'))), d, () => true);
    return tensors;
  };

  test('algorithm "sft" logs TRL SFTTrainer\'s metrics and writes an adapter', () => {
    const r = cli('train', '--model', STORIES, '--dataset', data, '--config', sftConfig, '--steps', '3', '--out', sftOut);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/step 3\/3 +loss [\d.]+ +mean_token_accuracy [\d.]+ +entropy [\d.]+ +num_tokens \d+/);
    const lines = readFileSync(join(sftOut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([0, 1, 2, 3]);
    for (const name of ['loss', 'mean_token_accuracy', 'entropy', 'num_tokens', 'grad_norm', 'learning_rate']) expect(lines[3], name).toHaveProperty([name]);
    // num_tokens counts every token of the rows seen (prompt and answer), cumulatively
    expect(lines[3].num_tokens).toBeGreaterThan(lines[1].num_tokens);
    expect(lines[3]).toHaveProperty(['eval/pass@1']);
    expect(existsSync(join(sftOut, 'checkpoint.safetensors'))).toBe(true);
  });

  test('GRPO with --init-adapter starts from the SFT adapter and logs the sft_coef term', () => {
    const r = cli('train', '--model', STORIES, '--dataset', data, '--config', grpoConfig, '--steps', '1', '--out', grpoOut, '--init-adapter', sftOut);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/LoRA initialised from the adapter in .*sft \(r 4, alpha 8/);
    expect(r.stdout).toMatch(/sft\/loss [\d.]+ +sft\/groups 2/);
    const m = readFileSync(join(grpoOut, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(m[1]['sft/groups']).toBe(2);
    expect(m[1]['sft/loss']).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(grpoOut, 'init_adapter.json'), 'utf8')).init_adapter).toBe(sftOut);
    // the GRPO run's LoRA is the SFT one (a fresh LoRA's B is zero; the SFT's is not)
    const a = weights(sftOut);
    const b = weights(grpoOut);
    let sftB = 0;
    for (const [name, t] of a) {
      const u = b.get(name)!;
      expect(u, name).toBeDefined();
      if (name.includes('lora_B')) sftB += t.data.reduce((x, y) => x + Math.abs(y), 0);
      t.data.forEach((x, i) => expect(Math.abs(u.data[i] - x), name).toBeLessThan(1e-6 + 1e-4 * Math.abs(x)));
    }
    expect(sftB).toBeGreaterThan(1e-3);
  });

  test('--init-adapter with --sft or --resume is refused', () => {
    const r = cli('train', '--model', STORIES, '--dataset', data, '--sft', '--out', join(dir, 'x'), '--init-adapter', sftOut);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--init-adapter/);
  });
});
