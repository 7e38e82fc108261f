// The messages between the page and the engine worker (web-llm style). The page sends a request with an
// id; the worker answers with any number of `progress` replies, then exactly one `return` or `throw`.
//
// One table, EngineApi, says for every request type what the request carries, what it returns and what
// its progress replies hold. The client and the worker's handler table are both typed from it, so adding
// a request here makes the compiler ask for its handler.

import type { PoolStats } from '../gpu/buffer_pool';
import type { AdapterSummary } from '../gpu/runtime';
import type { CaseResult } from '../selftest/check';

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

/** For every request type: its extra fields, its return value, its progress value. */
export interface EngineApi {
  /** Acquires the GPU (once) and describes the adapter, device limits and buffer pool. */
  adapterInfo: { request: NoFields; value: AdapterInfo; progress: never };
  /** Runs every kernel check against its CPU reference; one progress reply per check. */
  selfTest: { request: NoFields; value: SelfTestSummary; progress: KernelCheckResult };
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
