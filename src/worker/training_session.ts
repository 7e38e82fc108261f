// The worker's training state: the loaded model (host and GPU), the dataset, and the GRPO run. All GPU
// work of training happens here, inside the engine worker; the page only sends requests and draws.

import type { GpuRuntime } from '../gpu/runtime';
import { loadModelFiles, type FileSource, type LoadedModel } from '../model/load';
import { llamaParamCount } from '../model/config';
import { GpuTransformer } from '../model/transformer';
import { exportPeftAdapter, loadAdapterInto, parsePeftAdapter, type PeftAdapterFiles } from '../model/peft_adapter';
import { parseDatasetBytes, splitDataset, type ColumnMapping, type DatasetRow, type ParsedDataset, type PromptSettings } from '../data';
import { defaultConfig, validateConfig, type GrpoConfig } from '../grpo/config';
import { generate } from '../model/generate';
import { completionLogprobs } from '../model/logprobs';
import type { LoraSet } from '../model/lora';
import { createRewardScorer, type RewardScorer } from '../grpo/rewards_scorer';
import { preparePrompts } from '../grpo/prompts';
import { GrpoTrainer, type EvalReport, type StepReport } from '../grpo/trainer';
import type {
  DatasetSummary,
  EvalEvent,
  GenerateRequest,
  GenerateResult,
  GenerationView,
  ModelSummary,
  RunEnd,
  StepEvent,
  TokenLengths,
  TrainEvent,
} from './protocol';

const PREVIEW_ROWS = 20;
const MAX_ISSUES_SHOWN = 200;

export class TrainingSession {
  private loaded: LoadedModel | null = null;
  private model: GpuTransformer | null = null;
  private dataset: ParsedDataset | null = null;
  private datasetName = '';
  private trainer: GrpoTrainer | null = null;
  private scorer: RewardScorer | null = null;
  private runConfig: GrpoConfig | null = null;
  /** set by pause/stop requests, read between steps */
  private interrupt: 'pause' | 'stop' | null = null;
  private running = false;

  constructor(private readonly gpu: () => Promise<GpuRuntime>) {}

  async loadModel(files: FileSource[]): Promise<ModelSummary> {
    const loaded = await loadModelFiles(files);
    const gpu = await this.gpu();
    this.endRun();
    this.model?.release();
    this.model = null;
    this.model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    this.loaded = loaded;
    const c = loaded.config;
    return {
      name: loaded.name,
      architecture: c.architecture,
      params: llamaParamCount(c),
      layers: c.numLayers,
      hiddenSize: c.hiddenSize,
      intermediateSize: c.intermediateSize,
      numHeads: c.numHeads,
      numKvHeads: c.numKvHeads,
      headDim: c.headDim,
      vocabSize: c.vocabSize,
      maxPositions: c.maxPositionEmbeddings,
      dtype: loaded.dtype,
      weightBytes: this.model.bytes,
      hasChatTemplate: !!loaded.chatTemplate,
    };
  }

  loadDataset(name: string, bytes: Uint8Array, mapping?: Partial<ColumnMapping>): DatasetSummary {
    const ds = parseDatasetBytes(bytes, name, { mapping });
    this.dataset = ds;
    this.datasetName = name;
    return {
      name,
      format: ds.format,
      columns: ds.columns,
      mapping: ds.mapping,
      counts: ds.counts,
      issues: ds.issues.slice(0, MAX_ISSUES_SHOWN),
      issuesOmitted: ds.issuesOmitted + Math.max(0, ds.issues.length - MAX_ISSUES_SHOWN),
      preview: ds.rows.slice(0, PREVIEW_ROWS).map((r) => ({ line: r.line, prompt: r.prompt, answer: r.answer, raw: r.raw })),
    };
  }

  /** Runs steps until max_steps, a pause or a stop. Continues the current run unless `fresh`. */
  async run(config: GrpoConfig, fresh: boolean, onEvent: (e: TrainEvent) => void, maxSteps = Infinity): Promise<RunEnd> {
    if (this.running) throw new Error('a training run is already going: pause or stop it first');
    this.running = true;
    this.interrupt = null;
    try {
      const trainer = await this.trainerFor(config, fresh);
      const c = trainer.config;
      if (trainer.step === 0 && fresh) onEvent(evalEvent(await trainer.evaluate()));
      let done = 0;
      while (trainer.step < c.max_steps && done < maxSteps) {
        if (this.interrupt) break;
        const report = await trainer.trainStep();
        done++;
        onEvent(stepEvent(report));
        const due = trainer.step === c.max_steps || (c.eval_interval > 0 && trainer.step % c.eval_interval === 0);
        if (due) onEvent(evalEvent(await trainer.evaluate()));
      }
      const interrupted = this.interrupt as 'pause' | 'stop' | null;
      const state: RunEnd['state'] =
        interrupted === 'stop' ? 'stopped' : trainer.step >= c.max_steps ? 'finished' : 'paused';
      if (state === 'stopped') this.runConfig = null; // the next start begins a new run; the adapter stays exportable
      return { state, step: trainer.step };
    } finally {
      this.running = false;
      this.interrupt = null;
    }
  }

  /** a train request is in progress */
  get isRunning(): boolean {
    return this.running;
  }

  requestInterrupt(kind: 'pause' | 'stop'): boolean {
    if (!this.running) {
      if (kind === 'stop') this.runConfig = null;
      return false;
    }
    this.interrupt = kind;
    return true;
  }

  async evaluate(): Promise<EvalEvent> {
    if (!this.trainer) throw new Error('nothing to evaluate yet: start a run first');
    return evalEvent(await this.trainer.evaluate());
  }

  async exportAdapter(): Promise<PeftAdapterFiles> {
    if (!this.trainer || !this.loaded) throw new Error('there is no adapter to export yet: train at least one step');
    return exportPeftAdapter(await this.gpu(), this.trainer.lora, this.loaded.name, this.trainer.config.lora_dropout);
  }

  /** Loads a PEFT adapter into the current run's LoRA (creating the run from `config` if there is none). */
  async importAdapter(files: PeftAdapterFiles, config: GrpoConfig): Promise<{ r: number; targetModules: string[] }> {
    if (!this.loaded) throw new Error('load a model before importing an adapter');
    const parsed = parsePeftAdapter(files, this.loaded.config);
    const trainer = await this.trainerFor({
      ...config,
      lora_r: parsed.spec.r,
      lora_alpha: parsed.spec.alpha,
      lora_target_modules: parsed.spec.targetModules,
      use_rslora: parsed.spec.useRslora,
    }, true);
    loadAdapterInto(await this.gpu(), trainer.lora, parsed);
    return { r: parsed.spec.r, targetModules: parsed.spec.targetModules };
  }

  /** Token lengths of every kept row's prompt (as the model will see it) and answer. CPU only. */
  tokenLengths(settings: PromptSettings): TokenLengths {
    if (!this.loaded) throw new Error('load a model first: token lengths depend on its tokenizer');
    if (!this.dataset) throw new Error('load a dataset first');
    const loaded = this.loaded;
    const prompts = this.promptIds(this.dataset.rows, settings, Number.MAX_SAFE_INTEGER);
    const prompt = Uint32Array.from(prompts, (p) => p.ids.length);
    const answer = Uint32Array.from(this.dataset.rows, (r) => loaded.tokenizer.encode(r.answer, { addBos: false }).length);
    return { prompt, answer };
  }

  /** One prompt completed by the base model (LoRA off) and by the current adapter, with the same seed;
   * and the log-probability of `answer` as the completion under each. */
  async generate(r: GenerateRequest): Promise<GenerateResult> {
    if (!this.loaded || !this.model) throw new Error('load a model first');
    if (this.running) throw new Error('a training run is going: pause it to try the model');
    const { tokenizer, config: mc } = this.loaded;
    const maxNew = Math.max(1, Math.floor(r.maxNewTokens));
    const [prompt] = this.promptIds([{ prompt: r.prompt, answer: r.answer ?? '', line: 1, raw: {} }], r.settings, Math.max(1, mc.maxPositionEmbeddings - maxNew));
    const answerIds = r.answer ? tokenizer.encode(r.answer, { addBos: false }) : [];
    const model = this.model;
    const complete = async (lora: LoraSet | null): Promise<GenerationView> => {
      const gen = await generate(model, [prompt.ids], {
        maxNewTokens: maxNew,
        temperature: r.temperature,
        topK: r.topK,
        topP: r.topP,
        seed: r.seed >>> 0,
        stopIds: tokenizer.eosIds,
        lora,
      });
      let answerLogprob: number | null = null;
      if (answerIds.length > 0 && prompt.ids.length + answerIds.length <= mc.maxPositionEmbeddings) {
        const lp = await completionLogprobs(model, [{ prompt: prompt.ids, completion: answerIds }], lora, 1);
        answerLogprob = lp.logprobs[0].reduce((a, b) => a + b, 0);
      }
      const ids = gen.tokens[0];
      // (an immediate end-of-sequence is an empty completion; some tokenizers refuse to decode [])
      return { text: ids.length ? tokenizer.decode(ids) : '', tokens: ids.length, finish: gen.finish[0], answerLogprob };
    };
    const base = await complete(null);
    const tuned = this.trainer ? await complete(this.trainer.lora) : null;
    return { promptText: prompt.text, promptTokens: prompt.ids.length, answerTokens: answerIds.length, base, tuned, step: this.trainer?.step ?? 0 };
  }

  private promptIds(rows: readonly DatasetRow[], settings: PromptSettings, maxLength: number) {
    const loaded = this.loaded!;
    const c = { ...defaultConfig(), ...settings, max_prompt_length: maxLength };
    return preparePrompts(rows, loaded, c).examples;
  }

  private async trainerFor(config: GrpoConfig, fresh: boolean): Promise<GrpoTrainer> {
    if (!this.loaded || !this.model) throw new Error('load a model first');
    if (!this.dataset) throw new Error('load a dataset first');
    const problems = validateConfig(config, { maxSequenceLength: this.loaded.config.maxPositionEmbeddings });
    if (problems.length) throw new Error(`the config has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    if (this.trainer && !fresh && this.runConfig) {
      // a resumed run keeps its config except its length and eval interval
      this.trainer.setRunLength(config.max_steps, config.eval_interval);
      return this.trainer;
    }
    this.endRun();
    const split = splitDataset(this.dataset.rows, config.eval_split, config.seed);
    const train = preparePrompts(split.train, this.loaded, config);
    const evalSet = preparePrompts(split.eval, this.loaded, config);
    if (train.examples.length === 0) throw new Error(`${this.datasetName}: the training split is empty`);
    this.scorer = createRewardScorer(config.reward_funcs, config.max_completion_length);
    this.trainer = new GrpoTrainer({
      gpu: await this.gpu(),
      model: this.model,
      tokenizer: this.loaded.tokenizer,
      config,
      train: train.examples,
      eval: evalSet.examples,
      scorer: this.scorer,
    });
    this.runConfig = config;
    return this.trainer;
  }

  private endRun(): void {
    this.trainer?.release();
    this.trainer = null;
    this.scorer?.dispose();
    this.scorer = null;
    this.runConfig = null;
  }
}

function stepEvent(r: StepReport): StepEvent {
  return {
    kind: 'step',
    step: r.step,
    metrics: r.metrics,
    rewardNames: r.rewardNames,
    rewardErrors: r.rewardErrors.slice(0, 20),
    groups: r.groups.map((g) => ({
      prompt: g.prompt.text,
      answer: g.prompt.answer,
      rewardStd: g.rewardStd,
      completions: g.completions.map((c) => ({
        text: c.text,
        tokens: c.trainIds.length,
        truncated: c.truncated,
        rewards: c.rewards,
        reward: c.reward,
        advantage: c.advantage,
      })),
    })),
  };
}

function evalEvent(e: EvalReport): EvalEvent {
  return { kind: 'eval', step: e.step, passAt1: e['pass@1'], rewardMean: e.reward_mean, n: e.n, samples: e.samples.slice(0, 20) };
}
