// The messages between the page and the engine worker (web-llm style). The page sends a request with an
// id; the worker answers with any number of `progress` replies, then exactly one `return` or `throw`.
//
// One table, EngineApi, says for every request type what the request carries, what it returns and what
// its progress replies hold. The client and the worker's handler table are both typed from it, so adding
// a request here makes the compiler ask for its handler.

import type { PoolStats } from '../gpu/buffer_pool';
import type { AdapterSummary } from '../gpu/runtime';
import type { CaseResult } from '../selftest/check';
import type { ColumnMapping, DatasetCounts, DatasetFormat, DatasetIssue } from '../data';
import type { GrpoConfig } from '../grpo/config';

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
  ok: boolean;
  cases: CaseResult[];
  ms: number;
  /** the check that runs next, or null after the last */
  next: string | null;
}

export interface SelfTestSummary {
  /** kernel checks run and passed (a check passes when all its cases pass) */
  checks: number;
  passed: number;
  /** kernels of the failed checks */
  failed: string[];
  cases: number;
  casesPassed: number;
  ms: number;
  pool: PoolStats;
}

type NoFields = Record<never, never>;

/** A file sent to the worker: a browser File (structured-cloned) or bytes with a name. */
export type FilePayload = File | { name: string; bytes: Uint8Array };

export interface ModelSummary {
  name: string;
  architecture: string;
  params: number;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  maxPositions: number;
  /** storage type of the checkpoint (computed in f32) */
  dtype: string;
  /** bytes of weights on the GPU */
  weightBytes: number;
  hasChatTemplate: boolean;
}

export interface DatasetSummary {
  name: string;
  format: DatasetFormat;
  columns: string[];
  mapping: ColumnMapping;
  counts: DatasetCounts;
  issues: DatasetIssue[];
  issuesOmitted: number;
  preview: { line: number; prompt: string; answer: string }[];
}

export interface CompletionView {
  text: string;
  tokens: number;
  truncated: boolean;
  /** per reward function, null = not applicable */
  rewards: (number | null)[];
  reward: number;
  advantage: number;
}

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
}

export type TrainEvent = StepEvent | EvalEvent;

export interface RunEnd {
  state: 'finished' | 'paused' | 'stopped';
  step: number;
}

/** For every request type: its extra fields, its return value, its progress value. */
export interface EngineApi {
  /** Acquires the GPU (once) and describes the adapter, device limits and buffer pool. */
  adapterInfo: { request: NoFields; value: AdapterInfo; progress: never };
  /** Runs every kernel check against its CPU reference; one progress reply per check. */
  selfTest: { request: NoFields; value: SelfTestSummary; progress: KernelCheckResult };
  /** Loads a Hugging Face folder's files or a llama2.c checkpoint + tokenizer.bin, and uploads it to the GPU. */
  loadModel: { request: { files: FilePayload[] }; value: ModelSummary; progress: never };
  /** Parses a JSONL / JSON / CSV dataset; every bad row is reported with its line. */
  loadDataset: { request: { file: FilePayload; mapping?: Partial<ColumnMapping> }; value: DatasetSummary; progress: never };
  /** Trains until max_steps, pause or stop, streaming each step and eval. fresh: start a new run (else resume). */
  train: { request: { config: GrpoConfig; fresh: boolean; maxSteps?: number }; value: RunEnd; progress: TrainEvent };
  /** Asks the running train request to stop after its current step (pause: resumable; stop: ends the run). */
  interrupt: { request: { kind: 'pause' | 'stop' }; value: boolean; progress: never };
  evaluate: { request: NoFields; value: EvalEvent; progress: never };
  /** The current LoRA adapter in PEFT's format. */
  exportAdapter: { request: NoFields; value: { weights: Uint8Array; config: string }; progress: never };
  /** Loads a PEFT adapter into a new run (its r, alpha and target modules override the config's). */
  importAdapter: { request: { weights: Uint8Array; config: string; runConfig: GrpoConfig }; value: { r: number; targetModules: string[] }; progress: never };
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
