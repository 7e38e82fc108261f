// Difficulty scans kept in the browser's storage (IndexedDB database "grpo-scans"), so that a dataset scanned
// once with a model is not scanned again after a reload: one JSONL text (difficulty.ts scanToJsonl) per key,
// the key naming the model (its name and files) and the dataset (its name, size and a hash of its bytes).
// Read back through parseScanJsonl like any other scan file: storage is not trusted more than an upload.

import { rowKey } from '../grpo/difficulty';

export interface ScanStoreBackend {
  get(key: string): Promise<string | null>;
  put(key: string, text: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The key of a scan of `dataset` by `model`. */
export function scanStoreKey(model: { name: string; files: readonly { name: string; size: number }[] }, dataset: { name: string; bytes: Uint8Array }): string {
  const files = model.files.map((f) => `${f.name}:${f.size}`).join('|');
  return `${model.name}\u0000${rowKey(files, '')}\u0000${dataset.name}\u0000${dataset.bytes.length}\u0000${bytesHash(dataset.bytes)}`;
}

/** FNV-1a (32 bits) of the bytes, as 8 hex digits: tells one dataset file from an edited one. */
export function bytesHash(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

export function memoryScanBackend(): ScanStoreBackend {
  const m = new Map<string, string>();
  return {
    get: async (k) => m.get(k) ?? null,
    put: async (k, t) => void m.set(k, t),
    delete: async (k) => void m.delete(k),
  };
}

const STORE = 'scans';

export function indexedDbScanBackend(factory: IDBFactory, name = 'grpo-scans'): ScanStoreBackend {
  let opened: Promise<IDBDatabase> | null = null;
  const db = () => {
    opened ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(name, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
    }).catch((e: unknown) => {
      opened = null;
      throw e;
    });
    return opened;
  };
  const done = <T>(req: IDBRequest<T>) => new Promise<T>((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
  return {
    async get(key) {
      const v: unknown = await done((await db()).transaction(STORE, 'readonly').objectStore(STORE).get(key));
      return typeof v === 'string' ? v : null;
    },
    async put(key, text) {
      await done((await db()).transaction(STORE, 'readwrite').objectStore(STORE).put(text, key));
    },
    async delete(key) {
      await done((await db()).transaction(STORE, 'readwrite').objectStore(STORE).delete(key));
    },
  };
}
