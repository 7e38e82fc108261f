// `grpo-playground train` (GRPO) on a random-weight Gemma 4 folder (E2B-like tiny: sliding and full layers with
// their own head sizes, the last three sharing K/V, per-layer embeddings, the real Gemma 3 tokenizer with its
// 262,144-token vocabulary), through the real CLI process: prompts of different lengths (Gemma 4 generates each
// length's rows together), a reward that varies (a custom reward: the completion's length in characters), beta > 0
// (reference log-probs, LoRA off) and num_iterations 2 (old log-probs). The steps' losses are finite, the adapter's
// B left zero, and the CPU reference with the exported PEFT adapter gives the log-probs the CLI prints with it.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHfConfig } from '../src/model/config';
import { loadModelFromPath } from '../src/model/load_node';
import { gemma4LoraScale, parseGemma4PeftAdapter } from '../src/model/gemma4_peft';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../src/model/peft_adapter';
import { transformerForward, type LoraMap } from '../src/reference/transformer';
import { gemma4TinyJson, gemma4Weights, writeGemma4Folder } from './model/gemma4_fixtures';
import { expectClose } from './model/tiny';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JSON_ = gemma4TinyJson({ vocab_size: 262144, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 2 });
const config = parseHfConfig(JSON_, 'config.json');
const weights = gemma4Weights(config, 11, 0.5);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 500_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grpo-playground train (GRPO) on a Gemma 4 folder', () => {
  test('two GRPO steps with finite losses; the exported adapter gives the reference the CLI\'s log-probs', async () => {
    const folder = await writeGemma4Folder(JSON_, weights, 'causal');
    const dir = await mkdtemp(join(tmpdir(), 'gemma4-grpo-'));
    const data = join(dir, 'data.jsonl');
    const qa = [['Capital of France?', 'Paris'], ['What is two plus two?', 'four'], ['Sky?', 'blue'], ['Opposite of hot?', 'cold']];
    await writeFile(data, qa.map(([question, answer]) => JSON.stringify({ question, answer })).join('\n') + '\n');
    const cfg = join(dir, 'config.json');
    await writeFile(cfg, JSON.stringify({
      num_generations: 2, prompts_per_step: 2, learning_rate: 0.02, lora_r: 2, lora_alpha: 4, beta: 0.04, num_iterations: 2,
      lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(prompt, completion) => completion.length / 10' } }],
      eval_split: 0, eval_interval: 0, use_chat_template: false, max_completion_length: 3, temperature: 1, seed: 3,
    }));
    const out = join(dir, 'out');
    const r = cli('train', '--model', folder, '--dataset', data, '--config', cfg, '--steps', '2', '--out', out, '--no-autotune');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const steps = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>).filter((m) => m.step > 0);
    expect(steps.map((m) => m.step)).toEqual([1, 2]);
    for (const m of steps) {
      expect(Number.isFinite(m.loss) && Number.isFinite(m.grad_norm) && Number.isFinite(m.kl), JSON.stringify(m)).toBe(true);
      expect(m.skipped_updates).toBe(0);
    }
    expect(steps.some((m) => m.grad_norm > 0)).toBe(true);

    const files = { weights: new Uint8Array(await readFile(join(out, ADAPTER_WEIGHTS))), config: await readFile(join(out, ADAPTER_CONFIG), 'utf8') };
    const loaded = await loadModelFromPath(folder);
    const parsed = parseGemma4PeftAdapter(files, loaded.config);
    expect(parsed.factors.has('model.layers.4.self_attn.k_proj')).toBe(false); // shared layers own no k/v
    expect([...parsed.factors.values()].some((f) => f.B.some((x) => x !== 0))).toBe(true); // B left its zero init
    const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));

    const prompt = 'What is two plus two?';
    const lp = cli('logprobs', '--model', folder, '--prompt', prompt, '--completion', ' four', '--adapter', out, '--json');
    expect(lp.code, lp.stderr).toBe(0);
    const got = JSON.parse(lp.stdout) as { completion_ids: number[]; logprobs: number[] };
    const promptIds = loaded.tokenizer.encode(prompt, { addBos: true });
    const seq = [...promptIds, ...got.completion_ids];
    const V = config.vocabSize;
    const logits = transformerForward(config, weights, seq, 1, seq.length, ref).logits;
    const want = got.completion_ids.map((tok, j) => {
      const t = promptIds.length + j - 1;
      let m = -Infinity;
      for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - m);
      return logits[t * V + tok] - m - Math.log(s);
    });
    expectClose('log-probs with the GRPO-trained adapter', got.logprobs, want, 2e-4, 2e-4);
  }, 900_000);
});
