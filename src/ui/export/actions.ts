// What the Export tab downloads, built from the store: the PEFT adapter (from the worker), the metrics,
// the config and the TRL script, separately or as one .zip.

import { mergeMetricRows, metricsToCsv, metricsToJsonl } from '../../export/metrics';
import { trlScript } from '../../export/trl_script';
import { makeZip } from '../../export/zip';
import { requireEngine } from '../store/engine';
import { useAppStore } from '../store';
import type { AppState } from '../store';

export interface ExportFiles {
  'adapter_model.safetensors': Uint8Array;
  'adapter_config.json': string;
}

export async function fetchAdapter(): Promise<ExportFiles> {
  const a = await requireEngine().call({ type: 'exportAdapter' });
  return { 'adapter_model.safetensors': a.weights, 'adapter_config.json': a.config };
}

/** The Hugging Face id (or local name) of the base model, for the script. */
export function baseModelName(s: AppState): { name: string; source: string } {
  const src = s.modelSource;
  const name = s.modelSummary?.name ?? 'model';
  if (src?.kind === 'url' && src.repo) return { name: src.repo, source: `downloaded from ${src.repo}` };
  if (src?.kind === 'builtin') return { name, source: `the built-in ${name} (public/models/${name} in the playground's repository)` };
  if (src?.kind === 'url') return { name, source: `downloaded from ${src.input.split('\n')[0]}` };
  return { name, source: `loaded from disk (${src?.kind === 'files' ? src.label : name})` };
}

export function metricsRows(s: AppState) {
  return mergeMetricRows(s.history, s.evals);
}

export function configJson(s: AppState): string {
  return JSON.stringify(s.runConfig ?? s.config, null, 2) + '\n';
}

export function scriptFor(s: AppState): string {
  const model = baseModelName(s);
  const ds = s.datasetSummary;
  return trlScript({
    config: s.runConfig ?? s.config,
    modelName: model.name,
    modelSource: model.source,
    dataset: ds ? { name: ds.name.slice(ds.name.lastIndexOf('/') + 1), format: ds.format, promptColumn: ds.mapping.prompt, answerColumn: ds.mapping.answer } : null,
    stepsTrained: s.runStep,
    exportedAt: new Date().toISOString().slice(0, 10),
  });
}

/** Everything in one archive: the adapter folder's two files at its root (PeftModel.from_pretrained reads
 * the unzipped folder), plus the run's config, metrics and script. */
export async function runZip(): Promise<Uint8Array> {
  const s = useAppStore.getState();
  const adapter = await fetchAdapter();
  const rows = metricsRows(s);
  return makeZip({
    ...adapter,
    'training_config.json': configJson(s),
    'metrics.csv': metricsToCsv(rows),
    'metrics.jsonl': metricsToJsonl(rows),
    [(s.runConfig ?? s.config).algorithm === 'sft' ? 'train_sft.py' : 'train_grpo.py']: scriptFor(s),
  });
}

export function zipName(s: AppState): string {
  const model = (s.modelSummary?.name ?? 'model').replace(/[^\w.-]+/g, '-');
  return `${model}-grpo-step${s.runStep}.zip`;
}
