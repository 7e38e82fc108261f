// The saved run in the browser's storage (IndexedDB), so that a reload, a crash or a lost device resumes
// where the run was. One record, "latest", describes the run (its model and dataset, the metric history
// the page drew, the step) and names the blob that holds its checkpoint (src/grpo/checkpoint.ts's
// safetensors bytes); the dataset's bytes are a second blob, written once per run.
//
// A crash mid-write must leave the previous checkpoint intact, so a save writes the new checkpoint under
// a new key first, then in ONE transaction points "latest" at it and deletes every blob it no longer
// names (the previous checkpoint, and any orphan a crash left between the two steps).

import type { EvalPoint, MetricRow } from '../export/metrics';
import type { GrpoConfig } from '../grpo/config';
import type { SavedDataset, SavedModel, SavedRunSummary } from './protocol';

/** Dataset files up to this size are kept with the run; larger ones are named and must be picked again. */
export const DATASET_BYTES_KEPT = 50 * 1024 * 1024;

export interface SavedRunRecord {
  version: 1;
  /** one id per run, kept when the run is resumed (names its dataset blob) */
  runId: string;
  step: number;
  maxSteps: number;
  savedAt: number;
  finished: boolean;
  config: GrpoConfig;
  model: SavedModel;
  dataset: SavedDataset;
  history: MetricRow[];
  evals: EvalPoint[];
  rewardNames: string[];
  /** the run whose adapter this run's LoRA started from (an SFT run continued with GRPO / DPO) */
  parentRunId?: string | null;
  /** the blobs: the checkpoint's bytes, and the dataset's (null when not kept) */
  checkpointKey: string;
  datasetKey: string | null;
}

/** What a save writes; the store adds the keys. */
export type SaveInput = Omit<SavedRunRecord, 'version' | 'checkpointKey' | 'datasetKey'> & {
  checkpoint: Uint8Array;
  /** the dataset file's bytes, when it is small enough to keep */
  datasetBytes: Uint8Array | null;
};

/** The storage under the store: blobs by key and one record, with an atomic commit. */
export interface RunStoreBackend {
  /** writes one blob (its own transaction) */
  putBlob(key: string, bytes: Uint8Array): Promise<void>;
  getBlob(key: string): Promise<Uint8Array | null>;
  hasBlob(key: string): Promise<boolean>;
  getRecord(): Promise<SavedRunRecord | null>;
  /** in ONE transaction: sets the record (or deletes it, for null) and deletes every blob not in `keep` */
  commit(record: SavedRunRecord | null, keep: readonly string[]): Promise<void>;
}

/** A save that did not reach the storage: why, in words for the run log. */
export class CheckpointStoreError extends Error {
  constructor(
    message: string,
    readonly quota: boolean,
  ) {
    super(message);
  }
}

export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || /quota/i.test(String((e as { message?: unknown } | null)?.message ?? ''));
}

export class CheckpointStore {
  private counter = 0;

  constructor(private readonly backend: RunStoreBackend) {}

  /** Saves a checkpoint and makes it the latest. The previous one stays until the new one is whole.
   * Returns null when everything was kept, or a note (e.g. the dataset did not fit and was left out);
   * throws CheckpointStoreError when the checkpoint itself could not be saved. */
  async save(input: SaveInput): Promise<string | null> {
    const { checkpoint, datasetBytes, ...rest } = input;
    const checkpointKey = `checkpoint-${input.runId}-${input.step}-${Date.now().toString(36)}-${++this.counter}`;
    try {
      await this.backend.putBlob(checkpointKey, checkpoint);
    } catch (e) {
      throw storeError(e, `the checkpoint of step ${input.step}`);
    }
    let note: string | null = null;
    let datasetKey: string | null = null;
    if (datasetBytes) {
      datasetKey = `dataset-${input.runId}`;
      try {
        if (!(await this.backend.hasBlob(datasetKey))) await this.backend.putBlob(datasetKey, datasetBytes);
      } catch (e) {
        datasetKey = null;
        note = `${storeError(e, `the dataset ${input.dataset.name}`).message}; resuming will ask for the file again`;
      }
    }
    const record: SavedRunRecord = {
      version: 1,
      ...rest,
      dataset: { ...rest.dataset, stored: datasetKey !== null },
      checkpointKey,
      datasetKey,
    };
    try {
      await this.backend.commit(record, datasetKey ? [checkpointKey, datasetKey] : [checkpointKey]);
    } catch (e) {
      throw storeError(e, `the checkpoint of step ${input.step}`);
    }
    return note;
  }

  /** The latest saved run, or null (a record of another version counts as none). */
  async latest(): Promise<SavedRunRecord | null> {
    const r = await this.backend.getRecord();
    return r && r.version === 1 ? r : null;
  }

  async checkpoint(record: SavedRunRecord): Promise<Uint8Array> {
    const bytes = await this.backend.getBlob(record.checkpointKey);
    if (!bytes) throw new Error(`the saved checkpoint of step ${record.step} is missing from this browser's storage; discard the saved run`);
    return bytes;
  }

  async datasetBytes(record: SavedRunRecord): Promise<Uint8Array | null> {
    return record.datasetKey ? this.backend.getBlob(record.datasetKey) : null;
  }

  /** Deletes the saved run and all its blobs. */
  async discard(): Promise<void> {
    await this.backend.commit(null, []);
  }
}

/** The part of a record the page shows before resuming. */
export function summarizeRecord(r: SavedRunRecord): SavedRunSummary {
  return { step: r.step, maxSteps: r.maxSteps, savedAt: r.savedAt, finished: r.finished, algorithm: r.config.algorithm, model: r.model, dataset: r.dataset };
}

/** What differs between the saved run's model files and the loaded ones, or null when they match. */
export function modelFilesMismatch(saved: readonly { name: string; size: number }[], loaded: readonly { name: string; size: number }[]): string | null {
  const base = (n: string) => n.slice(n.lastIndexOf('/') + 1);
  const now = new Map(loaded.map((f) => [base(f.name), f.size]));
  const problems: string[] = [];
  for (const f of saved) {
    const size = now.get(base(f.name));
    if (size === undefined) problems.push(`${base(f.name)} is missing`);
    else if (size !== f.size) problems.push(`${base(f.name)} has ${size.toLocaleString('en-US')} bytes, the saved run's had ${f.size.toLocaleString('en-US')}`);
  }
  const names = new Set(saved.map((f) => base(f.name)));
  for (const f of loaded) if (!names.has(base(f.name))) problems.push(`${base(f.name)} was not part of it`);
  return problems.length ? problems.join('; ') : null;
}

function storeError(e: unknown, what: string): CheckpointStoreError {
  if (isQuotaError(e)) {
    return new CheckpointStoreError(`the browser's storage is full, so ${what} was not saved; training goes on (free space, e.g. other sites' data, to save again)`, true);
  }
  const detail = e instanceof Error ? e.message : String(e);
  return new CheckpointStoreError(`${what} could not be saved in this browser's storage (${detail}); training goes on`, false);
}

// ---- backends ----

const DB_NAME = 'grpo-playground-runs';
const DB_VERSION = 1;
const BLOBS = 'blobs';
const RECORDS = 'records';
const LATEST = 'latest';

function requestDone<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Settles when the transaction commits; rejects with its error (e.g. QuotaExceededError) when it aborts. */
function transactionDone(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction was aborted'));
  });
}

/** IndexedDB: a "blobs" store of Uint8Arrays by key and a "records" store holding "latest". */
export function indexedDbBackend(factory: IDBFactory = indexedDB, name = DB_NAME): RunStoreBackend {
  let opened: Promise<IDBDatabase> | null = null;
  const db = (): Promise<IDBDatabase> => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(name, DB_VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains(BLOBS)) d.createObjectStore(BLOBS);
        if (!d.objectStoreNames.contains(RECORDS)) d.createObjectStore(RECORDS);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
      req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this site holding an older version open'));
    }).catch((e: unknown) => {
      opened = null;
      throw e;
    });
    return opened;
  };
  return {
    async putBlob(key, bytes) {
      const tx = (await db()).transaction(BLOBS, 'readwrite');
      tx.objectStore(BLOBS).put(bytes, key);
      await transactionDone(tx);
    },
    async getBlob(key) {
      const tx = (await db()).transaction(BLOBS, 'readonly');
      const v = await requestDone(tx.objectStore(BLOBS).get(key));
      return v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : null;
    },
    async hasBlob(key) {
      const tx = (await db()).transaction(BLOBS, 'readonly');
      return (await requestDone(tx.objectStore(BLOBS).count(key))) > 0;
    },
    async getRecord() {
      const tx = (await db()).transaction(RECORDS, 'readonly');
      return ((await requestDone(tx.objectStore(RECORDS).get(LATEST))) as SavedRunRecord | undefined) ?? null;
    },
    async commit(record, keep) {
      const tx = (await db()).transaction([BLOBS, RECORDS], 'readwrite');
      const done = transactionDone(tx);
      const records = tx.objectStore(RECORDS);
      if (record) records.put(record, LATEST);
      else records.delete(LATEST);
      const blobs = tx.objectStore(BLOBS);
      const keys = blobs.getAllKeys();
      keys.onsuccess = () => {
        for (const k of keys.result) if (!keep.includes(String(k))) blobs.delete(k);
      };
      await done;
    },
  };
}

/** In memory (tests, and where IndexedDB is missing): the same contract, gone with the worker. */
export function memoryBackend(): RunStoreBackend & { blobs: Map<string, Uint8Array>; record: SavedRunRecord | null } {
  const state = {
    blobs: new Map<string, Uint8Array>(),
    record: null as SavedRunRecord | null,
    async putBlob(key: string, bytes: Uint8Array) {
      state.blobs.set(key, bytes.slice());
    },
    async getBlob(key: string) {
      return state.blobs.get(key)?.slice() ?? null;
    },
    async hasBlob(key: string) {
      return state.blobs.has(key);
    },
    async getRecord() {
      return state.record ? structuredClone(state.record) : null;
    },
    async commit(record: SavedRunRecord | null, keep: readonly string[]) {
      state.record = record ? structuredClone(record) : null;
      for (const k of [...state.blobs.keys()]) if (!keep.includes(k)) state.blobs.delete(k);
    },
  };
  return state;
}
