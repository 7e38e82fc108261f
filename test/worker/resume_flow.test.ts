// The page's side of saved runs and lost devices (src/ui/store/run.ts) against a stand-in engine worker
// speaking the real protocol: a saved run is offered, Resume asks for model files again and refuses the
// wrong ones, reloads the dataset from the browser with its column mapping, restores the checkpoint,
// redraws the history and continues training; checkpoint problems, a lost device and its recovery go to
// the run log, and the redone steps replace the charts' later ones. The real worker: session_checkpoint.test.ts.
import { beforeEach, describe, expect, test } from 'vitest';
import { EngineClient, type WorkerPort } from '../../src/worker/client';
import type { DatasetSummary, ModelSummary, ReplyMessage, RequestMessage, SavedRunSummary, StepEvent, TrainEvent } from '../../src/worker/protocol';
import { connectEngine, useAppStore } from '../../src/ui/store';
import { defaultConfig } from '../../src/grpo/config';

const MODEL: ModelSummary = {
  name: 'stories260K', architecture: 'LlamaForCausalLM', params: 1000, layers: 2, hiddenSize: 16, intermediateSize: 32, numHeads: 2,
  numKvHeads: 1, headDim: 8, vocabSize: 64, maxPositions: 128, dtype: 'f32', weightBytes: 4000, hasChatTemplate: false,
};
const DATASET: DatasetSummary = {
  name: 'd.jsonl', format: 'jsonl', columns: ['prompt', 'answer', 'q', 'a'], mapping: { prompt: 'prompt', answer: 'answer' },
  counts: { total: 10, kept: 10, invalid: 0, duplicate: 0, empty: 0 }, issues: [], issuesOmitted: 0, preview: [],
};
const SAVED: SavedRunSummary = {
  step: 2, maxSteps: 4, savedAt: Date.UTC(2025, 0, 1), finished: false,
  model: { kind: 'files', label: 'stories260K.bin', modelName: 'stories260K', files: [{ name: 'stories260K.bin', size: 3 }, { name: 'tok512.bin', size: 2 }] },
  dataset: { kind: 'file', name: 'd.jsonl', mapping: { prompt: 'q', answer: 'a' }, fingerprint: '8:0badf00d', stored: true, size: 2 },
};
const CONFIG = { ...defaultConfig(), max_steps: 4, checkpoint_interval: 2, num_generations: 4, eval_split: 0, max_prompt_length: 32, max_completion_length: 16 };

const step = (n: number, reward = n / 10): StepEvent => ({
  kind: 'step', step: n, rewardNames: ['contains'], rewardErrors: [], metrics: { reward, step_time: 1 }, groups: [],
});

/** A stand-in worker holding one saved run; `trainEvents` are what the next train request streams. */
class FakeWorker implements WorkerPort {
  requests: RequestMessage[] = [];
  saved: SavedRunSummary | null = SAVED;
  trainEvents: TrainEvent[] = [step(3), { kind: 'checkpoint', step: 4, savedAt: 1, problem: null }, step(4)];
  private listener: ((ev: MessageEvent<ReplyMessage>) => void) | null = null;
  postMessage(m: RequestMessage): void {
    this.requests.push(m);
    void this.handle(m);
  }
  addEventListener(type: 'message' | 'error', l: unknown): void {
    if (type === 'message') this.listener = l as (ev: MessageEvent<ReplyMessage>) => void;
  }
  terminate(): void {}
  private reply(r: ReplyMessage) {
    this.listener?.({ data: r } as MessageEvent<ReplyMessage>);
  }
  private async handle(m: RequestMessage) {
    await new Promise((r) => setTimeout(r, 0));
    const ret = (value: unknown) => this.reply({ type: 'return', id: m.id, value } as ReplyMessage);
    switch (m.type) {
      case 'loadModel':
        return ret(MODEL);
      case 'loadDataset':
        return ret({ ...DATASET, mapping: m.mapping ? { prompt: m.mapping.prompt!, answer: m.mapping.answer! } : DATASET.mapping });
      case 'tokenLengths':
        return ret({ prompt: new Uint32Array([3]), answer: new Uint32Array([1]) });
      case 'gpuStatus':
        return ret({ pool: null, lost: null });
      case 'savedRun':
        return ret(this.saved);
      case 'savedRunDataset':
        return ret({ name: 'd.jsonl', bytes: new Uint8Array([1, 2]), mapping: SAVED.dataset.mapping });
      case 'restoreSavedRun':
        return ret({ step: 2, config: CONFIG, history: [{ step: 1, reward: 0.1, step_time: 1 }, { step: 2, reward: 0.2, step_time: 1 }], evals: [], rewardNames: ['contains'], finished: false });
      case 'discardSavedRun':
        this.saved = null;
        return ret(true);
      case 'train': {
        for (const value of this.trainEvents) this.reply({ type: 'progress', id: m.id, value } as ReplyMessage);
        return ret({ state: 'finished', step: 4 });
      }
      default:
        return this.reply({ type: 'throw', id: m.id, message: `not faked: ${m.type}` });
    }
  }
}

let worker: FakeWorker;
const s = () => useAppStore.getState();
const files = (sizes: [string, number][]) => sizes.map(([name, size]) => ({ name, bytes: new Uint8Array(size) }));

beforeEach(() => {
  worker = new FakeWorker();
  connectEngine(new EngineClient(worker));
  useAppStore.setState({
    adapter: { status: 'ready', info: { available: true, adapter: { vendor: 'v', architecture: 'a', device: '', description: '', features: [], limits: {}, isSoftware: true }, limits: {} as never, pool: { bytesAllocated: 0, bytesInUse: 0, peakBytesAllocated: 0, buffersAllocated: 0 } } },
    deviceLost: null,
    runLog: [],
  });
  s().resetRun();
});

describe('resuming a saved run', () => {
  test('offered, asks for the model files (refusing wrong ones), reloads the dataset, restores and continues', async () => {
    await s().checkSavedRun();
    expect(s().savedRun).toEqual(SAVED);
    expect(s().resume).toEqual({ phase: 'offered' });

    await s().resumeSavedRun();
    expect(s().resume).toEqual({ phase: 'model-files' });
    expect(worker.requests.some((r) => r.type === 'loadModel')).toBe(false);

    await s().provideResumeModelFiles(files([['stories260K.bin', 3]]), [{ name: 'stories260K.bin', size: 3 }], 'stories260K.bin');
    expect(s().resume).toMatchObject({ phase: 'model-files', problem: expect.stringMatching(/not the files the run was saved with: tok512\.bin is missing/) });

    const picked = files([['stories260K.bin', 3], ['tok512.bin', 2]]);
    await s().provideResumeModelFiles(picked, picked.map((f) => ({ name: f.name, size: f.bytes.length })), '2 files');
    expect(s().resume).toEqual({ phase: 'none' });
    expect(s().savedRun).toBeNull();
    // the dataset came back from the browser and was mapped as saved
    const loads = worker.requests.filter((r) => r.type === 'loadDataset');
    expect(loads.at(-1)).toMatchObject({ file: { name: 'd.jsonl' }, mapping: { prompt: 'q', answer: 'a' } });
    // the run continued from step 2 with the saved config, and the page sent where the model and data came from
    const train = worker.requests.find((r) => r.type === 'train');
    expect(train).toMatchObject({ fresh: false, config: { max_steps: 4, checkpoint_interval: 2 }, origins: { model: { kind: 'files', label: '2 files' }, dataset: { kind: 'file', name: 'd.jsonl' } } });
    expect(s().config.checkpoint_interval).toBe(2);
    expect(s().runStatus).toBe('finished');
    expect(s().history.map((h) => [h.step, h.reward])).toEqual([[1, 0.1], [2, 0.2], [3, 0.3], [4, 0.4]]);
    expect(s().lastCheckpoint).toEqual({ step: 4, savedAt: 1, problem: null });
    expect(s().runLog.map((e) => e.text)).toEqual([expect.stringMatching(/^Resumed the run saved at step 2 /)]);
    expect(s().runActiveMs).toBeGreaterThanOrEqual(2000); // the saved steps' time counts
  });

  test('Discard deletes the saved run; Start hides the offer', async () => {
    await s().checkSavedRun();
    await s().discardSavedRun();
    expect(worker.requests.some((r) => r.type === 'discardSavedRun')).toBe(true);
    expect(s().savedRun).toBeNull();
    expect(s().resume).toEqual({ phase: 'none' });
  });
});

describe('the run log', () => {
  test('a storage problem is logged and training goes on; a lost device and its recovery are logged and the redone steps replace the later ones', async () => {
    await s().loadModelFiles(files([['m.bin', 1]]), 'm');
    await s().uploadDataset('d.jsonl', new TextEncoder().encode('{}'));
    s().replaceConfig(CONFIG);
    worker.trainEvents = [
      step(1), step(2), { kind: 'checkpoint', step: 2, savedAt: 5, problem: "the browser's storage is full, so the checkpoint of step 2 was not saved; training goes on" },
      step(3), { kind: 'deviceLost', step: 3, message: 'GPU device lost (destroyed): Device was destroyed.' },
      { kind: 'recovered', step: 2, message: 'A new GPU device was acquired, the model uploaded again and the run resumed from the checkpoint of step 2' },
      step(3, 0.33), step(4),
    ];
    const run = s().startRun();
    useAppStore.setState({ deviceLost: 'GPU device lost (destroyed): Device was destroyed.' }); // as a status poll may report meanwhile
    await run;
    expect(s().runStatus).toBe('finished');
    expect(s().history.map((h) => [h.step, h.reward])).toEqual([[1, 0.1], [2, 0.2], [3, 0.33], [4, 0.4]]);
    expect(s().deviceLost).toBeNull();
    expect(s().lastCheckpoint).toMatchObject({ step: 2, problem: expect.stringMatching(/storage is full/) });
    expect(s().runLog.map((e) => [e.level, e.text])).toEqual([
      ['warn', expect.stringMatching(/^Checkpoint of step 2 not stored: the browser's storage is full/)],
      ['error', expect.stringMatching(/^The GPU device was lost after step 3 \(GPU device lost \(destroyed\).*Getting a new device/)],
      ['info', expect.stringMatching(/^A new GPU device was acquired.*checkpoint of step 2\.$/)],
    ]);
  });
});
