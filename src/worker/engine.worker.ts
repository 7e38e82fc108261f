// The engine worker: owns the GPU (acquired on first use, and again after a lost device) and routes the
// page's requests (protocol.ts) to the model slot (model_slot.ts: the loaded model on its device), the
// dataset slot (dataset_slot.ts), the run controller (run_controller.ts: the GRPO run, its checkpoints in
// IndexedDB and its recovery from a lost device) and the try-it functions (try_model.ts). GPU work runs
// one request at a time, so that one request's buffers and errors are not mixed up with another's.

import { formatBytes } from '../gpu/buffer_pool';
import { acquireGpu, WEBGPU_HELP } from '../gpu/device';
import type { GpuRuntime } from '../gpu/runtime';
import type { CaseResult, KernelCheck } from '../selftest/check';
import { kernelChecks } from '../selftest/registry';
import { autotunerOf, variantReport } from '../gpu/autotune';
import { variantAvailability } from '../gpu/kernels/matmul_availability';
import { skippedCase } from '../selftest/check';
import { attentionVariantRows } from '../gpu/kernels/attention_tiled';
import { pageAutotuner } from '../gpu/autotune_page';
import type { FileSource } from '../model/load';
import { ModelSlot } from './model_slot';
import { DatasetSlot } from './dataset_slot';
import { RunController } from './run_controller';
import { generateSideBySide, tokenLengths } from './try_model';
import { CheckpointStore, indexedDbBackend, memoryBackend } from './checkpoint_store';
import { memoryPlanFor } from './plan_request';
import { ScanRequests } from './scan';
import { indexedDbScanBackend, memoryScanBackend } from './scan_store';
import { useSandboxBroker } from '../grpo/rewards/sandbox_browser';
import { quantTypesOf } from '../model/quant_storage';
import {
  REPORTED_LIMITS,
  SANDBOX_BROKER_MESSAGE,
  type AdapterInfo,
  type KernelCheckResult,
  type ProgressOf,
  type ReplyMessage,
  type RequestMessage,
  type RequestOf,
  type RequestType,
  type SelfTestSummary,
  type ValueOf,
  type FilePayload,
} from './protocol';

type Handler<K extends RequestType> = (request: RequestOf<K>, progress: (value: ProgressOf<K>) => void) => Promise<ValueOf<K>>;

const scope = self as unknown as DedicatedWorkerGlobalScope;

// ---- the GPU ----

let runtime: Promise<GpuRuntime> | null = null;
/** the runtime once acquired, for answers that must not wait (gpuStatus) */
let acquired: GpuRuntime | null = null;

/** The worker's runtime; a failed acquisition is not cached, so a later request tries again. */
function gpu(): Promise<GpuRuntime> {
  runtime ??= acquireGpu(scope.navigator.gpu).then(
    async (g) => {
      await pageAutotuner(g); // gpuvar: kernel-variant autotuning (setting and cache in IndexedDB)
      return (acquired = g);
    },
    (e: unknown) => {
      runtime = null;
      throw e;
    },
  );
  return runtime;
}

/** A new device after the old one was lost (the lost one is dropped). */
function renewGpu(): Promise<GpuRuntime> {
  runtime = null;
  acquired = null;
  return gpu();
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `task` after every earlier GPU task has finished. */
function exclusive<T>(task: () => Promise<T>): Promise<T> {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

// ---- handlers ----

/** The GPU panel's kernel variants: the matmul shape classes (autotune.ts) and, on hardware adapters, the
 * attention choices (attention_tiled.ts; software adapters always run the direct kernels). */
function kernelVariants(g: GpuRuntime) {
  return [...variantReport(g), ...(g.adapter.isSoftware ? [] : attentionVariantRows(g))];
}

async function adapterInfo(): Promise<AdapterInfo> {
  if (!scope.navigator.gpu) {
    return { available: false, problem: 'This browser does not offer WebGPU to Web Workers (navigator.gpu is missing).', help: WEBGPU_HELP };
  }
  let g: GpuRuntime;
  try {
    g = await gpu();
  } catch (e) {
    const problem = errorMessage(e).replace(WEBGPU_HELP, '').trim() || 'WebGPU could not be started.';
    return { available: false, problem, help: WEBGPU_HELP };
  }
  const limits = {} as Record<(typeof REPORTED_LIMITS)[number], number>;
  for (const name of REPORTED_LIMITS) limits[name] = g.device.limits[name];
  return { available: true, adapter: g.adapter, limits, pool: { ...g.stats }, variants: kernelVariants(g), autotune: autotunerOf(g)?.summary, variantAvailability: variantAvailability(g) };
}

async function selfTest(_request: RequestOf<'selfTest'>, progress: (value: KernelCheckResult) => void): Promise<SelfTestSummary> {
  const g = await gpu();
  const t0 = performance.now();
  const failed: string[] = [];
  const skipped: string[] = [];
  let cases = 0;
  let casesPassed = 0;
  for (let index = 0; index < kernelChecks.length; index++) {
    const check = kernelChecks[index];
    const started = performance.now();
    // a check this device cannot run is untested here: reported as skipped, never counted as passed
    const why = check.unavailable?.(g) ?? null;
    if (why) {
      skipped.push(check.kernel);
      progress({ kernel: check.kernel, index, total: kernelChecks.length, ok: true, skipped: why, cases: [skippedCase(check.kernel, why)], ms: 0, next: kernelChecks[index + 1]?.kernel ?? null });
      continue;
    }
    const results = await runCheck(g, check);
    const ok = results.length > 0 && results.every((r) => r.ok);
    // a check whose every case says it did not run (skipped) is untested here too
    const allSkipped = ok && results.every((r) => r.skipped);
    if (!ok) failed.push(check.kernel);
    if (allSkipped) skipped.push(check.kernel);
    cases += results.filter((r) => !r.skipped).length;
    casesPassed += results.filter((r) => r.ok && !r.skipped).length;
    progress({
      kernel: check.kernel,
      index,
      total: kernelChecks.length,
      ok,
      ...(allSkipped ? { skipped: results[0].skipped } : {}),
      cases: results,
      ms: performance.now() - started,
      next: kernelChecks[index + 1]?.kernel ?? null,
    });
  }
  const checks = kernelChecks.length - skipped.length;
  return { checks, passed: checks - failed.length, failed, skipped, cases, casesPassed, ms: performance.now() - t0, pool: { ...g.stats } };
}

/** One check's cases; an exception, a device error or a leaked tensor becomes a failed case. */
async function runCheck(g: GpuRuntime, check: KernelCheck): Promise<CaseResult[]> {
  const inUse = g.stats.bytesInUse;
  const fail = (caseName: string, message: string): CaseResult => ({
    kernel: check.kernel,
    case: caseName,
    ok: false,
    maxAbsErr: NaN,
    mismatches: [message],
  });
  let results: CaseResult[];
  try {
    results = await check.run(g);
    await g.sync(); // surfaces validation errors from work the check did not read back
  } catch (e) {
    g.errors.splice(0);
    return [fail('error', errorMessage(e))];
  }
  if (results.length === 0) results = [fail('no cases', 'the check returned no cases')];
  const leaked = g.stats.bytesInUse - inUse;
  if (leaked > 0) results.push(fail('buffer pool', `leaked ${formatBytes(leaked)}: the check must release every tensor it creates`));
  return results;
}

// ---- training ----

// without IndexedDB (e.g. storage disabled) checkpoints live as long as the worker
const store = new CheckpointStore(typeof indexedDB !== 'undefined' ? indexedDbBackend(indexedDB) : memoryBackend());
const models = new ModelSlot(gpu, renewGpu);
const datasets = new DatasetSlot();
const runs = new RunController(models, datasets, { store });
const scans = new ScanRequests(models, datasets, typeof indexedDB !== 'undefined' ? indexedDbScanBackend(indexedDB) : memoryScanBackend());
const SCAN_RUN_GOING = 'a training run is going: pause it to scan the dataset';

const RUN_GOING = 'a training run is going: pause it to try the model';

function fileSource(f: FilePayload): FileSource {
  if (f instanceof File) return { name: f.webkitRelativePath || f.name, size: f.size, arrayBuffer: () => f.arrayBuffer(), text: () => f.text() };
  if ('blob' in f) {
    const blob = f.blob;
    return { name: f.name, size: blob.size, arrayBuffer: () => blob.arrayBuffer(), text: () => blob.text() };
  }
  const bytes = f.bytes;
  return {
    name: f.name,
    size: bytes.byteLength,
    arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer,
    text: async () => new TextDecoder().decode(bytes),
  };
}

/** A file as a Blob, read in chunks here (off the page's thread) rather than copied in one piece. */
function fileBlob(f: FilePayload): Blob {
  if (f instanceof Blob) return f;
  return 'blob' in f ? f.blob : new Blob([f.bytes as Uint8Array<ArrayBuffer>]);
}

const handlers: { [K in RequestType]: Handler<K> } = {
  adapterInfo: () => exclusive(adapterInfo),
  selfTest: (request, progress) => exclusive(() => selfTest(request, progress)),
  // a new model ends the run that lives on the old one
  loadModel: (r) => exclusive(() => models.load(r.files.map(fileSource), () => runs.end())),
  loadDataset: (r, progress) => exclusive(() => datasets.loadStreamed(r.file.name, fileBlob(r.file), r.mapping, progress, r.kind)),
  // GPU work: refused at once during a run, rather than waiting in the queue until the run pauses
  scan: (r, progress) => (runs.isRunning ? Promise.reject(new Error(SCAN_RUN_GOING)) : exclusive(() => scans.scan(r.config, r.k, progress))),
  setScan: (r) => exclusive(() => scans.setScan(r.name, r.text)),
  storedScan: () => exclusive(() => scans.stored()),
  scanJsonl: async () => scans.jsonl(),
  train: (r, progress) => exclusive(() => runs.train(r.config, r.fresh, progress, r.maxSteps, r.origins, r.fromParent ?? false)),
  loadEvalDataset: (r) =>
    exclusive(async () => (r.file ? datasets.setEvalDataset(r.file.name, new Uint8Array(await fileBlob(r.file).arrayBuffer()), r.mapping, r.kind) : datasets.setEvalDataset(null, null))),
  // not exclusive: it must reach a run in progress
  interrupt: async (r) => runs.requestInterrupt(r.kind),
  evaluate: () => exclusive(() => runs.evaluate()),
  exportAdapter: () => exclusive(() => runs.exportAdapter()),
  rewardAdapters: (r) => exclusive(async () => runs.setRewardAdapters(r.adapters)),
  importAdapter: (r) => exclusive(() => runs.importAdapter({ weights: r.weights, config: r.config }, r.runConfig)),
  // refused at once during a run, rather than waiting in the queue until the run pauses
  generate: (r) => (runs.isRunning ? Promise.reject(new Error(RUN_GOING)) : exclusive(async () => {
    if (runs.isRunning) throw new Error(RUN_GOING);
    return generateSideBySide(models.require(), runs.adapter, r);
  })),
  // CPU only (the tokenizer), so it need not wait for a run to pause
  tokenLengths: async (r) => tokenLengths(models.require('load a model first: token lengths depend on its tokenizer').loaded, datasets.require(), r.settings),
  // host code only (a dry run), so it need not wait for a run to pause
  memoryPlan: async (r) => {
    const same = models.model?.loaded.name === r.model.name ? models.model.loaded : undefined;
    return memoryPlanFor(await gpu(), r.model, r.config, same?.config, same ? quantTypesOf(same.weights) : undefined);
  },
  gpuStatus: async () => ({ pool: acquired ? { ...acquired.stats } : null, lost: acquired?.lost ?? null, variants: acquired ? kernelVariants(acquired) : undefined }),
  // storage only: answered at once
  savedRun: () => runs.savedRun(),
  savedRunDataset: () => runs.savedRunDataset(),
  restoreSavedRun: () => exclusive(() => runs.restoreSavedRun()),
  discardSavedRun: () => exclusive(() => runs.discardSavedRun()),
  // not exclusive: it must reach a run in progress
  debugLoseDevice: async () => {
    if (!acquired) return false;
    acquired.device.destroy();
    return true;
  },
};

// ---- messages ----

function post(reply: ReplyMessage): void {
  scope.postMessage(reply);
}

async function handle(message: RequestMessage): Promise<void> {
  const { id } = message;
  try {
    const handler = handlers[message.type] as Handler<RequestType> | undefined;
    if (!handler) throw new Error(`unknown request type "${message.type}"`);
    const value = await handler(message, (p) => post({ type: 'progress', id, value: p }));
    post({ type: 'return', id, value });
  } catch (e) {
    post({ type: 'throw', id, message: errorMessage(e) });
  }
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

scope.addEventListener('message', (ev: MessageEvent<RequestMessage>) => {
  // the page's sandbox broker (sandbox_browser.ts): how this worker gets sandboxed frames for user code
  if ((ev.data as { type?: unknown } | null)?.type === SANDBOX_BROKER_MESSAGE && ev.ports[0]) {
    useSandboxBroker(ev.ports[0]);
    return;
  }
  void handle(ev.data);
});
