// Step 1: the model. The first built-in model (tiny-puzzles) is loaded when the page opens, and a demo made
// for another built-in model (the calculator demo's tiny-calculator) brings its own; a person can instead name a model
// on the Hugging Face Hub (../hub/HubModelChoice.tsx), pick or drop a Hugging Face folder or a llama2.c
// checkpoint with its tokenizer.bin, or give URLs (downloaded once, then read from the browser's cache). The loaded model's shape and the memory the run needs are shown
// beside what the device allows.

import { useState } from 'react';
import { BUILTIN_MODELS, DEMO_DATASETS } from '../../demo/builtin';
import type { FilePayload } from '../../worker/protocol';
import { FileDrop, Panel, ProgressBar, type PickedFile } from '../common';
import { useAppStore, isBusy } from '../store';
import { estimateMemory, formatBytes, formatCount } from './memory';
import { HubModelChoice } from '../hub/HubModelChoice';
import { MemoryPlanPanel } from './MemoryPlanPanel';

type Tab = 'builtin' | 'hub' | 'files' | 'url';

function payload(files: PickedFile[]): FilePayload[] {
  return files.map(({ path, file }) => (path === file.name || path === file.webkitRelativePath ? file : { name: path, blob: file }));
}

function describeFiles(files: PickedFile[]): string {
  const top = files[0]?.path.split('/');
  if (top && top.length > 1) return top[0];
  return files.length === 1 ? files[0].path : `${files.length} files`;
}

export function ModelPanel() {
  const status = useAppStore((s) => s.modelStatus);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const [shown, setTab] = useState<Tab>('builtin');
  const loading = status === 'fetching' || status === 'loading';
  return (
    <Panel id="model" title="Model" step={1}>
      <div className="segmented" role="radiogroup" aria-label="Model source">
        {(
          [
            ['builtin', 'Built-in'],
            ['hub', 'Hugging Face Hub'],
            ['files', 'From disk'],
            ['url', 'From URL'],
          ] as const
        ).map(([id, label]) => (
          <label key={id} className={`segment ${shown === id ? 'segment-on' : ''}`}>
            <input type="radio" name="model-source" value={id} checked={shown === id} onChange={() => setTab(id)} className="visually-hidden" />
            {label}
          </label>
        ))}
      </div>
      {shown === 'builtin' ? <BuiltinChoice disabled={busy || loading} /> : null}
      {shown === 'hub' ? <HubModelChoice disabled={busy || loading} /> : null}
      {shown === 'files' ? <FilesChoice disabled={busy || loading} /> : null}
      {shown === 'url' ? <UrlChoice disabled={busy || loading} /> : null}
      <DemoModelNote />
      <ModelStatus />
    </Panel>
  );
}

function BuiltinChoice({ disabled }: { disabled: boolean }) {
  const load = useAppStore((s) => s.loadBuiltinModel);
  const source = useAppStore((s) => s.modelSource);
  const status = useAppStore((s) => s.modelStatus);
  return (
    <div className="choice">
      <ul className="builtin-models" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
        {BUILTIN_MODELS.map((m) => {
          const active = source?.kind === 'builtin' && source.name === m.name && status === 'ready';
          const demos = DEMO_DATASETS.filter((d) => d.model === m.name).map((d) => d.name);
          return (
            <li key={m.name} data-testid={`builtin-model-${m.name}`} style={{ marginBottom: 8 }}>
              <p className="muted">
                <strong className="text">{m.name}</strong>: {m.description}.{' '}
                {demos.length ? <span className="small">For the demo{demos.length > 1 ? 's' : ''} {demos.map((d) => `“${d}”`).join(', ')}.</span> : null}
              </p>
              {active ? (
                <span className="tag tag-ok">loaded</span>
              ) : (
                <button type="button" className="secondary" onClick={() => void load(m.name)} disabled={disabled}>
                  Load {m.name}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Which model the selected demo dataset is made for, when another model is loaded. */
function DemoModelNote() {
  const dataset = useAppStore((s) => s.datasetSource);
  const source = useAppStore((s) => s.modelSource);
  const load = useAppStore((s) => s.loadBuiltinModel);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const demo = dataset?.kind === 'demo' ? DEMO_DATASETS.find((d) => d.id === dataset.id) : undefined;
  if (!demo || !source) return null;
  if (source.kind === 'builtin' && source.name === demo.model) return null;
  return (
    <p className="callout callout-warn small" data-testid="demo-model-note">
      The demo “{demo.name}” is made for the built-in model <strong>{demo.model}</strong>
      {demo.tools ? ', which learned to call its tool' : ''}; another model is loaded.{' '}
      <button type="button" className="link-button" onClick={() => void load(demo.model)} disabled={busy}>
        Load {demo.model}
      </button>
    </p>
  );
}

function FilesChoice({ disabled }: { disabled: boolean }) {
  const loadFiles = useAppStore((s) => s.loadModelFiles);
  return (
    <FileDrop
      testId="model-drop"
      label="Drop a model folder or its files"
      hint={
        <>
          A Hugging Face folder (<code>config.json</code>, <code>*.safetensors</code>, <code>tokenizer.json</code>), a GGUF file <code>.gguf</code>
          (llama.cpp, Ollama; with its <code>tokenizer.json</code> when it holds none) or a llama2.c checkpoint <code>.bin</code> with its <code>tokenizer.bin</code>.
        </>
      }
      accept=".json,.safetensors,.bin,.jinja,.gguf"
      multiple
      folder
      disabled={disabled}
      onFiles={(files) => void loadFiles(payload(files), describeFiles(files))}
    />
  );
}

function UrlChoice({ disabled }: { disabled: boolean }) {
  const loadUrls = useAppStore((s) => s.loadModelFromUrls);
  const [text, setText] = useState('');
  return (
    <form
      className="choice"
      onSubmit={(e) => {
        e.preventDefault();
        void loadUrls(text);
      }}
    >
      <label className="field-label" htmlFor="model-url">
        Hugging Face model or file URLs
      </label>
      <textarea
        id="model-url"
        className="input mono"
        rows={2}
        placeholder="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct"
        value={text}
        onChange={(e) => setText(e.target.value)}
        aria-describedby="model-url-help"
      />
      <p className="help" id="model-url-help">
        A repository (<code>org/name</code>) fetches its config, tokenizer and safetensors; or one file URL per line (e.g. a llama2.c <code>.bin</code> and its{' '}
        <code>tokenizer.bin</code>). Downloads are cached in this browser, so loading again is instant.
      </p>
      <button type="submit" className="secondary" disabled={disabled || text.trim() === ''}>
        Download and load
      </button>
    </form>
  );
}

function ModelStatus() {
  const status = useAppStore((s) => s.modelStatus);
  const source = useAppStore((s) => s.modelSource);
  const error = useAppStore((s) => s.modelError);
  const download = useAppStore((s) => s.modelDownload);
  const summary = useAppStore((s) => s.modelSummary);
  const sourceLabel = !source ? '' : source.kind === 'builtin' ? source.name : source.kind === 'files' ? source.label : (source.repo ?? 'URL');
  return (
    <div className="status-block" data-testid="model-status" data-state={status}>
      {status === 'fetching' && download ? (
        <div className="download" aria-live="polite">
          <div className="row-between">
            <span className="mono ellipsis">{download.file}</span>
            <span className="muted num">
              {download.fromCache ? 'from cache' : `${formatBytes(download.loaded)}${download.total ? ` of ${formatBytes(download.total)}` : ''}`}
            </span>
          </div>
          <ProgressBar value={download.loaded} max={download.total} label={`Downloading ${download.file}`} testId="model-download-progress" />
          <span className="muted small">
            File {Math.min(download.done + 1, download.files)} of {download.files}
            {download.resumedFrom ? ` · resumed at ${formatBytes(download.resumedFrom)}` : ''}
          </span>
          {download.bytesTotal ? (
            <>
              <ProgressBar value={download.bytesDone} max={download.bytesTotal} label="Downloading the model, all files" testId="model-download-total" />
              <span className="muted small" data-testid="model-download-total-text">
                {formatBytes(download.bytesDone)} of {formatBytes(download.bytesTotal)} in all
              </span>
            </>
          ) : null}
        </div>
      ) : null}
      {status === 'fetching' && !download ? <p className="muted" role="status">Reading {sourceLabel}…</p> : null}
      {status === 'loading' ? (
        <p className="muted" role="status">
          Uploading {sourceLabel} to the GPU…
        </p>
      ) : null}
      {error ? (
        <div className="callout callout-error" role="alert" data-testid="model-error">
          <p className="mono wrap">{error}</p>
        </div>
      ) : null}
      {summary && status === 'ready' ? <ModelFacts /> : null}
    </div>
  );
}

function ModelFacts() {
  const m = useAppStore((s) => s.modelSummary)!;
  const config = useAppStore((s) => s.config);
  const adapter = useAppStore((s) => s.adapter);
  const source = useAppStore((s) => s.modelSource);
  const est = estimateMemory(m, config);
  const limits = adapter.status === 'ready' ? adapter.info.limits : null;
  const maxBuffer = limits ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) : null;
  const tooBig = maxBuffer !== null && est.largestBuffer > maxBuffer;
  return (
    <div className="model-facts">
      <div className="row-between">
        <h3 className="model-name" data-testid="model-name">
          {m.name}
        </h3>
        <span className="tag tag-ok">{source?.kind === 'builtin' ? 'built-in' : 'loaded'}</span>
      </div>
      <dl className="facts facts-grid">
        <dt>Parameters</dt>
        <dd data-testid="model-params">{formatCount(m.params)}</dd>
        <dt>Layers</dt>
        <dd>{m.layers}</dd>
        <dt>Hidden</dt>
        <dd>{m.hiddenSize}</dd>
        <dt>Heads</dt>
        <dd>
          {m.numHeads} ({m.numKvHeads} kv)
        </dd>
        <dt>Vocabulary</dt>
        <dd>{m.vocabSize.toLocaleString('en-US')}</dd>
        <dt>Context</dt>
        <dd>{m.maxPositions.toLocaleString('en-US')}</dd>
        <dt>dtype</dt>
        <dd title="the checkpoint's storage type; the engine computes in f32">{m.dtype}</dd>
        <dt>Chat template</dt>
        <dd>{m.hasChatTemplate ? 'yes' : 'no'}</dd>
        <dt>Architecture</dt>
        <dd className="span-3 mono small">{m.architecture}</dd>
      </dl>
      <h3>Memory for this run</h3>
      <table className="limits" data-testid="memory-estimate">
        <tbody>
          <tr>
            <th scope="row">Weights</th>
            <td className="num">{formatBytes(est.weights)}</td>
          </tr>
          <tr>
            <th scope="row">LoRA ({formatCount(est.loraParams)} params, with Adam)</th>
            <td className="num">{formatBytes(est.lora)}</td>
          </tr>
          <tr>
            <th scope="row">Activations (peak)</th>
            <td className="num">{formatBytes(est.activations)}</td>
          </tr>
          <tr className="total-row">
            <th scope="row">Total, about</th>
            <td className="num">{formatBytes(est.total)}</td>
          </tr>
          <tr className={tooBig ? 'row-bad' : ''}>
            <th scope="row">Largest buffer ({est.largestBufferName})</th>
            <td className="num">
              {formatBytes(est.largestBuffer)}
              {maxBuffer !== null ? <span className="muted"> of {formatBytes(maxBuffer)}</span> : null}
            </td>
          </tr>
        </tbody>
      </table>
      <MemoryPlanPanel />
      {tooBig ? (
        <p className="callout callout-warn" role="alert">
          One buffer of this run is larger than this device allows: lower prompts_per_step, num_generations or the lengths.
        </p>
      ) : (
        <p className="help">
          WebGPU does not report total GPU memory; each buffer must fit the device's limit{maxBuffer !== null ? ` (${formatBytes(maxBuffer)})` : ''}.
        </p>
      )}
    </div>
  );
}
