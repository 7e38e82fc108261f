// The page's difficulty scans in the worker (src/worker/scan.ts, scan_store.ts), without a GPU: an uploaded scan
// is checked and put in use beside the dataset, stored under the dataset + model and found again (not scanned
// again), forgotten on request; a new dataset drops the scan; a run joins it to the training rows (run.ts uses
// difficulty.ts joinScan, tested in test/grpo/difficulty.test.ts).
import { describe, expect, test } from 'vitest';
import { rowKey, scanToJsonl } from '../../src/grpo/difficulty';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import type { ModelSlot } from '../../src/worker/model_slot';
import { ScanRequests } from '../../src/worker/scan';
import { memoryScanBackend, scanStoreKey } from '../../src/worker/scan_store';
import { Run } from '../../src/worker/run';
import type { ModelOnDevice } from '../../src/worker/model_slot';
import { defaultConfig } from '../../src/grpo/config';

const enc = (s: string) => new TextEncoder().encode(s);
const DATA = ['a', 'b', 'c', 'd'].map((p) => JSON.stringify({ prompt: p, answer: p.toUpperCase() })).join('\n') + '\n';
const record = (p: string, pass_rate: number) => ({ key: rowKey(p, p.toUpperCase()), line: 1, k: 4, pass_rate, reward_mean: pass_rate, prompt: p });

function setup() {
  const datasets = new DatasetSlot();
  datasets.load('d.jsonl', enc(DATA));
  const model = { model: { loaded: { name: 'tiny' }, files: [{ name: 'model.bin', size: 10 }] } } as unknown as ModelSlot;
  const backend = memoryScanBackend();
  return { datasets, backend, scans: new ScanRequests(model, datasets, backend) };
}

describe('scans in the worker', () => {
  test('an uploaded scan is checked, drawn per dataset row, stored, found after the dataset loads again, and forgotten', async () => {
    const { datasets, backend, scans } = setup();
    const text = scanToJsonl([record('a', 0), record('b', 0.5), record('c', 1)]);
    const s = await scans.setScan('mine.jsonl', text);
    expect(s).toMatchObject({ source: 'mine.jsonl', records: 3, k: 4, stored: true });
    expect(Array.from(s!.rates)).toEqual([0, 0.5, 1, NaN]);
    expect(datasets.dataset?.scan?.records.size).toBe(3);
    expect(scans.jsonl()).toBe(text);
    // the same file loaded again (a reload): no scan until the stored one is looked up
    datasets.load('d.jsonl', enc(DATA));
    expect(datasets.dataset?.scan ?? null).toBeNull();
    const back = await scans.stored();
    expect(back).toMatchObject({ source: 'mine.jsonl', records: 3, stored: true });
    expect(datasets.dataset?.scan?.records.size).toBe(3);
    // an edited file is another dataset: nothing stored for it
    datasets.load('d.jsonl', enc(DATA + JSON.stringify({ prompt: 'e', answer: 'E' }) + '\n'));
    expect(await scans.stored()).toBeNull();
    datasets.load('d.jsonl', enc(DATA));
    await scans.setScan(null, null);
    expect(datasets.dataset?.scan ?? null).toBeNull();
    expect(await backend.get(scanStoreKey({ name: 'tiny', files: [{ name: 'model.bin', size: 10 }] }, datasets.require()))).toBeNull();
  });

  test('a hostile scan file is refused naming the file, line and field; the scan in use stays', async () => {
    const { datasets, scans } = setup();
    await scans.setScan('ok.jsonl', scanToJsonl([record('a', 0.25)]));
    await expect(scans.setScan('bad.jsonl', '{"key":"0123456789abcdef","k":2,"pass_rate":3,"reward_mean":0}\n')).rejects.toThrow('bad.jsonl line 1: field "pass_rate" must be a number in [0, 1]');
    await expect(scans.setScan('empty.jsonl', '\n\n')).rejects.toThrow('empty.jsonl: no scan records');
    expect(datasets.dataset?.scan?.source).toBe('ok.jsonl');
  });

  test('a damaged stored scan is not used (scan again)', async () => {
    const { datasets, backend, scans } = setup();
    await backend.put(scanStoreKey({ name: 'tiny', files: [{ name: 'model.bin', size: 10 }] }, datasets.require()), 'src\n{"key":"zz"}\n');
    expect(await scans.stored()).toBeNull();
    expect(datasets.dataset?.scan ?? null).toBeNull();
  });

  test('the store key names the model, its files and the dataset bytes', () => {
    const d = { name: 'd.jsonl', bytes: enc(DATA) };
    const m = { name: 'tiny', files: [{ name: 'model.bin', size: 10 }] };
    const k = scanStoreKey(m, d);
    expect(scanStoreKey(m, { ...d, bytes: enc(DATA.replace('a', 'z')) })).not.toBe(k);
    expect(scanStoreKey({ ...m, files: [{ name: 'model.bin', size: 11 }] }, d)).not.toBe(k);
    expect(scanStoreKey({ ...m, name: 'other' }, d)).not.toBe(k);
    expect(scanStoreKey(m, { ...d })).toBe(k);
  });

  test('a preference run with a pass-rate band is refused rather than ignored', async () => {
    const { datasets } = setup();
    const config = { ...defaultConfig(), algorithm: 'dpo' as const, pass_rate_band: '(0, 1)' };
    await expect(Run.create({} as ModelOnDevice, datasets.require(), config)).rejects.toThrow('pass_rate_band "(0, 1)" chooses GRPO\'s prompts by a difficulty scan; algorithm "dpo"');
  });
});
