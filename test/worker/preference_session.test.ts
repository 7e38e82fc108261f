// Preference runs in the engine worker (run_controller.ts, dataset_slot.ts), as the page drives them: a
// separate test file is read as the training data is (pairs for DPO, labelled completions for KTO) even when
// it was loaded while the algorithm was GRPO's, and its pairs give the held-out pair accuracy; a file without
// the algorithm's fields is refused naming the file and the line; a SimPO run paused at step 2 and restored in
// a new session (a page reload) continues with the metrics of an uninterrupted run. Node WebGPU, stories260K.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { RunController } from '../../src/worker/run_controller';
import { CheckpointStore, memoryBackend } from '../../src/worker/checkpoint_store';
import { nodeFileSource } from '../../src/model/load_node';
import type { StepEvent } from '../../src/worker/protocol';
import type { GrpoConfig } from '../../src/grpo/config';
import type { DatasetKind } from '../../src/data';
import { STORIES, STORY_PROMPTS, wordConfig } from '../grpo/fixtures';

const TOKENIZER = STORIES.replace(/stories260K\.bin$/, 'tok512.bin');
const enc = (lines: object[]) => new TextEncoder().encode(lines.map((l) => JSON.stringify(l)).join('\n'));
const PAIRS = enc(STORY_PROMPTS.slice(0, 6).map((prompt) => ({ prompt, chosen: ' dog', rejected: ' cat' })));
const HELD_PAIRS = enc(STORY_PROMPTS.slice(6, 9).map((prompt) => ({ prompt, chosen: ' dog', rejected: ' cat' })));
const UNPAIRED = enc(STORY_PROMPTS.slice(0, 4).flatMap((prompt) => [{ prompt, completion: ' dog', label: true }, { prompt, completion: ' cat', label: false }]));
const HELD_UNPAIRED = enc(STORY_PROMPTS.slice(6, 8).flatMap((prompt) => [{ prompt, completion: ' dog', label: true }, { prompt, completion: ' cat', label: false }]));
const PROMPT_ANSWER = enc(STORY_PROMPTS.slice(6, 9).map((prompt) => ({ prompt, answer: ' dog' })));
const origins = { model: { kind: 'files' as const, label: 'stories260K.bin' }, dataset: { kind: 'file' as const, name: 'pairs.jsonl' } };

const config = (over: Partial<GrpoConfig>): GrpoConfig =>
  wordConfig({ algorithm: 'dpo', beta: 0.1, prompts_per_step: 2, max_completion_length: 4, learning_rate: 0.01, lora_r: 4, lora_alpha: 8, max_steps: 4, eval_max_samples: 4, checkpoint_interval: 2, lr_scheduler_type: 'constant', warmup_ratio: 0, ...over });

async function session(store: CheckpointStore, data: Uint8Array, kind: DatasetKind, evalFile?: { name: string; bytes: Uint8Array; kind?: DatasetKind }) {
  const models = new ModelSlot(testGpu, null);
  const datasets = new DatasetSlot();
  const runs = new RunController(models, datasets, { store });
  await models.load([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)], () => runs.end());
  datasets.load('pairs.jsonl', data, undefined, kind);
  // without a kind: loaded as the page loads it before the algorithm changes, as prompt/answer rows
  if (evalFile) datasets.setEvalDataset(evalFile.name, evalFile.bytes, undefined, evalFile.kind);
  return { runs, datasets };
}

const steps = (into: StepEvent[]) => (e: { kind: string }) => {
  if (e.kind === 'step') into.push(e as StepEvent);
};

describe('preference runs in the worker', () => {
  test('the test file is read again as the algorithm needs it; one without its fields is refused by name and line', () => {
    const slot = new DatasetSlot();
    expect(slot.evalRowsAs('preference')).toBeNull();
    // KTO's file read as prompt/answer (prompt, completion), as the page reads it under GRPO, then as KTO's
    slot.setEvalDataset('held.jsonl', HELD_UNPAIRED);
    expect(slot.evalDataset!.rows[0].label).toBeUndefined();
    expect(slot.evalRowsAs('unpaired')!.map((r) => [r.answer, r.label])).toEqual([[' dog', true], [' cat', false], [' dog', true], [' cat', false]]);
    expect(() => slot.evalRowsAs('preference')).toThrow(/^held\.jsonl: no chosen and rejected column/);
    slot.setEvalDataset('pairs.jsonl', HELD_PAIRS, undefined, 'preference');
    expect(slot.evalRowsAs('preference')!.map((r) => [r.answer, r.rejected])).toEqual([[' dog', ' cat'], [' dog', ' cat'], [' dog', ' cat']]);
    slot.setEvalDataset('answers.jsonl', PROMPT_ANSWER);
    expect(() => slot.evalRowsAs('preference')).toThrow(/^answers\.jsonl: no chosen and rejected column/);
    const bad = enc([{ prompt: 'a', chosen: ' dog', rejected: null }, { prompt: 'b', chosen: ' dog' }]);
    expect(() => slot.setEvalDataset('bad.jsonl', bad, undefined, 'preference')).toThrow(/^bad\.jsonl: no usable preference pairs \(prompt, chosen, rejected\) rows \(line 1: /);
    expect(() => slot.setEvalDataset('answers.jsonl', PROMPT_ANSWER, undefined, 'unpaired')).toThrow(/^answers\.jsonl: no completion and label column: an unpaired dataset/);
  });

  test('DPO with a separate test file of pairs measures held-out pair accuracy on it', async () => {
    const { runs } = await session(new CheckpointStore(memoryBackend()), PAIRS, 'preference', { name: 'held.jsonl', bytes: HELD_PAIRS, kind: 'preference' });
    const got: StepEvent[] = [];
    expect(await runs.train(config({ max_steps: 2 }), true, steps(got), Infinity, origins)).toEqual({ state: 'finished', step: 2 });
    expect(got.map((e) => e.step)).toEqual([1, 2]);
    for (const e of got) {
      expect(e.metrics['eval_rewards/accuracies']).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(e.metrics['eval_logps/chosen'])).toBe(true);
    }
  });

  test('KTO with a separate test file of labelled completions trains', async () => {
    const { runs } = await session(new CheckpointStore(memoryBackend()), UNPAIRED, 'unpaired', { name: 'held.jsonl', bytes: HELD_UNPAIRED });
    const got: StepEvent[] = [];
    expect(await runs.train(config({ algorithm: 'kto', max_steps: 2 }), true, steps(got), Infinity, origins)).toEqual({ state: 'finished', step: 2 });
    expect(Number.isFinite(got[1].metrics.loss)).toBe(true);
    expect(Number.isFinite(got[1].metrics['eval_logps/chosen'])).toBe(true);
  });

  test('a SimPO run paused at step 2 and restored in a new session continues with the uninterrupted metrics', async () => {
    const c = config({ algorithm: 'simpo', simpo_gamma: 0.5, beta: 2 });
    const whole: StepEvent[] = [];
    const a = await session(new CheckpointStore(memoryBackend()), PAIRS, 'preference');
    expect(await a.runs.train(c, true, steps(whole), Infinity, origins)).toEqual({ state: 'finished', step: 4 });
    expect(new Set(whole.map((e) => e.metrics.loss)).size).toBeGreaterThan(1);

    const backend = memoryBackend();
    const first = await session(new CheckpointStore(backend), PAIRS, 'preference');
    expect(await first.runs.train(c, true, () => undefined, 2, origins)).toEqual({ state: 'paused', step: 2 });
    const second = await session(new CheckpointStore(backend), PAIRS, 'preference');
    const restored = await second.runs.restoreSavedRun();
    expect(restored.step).toBe(2);
    expect(restored.config.algorithm).toBe('simpo');
    const rest: StepEvent[] = [];
    expect(await second.runs.train(restored.config, false, steps(rest))).toEqual({ state: 'finished', step: 4 });
    expect(rest.map((e) => e.step)).toEqual([3, 4]);
    for (const e of rest) {
      const ref = whole[e.step - 1].metrics;
      for (const k of ['loss', 'rewards/chosen', 'rewards/rejected', 'logps/chosen', 'logps/rejected', 'grad_norm']) expect(e.metrics[k], k).toBe(ref[k]);
    }
  });
});
