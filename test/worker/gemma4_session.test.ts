// A Gemma 4 folder in the engine worker, as the page drives it (model_slot.ts, try_model.ts, run_controller.ts):
// a random-weight E2B-like tiny folder (sliding and full layers with their own head sizes, the last three sharing
// K/V, per-layer embeddings, soft-cap; the real Gemma 3 tokenizer, vocabulary 262,144) is loaded from its files;
// the try-it panel's greedy completion and answer log-prob equal the CPU reference's; a GRPO run (planned exactly
// first, as every run is) trains two steps, and the adapter the page exports, applied by the reference, gives the
// log-prob the try-it panel measures with the tuned adapter.
import { describe, expect, test } from 'vitest';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { testGpu } from '../gpu';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { RunController } from '../../src/worker/run_controller';
import { CheckpointStore, memoryBackend } from '../../src/worker/checkpoint_store';
import { generateSideBySide } from '../../src/worker/try_model';
import { nodeFileSource } from '../../src/model/load_node';
import { parseHfConfig } from '../../src/model/config';
import { gemma4LoraScale, parseGemma4PeftAdapter } from '../../src/model/gemma4_peft';
import { transformerForward, type LoraMap } from '../../src/reference/transformer';
import { Gemma4Trainable } from '../../src/model/gemma4_trainable';
import type { StepEvent } from '../../src/worker/protocol';
import { wordConfig } from '../grpo/fixtures';
import { gemma4TinyJson, gemma4Weights, writeGemma4Folder } from '../model/gemma4_fixtures';
import { greedyReference } from '../model/tiny';

const JSON_ = gemma4TinyJson({ vocab_size: 262144, vocab_size_per_layer_input: 262144, hidden_size_per_layer_input: 2 });
const config = parseHfConfig(JSON_, 'config.json');
const weights = gemma4Weights(config, 13, 0.5);
const settings = { system_prompt: null, prompt_template: null, use_chat_template: false };

/** Sum of the reference's log-probs of `completion` after `prompt` (ids), with the LoRA if given. */
function refLogprob(prompt: number[], completion: number[], lora: LoraMap | null): number {
  const seq = [...prompt, ...completion];
  const V = config.vocabSize;
  const logits = transformerForward(config, weights, seq, 1, seq.length, lora).logits;
  return completion.reduce((acc, tok, j) => {
    const t = prompt.length + j - 1;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[t * V + v]);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[t * V + v] - m);
    return acc + logits[t * V + tok] - m - Math.log(s);
  }, 0);
}

describe('a Gemma 4 folder in the worker', () => {
  test('try-it equals the reference; a GRPO run exports an adapter the reference applies to the same log-prob', async () => {
    const folder = await writeGemma4Folder(JSON_, weights, 'conditional');
    const names = (await readdir(folder)).sort();
    const files = await Promise.all(names.map((n) => nodeFileSource(join(folder, n), `${basename(folder)}/${n}`)));
    const models = new ModelSlot(testGpu, null);
    const datasets = new DatasetSlot();
    const runs = new RunController(models, datasets, { store: new CheckpointStore(memoryBackend()) });
    const summary = await models.load(files, () => runs.end());
    expect(summary.architecture).toBe('Gemma4ForConditionalGeneration');
    const on = models.require();
    expect(on.model).toBeInstanceOf(Gemma4Trainable);
    const tok = on.loaded.tokenizer;

    // try-it, base model: greedy tokens and the answer's log-prob
    const request = { prompt: 'Capital of France?', answer: ' Paris', settings, maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 1 };
    const base = await generateSideBySide(on, null, request);
    const promptIds = tok.encode('Capital of France?', { addBos: true });
    const answerIds = tok.encode(' Paris', { addBos: false });
    expect(base.promptTokens).toBe(promptIds.length);
    const want = greedyReference(config, weights, null, promptIds, 4);
    expect(base.base.text).toBe(tok.decode(want));
    expect(base.base.answerLogprob!).toBeCloseTo(refLogprob(promptIds, answerIds, null), 3);

    // a GRPO run: 2 steps on 4 prompts of different lengths, a reward that varies (the completion's length)
    const rows = [['Capital of France?', 'Paris'], ['What is two plus two?', 'four'], ['Sky?', 'blue'], ['Opposite of hot?', 'cold']];
    datasets.load('qa.jsonl', new TextEncoder().encode(rows.map(([prompt, answer]) => JSON.stringify({ prompt, answer })).join('\n')));
    const cfg = wordConfig({
      num_generations: 2, prompts_per_step: 2, max_completion_length: 3, learning_rate: 0.02, lora_r: 2, lora_alpha: 4, max_steps: 2,
      beta: 0.04, eval_split: 0, eval_interval: 0, temperature: 1, use_chat_template: false, checkpoint_interval: 0,
      reward_funcs: [{ name: 'custom', weight: 1, params: { source: '(prompt, completion) => completion.length / 10' } }],
    });
    const got: StepEvent[] = [];
    const end = await runs.train(cfg, true, (e) => { if (e.kind === 'step') got.push(e as StepEvent); }, Infinity,
      { model: { kind: 'files', label: 'gemma4' }, dataset: { kind: 'file', name: 'qa.jsonl' } });
    expect(end).toEqual({ state: 'finished', step: 2 });
    for (const e of got) expect(Number.isFinite(e.metrics.loss) && Number.isFinite(e.metrics.grad_norm), JSON.stringify(e.metrics)).toBe(true);

    const exported = await runs.exportAdapter();
    const parsed = parseGemma4PeftAdapter(exported, on.loaded.config); // the conditional layout's key names
    expect(parsed.factors.has('model.layers.4.self_attn.k_proj')).toBe(false);
    expect([...parsed.factors.values()].some((f) => f.B.some((x) => x !== 0))).toBe(true);
    const ref: LoraMap = new Map([...parsed.factors].map(([p, f]) => [p, { ...f, r: parsed.spec.r, scale: gemma4LoraScale(parsed.spec) }]));
    const tuned = await generateSideBySide(on, runs.adapter, request);
    expect(tuned.tuned).not.toBeNull();
    expect(tuned.tuned!.answerLogprob!).toBeCloseTo(refLogprob(promptIds, answerIds, ref), 3);
    expect(tuned.tuned!.text).toBe(tok.decode(greedyReference(config, weights, ref, promptIds, 4)));
  }, 600_000);
});
