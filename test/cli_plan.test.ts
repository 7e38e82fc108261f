// `grpo-playground plan`: the memory plan from a folder holding only config.json (no weights, no GPU needed),
// as JSON; a budget too small is refused with exit code 1 and the settings to lower; Qwen3 and Gemma 3 text
// are planned with their own model code (q/k norms, Gemma's four norms: more than a Llama of the same shapes);
// a model_type the engine does not run is planned from its shapes as a Llama and says so.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function folder(config: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'plan-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const LLAMA = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 172, num_hidden_layers: 2,
  num_attention_heads: 8, num_key_value_heads: 4, vocab_size: 512, max_position_embeddings: 256, tie_word_embeddings: true, rms_norm_eps: 1e-5,
};

describe('grpo-playground plan', () => {
  test('--json from a folder with only config.json', () => {
    const dir = folder(LLAMA);
    const cfg = join(dir, 'grpo.json');
    writeFileSync(cfg, JSON.stringify({ prompts_per_step: 2, num_generations: 4, max_prompt_length: 32, max_completion_length: 16 }));
    const r = cli('plan', '--model', dir, '--config', cfg, '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model.structural).toBe(false);
    expect(out.model.base_precision).toBe('f32');
    expect(out.plan.fits).toBe(true);
    expect(out.plan.peakBytes).toBeGreaterThan(out.plan.breakdown.weights);
    expect(out.plan.largestBufferBytes).toBeGreaterThan(0);
    expect(out.plan.layout).toEqual({ generationPrompts: 2, rowsPerPass: null });
  });

  test('--base-precision nf4: the matrices of whole 64-value rows counted at 36 bytes per 64 values, the rest bf16', () => {
    const dir = folder(LLAMA);
    const weights = (p: string) => {
      const r = cli('plan', '--model', dir, '--base-precision', p, '--json');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).plan;
    };
    const [bf16, nf4, dq] = [weights('bf16'), weights('nf4'), weights('nf4_dq')];
    expect(nf4.basePrecision).toBe('NF4 blocks, the rest bf16');
    // NF4: the embedding (512 x 64) and per layer q, o (64 x 64), k, v (32 x 64), gate, up (172 x 64); down_proj's
    // rows of 172 stay bf16. Each NF4 value takes 36 / 64 bytes instead of bf16's 2
    const quantised = 512 * 64 + 2 * (2 * 64 * 64 + 2 * 32 * 64 + 2 * 172 * 64);
    expect(bf16.breakdown.weights - nf4.breakdown.weights).toBe(quantised * (2 - 36 / 64));
    // NF4_DQ: bitsandbytes' bytes, per tensor of nb blocks 32 nb code bytes, nb absmax codes (padded to a word),
    // an f32 absmax2 per 256 blocks and the f32 offset
    const dqBytes = (rows: number) => ((nb: number) => 32 * nb + Math.ceil(nb / 4) * 4 + Math.ceil(nb / 256) * 4 + 4)(rows);
    const dqTotal = dqBytes(512) + 2 * (2 * dqBytes(64) + 2 * dqBytes(32) + 2 * dqBytes(172));
    expect(nf4.breakdown.weights - dq.breakdown.weights).toBe(quantised * (36 / 64) - dqTotal);
    expect(dq.breakdown.weights).toBeLessThan(nf4.breakdown.weights);
    const bad = cli('plan', '--model', dir, '--base-precision', 'nf5');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--base-precision must be one of auto, f32, bf16, f16, q8_0, q4_k, nf4, nf4_dq, got "nf5"/);
  });

  test('a budget that cannot be met is refused with exit 1, the plan and what to lower', () => {
    const r = cli('plan', '--model', folder(LLAMA), '--budget', '100000');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/does not fit/);
    expect(r.stderr).toMatch(/^grpo-playground plan: the run does not fit: lower max_completion_length/);
  });

  const QWEN3 = {
    model_type: 'qwen3', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
    head_dim: 32, vocab_size: 1000, max_position_embeddings: 512, torch_dtype: 'bfloat16', tie_word_embeddings: true,
  };
  const GEMMA3 = {
    model_type: 'gemma3_text', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1,
    head_dim: 32, vocab_size: 1000, max_position_embeddings: 512, torch_dtype: 'bfloat16', query_pre_attn_scalar: 32, sliding_window: 16, tie_word_embeddings: true,
  };
  const plan = (json: object) => {
    const r = cli('plan', '--model', folder(json), '--json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  test('qwen3 and gemma3_text configs are planned with their own model code, above a Llama of the same shapes', () => {
    const q = plan(QWEN3);
    expect(q.model.structural).toBe(false);
    expect(q.model.architecture).toBe('Qwen3ForCausalLM');
    expect(q.model.base_precision).toBe('f32'); // under 50M parameters 'auto' keeps f32
    const g = plan(GEMMA3);
    expect(g.model.structural).toBe(false);
    expect(g.model.architecture).toBe('Gemma3ForCausalLM');
    // the same shapes under a model_type the engine does not run: the structural (Llama) fallback, which
    // leaves out the q/k norms (and Gemma's extra norms), so it plans less
    const qs = plan({ ...QWEN3, model_type: 'phi3' });
    expect(qs.model.structural).toBe(true);
    expect(q.plan.peakBytes).toBeGreaterThan(qs.plan.peakBytes);
    const gs = plan({ ...GEMMA3, model_type: 'phi3' });
    expect(gs.model.structural).toBe(true);
    expect(g.plan.peakBytes).toBeGreaterThan(gs.plan.peakBytes);
  });

  test('bad input names the problem', () => {
    const r = cli('plan', '--model', folder({ model_type: 'llama' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config\.json/);
    expect(cli('plan', '--model', folder(LLAMA), '--budget', 'lots').stderr).toMatch(/--budget must be a positive whole number/);
  });
});

describe('grpo-playground train with a memory budget', () => {
  test('a run over memory_budget_bytes is refused before training, with the plan', () => {
    const model = fileURLToPath(new URL('../../shared/models/stories260K/stories260K.bin', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'budget-'));
    const data = join(dir, 'd.jsonl');
    writeFileSync(data, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `Once ${i}`, answer: 'x' })).join('\n'));
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ memory_budget_bytes: 200000, max_steps: 1 }));
    const r = cli('train', '--model', model, '--dataset', data, '--config', cfg, '--out', join(dir, 'run'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not fit the GPU memory budget.*peak .* of a 195\.3 KiB budget.*lower:/);
    expect(r.stdout).not.toMatch(/step 1\//);
  });
});
