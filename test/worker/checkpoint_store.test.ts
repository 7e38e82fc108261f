// The browser's saved run (src/worker/checkpoint_store.ts) over its in-memory backend: a save makes the
// new checkpoint the latest and deletes the previous one in one commit; a crash between writing the new
// checkpoint and the commit leaves the previous one whole (and its orphan is swept by the next save); a
// full storage is reported in words and loses nothing; the dataset is written once per run.
import { describe, expect, test } from 'vitest';
import {
  CheckpointStore,
  CheckpointStoreError,
  memoryBackend,
  modelFilesMismatch,
  summarizeRecord,
  type RunStoreBackend,
  type SaveInput,
} from '../../src/worker/checkpoint_store';
import { defaultConfig } from '../../src/grpo/config';

function input(step: number, over: Partial<SaveInput> = {}): SaveInput {
  return {
    runId: 'run-a',
    step,
    maxSteps: 10,
    savedAt: 1000 + step,
    finished: false,
    config: defaultConfig(),
    model: { kind: 'files', label: 'stories260K.bin', modelName: 'stories260K', files: [{ name: 'stories260K.bin', size: 1000 }, { name: 'tok512.bin', size: 10 }] },
    dataset: { kind: 'file', name: 'd.jsonl', mapping: { prompt: 'prompt', answer: 'answer' }, fingerprint: '8:abcd', stored: true, size: 4 },
    history: Array.from({ length: step }, (_, i) => ({ step: i + 1, reward: i / 10, loss: NaN })),
    evals: [{ step: 0, passAt1: 0.5, rewardMean: 0.25 }],
    rewardNames: ['contains'],
    checkpoint: new Uint8Array([step, step, step]),
    datasetBytes: new Uint8Array([1, 2, 3, 4]),
    ...over,
  };
}

/** A backend that counts writes and fails on demand. */
function faulty(base = memoryBackend()) {
  const f = {
    base,
    puts: [] as string[],
    failPut: null as ((key: string) => unknown) | null,
    failCommit: null as unknown,
    async putBlob(key: string, bytes: Uint8Array) {
      const err = f.failPut?.(key);
      if (err) throw err;
      f.puts.push(key);
      await base.putBlob(key, bytes);
    },
    getBlob: (k: string) => base.getBlob(k),
    hasBlob: (k: string) => base.hasBlob(k),
    getRecord: () => base.getRecord(),
    async commit(...a: Parameters<RunStoreBackend['commit']>) {
      if (f.failCommit) throw f.failCommit;
      await base.commit(...a);
    },
  };
  return f;
}

const quotaError = () => Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });

describe('CheckpointStore', () => {
  test('a save becomes the latest; the next one replaces it and deletes the old checkpoint; the dataset is written once', async () => {
    const backend = faulty();
    const store = new CheckpointStore(backend);
    expect(await store.latest()).toBeNull();
    expect(await store.save(input(2))).toBeNull();
    const first = (await store.latest())!;
    expect(first.step).toBe(2);
    expect(first.history.map((h) => h.step)).toEqual([1, 2]);
    expect(Number.isNaN(first.history[0].loss)).toBe(true); // NaN survives (structured clone, not JSON)
    expect(await store.checkpoint(first)).toEqual(new Uint8Array([2, 2, 2]));
    expect(await store.datasetBytes(first)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(first.dataset.stored).toBe(true);

    await store.save(input(4));
    const second = (await store.latest())!;
    expect(second.step).toBe(4);
    expect(second.checkpointKey).not.toBe(first.checkpointKey);
    expect(await store.checkpoint(second)).toEqual(new Uint8Array([4, 4, 4]));
    // only the new checkpoint and the dataset remain; the dataset blob was written once
    expect([...backend.base.blobs.keys()].sort()).toEqual([second.checkpointKey, 'dataset-run-a'].sort());
    expect(backend.puts.filter((k) => k.startsWith('dataset-'))).toEqual(['dataset-run-a']);
    expect(summarizeRecord(second)).toMatchObject({ step: 4, maxSteps: 10, savedAt: 1004, finished: false, model: { modelName: 'stories260K' } });
  });

  test('a crash between writing the new checkpoint and the commit leaves the previous one whole', async () => {
    const backend = faulty();
    const store = new CheckpointStore(backend);
    await store.save(input(2));
    backend.failCommit = new Error('the tab was closed');
    await expect(store.save(input(4))).rejects.toThrow(/could not be saved/);
    const latest = (await store.latest())!;
    expect(latest.step).toBe(2);
    expect(await store.checkpoint(latest)).toEqual(new Uint8Array([2, 2, 2]));
    expect(backend.base.blobs.size).toBe(3); // the orphan of the failed save is still there...
    backend.failCommit = null;
    await store.save(input(6));
    const after = (await store.latest())!;
    expect([...backend.base.blobs.keys()].sort()).toEqual([after.checkpointKey, 'dataset-run-a'].sort()); // ...until the next save
  });

  test('full storage: the save says so in words, keeps the previous checkpoint, and training can go on', async () => {
    const backend = faulty();
    const store = new CheckpointStore(backend);
    await store.save(input(2));
    backend.failPut = quotaError;
    const err = await store.save(input(4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointStoreError);
    expect((err as CheckpointStoreError).quota).toBe(true);
    expect((err as Error).message).toMatch(/storage is full.*step 4.*not saved; training goes on/);
    expect((await store.latest())!.step).toBe(2);
  });

  test('a dataset that does not fit is left out with a note; the checkpoint is still saved', async () => {
    const backend = faulty();
    const store = new CheckpointStore(backend);
    backend.failPut = (key) => (key.startsWith('dataset-') ? quotaError() : null);
    const note = await store.save(input(2));
    expect(note).toMatch(/storage is full.*dataset d\.jsonl.*ask for the file again/);
    const r = (await store.latest())!;
    expect(r.dataset.stored).toBe(false);
    expect(r.datasetKey).toBeNull();
    expect(await store.datasetBytes(r)).toBeNull();
    expect(await store.checkpoint(r)).toEqual(new Uint8Array([2, 2, 2]));
  });

  test('a run without kept dataset bytes, discard, and a missing checkpoint blob', async () => {
    const backend = faulty();
    const store = new CheckpointStore(backend);
    await store.save(input(3, { datasetBytes: null, dataset: { kind: 'file', name: 'big.csv', mapping: { prompt: 'q', answer: 'a' }, fingerprint: '9:1', stored: false, size: 60e6 } }));
    const r = (await store.latest())!;
    expect(r.dataset.stored).toBe(false);
    expect([...backend.base.blobs.keys()]).toEqual([r.checkpointKey]);
    backend.base.blobs.clear();
    await expect(store.checkpoint(r)).rejects.toThrow(/missing from this browser's storage/);
    await store.discard();
    expect(await store.latest()).toBeNull();
  });
});

describe('modelFilesMismatch', () => {
  const saved = [{ name: 'stories260K.bin', size: 1000 }, { name: 'tok512.bin', size: 10 }];
  test('the same files (in a folder or not) match', () => {
    expect(modelFilesMismatch(saved, [{ name: 'tok512.bin', size: 10 }, { name: 'models/stories260K.bin', size: 1000 }])).toBeNull();
  });
  test('another size, a missing file or an extra one are named', () => {
    expect(modelFilesMismatch(saved, [{ name: 'stories260K.bin', size: 999 }, { name: 'tok512.bin', size: 10 }])).toBe(
      "stories260K.bin has 999 bytes, the saved run's had 1,000",
    );
    expect(modelFilesMismatch(saved, [{ name: 'stories260K.bin', size: 1000 }])).toBe('tok512.bin is missing');
    expect(modelFilesMismatch(saved, [...saved, { name: 'x.json', size: 1 }])).toBe('x.json was not part of it');
  });
});
