// What the page shows and exports of a sweep: the spec from the current settings (the JSON the CLI
// reads), and the summary, report and CSV from the runs library's records of the sweep's runs (the
// same functions as the CLI's, src/experiments).

import type { AppState } from '../store/types';
import { BUILTIN_MODEL, DEMO_DATASETS } from '../../demo/builtin';
import { mergeMetricRows } from '../../export/metrics';
import { SPEC_FORMAT, type SweepDimension, type SweepSpec } from '../../experiments/spec';
import { runStats, summarize, type Row, type SweepSummary } from '../../experiments/summary';
import { reportHtml, type ReportRun } from '../../experiments/report';
import type { RunRecord } from '../../experiments/run_record';
import type { SweepState } from './sweep_state';

/** A spec for the loaded model and data with the current settings as its base. */
export function specFromPage(s: AppState, name: string, dimension: SweepDimension, seeds: number[], steps: number): SweepSpec {
  const config: Record<string, unknown> = JSON.parse(JSON.stringify(s.config));
  delete config.seed;
  delete config.max_steps;
  const ms = s.modelSource;
  const ds = s.datasetSource;
  const model = ms?.kind === 'builtin' ? `public/${BUILTIN_MODEL.path.replace(/\/$/, '')}` : ms?.kind === 'url' ? (ms.repo ?? ms.input.split('\n')[0]) : (s.modelSummary?.name ?? 'MODEL');
  const demo = ds?.kind === 'demo' ? DEMO_DATASETS.find((d) => d.id === ds.id) : undefined;
  const dataset = demo ? `public/${demo.path}` : (ds?.name ?? 'DATASET');
  return { format: SPEC_FORMAT, name, model, dataset, eval_dataset: s.evalFile?.name ?? null, config, sweep: dimension, seeds, steps };
}

/** A library record's rows as metrics.jsonl has them (steps and evaluations merged). */
export function recordRows(r: RunRecord): Row[] {
  return mergeMetricRows(r.history, r.evals) as Row[];
}

/** The sweep's summary over its runs that are in the library (finished or not). */
export function sweepSummary(sweep: SweepState, records: readonly RunRecord[]): { summary: SweepSummary; runs: ReportRun[] } {
  const byId = new Map(records.map((r) => [r.id, r]));
  const stats = [];
  const runs: ReportRun[] = [];
  for (const r of sweep.runs) {
    const rec = r.recordId ? byId.get(r.recordId) : undefined;
    if (!rec) continue;
    const rows = recordRows(rec);
    stats.push(runStats(r.name, r.arm, r.seed, rows, rec.durationMs / 1000));
    runs.push({ name: r.name, config: rec.config as unknown as Record<string, unknown>, rows });
  }
  const arms = [...new Map(sweep.runs.map((r) => [r.arm, { arm: r.arm, value: r.value }])).values()];
  return { summary: summarize(sweep.spec.name, arms, stats), runs };
}

export function sweepReport(sweep: SweepState, records: readonly RunRecord[]): string {
  const { summary, runs } = sweepSummary(sweep, records);
  return reportHtml({ title: `Sweep: ${sweep.spec.name}`, summary, runs, spec: sweep.spec, generatedAt: new Date().toISOString(), source: `${sweep.spec.model}, ${sweep.spec.dataset}` });
}
