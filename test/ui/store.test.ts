// The page's store against a stand-in engine worker speaking the real protocol: loading, Start / Pause /
// Resume / Stop / Step, the metric history (every step kept), evaluations, rollouts, what blocks Start,
// and adapter import. The real worker is covered by e2e/ and test/ui/session_generate.test.ts.
import { beforeEach, describe, expect, test } from 'vitest';
import { EngineClient, type WorkerPort } from '../../src/worker/client';
import type { ModelSummary, ReplyMessage, RequestMessage, StepEvent, DatasetSummary } from '../../src/worker/protocol';
import { connectEngine, startBlocker, useAppStore } from '../../src/ui/store';
import { setRunGate } from '../../src/ui/store/run';

const MODEL: ModelSummary = {
  name: 'tiny', architecture: 'LlamaForCausalLM', params: 1000, layers: 2, hiddenSize: 16, intermediateSize: 32, numHeads: 2,
  numKvHeads: 1, headDim: 8, vocabSize: 64, maxPositions: 128, dtype: 'f32', weightBytes: 4000, hasChatTemplate: false,
};
const DATASET: DatasetSummary = {
  name: 'd.jsonl', format: 'jsonl', columns: ['prompt', 'answer'], mapping: { prompt: 'prompt', answer: 'answer' },
  counts: { total: 10, kept: 10, invalid: 0, duplicate: 0, empty: 0 }, issues: [], issuesOmitted: 0,
  preview: [{ line: 1, prompt: '1+1=', answer: '2', raw: { prompt: '1+1=', answer: '2' } }],
};

/** A stand-in worker: trains one step per macrotask until max_steps, a pause or a stop. */
class FakeWorker implements WorkerPort {
  requests: RequestMessage[] = [];
  interrupt: 'pause' | 'stop' | null = null;
  step = 0;
  private listener: ((ev: MessageEvent<ReplyMessage>) => void) | null = null;
  postMessage(m: RequestMessage): void {
    this.requests.push(m);
    void this.handle(m);
  }
  addEventListener(type: 'message' | 'error', l: unknown): void {
    if (type === 'message') this.listener = l as (ev: MessageEvent<ReplyMessage>) => void;
  }
  terminate(): void {}
  reply(r: ReplyMessage) {
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
        return ret({ prompt: new Uint32Array([3, 4]), answer: new Uint32Array([1, 1]) });
      case 'gpuStatus':
        return ret({ pool: { bytesAllocated: 10, bytesInUse: 5, peakBytesAllocated: 10, buffersAllocated: 1 }, lost: null });
      case 'interrupt':
        this.interrupt = m.kind;
        return ret(true);
      case 'importAdapter':
        this.step = 0;
        return ret({ r: 4, targetModules: ['q_proj', 'v_proj'] });
      case 'train': {
        if (m.fresh) {
          this.step = 0;
          this.reply({ type: 'progress', id: m.id, value: { kind: 'eval', step: 0, passAt1: 0.1, rewardMean: 0.1, n: 4, samples: [] } } as ReplyMessage);
        }
        this.interrupt = null;
        let done = 0;
        while (this.step < m.config.max_steps && done < (m.maxSteps ?? Infinity) && !this.interrupt) {
          await new Promise((r) => setTimeout(r, 1));
          this.step++;
          done++;
          const ev: StepEvent = {
            kind: 'step', step: this.step, rewardNames: ['numeric_match'], rewardErrors: [],
            metrics: { reward: this.step / 10, reward_std: 0.1, step_time: 0.5, 'rewards/numeric_match/mean': this.step / 10 },
            groups: [{ prompt: '1+1=', answer: '2', rewardStd: 0.5, completions: [{ text: '2', tokens: 1, truncated: false, rewards: [1], reward: 1, advantage: 1 }] }],
          };
          this.reply({ type: 'progress', id: m.id, value: ev } as ReplyMessage);
        }
        const state = this.interrupt === 'stop' ? 'stopped' : this.step >= m.config.max_steps ? 'finished' : 'paused';
        return ret({ state, step: this.step });
      }
      default:
        return this.reply({ type: 'throw', id: m.id, message: `not faked: ${m.type}` });
    }
  }
}

let worker: FakeWorker;
const s = () => useAppStore.getState();

async function loaded() {
  await s().loadModelFiles([{ name: 'm.bin', bytes: new Uint8Array(1) }], 'm');
  await s().uploadDataset('d.jsonl', new TextEncoder().encode('{}'));
  await new Promise((r) => setTimeout(r, 10)); // token lengths arrive after the dataset
}

beforeEach(() => {
  worker = new FakeWorker();
  connectEngine(new EngineClient(worker));
  useAppStore.setState({
    adapter: { status: 'ready', info: { available: true, adapter: { vendor: 'v', architecture: 'a', device: '', description: '', features: [], limits: {}, isSoftware: true }, limits: {} as never, pool: { bytesAllocated: 0, bytesInUse: 0, peakBytesAllocated: 0, buffersAllocated: 0 } } },
    deviceLost: null,
  });
  s().resetRun();
  s().resetConfig();
});

describe('the run slice', () => {
  test('Start is blocked until a model and data are loaded and the settings are valid', async () => {
    useAppStore.setState({ modelStatus: 'none', datasetStatus: 'none' });
    expect(startBlocker(s())).toMatch(/Load a model/);
    await loaded();
    expect(s().modelSummary?.name).toBe('tiny');
    expect(s().tokenLengths?.prompt.length).toBe(2);
    expect(startBlocker(s())).toBeNull();
    s().setConfigField('num_generations', 1);
    expect(startBlocker(s())).toMatch(/Fix the setting/);
    s().setConfigField('num_generations', 4);
    s().setConfigField('learning_rate', NaN);
    expect(startBlocker(s())).toMatch(/Fix/);
  });

  test('Start runs to max_steps, keeping every step, the evaluations and the rollouts', async () => {
    await loaded();
    s().setConfigField('max_steps', 7);
    await s().startRun();
    expect(s().runStatus).toBe('finished');
    expect(s().runStep).toBe(7);
    expect(s().history.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s().history[6].reward).toBeCloseTo(0.7);
    expect(s().evals).toEqual([{ step: 0, passAt1: 0.1, rewardMean: 0.1 }]);
    expect(s().rollouts).toHaveLength(7);
    expect(s().rewardNames).toEqual(['numeric_match']);
    expect(s().hasAdapter).toBe(true);
    expect(s().runConfig?.max_steps).toBe(7);
    expect(s().runActiveMs).toBeGreaterThan(0);
    expect(s().runResumedAt).toBeNull();
    const train = worker.requests.find((r) => r.type === 'train');
    expect(train).toMatchObject({ fresh: true });
  });

  test('while a run is starting (the cross-tab lock is asked) the page says so and a second Start starts nothing', async () => {
    await loaded();
    s().setConfigField('max_steps', 2);
    // the gate answers every start that asked it when opened
    let waiting: ((refusal: string | null) => void)[] = [];
    const open = (refusal: string | null) => {
      for (const r of waiting) r(refusal);
      waiting = [];
    };
    setRunGate(() => new Promise((r) => waiting.push(r)));
    try {
      const first = s().startRun();
      // the last run's status still shows, but the run is starting: Start is blocked and says why
      expect(s().runStarting).toBe(true);
      expect(startBlocker(s())).toBe('Starting the run…');
      const second = s().startRun();
      const step = s().stepRun();
      open(null);
      await Promise.all([first, second, step]);
      expect(worker.requests.filter((r) => r.type === 'train')).toHaveLength(1);
      expect(s().runStarting).toBe(false);
      expect(s().runStatus).toBe('finished');
      // a refused start leaves nothing starting
      const refused = s().startRun();
      open('another tab is training');
      await refused;
      expect(s().runStarting).toBe(false);
      expect(startBlocker(s())).toBeNull();
      expect(worker.requests.filter((r) => r.type === 'train')).toHaveLength(1);
    } finally {
      setRunGate(null);
    }
  });

  test('Pause, Resume, Step and Stop', async () => {
    await loaded();
    s().setConfigField('max_steps', 1000);
    const run = s().startRun();
    await new Promise((r) => setTimeout(r, 20));
    expect(s().runStatus).toBe('running');
    await s().pauseRun();
    expect(['pausing', 'paused']).toContain(s().runStatus);
    await run;
    expect(s().runStatus).toBe('paused');
    const at = s().runStep;
    expect(at).toBeGreaterThan(0);
    // Step trains exactly one more, continuing the run
    await s().stepRun();
    expect(s().runStatus).toBe('paused');
    expect(s().runStep).toBe(at + 1);
    expect(worker.requests.filter((r) => r.type === 'train').at(-1)).toMatchObject({ fresh: false, maxSteps: 1 });
    // Resume continues; Stop ends it
    const resumed = s().resumeRun();
    await new Promise((r) => setTimeout(r, 20));
    await s().stopRun();
    await resumed;
    expect(s().runStatus).toBe('stopped');
    expect(s().history.length).toBe(s().runStep);
    // history is continuous across pause and resume
    expect(s().history.map((r) => r.step)).toEqual(Array.from({ length: s().runStep }, (_, i) => i + 1));
    // a new Start begins from scratch
    s().setConfigField('max_steps', 2);
    await s().startRun();
    expect(s().history.map((r) => r.step)).toEqual([1, 2]);
  });

  test('Stop while paused ends the run without training', async () => {
    await loaded();
    s().setConfigField('max_steps', 5);
    await s().stepRun(); // from idle: a new run, one step
    expect(s().runStatus).toBe('paused');
    expect(s().runStep).toBe(1);
    await s().stopRun();
    expect(s().runStatus).toBe('stopped');
    expect(worker.requests.at(-1)).toMatchObject({ type: 'interrupt', kind: 'stop' });
  });

  test('rollouts keep only the most recent steps; the metric history keeps all', async () => {
    await loaded();
    s().setConfigField('max_steps', 130);
    await s().startRun();
    expect(s().history).toHaveLength(130);
    expect(s().rollouts).toHaveLength(100);
    expect(s().rollouts[0].step).toBe(31);
  });

  test('loading another model resets the run', async () => {
    await loaded();
    s().setConfigField('max_steps', 3);
    await s().startRun();
    await s().loadModelFiles([{ name: 'x.bin', bytes: new Uint8Array(1) }], 'x');
    expect(s().runStatus).toBe('idle');
    expect(s().history).toEqual([]);
    expect(s().hasAdapter).toBe(false);
  });

  test('an imported adapter sets the LoRA settings and becomes a paused run at step 0', async () => {
    await loaded();
    await s().importAdapter('run1.zip', new Uint8Array(4), JSON.stringify({ r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] }));
    expect(s().config.lora_r).toBe(4);
    expect(s().config.lora_alpha).toBe(8);
    expect(s().config.lora_target_modules).toEqual(['q_proj', 'v_proj']);
    expect(s().runStatus).toBe('paused');
    expect(s().hasAdapter).toBe(true);
    expect(s().importedAdapter).toEqual({ name: 'run1.zip', r: 4, targetModules: ['q_proj', 'v_proj'] });
  });

  test('a new column mapping re-parses the same file', async () => {
    await loaded();
    await s().setColumnMapping({ prompt: 'answer', answer: 'prompt' });
    const last = worker.requests.filter((r) => r.type === 'loadDataset').at(-1)!;
    expect(last).toMatchObject({ mapping: { prompt: 'answer', answer: 'prompt' } });
    expect(s().datasetSummary?.mapping).toEqual({ prompt: 'answer', answer: 'prompt' });
  });
});

describe('the GPU slice', () => {
  test('a lost device is reported, and blocks Start with what to do', async () => {
    await loaded();
    await s().refreshGpuStatus();
    expect(s().pool?.bytesInUse).toBe(5);
    expect(s().deviceLost).toBeNull();
    const port = new FakeWorker();
    const lost = Object.assign(port, {
      postMessage(m: RequestMessage) {
        if (m.type === 'gpuStatus') {
          setTimeout(() => port.reply({ type: 'return', id: m.id, value: { pool: null, lost: 'GPU device lost (unknown): gone' } } as ReplyMessage));
        } else FakeWorker.prototype.postMessage.call(port, m);
      },
    });
    connectEngine(new EngineClient(lost));
    await s().refreshGpuStatus();
    expect(s().deviceLost).toMatch(/device lost/);
    expect(startBlocker(s())).toMatch(/reload the page/);
  });

  test('a worker that stops is reported once', async () => {
    const dead: WorkerPort = {
      postMessage() {},
      addEventListener(type: string, l: unknown) {
        if (type === 'error') setTimeout(() => (l as (e: ErrorEvent) => void)({ message: 'boom', preventDefault() {} } as ErrorEvent), 0);
      },
      terminate() {},
    };
    connectEngine(new EngineClient(dead));
    await new Promise((r) => setTimeout(r, 5));
    await s().refreshGpuStatus();
    expect(s().workerFailed).toMatch(/engine worker failed: boom/);
    useAppStore.setState({ workerFailed: null });
  });
});

describe('the config slice', () => {
  test('presets apply their loss settings; import reads TRL names and refuses unknown keys', () => {
    useAppStore.setState({ modelSummary: null });
    s().applyPreset('dr_grpo');
    expect(s().config.loss_type).toBe('dr_grpo');
    expect(s().config.scale_rewards).toBe('none');
    s().importConfigJson('{"learning_rate": 0.001, "max_steps": 12}', 'c.json');
    expect(s().config.learning_rate).toBe(0.001);
    expect(s().config.max_steps).toBe(12);
    expect(() => s().importConfigJson('{"learning_rat": 1}', 'bad.json')).toThrow(/did you mean learning_rate/);
  });
});
