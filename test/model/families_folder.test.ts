// Qwen3, Gemma 3 and Llama 3 folders with their REAL tokenizers (test/model/families_fixtures.ts): the
// tokenizer and BOS as each family has it, EOS ids from config.json AND generation_config.json with the
// end-of-turn token, chat-template rendering with and without a system prompt (with the generation prompt),
// stopping at the end-of-turn token, greedy generation through the CLI and the engine worker's session equal
// to the CPU reference, and a short LoRA SFT run whose exported PEFT adapter the reference applies to the same
// log-probs as the CLI.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testGpu } from '../gpu';
import { FAMILY_CONFIGS, familyWeights, writeFamilyFolder, type Family } from './families_fixtures';
import { loadModelFromPath, nodeFileSource } from '../../src/model/load_node';
import type { LoadedModel } from '../../src/model/load';
import { GpuTransformer } from '../../src/model/transformer';
import { generate } from '../../src/model/generate';
import { formatPrompt } from '../../src/data';
import { preparePrompts } from '../../src/grpo/prompts';
import { defaultConfig } from '../../src/grpo/config';
import { readAdapterDir } from '../../src/cli/adapter_dir';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { ModelSlot } from '../../src/worker/model_slot';
import { generateSideBySide } from '../../src/worker/try_model';
import type { WeightMap } from '../../src/model/weights';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/grpo-playground.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Chat renderings of "What is 2+3?" by each family's template (system prompt "Be brief."), as transformers'
 * apply_chat_template(add_generation_prompt=True) writes them. */
const RENDERED: Record<Family, { plain: string; system: string }> = {
  qwen3: {
    plain: '<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n',
    system: '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n',
  },
  gemma3: {
    plain: '<bos><start_of_turn>user\nWhat is 2+3?<end_of_turn>\n<start_of_turn>model\n',
    system: '<bos><start_of_turn>user\nBe brief.\n\nWhat is 2+3?<end_of_turn>\n<start_of_turn>model\n',
  },
  llama3: {
    plain: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    system: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  },
};

const BOS: Record<Family, number | null> = { qwen3: null, gemma3: 2, llama3: 128000 };

/** Greedy continuation by repeated reference forwards. */
function greedyReference(m: LoadedModel, prompt: number[], steps: number, stop: readonly number[], lora: LoraMap | null = null): number[] {
  const seq = [...prompt];
  const V = m.config.vocabSize;
  for (let s = 0; s < steps; s++) {
    const T = seq.length;
    const logits = transformerForward(m.config, m.weights, seq, 1, T, lora).logits;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[(T - 1) * V + v] > logits[(T - 1) * V + best]) best = v;
    if (stop.includes(best)) break;
    seq.push(best);
  }
  return seq.slice(prompt.length);
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

const FAMILIES: Family[] = ['qwen3', 'gemma3', 'llama3'];
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

for (const family of FAMILIES) {
  describe(`${family}: random-weight folder with the real tokenizer`, () => {
    let dir = '';
    let m: LoadedModel;
    const [eotText, eotId] = FAMILY_CONFIGS[family].endOfTurn;
    beforeAll(async () => {
      dir = await writeFamilyFolder(family, familyWeights(family, 1));
      dirs.push(dir);
      m = await loadModelFromPath(dir);
    }, 120_000);

    test('tokenizer: vocabulary within the model, BOS as the family has it, EOS ids from both configs plus the end-of-turn token', () => {
      expect(m.config.modelType).toBe({ qwen3: 'qwen3', gemma3: 'gemma3_text', llama3: 'llama' }[family]);
      // Gemma 3's tokenizer has one special token past the text model's 262,144 rows (<image_soft_token>)
      if (family === 'gemma3') expect(m.tokenizer.vocabSize).toBe(m.config.vocabSize + 1);
      else expect(m.tokenizer.vocabSize).toBeLessThanOrEqual(m.config.vocabSize); // Qwen pads its embedding to 151,936
      expect(m.tokenizer.bosId).toBe(BOS[family]);
      const text = 'Hello, wörld! 2+3=5 ✓';
      const plain = m.tokenizer.encode(text, { addBos: false });
      expect(m.tokenizer.decode(plain)).toBe(text);
      // the tokenizer.json's own post-processor: Gemma's adds BOS; this Llama 3 file's is ByteLevel only (the
      // first release's), Qwen's adds none
      expect(m.tokenizer.encode(text)).toEqual(family === 'gemma3' ? [BOS[family], ...plain] : plain);
      // prompts ask for exactly one BOS: Gemma and Llama 3 get theirs, Qwen has none
      const bos = BOS[family];
      expect(m.tokenizer.encode(text, { addBos: true })).toEqual(bos === null ? plain : [bos, ...plain]);
      expect(m.tokenizer.tokenText(eotId)).toBe(eotText);
      const { config, generation } = FAMILY_CONFIGS[family];
      for (const id of [config.eos_token_id, generation.eos_token_id].flat()) expect(m.tokenizer.eosIds).toContain(id);
      expect(m.tokenizer.eosIds).toContain(eotId);
    });

    test('chat template: with and without a system prompt, ending in the generation prompt; one BOS after tokenizing', () => {
      const settings = { use_chat_template: true, system_prompt: null, prompt_template: null };
      expect(m.chatTemplate).toBeTruthy();
      const plain = formatPrompt({ prompt: 'What is 2+3?' }, settings, m.chatTemplate, m.specialTokens);
      const system = formatPrompt({ prompt: 'What is 2+3?' }, { ...settings, system_prompt: 'Be brief.' }, m.chatTemplate, m.specialTokens);
      expect(plain).toBe(RENDERED[family].plain);
      expect(system).toBe(RENDERED[family].system);
      const c = { ...defaultConfig(), use_chat_template: true, system_prompt: 'Be brief.' };
      const [ex] = preparePrompts([{ prompt: 'What is 2+3?', answer: '5', line: 1, raw: {} }], m, c).examples;
      expect(ex.text).toBe(system);
      // the template writes the BOS text; tokenizing adds no second one (TRL: add_special_tokens=False)
      const bos = BOS[family];
      expect(ex.ids.filter((id) => id === bos).length).toBe(bos === null ? 0 : 1);
      expect(ex.ids).toContain(eotId); // the end-of-turn marker of the user's turn
      expect(m.tokenizer.decode(ex.ids)).toContain('What is 2+3?');
    });

    test('generation stops at the end-of-turn token (a model made to always say it)', async () => {
      // Final norm keeps channel 0 only; channel 0 of the residual stream is the (positive) embedding's, since
      // o_proj and down_proj write nothing there; the tied embedding's channel 0 is largest for end-of-turn.
      const w: WeightMap = new Map([...m.weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
      const C = m.config.hiddenSize;
      const emb = w.get('model.embed_tokens.weight')!.data;
      for (let v = 0; v < m.config.vocabSize; v++) emb[v * C] = v === eotId ? 3 : 1;
      const off = m.config.normWeightOffset ?? 0;
      w.get('model.norm.weight')!.data.forEach((_, i, a) => (a[i] = (i === 0 ? 1 : 0) - off));
      for (let l = 0; l < m.config.numLayers; l++) {
        for (const name of [`model.layers.${l}.self_attn.o_proj.weight`, `model.layers.${l}.mlp.down_proj.weight`]) {
          const t = w.get(name)!;
          t.data.fill(0, 0, t.shape[1]); // output row 0
        }
      }
      const gpu = await testGpu();
      const model = GpuTransformer.upload(gpu, m.config, w);
      const prompt = m.tokenizer.encode('Hi', { addBos: true });
      const opts = { maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 0, lora: null };
      const stopped = await generate(model, [prompt], { ...opts, stopIds: m.tokenizer.eosIds });
      expect(stopped.finish[0]).toBe('stop');
      expect(stopped.tokens[0]).toEqual([]);
      const free = await generate(model, [prompt], { ...opts, stopIds: [] });
      expect(free.tokens[0]).toEqual([eotId, eotId, eotId, eotId]);
      expect(free.finish[0]).toBe('length');
      model.release();
    }, 120_000);

    test('greedy generation: the GPU (CLI generate and the worker session) equals the CPU reference', async () => {
      const prompt = 'Once upon a time';
      const promptIds = m.tokenizer.encode(prompt, { addBos: true });
      const want = greedyReference(m, promptIds, 6, m.tokenizer.eosIds);
      const r = cli('generate', '--model', dir, '--prompt', prompt, '--temperature', '0', '--max-new-tokens', '6', '--json');
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.prompt_ids).toEqual(promptIds);
      expect(out.completion_ids).toEqual(want);

      // the worker's parts, as engine.worker.ts routes a try-it request to them
      const models = new ModelSlot(testGpu);
      const files = await Promise.all((await readdir(dir)).map((f) => nodeFileSource(join(dir, f), `${family}/${f}`)));
      await models.load(files, () => {});
      const settings = { system_prompt: null, prompt_template: null, use_chat_template: false };
      const g = await generateSideBySide(models.require(), null, { prompt, settings, maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 0 });
      expect(g.promptTokens).toBe(promptIds.length);
      expect(g.base.tokens).toBe(want.length);
      expect(g.base.text).toBe(m.tokenizer.decode([...promptIds, ...want]).slice(m.tokenizer.decode(promptIds).length));
    }, 300_000);

    test('a short LoRA SFT run exports a PEFT adapter that the reference applies to the log-probs the CLI reports', async () => {
      const work = await mkdtemp(join(tmpdir(), `train-${family}-`));
      dirs.push(work);
      const data = join(work, 'data.jsonl');
      const rows = ['Tell me a story', 'What is 2+3?', 'Name a colour', 'Say hello'].map((q) => JSON.stringify({ prompt: q, answer: 'a' }));
      await writeFile(data, rows.join('\n') + '\n');
      const config = join(work, 'config.json');
      await writeFile(config, JSON.stringify({
        num_generations: 2, max_completion_length: 4, prompts_per_step: 2, learning_rate: 0.05, lora_r: 2, lora_alpha: 4,
        lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
        reward_funcs: [{ name: 'contains', weight: 1, params: {} }], eval_split: 0, eval_interval: 0, use_chat_template: true,
        temperature: 1,
      }));
      const out = join(work, 'adapter');
      // supervised LoRA steps (--sft): their gradients never vanish, unlike GRPO's on equal rewards
      const t = cli('train', '--sft', '--model', dir, '--dataset', data, '--config', config, '--steps', '2', '--out', out);
      expect(t.code, t.stderr + t.stdout).toBe(0);
      const adapter = await readAdapterDir(out, m.config);
      expect(adapter.tensors.has('model.layers.0.self_attn.q_proj')).toBe(true);
      const lora: LoraMap = new Map();
      const scale = adapter.spec.useRslora ? adapter.spec.alpha / Math.sqrt(adapter.spec.r) : adapter.spec.alpha / adapter.spec.r;
      let moved = 0;
      for (const [path, { A, B }] of adapter.tensors) {
        lora.set(path, { A, B, r: adapter.spec.r, scale });
        moved += B.reduce((s, x) => s + Math.abs(x), 0);
      }
      expect(moved).toBeGreaterThan(0); // training moved lora_B off zero, so the adapter changes the model
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
}
