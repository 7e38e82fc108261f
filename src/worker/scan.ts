// The page's difficulty scans in the worker (issue 29): `scan` runs grpo/scan.ts on the loaded model (its base,
// no adapter) and the dataset slot's rows with the page's config and k, reporting progress; `setScan` takes a
// scan JSONL the person uploaded (parseScanJsonl bounds and checks it) or forgets the scan; `storedScan` looks
// the dataset + model up in the browser's storage (scan_store.ts). The scan in use lives beside the dataset in
// its slot (dataset_slot.ts) and is joined to the training rows when a run starts (run.ts, difficulty.ts joinScan).

import { parseScanJsonl, rowKey, scanToJsonl, type DifficultyRecord } from '../grpo/difficulty';
import type { GrpoConfig } from '../grpo/config';
import { createRewardScorer } from '../grpo/rewards_scorer';
import { runDifficultyScan } from '../grpo/scan';
import type { DatasetSlot, LoadedDataset, LoadedScan } from './dataset_slot';
import type { ModelSlot } from './model_slot';
import type { ScanProgress, ScanSummary } from './protocol';
import { scanStoreKey, type ScanStoreBackend } from './scan_store';

/** Least time between two progress reports of a scan. */
const PROGRESS_MS = 250;

export class ScanRequests {
  constructor(
    private readonly models: ModelSlot,
    private readonly datasets: DatasetSlot,
    private readonly store: ScanStoreBackend,
  ) {}

  /** Scans the loaded dataset with the loaded model: k completions per prompt at config's sampler. */
  async scan(config: GrpoConfig, k: number, onProgress: (p: ScanProgress) => void): Promise<ScanSummary> {
    const on = this.models.require('load a model first: the scan samples its completions');
    const data = this.datasets.require('load a dataset first');
    if (data.parsed.mapping.rejected !== undefined || data.parsed.mapping.label !== undefined) throw new Error('a difficulty scan needs prompt/answer rows, not preference pairs');
    const scorer = createRewardScorer(config.reward_funcs, { maxCompletionLength: config.max_completion_length });
    const started = performance.now();
    let last = -Infinity;
    let records: DifficultyRecord[];
    try {
      onProgress({ done: 0, total: data.parsed.rows.length * k, ms: 0 });
      records = await runDifficultyScan({ model: on.model, loaded: on.loaded, lora: null, scorer }, data.parsed.rows, config, k, (done, total) => {
        const now = performance.now();
        if (now - last < PROGRESS_MS && done < total) return;
        last = now;
        onProgress({ done, total, ms: now - started });
      });
    } finally {
      scorer.dispose();
    }
    const source = `scan of ${data.name} (k = ${k}, temperature ${config.temperature})`;
    const scan: LoadedScan = { source, records: new Map(records.map((r) => [r.key, r])) };
    this.datasets.setScan(scan);
    const stored = await this.save(scan, data);
    return summaryOf(scan, data, stored);
  }

  /** A scan file the person gave (null: forget the scan in use, and the stored one). */
  async setScan(name: string | null, text: string | null): Promise<ScanSummary | null> {
    const data = this.datasets.require('load a dataset first');
    const on = this.models.model;
    if (name === null || text === null) {
      this.datasets.setScan(null);
      if (on) await this.store.delete(scanStoreKey({ name: on.loaded.name, files: on.files }, data)).catch(() => undefined);
      return null;
    }
    const records = parseScanJsonl(text, name);
    if (records.size === 0) throw new Error(`${name}: no scan records`);
    const scan: LoadedScan = { source: name, records };
    this.datasets.setScan(scan);
    return summaryOf(scan, data, await this.save(scan, data));
  }

  /** The stored scan of the loaded dataset by the loaded model, now in use; null (and none in use) without one. */
  async stored(): Promise<ScanSummary | null> {
    const data = this.datasets.dataset;
    const on = this.models.model;
    if (!data) return null;
    this.datasets.setScan(null);
    if (!on) return null;
    let text: string | null;
    try {
      text = await this.store.get(scanStoreKey({ name: on.loaded.name, files: on.files }, data));
    } catch {
      return null;
    }
    if (!text) return null;
    const nl = text.indexOf('\n');
    let records: Map<string, DifficultyRecord>;
    try {
      records = parseScanJsonl(text.slice(nl + 1), 'the stored scan');
    } catch {
      return null; // a damaged record: scan again
    }
    const scan: LoadedScan = { source: text.slice(0, nl) || 'the stored scan', records };
    this.datasets.setScan(scan);
    return summaryOf(scan, data, true);
  }

  /** The scan in use as JSONL (for download). */
  jsonl(): string {
    const scan = this.datasets.require('load a dataset first').scan;
    if (!scan) throw new Error('there is no difficulty scan to download: scan the dataset first');
    return scanToJsonl([...scan.records.values()]);
  }

  /** Stores the scan under the dataset + model (its source on the first line); false when storage refused it. */
  private async save(scan: LoadedScan, data: LoadedDataset): Promise<boolean> {
    const on = this.models.model;
    if (!on) return false;
    try {
      await this.store.put(scanStoreKey({ name: on.loaded.name, files: on.files }, data), `${scan.source.replace(/\n/g, ' ')}\n${scanToJsonl([...scan.records.values()])}`);
      return true;
    } catch {
      return false;
    }
  }
}

/** What the data panel draws: every dataset row's pass rate in order (NaN: not in the scan). */
export function summaryOf(scan: LoadedScan, data: LoadedDataset, stored: boolean): ScanSummary {
  const rows = data.parsed.rows;
  const rates = new Float64Array(rows.length);
  let k = 0;
  rows.forEach((r, i) => {
    const rec = scan.records.get(rowKey(r.prompt, r.answer));
    rates[i] = rec ? rec.pass_rate : NaN;
    if (rec) k = Math.max(k, rec.k);
  });
  return { source: scan.source, records: scan.records.size, k, rates, stored };
}
