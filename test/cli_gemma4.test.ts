// `grpo-playground generate` and `logprobs` on a random-weight Gemma 4 folder (E2B-like tiny: sliding and full
// layers with their own head sizes, shared K/V, PLE, soft-cap; the real Gemma 3 tokenizer, vocabulary 262,144),
// through the real CLI process: greedy tokens equal the CPU reference's; sampling runs through the shared sampling
// kernel (top-k 1 is greedy; a seeded draw at temperature 1.5 leaves the argmax path); log-probs with a PEFT adapter folder equal the reference's
// with that adapter applied.
import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHfConfig } from '../src/model/config';
import { loadModelFromPath } from '../src/model/load_node';
import { exportGemma4PeftAdapter, gemma4AdapterPaths, gemma4LoraScale, type Gemma4LoraSpec } from '../src/model/gemma4_peft';
import { gemma4LoraModules } from '../src/model/gemma4_lora';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../src/model/peft_adapter';
import { transformerForward, type LoraMap } from '../src/reference/transformer';
import { Rng } from '../src/util/random';
import { gemma4TinyJson, gemma4Weights, writeGemma4Folder } from './model/gemma4_fixtures';
import { expectClose, greedyReference } from './model/tiny';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const JSON_ = gemma4TinyJson({ vocab_size: 262144, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 2 });
const config = parseHfConfig(JSON_, 'config.json');
const weights = gemma4Weights(config, 7, 0.5);
const STOP = new Set([1, 106]);
const PROMPT = 'The capital of France is';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function run(...args: string[]): { prompt_ids: number[]; completion_ids: number[]; logprobs: number[] } {
  const r = cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('grpo-playground CLI on a Gemma 4 folder', () => {
  test('generate: greedy equals the CPU reference; top-k 1 sampling is greedy; temperature sampling leaves the argmax path', async () => {
    const folder = await writeGemma4Folder(JSON_, weights, 'conditional');
    const steps = 6; // prompt + 6 positions > the sliding window of 3: the rings wrap
    const greedy = run('generate', '--model', folder, '--prompt', PROMPT, '--temperature', '0', '--max-new-tokens', String(steps));
    const want = greedyReference(config, weights, null, greedy.prompt_ids, steps);
    const n = greedy.completion_ids.length;
    expect(greedy.completion_ids).toEqual(want.slice(0, n));
    if (n < steps) expect(STOP.has(want[n])).toBe(true);
    expect(n).toBeGreaterThan(0);
    const topK1 = run('generate', '--model', folder, '--prompt', PROMPT, '--temperature', '1', '--top-k', '1', '--seed', '3', '--max-new-tokens', String(steps));
    expect(topK1.completion_ids).toEqual(greedy.completion_ids);
    const a = run('generate', '--model', folder, '--prompt', PROMPT, '--temperature', '1.5', '--seed', '11', '--max-new-tokens', String(steps));
    for (const id of a.completion_ids) expect(id >= 0 && id < config.vocabSize).toBe(true);
    // at temperature 1.5 over 262,144 tokens of a random model the draw is not the argmax path
    expect(a.completion_ids).not.toEqual(greedy.completion_ids);
  }, 600_000);

  test('logprobs with a PEFT adapter folder equal the reference with the adapter applied', async () => {
    const folder = await writeGemma4Folder(JSON_, weights, 'causal');
    const spec: Gemma4LoraSpec = { r: 2, alpha: 4, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], useRslora: false };
    const rng = new Rng(8);
    const dims = gemma4LoraModules(config);
    const factors = new Map<string, { A: Float32Array; B: Float32Array }>();
    for (const path of gemma4AdapterPaths(config, spec.targetModules)) {
      const [OUT, IN] = dims.get(path)!;
      factors.set(path, { A: Float32Array.from({ length: spec.r * IN }, () => 0.4 * rng.normal()), B: Float32Array.from({ length: OUT * spec.r }, () => 0.4 * rng.normal()) });
    }
    const files = exportGemma4PeftAdapter(config, spec, factors, 'tiny-gemma4');
    const adapter = await mkdtemp(join(tmpdir(), 'gemma4-adapter-'));
    await writeFile(join(adapter, ADAPTER_WEIGHTS), files.weights);
    await writeFile(join(adapter, ADAPTER_CONFIG), files.config);
    const ref: LoraMap = new Map([...factors].map(([p, f]) => [p, { ...f, r: spec.r, scale: gemma4LoraScale(spec) }]));
    const promptIds = (await loadModelFromPath(folder)).tokenizer.encode(PROMPT, { addBos: true });
    const completion = ' Paris, of course';
    for (const lora of [null, ref]) {
      const out = run('logprobs', '--model', folder, '--prompt', PROMPT, '--completion', completion, ...(lora ? ['--adapter', adapter] : []));
      const seq = [...promptIds, ...(out as unknown as { completion_ids: number[] }).completion_ids];
      const T = seq.length;
      const V = config.vocabSize;
      const logits = transformerForward(config, weights, seq, 1, T, lora).logits;
      const want: number[] = [];
      for (let t = promptIds.length - 1; t < T - 1; t++) {
        let m = -Infinity;
        for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - m);
        want.push(logits[t * V + seq[t + 1]] - m - Math.log(s));
      }
      expectClose(`log-probs${lora ? ' with the adapter' : ''}`, out.logprobs, want, 2e-4, 2e-4);
    }
  }, 600_000);
});
