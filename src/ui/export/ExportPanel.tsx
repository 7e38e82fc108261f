// Export: the LoRA adapter in PEFT's format (separately or as one .zip), the metrics as CSV and JSONL,
// the config as JSON and a TRL + PEFT script that continues the run on a GPU cluster. Import: a PEFT
// adapter (.zip, or its two files) to continue training or to compare with Try it.

import { useState } from 'react';
import { metricsToCsv, metricsToJsonl } from '../../export/metrics';
import { adapterFromZip } from '../../export/zip';
import { FileDrop, saveFile, type PickedFile } from '../common';
import { useAppStore, isBusy } from '../store';
import { configJson, fetchAdapter, metricsRows, runZip, scriptFor, zipName } from './actions';

export function ExportPanel() {
  const hasAdapter = useAppStore((s) => s.hasAdapter);
  const steps = useAppStore((s) => s.history.length);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  // an SFT run continues with TRL's SFTTrainer (train_sft.py)
  const pyName = useAppStore((s) => ((s.runConfig ?? s.config).algorithm === 'sft' ? 'train_sft.py' : 'train_grpo.py'));
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState<string | null>(null);
  const act = (label: string, f: () => Promise<void> | void) => async () => {
    setWorking(label);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setWorking(null);
    }
  };
  const adapterBlocked = !hasAdapter ? 'Train at least one step (or import an adapter) first.' : busy ? 'Pause the run to export the adapter.' : null;
  return (
    <div className="export" data-testid="export">
      <div className="export-grid">
        <section className="export-card">
          <h3>LoRA adapter (PEFT)</h3>
          <p className="help">
            <code>PeftModel.from_pretrained(model, folder)</code> loads it onto the Hugging Face version of the base model.
          </p>
          <div className="button-column">
            <button type="button" className="primary" disabled={!!adapterBlocked || !!working} onClick={act('zip', async () => saveFile(zipName(useAppStore.getState()), await runZip(), 'application/zip'))}>
              {working === 'zip' ? 'Preparing…' : 'Download all (.zip)'}
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!!adapterBlocked || !!working}
              onClick={act('weights', async () => saveFile('adapter_model.safetensors', (await fetchAdapter())['adapter_model.safetensors']))}
            >
              adapter_model.safetensors
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!!adapterBlocked || !!working}
              onClick={act('config', async () => saveFile('adapter_config.json', (await fetchAdapter())['adapter_config.json'], 'application/json'))}
            >
              adapter_config.json
            </button>
          </div>
          {adapterBlocked ? <p className="help">{adapterBlocked}</p> : <p className="help">The .zip also holds the config, the metrics and the TRL script.</p>}
        </section>
        <section className="export-card">
          <h3>Run</h3>
          <p className="help">Metrics in TRL's names, one row per step; the config as JSON (Settings can import it back).</p>
          <div className="button-column">
            <button type="button" className="secondary" disabled={steps === 0} onClick={act('csv', () => saveFile('metrics.csv', metricsToCsv(metricsRows(useAppStore.getState())), 'text/csv'))}>
              metrics.csv
            </button>
            <button type="button" className="secondary" disabled={steps === 0} onClick={act('jsonl', () => saveFile('metrics.jsonl', metricsToJsonl(metricsRows(useAppStore.getState())), 'application/jsonl'))}>
              metrics.jsonl
            </button>
            <button type="button" className="secondary" onClick={act('cfg', () => saveFile('training_config.json', configJson(useAppStore.getState()), 'application/json'))}>
              training_config.json
            </button>
          </div>
        </section>
        <section className="export-card">
          <h3>Continue on a GPU cluster</h3>
          <p className="help">A Python script for TRL + PEFT with the same GRPOConfig values, the LoraConfig, the dataset and the reward functions, starting from this adapter.</p>
          <div className="button-column">
            <button type="button" className="secondary" onClick={act('py', () => saveFile(pyName, scriptFor(useAppStore.getState()), 'text/x-python'))}>
              {pyName}
            </button>
          </div>
        </section>
      </div>
      {error ? (
        <div className="callout callout-error" role="alert" data-testid="export-error">
          <p className="mono wrap">{error}</p>
        </div>
      ) : null}
      <ImportAdapter />
    </div>
  );
}

async function adapterFromPicked(files: PickedFile[]): Promise<{ weights: Uint8Array; config: string; name: string }> {
  const zip = files.find((f) => f.path.endsWith('.zip'));
  if (zip) return { ...adapterFromZip(new Uint8Array(await zip.file.arrayBuffer())), name: zip.path };
  const w = files.find((f) => f.path.endsWith('.safetensors'));
  const c = files.find((f) => f.path.endsWith('adapter_config.json')) ?? files.find((f) => f.path.endsWith('.json'));
  if (!w || !c) {
    throw new Error(`choose adapter_model.safetensors and adapter_config.json together (or one .zip); got ${files.map((f) => f.path).join(', ')}`);
  }
  return { weights: new Uint8Array(await w.file.arrayBuffer()), config: await c.file.text(), name: w.path.includes('/') ? w.path.split('/')[0] : w.path };
}

function ImportAdapter() {
  const importAdapter = useAppStore((s) => s.importAdapter);
  const imported = useAppStore((s) => s.importedAdapter);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const ready = useAppStore((s) => s.modelStatus === 'ready' && s.datasetStatus === 'ready');
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState(false);
  return (
    <section className="import">
      <h3>Import an adapter</h3>
      <FileDrop
        testId="adapter-drop"
        label="Drop a PEFT adapter"
        hint="A .zip, or adapter_model.safetensors with adapter_config.json. It becomes the run's adapter: Resume continues training it, Try it compares it with the base model."
        accept=".zip,.safetensors,.json"
        multiple
        folder
        disabled={busy || !ready || working}
        onFiles={(files) => {
          setWorking(true);
          setError(null);
          void adapterFromPicked(files)
            .then((a) => importAdapter(a.name, a.weights, a.config))
            .catch((e: Error) => setError(e.message))
            .finally(() => setWorking(false));
        }}
      />
      {!ready ? <p className="help">Load a model and a dataset first.</p> : null}
      {error ? (
        <div className="callout callout-error" role="alert" data-testid="import-error">
          <p className="mono wrap">{error}</p>
        </div>
      ) : null}
      {imported ? (
        <p className="callout callout-ok small" role="status" data-testid="import-done">
          Imported {imported.name}: r = {imported.r}, modules {imported.targetModules.join(', ')}. Resume to keep training it, or compare in Try it.
        </p>
      ) : null}
    </section>
  );
}
