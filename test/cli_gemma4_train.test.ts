// `grpo-playground train --sft` on a random-weight Gemma 4 folder (E2B-like tiny, the real Gemma 3 tokenizer,
// vocabulary 262,144: the LM head runs in vocabulary chunks with the soft-cap inside them), through the real CLI
// process: two LoRA steps write a PEFT adapter in Gemma 4's layout (no k/v on shared layers), and the CPU reference
// with that adapter gives the log-probs `grpo-playground logprobs --adapter` prints (GRPO: cli_gemma4_grpo.test.ts).
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
const weights = gemma4Weights(config, 9, 0.5);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 400_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('grpo-playground train --sft on a Gemma 4 folder', () => {
  test('two LoRA steps; the exported adapter gives the reference the CLI\'s log-probs', async () => {
    const folder = await writeGemma4Folder(JSON_, weights, 'conditional');
    const dir = await mkdtemp(join(tmpdir(), 'gemma4-sft-'));
    const data = join(dir, 'data.jsonl');
    const qa = [['Capital of France?', 'Paris'], ['Two plus two?', 'four'], ['Colour of the sky?', 'blue'], ['Opposite of hot?', 'cold']];
    await writeFile(data, qa.map(([question, answer]) => JSON.stringify({ question, answer })).join('\n') + '\n');
    const cfg = join(dir, 'config.json');
    await writeFile(cfg, JSON.stringify({
      num_generations: 2, prompts_per_step: 1, learning_rate: 0.01, lora_r: 2, lora_alpha: 4,
      lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      eval_split: 0.25, eval_interval: 0, use_chat_template: false, max_completion_length: 8,
    }));
    const out = join(dir, 'out');
    const r = cli('train', '--sft', '--model', folder, '--dataset', data, '--config', cfg, '--steps', '2', '--out', out, '--no-autotune');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/step 2\/2 {2}loss/);
    const files = { weights: new Uint8Array(await readFile(join(out, ADAPTER_WEIGHTS))), config: await readFile(join(out, ADAPTER_CONFIG), 'utf8') };
    const loaded = await loadModelFromPath(folder);
    // the conditional checkpoint's adapter keys: base_model.model.model.language_model.layers.*
    const parsed = parseGemma4PeftAdapter(files, loaded.config);
    expect(parsed.factors.has('model.layers.4.self_attn.k_proj')).toBe(false);
    expect([...parsed.factors.values()].some((f) => f.B.some((x) => x !== 0))).toBe(true); // B left its zero init
    const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));

    const prompt = 'Capital of France?';
    const lp = cli('logprobs', '--model', folder, '--prompt', prompt, '--completion', ' Paris', '--adapter', out, '--json');
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
    expectClose('log-probs with the trained adapter', got.logprobs, want, 2e-4, 2e-4);
  }, 600_000);
});
