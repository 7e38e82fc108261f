// The runs library: every run kept in the browser's IndexedDB (through the idb package), apart from the
// worker's checkpoint store. Two object stores: "runs" (RunRecord by id: metrics, evaluations, a sample of
// rollouts, config, identity) and "adapters" (the final adapter's PEFT files by run id, optional). A save
// the browser refuses for lack of space throws LibraryFullError, which says how much was needed and which
// runs are largest; the caller reports it and training goes on.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { parseRunFile, runFileText, type RunRecord } from '../../experiments/run_record';

export const LIBRARY_DB = 'grpo-playground-library';

interface LibrarySchema extends DBSchema {
  runs: { key: string; value: RunRecord };
  adapters: { key: string; value: { id: string; weights: Uint8Array; config: string } };
}

export interface RunListEntry {
  run: RunRecord;
  /** about what the run takes in storage (its JSON, plus its adapter) */
  bytes: number;
}

export class LibraryFullError extends Error {
  constructor(
    readonly neededBytes: number,
    readonly largest: { id: string; name: string; bytes: number }[],
    what: string,
  ) {
    super(
      `The browser's storage is full: ${what} needs about ${formatBytes(neededBytes)} more. ` +
        (largest.length ? `The largest runs are ${largest.map((r) => `${r.name} (${formatBytes(r.bytes)})`).join(', ')}: delete some to keep recording. ` : '') +
        'The current run keeps training.',
    );
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || /quota/i.test(String((e as { message?: unknown } | null)?.message ?? ''));
}

export function recordBytes(r: RunRecord): number {
  return JSON.stringify(r).length;
}

export class RunLibrary {
  private db: Promise<IDBPDatabase<LibrarySchema>> | null = null;
  /** byte sizes of adapters, by run id (read lazily) */
  private adapterBytes = new Map<string, number>();

  /** (idb opens the global indexedDB; tests install fake-indexeddb's as the global) */
  constructor(private readonly name = LIBRARY_DB) {}

  private open(): Promise<IDBPDatabase<LibrarySchema>> {
    this.db ??= openDB<LibrarySchema>(this.name, 1, {
      upgrade(db) {
        if (!db.objectStoreNames.contains('runs')) db.createObjectStore('runs');
        if (!db.objectStoreNames.contains('adapters')) db.createObjectStore('adapters');
      },
    }).catch((e: unknown) => {
      this.db = null;
      throw e;
    });
    return this.db;
  }

  async list(): Promise<RunListEntry[]> {
    const db = await this.open();
    const runs = await db.getAll('runs');
    const out: RunListEntry[] = [];
    for (const run of runs) {
      let a = this.adapterBytes.get(run.id);
      if (a === undefined && run.hasAdapter) {
        const ad = await db.get('adapters', run.id);
        a = ad ? ad.weights.byteLength + ad.config.length : 0;
        this.adapterBytes.set(run.id, a);
      }
      out.push({ run, bytes: recordBytes(run) + (a ?? 0) });
    }
    return out.sort((x, y) => y.run.createdAt - x.run.createdAt);
  }

  async get(id: string): Promise<RunRecord | null> {
    return (await (await this.open()).get('runs', id)) ?? null;
  }

  /** Saves (creates or replaces) a run; LibraryFullError when the storage is full. */
  async put(run: RunRecord): Promise<void> {
    try {
      await (await this.open()).put('runs', run, run.id);
    } catch (e) {
      if (isQuotaError(e)) throw await this.fullError(recordBytes(run), `saving the run ${run.name}`, run.id);
      throw e;
    }
  }

  async putAdapter(id: string, weights: Uint8Array, config: string): Promise<void> {
    const db = await this.open();
    try {
      await db.put('adapters', { id, weights, config }, id);
    } catch (e) {
      if (isQuotaError(e)) throw await this.fullError(weights.byteLength, 'keeping the final adapter', id);
      throw e;
    }
    this.adapterBytes.set(id, weights.byteLength + config.length);
    const run = await db.get('runs', id);
    if (run && !run.hasAdapter) await db.put('runs', { ...run, hasAdapter: true }, id);
  }

  async adapter(id: string): Promise<{ weights: Uint8Array; config: string } | null> {
    const a = await (await this.open()).get('adapters', id);
    return a ? { weights: a.weights, config: a.config } : null;
  }

  async update(id: string, change: Partial<Pick<RunRecord, 'name' | 'starred'>>): Promise<RunRecord | null> {
    const db = await this.open();
    const run = await db.get('runs', id);
    if (!run) return null;
    const next = { ...run, ...change };
    await db.put('runs', next, id);
    return next;
  }

  async delete(id: string): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(['runs', 'adapters'], 'readwrite');
    await Promise.all([tx.objectStore('runs').delete(id), tx.objectStore('adapters').delete(id), tx.done]);
    this.adapterBytes.delete(id);
  }

  /** One run as one file's text (with its adapter when kept). */
  async exportRun(id: string): Promise<{ name: string; text: string }> {
    const run = await this.get(id);
    if (!run) throw new Error('that run is no longer in this browser');
    const adapter = run.hasAdapter ? await this.adapter(id) : null;
    return { name: `${run.name.replace(/[^A-Za-z0-9._=-]+/g, '_') || 'run'}.grpo-run.json`, text: runFileText(run, adapter) };
  }

  /** A run file, checked completely before anything is written; a run with the same id gets a new one.
   * Run and adapter are written in one transaction, so a failure stores nothing. */
  async importRun(text: string, fileName: string): Promise<RunRecord> {
    const { run, adapter } = parseRunFile(text, fileName);
    const db = await this.open();
    const clash = await db.get('runs', run.id);
    const id = clash ? `${run.id}-imported-${Date.now().toString(36)}` : run.id;
    const stored: RunRecord = { ...run, id, status: run.status === 'running' ? 'paused' : run.status };
    try {
      const tx = db.transaction(['runs', 'adapters'], 'readwrite');
      const writes: Promise<unknown>[] = [tx.objectStore('runs').put(stored, id)];
      if (adapter) writes.push(tx.objectStore('adapters').put({ id, ...adapter }, id));
      await Promise.all([...writes, tx.done]);
    } catch (e) {
      if (isQuotaError(e)) throw await this.fullError(text.length, `importing ${fileName}`, null);
      throw e;
    }
    return stored;
  }

  private async fullError(needed: number, what: string, except: string | null): Promise<LibraryFullError> {
    let largest: { id: string; name: string; bytes: number }[] = [];
    try {
      largest = (await this.list())
        .filter((e) => e.run.id !== except)
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 3)
        .map((e) => ({ id: e.run.id, name: e.run.name, bytes: e.bytes }));
    } catch {
      // reading may fail too when the disk is full: the message then names no runs
    }
    return new LibraryFullError(needed, largest, what);
  }
}
