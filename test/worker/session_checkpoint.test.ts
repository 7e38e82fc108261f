// The engine worker's run controller (run_controller.ts) checkpoints its run and resumes it: a run saved at step 2 and restored in a
// new session (as after a page reload) continues with exactly the metrics of an uninterrupted run; a
// checkpoint from other data is refused naming the fingerprints; a GPU device destroyed mid-run is replaced
// and the run resumes from its last checkpoint to the uninterrupted run's metrics. Node WebGPU, stories260K.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { acquireNodeGpu } from '../../src/gpu/node';
import type { GpuRuntime } from '../../src/gpu/runtime';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { RunController } from '../../src/worker/run_controller';
import { CheckpointStore, memoryBackend } from '../../src/worker/checkpoint_store';
import { nodeFileSource } from '../../src/model/load_node';
import type { StepEvent, TrainEvent } from '../../src/worker/protocol';
import { STORIES, STORY_PROMPTS, wordConfig } from '../grpo/fixtures';

const TOKENIZER = STORIES.replace(/stories260K\.bin$/, 'tok512.bin');
// "the": some completions contain it and some do not, so advantages are non-zero and the adapter moves
const DATA = new TextEncoder().encode(STORY_PROMPTS.slice(0, 8).map((prompt) => JSON.stringify({ prompt, answer: 'the' })).join('\n'));
const OTHER = new TextEncoder().encode(STORY_PROMPTS.slice(8).map((prompt) => JSON.stringify({ prompt, answer: 'the' })).join('\n'));
const config = wordConfig({ max_steps: 4, num_generations: 4, max_completion_length: 8, lora_r: 4, lora_alpha: 8, learning_rate: 0.01, checkpoint_interval: 2, eval_split: 0 });
const origins = { model: { kind: 'files' as const, label: 'stories260K.bin' }, dataset: { kind: 'file' as const, name: 'dogs.jsonl' } };

/** the metrics that do not depend on timing */
const DETERMINISTIC = ['reward', 'reward_std', 'loss', 'kl', 'entropy', 'grad_norm', 'learning_rate', 'num_tokens', 'completions/mean_length', 'rewards/contains/mean'];
const pick = (m: Record<string, number>) => Object.fromEntries(DETERMINISTIC.map((k) => [k, m[k]]));

/** The worker's run controller over a model slot with stories260K and a dataset slot with `data`. */
async function session(store: CheckpointStore, gpu: () => Promise<GpuRuntime> = testGpu, renewGpu?: () => Promise<GpuRuntime>, data = DATA): Promise<RunController> {
  const models = new ModelSlot(gpu, renewGpu ?? null);
  const datasets = new DatasetSlot();
  const runs = new RunController(models, datasets, { store });
  await models.load([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)], () => runs.end());
  datasets.load('dogs.jsonl', data);
  return runs;
}

describe('the run controller: checkpoints, resume, lost devices', () => {
  const reference: Record<number, Record<string, number>> = {};

  test('an uninterrupted run checkpoints every 2 steps and at its end', async () => {
    const store = new CheckpointStore(memoryBackend());
    const s = await session(store);
    const events: TrainEvent[] = [];
    const end = await s.train(config, true, (e) => events.push(e), Infinity, origins);
    expect(end).toEqual({ state: 'finished', step: 4 });
    for (const e of events) if (e.kind === 'step') reference[e.step] = pick(e.metrics);
    expect(Object.keys(reference).map(Number)).toEqual([1, 2, 3, 4]);
    // the adapter is updated (else a wrongly restored one would give the same metrics)
    expect(Object.values(reference).filter((m) => m.grad_norm > 0).length).toBeGreaterThan(1);
    expect(Object.values(reference).some((m) => m.reward > 0)).toBe(true);
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => [e.step, (e as { problem: string | null }).problem])).toEqual([[2, null], [4, null]]);
    const saved = (await s.savedRun())!;
    expect(saved).toMatchObject({ step: 4, maxSteps: 4, finished: true, model: { kind: 'files', modelName: 'stories260K' }, dataset: { kind: 'file', name: 'dogs.jsonl', stored: true } });
    expect(saved.model.files.map((f) => f.name.replace(/.*\//, ''))).toEqual(['stories260K.bin', 'tok512.bin']);
  });

  test('a run paused at step 2 and restored in a new session continues with the uninterrupted metrics', async () => {
    const backend = memoryBackend();
    const first = await session(new CheckpointStore(backend));
    const end = await first.train(config, true, () => undefined, 2, origins);
    expect(end).toEqual({ state: 'paused', step: 2 });

    // a new session over the same storage: the page was reloaded
    const second = await session(new CheckpointStore(backend));
    const saved = (await second.savedRun())!;
    expect(saved).toMatchObject({ step: 2, finished: false });
    const kept = await second.savedRunDataset();
    expect(kept.name).toBe('dogs.jsonl');
    expect(kept.bytes).toEqual(DATA);
    const restored = await second.restoreSavedRun();
    expect(restored.step).toBe(2);
    expect(restored.finished).toBe(false);
    expect(restored.config.checkpoint_interval).toBe(2);
    expect(restored.history.map((h) => h.step)).toEqual([1, 2]);
    for (const h of restored.history) expect(pick(h)).toEqual(reference[h.step]);

    const steps: StepEvent[] = [];
    const resumed = await second.train(restored.config, false, (e) => e.kind === 'step' && steps.push(e));
    expect(resumed).toEqual({ state: 'finished', step: 4 });
    expect(steps.map((e) => e.step)).toEqual([3, 4]);
    for (const e of steps) expect(pick(e.metrics)).toEqual(reference[e.step]);
    // the saved history now holds all four steps
    const record = (await new CheckpointStore(backend).latest())!;
    expect(record.history.map((h) => h.step)).toEqual([1, 2, 3, 4]);
  });

  test('a checkpoint made with other data is refused, naming both fingerprints', async () => {
    const backend = memoryBackend();
    const first = await session(new CheckpointStore(backend));
    await first.train(config, true, () => undefined, 1, origins);
    const other = await session(new CheckpointStore(backend), testGpu, undefined, OTHER);
    await expect(other.restoreSavedRun()).rejects.toThrow(/other training data \(fingerprint \d+:[0-9a-f]{8}, now \d+:[0-9a-f]{8}\)/);
    // and nothing half-restored stays behind
    await expect(other.exportAdapter()).rejects.toThrow(/no adapter/);
  });

  test('a device destroyed mid-run is replaced, and the run resumes from its last checkpoint to the same metrics', async () => {
    let current: Promise<GpuRuntime> | null = null;
    const gpu = () => (current ??= acquireNodeGpu());
    const renew = () => {
      current = null;
      return gpu();
    };
    const s = await session(new CheckpointStore(memoryBackend()), gpu, renew);
    const events: TrainEvent[] = [];
    let lost = false;
    const end = await s.train(config, true, (e) => {
      events.push(e);
      // after step 3 (the checkpoint is at step 2), as a driver reset would
      if (e.kind === 'step' && e.step === 3 && !lost) {
        lost = true;
        void gpu().then((g) => g.device.destroy());
      }
    }, Infinity, origins);
    expect(end).toEqual({ state: 'finished', step: 4 });
    const kinds = events.map((e) => (e.kind === 'step' || e.kind === 'checkpoint' || e.kind === 'recovered' ? `${e.kind} ${e.step}` : e.kind));
    expect(kinds).toEqual(['eval', 'step 1', 'step 2', 'checkpoint 2', 'step 3', 'deviceLost', 'recovered 2', 'step 3', 'step 4', 'eval', 'checkpoint 4']);
    const lostEvent = events.find((e) => e.kind === 'deviceLost')!;
    expect(lostEvent).toMatchObject({ step: 3 });
    expect((lostEvent as { message: string }).message).toMatch(/GPU device lost/);
    expect((events.find((e) => e.kind === 'recovered') as { message: string }).message).toMatch(/checkpoint of step 2; 1 step after it will be redone/);
    const last: Record<number, Record<string, number>> = {};
    for (const e of events) if (e.kind === 'step') last[e.step] = pick(e.metrics);
    for (const step of [1, 2, 3, 4]) expect(last[step]).toEqual(reference[step]);
    // the adapter lives on the new device
    const adapter = await s.exportAdapter();
    expect(adapter.weights.byteLength).toBeGreaterThan(0);
    (await gpu()).destroy();
  });

  test('after a resume that lengthens a finished run, a lost device is recovered with the new length', async () => {
    let current: Promise<GpuRuntime> | null = null;
    const gpu = () => (current ??= acquireNodeGpu());
    const renew = () => {
      current = null;
      return gpu();
    };
    const s = await session(new CheckpointStore(memoryBackend()), gpu, renew);
    const short = { ...config, max_steps: 2, eval_interval: 0 };
    expect(await s.train(short, true, () => undefined, Infinity, origins)).toEqual({ state: 'finished', step: 2 });
    // the page lengthens the run to 4 steps and resumes it; the device is lost after step 3
    const events: TrainEvent[] = [];
    let lost = false;
    const end = await s.train({ ...short, max_steps: 4 }, false, (e) => {
      events.push(e);
      if (e.kind === 'step' && e.step === 3 && !lost) {
        lost = true;
        void gpu().then((g) => g.device.destroy());
      }
    }, Infinity, origins);
    // recovery rebuilds the run with its current length (4), not the length it started with (2)
    expect(end).toEqual({ state: 'finished', step: 4 });
    const kinds = events.map((e) => (e.kind === 'step' || e.kind === 'checkpoint' || e.kind === 'recovered' ? `${e.kind} ${e.step}` : e.kind));
    expect(kinds).toEqual(['step 3', 'deviceLost', 'recovered 2', 'step 3', 'step 4', 'eval', 'checkpoint 4']);
    const steps = events.filter((e): e is StepEvent => e.kind === 'step');
    expect(pick(steps[1].metrics)).toEqual(pick(steps[0].metrics)); // step 3 redone with the same results
    (await gpu()).destroy();
  });
});
