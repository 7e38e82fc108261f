// SFT then GRPO in the engine worker (run_controller.ts), as the page's "Continue with GRPO" drives it: an SFT run
// (algorithm "sft") reports TRL SFTTrainer's metrics; a `train` with fromParent starts a GRPO run whose LoRA is the
// SFT adapter (with a learning rate too small to move it, the adapter after its first step is the SFT one), names
// its parent in its RunEnd and in the saved checkpoint's record; without a run to continue from it is refused.
// Node WebGPU, stories260K.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { RunController } from '../../src/worker/run_controller';
import { CheckpointStore, memoryBackend } from '../../src/worker/checkpoint_store';
import { nodeFileSource } from '../../src/model/load_node';
import { readSafetensors } from '../../src/model/safetensors';
import type { StepEvent } from '../../src/worker/protocol';
import type { GrpoConfig } from '../../src/grpo/config';
import { STORIES, STORY_PROMPTS, wordConfig } from '../grpo/fixtures';

const TOKENIZER = STORIES.replace(/stories260K\.bin$/, 'tok512.bin');
const DATA = new TextEncoder().encode(STORY_PROMPTS.slice(0, 8).map((prompt) => JSON.stringify({ prompt, completion: ' a dog' })).join('\n'));
const origins = { model: { kind: 'files' as const, label: 'stories260K.bin' }, dataset: { kind: 'file' as const, name: 'sft.jsonl' } };
const config = (over: Partial<GrpoConfig>): GrpoConfig =>
  wordConfig({ num_generations: 2, prompts_per_step: 2, max_completion_length: 4, lora_r: 4, lora_alpha: 8, lora_target_modules: ['q_proj', 'v_proj'], checkpoint_interval: 0, ...over });

async function session(store: CheckpointStore) {
  const models = new ModelSlot(testGpu, null);
  const datasets = new DatasetSlot();
  const runs = new RunController(models, datasets, { store });
  await models.load([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)], () => runs.end());
  datasets.load('sft.jsonl', DATA);
  return runs;
}

describe('SFT, then GRPO from its adapter, in the worker', () => {
  test('an SFT run paused at step 2 and restored in a new session continues with the uninterrupted metrics', async () => {
    const c = config({ algorithm: 'sft', max_steps: 4, learning_rate: 0.01, checkpoint_interval: 2 });
    const whole: StepEvent[] = [];
    const a = await session(new CheckpointStore(memoryBackend()));
    expect(await a.train(c, true, (e) => e.kind === 'step' && whole.push(e), Infinity, origins)).toEqual({ state: 'finished', step: 4 });
    expect(new Set(whole.map((e) => e.metrics.loss)).size).toBeGreaterThan(1);
    a.end();
    const backend = memoryBackend();
    const first = await session(new CheckpointStore(backend));
    expect(await first.train(c, true, () => undefined, 2, origins)).toEqual({ state: 'paused', step: 2 });
    first.end();
    const second = await session(new CheckpointStore(backend));
    const restored = await second.restoreSavedRun();
    expect(restored.step).toBe(2);
    expect(restored.config.algorithm).toBe('sft');
    const rest: StepEvent[] = [];
    expect(await second.train(restored.config, false, (e) => e.kind === 'step' && rest.push(e))).toEqual({ state: 'finished', step: 4 });
    expect(rest.map((e) => e.step)).toEqual([3, 4]);
    for (const e of rest) {
      const ref = whole[e.step - 1].metrics;
      for (const k of ['loss', 'mean_token_accuracy', 'entropy', 'num_tokens', 'grad_norm']) expect(e.metrics[k], k).toBe(ref[k]);
    }
    second.end();
  });

  test('the GRPO run starts from the SFT adapter and names its parent', async () => {
    const store = new CheckpointStore(memoryBackend());
    const models = new ModelSlot(testGpu, null);
    const datasets = new DatasetSlot();
    const runs = new RunController(models, datasets, { store });
    await models.load([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)], () => runs.end());
    datasets.load('sft.jsonl', DATA);
    await expect(runs.train(config({ max_steps: 1 }), true, () => {}, Infinity, origins, true)).rejects.toThrow(/no run to continue from/);

    const got: StepEvent[] = [];
    const sftEnd = await runs.train(config({ algorithm: 'sft', max_steps: 3, learning_rate: 0.01 }), true, (e) => e.kind === 'step' && got.push(e), Infinity, origins);
    expect(sftEnd).toEqual({ state: 'finished', step: 3 });
    for (const name of ['loss', 'mean_token_accuracy', 'entropy', 'num_tokens', 'grad_norm', 'learning_rate']) expect(Number.isFinite(got[2].metrics[name]), name).toBe(true);
    expect(got[2].metrics.num_tokens).toBeGreaterThan(got[0].metrics.num_tokens);
    expect(got[2].rewardNames).toEqual([]);
    const sftAdapter = readSafetensors((await runs.exportAdapter()).weights, 'sft').tensors;
    const sftSaved = (await store.latest())!;
    expect(sftSaved.parentRunId ?? null).toBeNull();

    const grpoEnd = await runs.train(config({ max_steps: 1, learning_rate: 1e-12 }), true, () => {}, Infinity, origins, true);
    expect(grpoEnd.state).toBe('finished');
    expect(grpoEnd.parentRunId).toBe(sftSaved.runId);
    expect((await store.latest())!.parentRunId).toBe(sftSaved.runId);
    const grpoAdapter = readSafetensors((await runs.exportAdapter()).weights, 'grpo').tensors;
    let bSum = 0;
    for (const [name, t] of sftAdapter) {
      const u = grpoAdapter.get(name)!;
      if (name.includes('lora_B')) bSum += t.data.reduce((a, x) => a + Math.abs(x), 0);
      t.data.forEach((x, i) => expect(Math.abs(u.data[i] - x), name).toBeLessThan(1e-6 + 1e-4 * Math.abs(x)));
    }
    expect(bSum).toBeGreaterThan(1e-4); // the SFT moved B away from zero: a fresh LoRA would not match
    runs.end();
  });
});
