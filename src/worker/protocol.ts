// The messages between the page and the engine worker (web-llm style). The page sends a request with an
// id; the worker answers with any number of `progress` replies, then exactly one `return` or `throw`.
//
// One table, EngineApi, says for every request type what the request carries, what it returns and what
// its progress replies hold. The client and the worker's handler table are both typed from it, so adding
// a request here makes the compiler ask for its handler.

import type { PoolStats } from '../gpu/buffer_pool';
import type { AdapterSummary } from '../gpu/runtime';
import type { VariantReportRow } from '../gpu/autotune';
import type { VariantAvailabilityRow } from '../gpu/kernels/matmul_availability';
import type { CaseResult } from '../selftest/check';
import type { ColumnMapping, DatasetCounts, DatasetFormat, DatasetIssue, DatasetKind } from '../data';
import type { GrpoConfig } from '../grpo/config';
import type { Algorithm } from '../grpo/config/enums';
import type { MemoryPlan } from '../grpo/memory_plan';
import type { WeightGroupRow } from '../model/weight_groups';
import type { TokenTraceView } from '../grpo/trainer';
import type { PromptSettings } from '../data';
import type { EvalPoint, MetricRow } from '../export/metrics';

/** The one message outside the request union: the page hands the worker its sandbox broker port (sent
 * once, at start, with the port transferred; see src/grpo/rewards/sandbox_browser.ts). */
export const SANDBOX_BROKER_MESSAGE = 'sandboxBroker';

/** Device limits the engine depends on, as granted to the device (after raising them to the adapter's). */
export const REPORTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export type ReportedLimit = (typeof REPORTED_LIMITS)[number];

/** The answer to `adapterInfo`: the adapter and device, or why there is none. */
export type AdapterInfo =
  | {
      available: true;
      adapter: AdapterSummary;
      limits: Record<ReportedLimit, number>;
      pool: PoolStats;
      /** gpuvar: the kernel variant each op shape class runs, and autotuning's state */
      variants?: VariantReportRow[];
      autotune?: string;
      /** matvar: every matmul variant, and why it cannot run on this device (null: it can) */
      variantAvailability?: VariantAvailabilityRow[];
    }
  | {
      available: false;
      /** what went wrong, e.g. "No WebGPU adapter was found." */
      problem: string;
      /** how to enable WebGPU */
      help: string;
    };

/** One kernel check's outcome, streamed as the `selfTest` request's progress. */
export interface KernelCheckResult {
  kernel: string;
  /** 0-based position of this check and the number of checks */
  index: number;
  total: number;
  /** false when a case failed; true for a check that passed or was skipped (see skipped) */
  ok: boolean;
  /** set when the check cannot run on this device (why): untested here, neither passed nor failed */
  skipped?: string;
  cases: CaseResult[];
  ms: number;
  /** the check that runs next, or null after the last */
  next: string | null;
}

export interface SelfTestSummary {
  /** kernel checks run and passed (a check passes when all its cases pass); skipped checks are in neither */
  checks: number;
  passed: number;
  /** kernels of the failed checks */
  failed: string[];
  /** kernels of the checks that cannot run on this device (e.g. a variant needing shader-f16), untested here */
  skipped?: string[];
  cases: number;
  casesPassed: number;
  ms: number;
  pool: PoolStats;
}

type NoFields = Record<never, never>;

/** A file sent to the worker: a browser File (structured-cloned), bytes with a name, or a Blob (e.g. a
 * dropped folder's File) under another name ("my-model/config.json"); Blobs are cloned without copying. */
export type FilePayload = File | { name: string; bytes: Uint8Array } | { name: string; blob: Blob };

export interface ModelSummary {
  name: string;
  architecture: string;
  params: number;
  layers: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  /** storage type of the checkpoint (computed in f32) */
  dtype: string;
  /** bytes of weights on the GPU */
  weightBytes: number;
  hasChatTemplate: boolean;
  /** the LoRA target modules the model has, each with Σ over its layers of (OUT + IN) (src/model/lora.ts loraModuleSizes) */
  loraModules?: { name: string; layers: number; outPlusIn: number }[];
  /** the base on the GPU as loaded (base_precision "auto"), by tensor group (src/model/weight_groups.ts) */
  weightGroups?: WeightGroupRow[];
}

/** The page's memory plan: the plan, and the base weights by tensor group as the run's base_precision stores them. */
export type PagePlan = MemoryPlan & { weightGroups: WeightGroupRow[] };

export interface DatasetSummary {
  name: string;
  format: DatasetFormat;
  columns: string[];
  mapping: ColumnMapping;
  counts: DatasetCounts;
  issues: DatasetIssue[];
  issuesOmitted: number;
  /** the first rows, with every column of the record (raw); a preference dataset's answer is the chosen
   * completion, with the rejected one beside it (KTO: the completion and its label) */
  preview: { line: number; prompt: string; answer: string; raw: Record<string, unknown>; rejected?: string; label?: boolean }[];
  /** what the rows are (absent: prompt/answer) */
  kind?: DatasetKind;
}

/** How far the worker has read and parsed a dataset file. */
export interface DatasetLoadProgress {
  bytes: number;
  total: number;
}

/** A difficulty scan in use (src/worker/scan.ts), as the data panel draws it. */
export interface ScanSummary {
  /** where it came from: "scan of reverse.jsonl (k = 8, temperature 1)" or the uploaded file's name */
  source: string;
  /** records in the scan, and the most completions any of them sampled */
  records: number;
  k: number;
  /** every dataset row's pass rate, in the dataset's order; NaN for a row the scan has no record of */
  rates: Float64Array;
  /** kept in this browser's storage for this dataset and model (not scanned again after a reload) */
  stored: boolean;
}

/** How far a scan is: completions sampled of all, and milliseconds since it began. */
export interface ScanProgress {
  done: number;
  total: number;
  ms: number;
}

/** Token lengths of every kept row: the prompt as the model sees it (template applied, BOS counted,
 * before truncation) and the answer on its own. */
export interface TokenLengths {
  prompt: Uint32Array;
  /** the answer; of preference pairs the chosen completion, of KTO's rows the completion */
  answer: Uint32Array;
  /** preference pairs only: the rejected completion */
  rejected?: Uint32Array;
}

/** The `generate` request: one prompt, completed by the base model and by the tuned one with one seed. */
export interface GenerateRequest {
  prompt: string;
  /** when given, its log-probability as the completion of the prompt is measured under each model */
  answer?: string;
  settings: PromptSettings;
  maxNewTokens: number;
  /** 0 = greedy */
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

export interface GenerationView {
  text: string;
  tokens: number;
  finish: 'stop' | 'length';
  /** sum of the answer tokens' log-probabilities (natural log), when an answer was given */
  answerLogprob: number | null;
}

export interface GenerateResult {
  /** the prompt as the model saw it (template applied) */
  promptText: string;
  promptTokens: number;
  answerTokens: number;
  base: GenerationView;
  /** null when there is no adapter yet (no run started or imported) */
  tuned: GenerationView | null;
  /** the tuned model's training step */
  step: number;
}

/** The GPU's state now: the buffer pool and whether the device was lost. */
export interface GpuStatus {
  /** null until the GPU has been acquired */
  pool: PoolStats | null;
  /** the reason, once the device is lost; every later GPU request fails */
  lost: string | null;
  /** gpuvar: the kernel variant each op shape class runs so far (absent before the GPU is acquired) */
  variants?: VariantReportRow[];
}

export interface CompletionView {
  text: string;
  tokens: number;
  truncated: boolean;
  /** per reward function, null = not applicable */
  rewards: (number | null)[];
  reward: number;
  advantage: number;
  /** with tools or an environment: the episode's turns (model text, tool call, result or error, observation) */
  turns?: TurnView[];
  /** recipes: the completion's per-token values from the step that trained on it (first groups of a step only) */
  trace?: TokenTraceView;
}

/** One turn of a multi-turn completion, as the rollouts panel shows it. */
export type TurnView = import('../grpo/tools/episodes').TurnRecord;

export interface StepEvent {
  kind: 'step';
  step: number;
  /** TRL's metric names (see src/grpo/trainer.ts) */
  metrics: Record<string, number>;
  rewardNames: string[];
  rewardErrors: string[];
  groups: { prompt: string; answer: string; rewardStd: number; completions: CompletionView[] }[];
}

export interface EvalEvent {
  kind: 'eval';
  step: number;
  passAt1: number;
  rewardMean: number;
  n: number;
  samples: { prompt: string; completion: string; answer: string; reward: number; pass: boolean }[];
  /** with num_generations_eval: pass@k, mean@k and maj@k for k = 1..n ("pass@2", "mean@2", "maj@2", ...) */
  atK?: Record<string, number>;
}

/** A checkpoint taken (every checkpoint_interval steps, and when the run pauses, stops or finishes). */
export interface CheckpointEvent {
  kind: 'checkpoint';
  step: number;
  /** Date.now() when it was taken */
  savedAt: number;
  /** null when it is in the browser's storage; else why it is not (e.g. storage full): the run goes on,
   * with the checkpoint kept in the worker's memory for recovery from a lost device */
  problem: string | null;
}

/** The GPU device was lost during the run; the worker is acquiring a new one. */
export interface DeviceLostEvent {
  kind: 'deviceLost';
  /** the browser's reason */
  message: string;
  /** the last step completed before the loss */
  step: number;
}

/** The run continues on a new device from its last checkpoint: metrics after `step` are redone. */
export interface RecoveredEvent {
  kind: 'recovered';
  step: number;
  message: string;
}

/** What a new run trains on, when a difficulty scan chose it: "N of M training prompts kept" (difficulty.ts joinScan). */
export interface DataEvent {
  kind: 'data';
  message: string;
}

export type TrainEvent = StepEvent | EvalEvent | CheckpointEvent | DeviceLostEvent | RecoveredEvent | DataEvent;

/** Where the run's model came from, as the page describes it. */
export type ModelOrigin =
  | { kind: 'builtin'; name: string }
  | { kind: 'files'; label: string }
  | { kind: 'url'; input: string; repo: string | null };

/** Where the run's dataset came from, as the page describes it. */
export type DatasetOrigin = { kind: 'demo'; id: string; name: string } | { kind: 'file'; name: string };

export interface RunOrigins {
  model: ModelOrigin;
  dataset: DatasetOrigin;
}

/** The model of a saved run: its origin, the name it loaded as, and the files it was read from. */
export type SavedModel = ModelOrigin & { modelName: string; files: { name: string; size: number }[] };

/** The dataset of a saved run: its origin, column mapping, the fingerprint of its training prompts, and
 * whether its bytes were kept (files up to DATASET_BYTES_KEPT; larger ones must be picked again). */
export type SavedDataset = DatasetOrigin & { mapping: ColumnMapping; fingerprint: string; stored: boolean; size: number };

/** The run saved in this browser, as the page offers to resume it. */
export interface SavedRunSummary {
  step: number;
  maxSteps: number;
  /** Date.now() when its checkpoint was taken */
  savedAt: number;
  finished: boolean;
  /** the run's algorithm: its dataset is read as that algorithm needs (preference pairs, KTO's labelled
   * completions, prompt/answer rows) before the checkpoint is restored */
  algorithm?: Algorithm;
  model: SavedModel;
  dataset: SavedDataset;
}

/** A saved run restored into the worker: paused at `step` (finished when step = max_steps). */
export interface RestoredRun {
  step: number;
  config: GrpoConfig;
  history: MetricRow[];
  evals: EvalPoint[];
  rewardNames: string[];
  finished: boolean;
}

export interface RunEnd {
  state: 'finished' | 'paused' | 'stopped';
  step: number;
  /** why the run paused by itself (e.g. max_consecutive_skips non-finite steps in a row) */
  reason?: string;
  /** the worker's id of the run whose adapter this run's LoRA started from (absent: a fresh LoRA) */
  parentRunId?: string;
}

/** For every request type: its extra fields, its return value, its progress value. */
export interface EngineApi {
  /** Acquires the GPU (once) and describes the adapter, device limits and buffer pool. */
  adapterInfo: { request: NoFields; value: AdapterInfo; progress: never };
  /** Runs every kernel check against its CPU reference; one progress reply per check. */
  selfTest: { request: NoFields; value: SelfTestSummary; progress: KernelCheckResult };
  /** Loads a Hugging Face folder's files or a llama2.c checkpoint + tokenizer.bin, and uploads it to the GPU. */
  loadModel: { request: { files: FilePayload[] }; value: ModelSummary; progress: never };
  /** Parses a JSONL / JSON / CSV dataset, streamed, with progress; every bad row is reported with its line. */
  loadDataset: { request: { file: FilePayload; mapping?: Partial<ColumnMapping>; kind?: DatasetKind }; value: DatasetSummary; progress: DatasetLoadProgress };
  /** A separate test file held out for evaluation (the whole dataset then trains); null drops it. */
  loadEvalDataset: { request: { file: FilePayload | null; mapping?: Partial<ColumnMapping>; kind?: DatasetKind }; value: DatasetSummary | null; progress: never };
  /** Difficulty scan of the loaded dataset with the loaded model (base, no adapter): k completions per prompt at
   * the config's temperature; the scan is kept with the dataset and in this browser's storage. */
  scan: { request: { config: GrpoConfig; k: number }; value: ScanSummary; progress: ScanProgress };
  /** A scan JSONL the person gave (checked record by record), or null to forget the scan in use and the stored one. */
  setScan: { request: { name: string | null; text: string | null }; value: ScanSummary | null; progress: never };
  /** The stored scan of the loaded dataset by the loaded model, put in use (null: none, and none in use). */
  storedScan: { request: NoFields; value: ScanSummary | null; progress: never };
  /** The scan in use as JSONL, to download. */
  scanJsonl: { request: NoFields; value: string; progress: never };
  /** Trains until max_steps, pause or stop, streaming each step and eval. fresh: start a new run (else resume). */
  /** fromParent (with fresh): the new run's LoRA starts from the current run's adapter ("Continue with GRPO" after
   * SFT); its r, alpha, target modules and rsLoRA are the parent's, and RunEnd.parentRunId names the parent. */
  train: { request: { config: GrpoConfig; fresh: boolean; maxSteps?: number; origins?: RunOrigins; fromParent?: boolean }; value: RunEnd; progress: TrainEvent };
  /** Asks the running train request to stop after its current step (pause: resumable; stop: ends the run). */
  interrupt: { request: { kind: 'pause' | 'stop' }; value: boolean; progress: never };
  evaluate: { request: NoFields; value: EvalEvent; progress: never };
  /** The current LoRA adapter in PEFT's format. */
  exportAdapter: { request: NoFields; value: { weights: Uint8Array; config: string }; progress: never };
  /** The reward adapters (saved runs' kept SEQ_CLS adapters, by name) that reward_model entries of the next new run name. */
  rewardAdapters: { request: { adapters: { name: string; weights: Uint8Array; config: string }[] }; value: number; progress: never };
  /** Loads a PEFT adapter into a new run (its r, alpha and target modules override the config's). */
  importAdapter: { request: { weights: Uint8Array; config: string; runConfig: GrpoConfig }; value: { r: number; targetModules: string[] }; progress: never };
  /** Completes a prompt with the base model and with the current adapter (same seed), for side-by-side comparison. */
  generate: { request: GenerateRequest; value: GenerateResult; progress: never };
  /** Token lengths of the loaded dataset's prompts and answers under the loaded model's tokenizer. */
  tokenLengths: { request: { settings: PromptSettings }; value: TokenLengths; progress: never };
  /** The exact GPU memory plan of one training step for these shapes and config (a dry run: no GPU work). */
  memoryPlan: { request: { model: ModelSummary; config: GrpoConfig }; value: PagePlan; progress: never };
  /** Buffer pool counters and device loss; answered at once, even during a run. */
  gpuStatus: { request: NoFields; value: GpuStatus; progress: never };
  /** The run saved in this browser's storage (IndexedDB), or null. */
  savedRun: { request: NoFields; value: SavedRunSummary | null; progress: never };
  /** The saved run's dataset bytes (when they were kept), to load it again. */
  savedRunDataset: { request: NoFields; value: { name: string; bytes: Uint8Array; mapping: ColumnMapping }; progress: never };
  /** Restores the saved run into the loaded model and dataset (checking both match it); train with fresh: false continues it. */
  restoreSavedRun: { request: NoFields; value: RestoredRun; progress: never };
  /** Deletes the saved run. */
  discardSavedRun: { request: NoFields; value: boolean; progress: never };
  /** For tests: destroys the GPU device now, as a driver reset would; a run in progress recovers. */
  debugLoseDevice: { request: NoFields; value: boolean; progress: never };
}

export type RequestType = keyof EngineApi;
export type RequestOf<K extends RequestType> = { type: K } & EngineApi[K]['request'];
export type ValueOf<K extends RequestType> = EngineApi[K]['value'];
export type ProgressOf<K extends RequestType> = EngineApi[K]['progress'];

/** Every request, as a discriminated union on `type`. */
export type EngineRequest = { [K in RequestType]: RequestOf<K> }[RequestType];

/** A request on the wire: the request and the id its replies carry. */
export type RequestMessage = EngineRequest & { id: number };

export interface ReturnReply<K extends RequestType = RequestType> {
  type: 'return';
  id: number;
  value: ValueOf<K>;
}

export interface ThrowReply {
  type: 'throw';
  id: number;
  message: string;
}

export interface ProgressReply<K extends RequestType = RequestType> {
  type: 'progress';
  id: number;
  value: ProgressOf<K>;
}

export type ReplyMessage<K extends RequestType = RequestType> = ReturnReply<K> | ThrowReply | ProgressReply<K>;
