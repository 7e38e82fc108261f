// Qwen3.5 LoRA targets by the checkpoint's own names (issue 25): the config's lora_target_modules names the
// linear-attention projections too, validation names a module the loaded model lacks, both memory counts
// (the page's estimate and the plan) count LoRA + Adam on the layers that have each module, and a GRPO run
// through the CLI on a tiny random-weight Qwen3.5 folder in both checkpoint layouts (qwen3_5_text, and the qwen3_5
// wrapper with model.language_model.*) trains and exports in_proj_qkv / out_proj adapters that the CPU reference
// applies to reproduce the log-probs the GPU reports with them.
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAdapterDir } from '../../src/cli/adapter_dir';
import { checkConfig, defaultConfig, modelValidationContext, summaryValidationContext } from '../../src/grpo/config';
import { loraAdamBytes } from '../../src/grpo/memory_plan';
import { parseHfConfig } from '../../src/model/config';
import { loraModuleSizes, modelLoraModules } from '../../src/model/lora';
import { loadModelFromPath } from '../../src/model/load_node';
import type { LoraMap } from '../../src/reference/transformer';
import { estimateMemory } from '../../src/ui/model/memory';
import { QWEN35_TOKENIZER_TEXT, qwen35TinyConfig, qwen35Weights, referenceLogprobs, writeQwen35Folder } from './qwen35_fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
}

/** the tensor names in a safetensors file's header */
function readSafetensorsKeys(buf: Buffer): string[] {
  const n = Number(buf.readBigUInt64LE(0));
  return Object.keys(JSON.parse(buf.subarray(8, 8 + n).toString('utf8'))).filter((k) => k !== '__metadata__');
}

/** a Llama config (no linear layers) of the same width */
const LLAMA = parseHfConfig({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 11, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2,
  num_attention_heads: 2, num_key_value_heads: 1, rms_norm_eps: 1e-6, max_position_embeddings: 64,
});

/** the problems with lora_target_modules (the tiny configs' context of 64 is another matter) */
const loraProblems = (...a: Parameters<typeof checkConfig>) => checkConfig(...a).filter((p) => p.field === 'lora_target_modules');

describe('lora_target_modules by the checkpoint\'s names', () => {
  const q35 = qwen35TinyConfig();
  const targets = ['in_proj_qkv', 'out_proj', 'q_proj'] as const;

  test('the config accepts the linear-attention modules; with a Qwen3.5 model there is no problem', () => {
    const c = { ...defaultConfig(), lora_target_modules: [...targets] };
    expect(checkConfig(c)).toEqual([]);
    expect(loraProblems(c, modelValidationContext(q35))).toEqual([]);
    expect(modelLoraModules(q35)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'in_proj_qkv', 'in_proj_z', 'in_proj_b', 'in_proj_a', 'out_proj']);
  });

  test('a model without the module: a problem naming the module and where it exists', () => {
    const c = { ...defaultConfig(), lora_target_modules: ['q_proj', 'in_proj_qkv'] as never };
    const p = loraProblems(c, modelValidationContext(LLAMA));
    expect(p).toHaveLength(1);
    expect(p[0].field).toBe('lora_target_modules');
    expect(p[0].message).toContain('in_proj_qkv exists only in Qwen3.5\'s linear-attention layers');
    expect(p[0].message).toContain('llama');
    // the page's summary gives the same context
    const summary = { maxPositions: 64, architecture: 'LlamaForCausalLM', loraModules: loraModuleSizes(LLAMA) };
    expect(loraProblems(c, summaryValidationContext(summary)).map((x) => x.message)).toEqual([expect.stringContaining('in_proj_qkv exists only')]);
    // an unknown name is still an unknown name
    const bad = checkConfig({ ...defaultConfig(), lora_target_modules: ['in_proj_qk'] as never });
    expect(bad[0].message).toContain('did you mean in_proj_qkv');
  });

  test('LoRA + Adam bytes: hand-computed per linear layer (the page\'s estimate and the plan agree)', () => {
    // qwen35TinyConfig: C 8, key heads 1 × 3, value heads 2 × 2: in_proj_qkv (2·3 + 2·2 = 10, 8), out_proj (8, 4);
    // full layer 1: the gated q_proj (2 · 2 heads · 4 = 16, 8); layers 0 and 2 are linear
    const r = 4;
    const params = r * (2 * (10 + 8) + 2 * (8 + 4) + (16 + 8));
    const bytes = params * 4 * 4; // parameter, gradient, AdamW m and v in f32
    const c = { ...defaultConfig(), lora_r: r, lora_target_modules: [...targets] };
    expect(loraAdamBytes(q35, c)).toBe(bytes);
    const shape = {
      layers: q35.numLayers, hiddenSize: q35.hiddenSize, intermediateSize: q35.intermediateSize, numHeads: q35.numHeads, numKvHeads: q35.numKvHeads,
      headDim: q35.headDim, vocabSize: q35.vocabSize, weightBytes: 0, loraModules: loraModuleSizes(q35),
    };
    const est = estimateMemory(shape, c);
    expect(est.loraParams).toBe(params);
    expect(est.lora).toBe(bytes);
    // all five linear modules: in_proj_z (4, 8), in_proj_b and in_proj_a (2, 8) each
    const all = { ...c, lora_target_modules: ['in_proj_qkv', 'in_proj_z', 'in_proj_b', 'in_proj_a', 'out_proj'] as never };
    const allParams = r * 2 * (18 + 12 + 10 + 10 + 12);
    expect(estimateMemory(shape, all).loraParams).toBe(allParams);
    expect(loraAdamBytes(q35, all)).toBe(allParams * 16);
  });
});

describe.each(['causal', 'multimodal'] as const)('GRPO with LoRA on in_proj_qkv + out_proj + q_proj (CLI, tiny random-weight Qwen3.5 folder, %s layout)', (layout) => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('2 steps with finite loss; the adapter has in_proj_qkv / out_proj on linear layers only, and the CPU reference ' +
    'applying it reproduces the log-probs the GPU reports', async () => {
    const cfg = parseHfConfig(QWEN35_TOKENIZER_TEXT);
    const dir = await writeQwen35Folder(layout, qwen35Weights(cfg, 7, 0.3));
    dirs.push(dir);
    const data = join(dir, 'data.jsonl');
    await writeFile(data, ['Tell me a story', 'What is 2+3?', 'Name a colour', 'Say hello'].map((q) => JSON.stringify({ prompt: q, answer: 'a' })).join('\n') + '\n');
    const config = join(dir, 'grpo.json');
    await writeFile(config, JSON.stringify({
      num_generations: 4, max_completion_length: 4, max_prompt_length: 32, prompts_per_step: 2, learning_rate: 0.05, lora_r: 2, lora_alpha: 4,
      lora_target_modules: ['in_proj_qkv', 'out_proj', 'q_proj'],
      // the completions' lengths in characters differ, so every group has a nonzero advantage
      reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(p, c) => c.length' } }],
      eval_split: 0, eval_interval: 0, use_chat_template: false, temperature: 1, beta: 0,
    }));
    const out = join(dir, 'adapter');
    const r = cli('train', '--model', dir, '--dataset', data, '--config', config, '--steps', '2', '--out', out);
    const log = r.stderr + r.stdout;
    expect(r.status, log).toBe(0);
    const losses = [...log.matchAll(/step (\d+)\/2 .*?loss (\S+)/g)].map((m) => Number(m[2]));
    expect(losses, log).toHaveLength(2);
    for (const l of losses) expect(Number.isFinite(l), log).toBe(true);

    const m = await loadModelFromPath(dir);
    const adapter = await readAdapterDir(out, m.config);
    const keys = [...adapter.tensors.keys()].sort();
    expect(keys).toEqual([
      'model.layers.0.linear_attn.in_proj_qkv', 'model.layers.0.linear_attn.out_proj', 'model.layers.1.self_attn.q_proj',
      'model.layers.2.linear_attn.in_proj_qkv', 'model.layers.2.linear_attn.out_proj',
    ]);
    const lora: LoraMap = new Map();
    const scale = adapter.spec.alpha / adapter.spec.r;
    for (const [k, { A, B }] of adapter.tensors) {
      if (k.includes('linear_attn')) expect(B.reduce((s, x) => s + Math.abs(x), 0), `${k} lora_B`).toBeGreaterThan(0);
      expect(B.every(Number.isFinite)).toBe(true);
      lora.set(k, { A, B, r: adapter.spec.r, scale });
    }
    // the file's own key names: PEFT's, under model.language_model in the wrapper layout
    const raw = readSafetensorsKeys(await readFile(join(out, 'adapter_model.safetensors')));
    const prefix = layout === 'multimodal' ? 'base_model.model.model.language_model.layers.0.' : 'base_model.model.model.layers.0.';
    expect(raw).toContain(`${prefix}linear_attn.in_proj_qkv.lora_A.weight`);
    // the GPU's log-probs with the exported adapter (CLI logprobs) against the CPU reference applying it
    const lp = cli('logprobs', '--model', dir, '--adapter', out, '--prompt', 'What is 2+3?', '--completion', ' five, or 5', '--json');
    expect(lp.status, lp.stderr).toBe(0);
    const got = JSON.parse(lp.stdout) as { completion_ids: number[]; logprobs: number[] };
    const promptIds = m.tokenizer.encode('What is 2+3?', { addBos: true });
    const want = referenceLogprobs(m, promptIds, got.completion_ids, lora);
    const base = referenceLogprobs(m, promptIds, got.completion_ids, null);
    got.logprobs.forEach((x, i) => expect(Math.abs(x - want[i]), `token ${i}: ${x} vs ${want[i]}`).toBeLessThan(2e-3));
    // the adapter changed them by far more than the tolerance (so a missing or misnamed adapter fails above)
    const moved = Math.max(...want.map((x, i) => Math.abs(x - base[i])));
    console.log(`${layout}: the adapter moves the reference's log-probs by up to ${moved.toFixed(4)}; GPU vs reference up to ` +
      `${Math.max(...got.logprobs.map((x, i) => Math.abs(x - want[i]))).toExponential(2)}`);
    expect(moved).toBeGreaterThan(1e-2);
  }, 900_000);
});
