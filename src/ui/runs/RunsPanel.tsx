// The runs library: every run this browser kept (name, date, model, dataset, recipe, held-out pass@1
// best and last, steps, duration, status), with rename, star, delete, export as one file and import;
// ticking runs overlays them on the charts. Storage used against the browser's quota, with a request for
// persistent storage; storage problems and another tab's run are said here.

import { useState } from 'react';
import { formatDuration, FileDrop, saveFile } from '../common';
import { useAppStore } from '../store';
import { matchingPreset } from '../../grpo/presets';
import { passSummary, type RunRecord } from '../../experiments/run_record';
import { formatBytes } from './library';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);

function recipe(r: RunRecord): string {
  return r.config.algorithm === 'sft' ? 'sft' : matchingPreset(r.config)?.id ?? r.config.loss_type;
}

function RunName({ run }: { run: RunRecord }) {
  const rename = useAppStore((s) => s.renameLibraryRun);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(run.name);
  if (!editing) {
    return (
      <button type="button" className="link-button run-name" title="Rename" onClick={() => (setText(run.name), setEditing(true))}>
        {run.name}
      </button>
    );
  }
  const done = () => {
    setEditing(false);
    if (text.trim() && text !== run.name) void rename(run.id, text);
  };
  return (
    <input className="input" autoFocus value={text} aria-label="Run name" onChange={(e) => setText(e.target.value)} onBlur={done} onKeyDown={(e) => {
      if (e.key === 'Enter') done();
      if (e.key === 'Escape') setEditing(false);
    }} />
  );
}

export function RunsPanel() {
  const runs = useAppStore((s) => s.libraryRuns);
  const storage = useAppStore((s) => s.libraryStorage);
  const error = useAppStore((s) => s.libraryError);
  const lock = useAppStore((s) => s.runLockProblem);
  const selected = useAppStore((s) => s.selectedRunIds);
  const recordingId = useAppStore((s) => s.recordingId);
  const toggle = useAppStore((s) => s.toggleRunSelected);
  const star = useAppStore((s) => s.starLibraryRun);
  const del = useAppStore((s) => s.deleteLibraryRun);
  const exportRun = useAppStore((s) => s.exportLibraryRun);
  const importRun = useAppStore((s) => s.importLibraryRun);
  const persist = useAppStore((s) => s.requestPersistentStorage);
  const keep = useAppStore((s) => s.keepAdapters);
  const setKeep = useAppStore((s) => s.setKeepAdapters);
  const setError = useAppStore((s) => s.setLibraryError);
  const used = runs.reduce((a, r) => a + r.bytes, 0);
  const sorted = [...runs].sort((a, b) => Number(b.run.starred) - Number(a.run.starred) || b.run.createdAt - a.run.createdAt);
  return (
    <div className="runs-library" data-testid="runs-library">
      <div className="runs-storage small" data-testid="runs-storage">
        <span>
          {runs.length} run{runs.length === 1 ? '' : 's'} kept, {formatBytes(used)}
          {storage ? ` · this site uses ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} the browser allows` : ''}
          {storage ? (storage.persisted ? ' · persistent' : ' · may be cleared when the disk is short') : ''}
        </span>
        {storage && !storage.persisted ? (
          <button type="button" className="secondary small" onClick={() => void persist()}>
            Keep runs persistently
          </button>
        ) : null}
        <label className="check small">
          <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.target.checked)} /> keep final adapters
        </label>
      </div>
      {lock ? (
        <p className="callout callout-warn" role="alert" data-testid="run-lock-problem">
          {lock}
        </p>
      ) : null}
      {error ? (
        <div className="callout callout-error" role="alert" data-testid="runs-error">
          <p>{error}</p>
          <button type="button" className="link-button small" onClick={() => setError(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      {runs.length === 0 ? (
        <p className="muted small">Every run you start is kept here (in this browser), to compare and export later.</p>
      ) : (
        <div className="table-scroll">
          <table className="runs-table" data-testid="runs-table">
            <thead>
              <tr>
                <th aria-label="Overlay">Show</th>
                <th aria-label="Star">★</th>
                <th>name</th>
                <th>date</th>
                <th>model</th>
                <th>dataset</th>
                <th>recipe</th>
                <th>pass@1 best</th>
                <th>last</th>
                <th>steps</th>
                <th>time</th>
                <th>status</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {sorted.map(({ run, bytes }) => {
                const p = passSummary(run.evals);
                const live = run.id === recordingId;
                const status = run.status === 'running' && !live ? 'interrupted' : run.status;
                return (
                  <tr key={run.id} data-testid="runs-row" data-run-id={run.id} data-run-name={run.name} className={live ? 'run-live' : ''}>
                    <td>
                      <input type="checkbox" checked={selected.includes(run.id)} onChange={() => toggle(run.id)} aria-label={`Overlay ${run.name}`} />
                    </td>
                    <td>
                      <button type="button" className="link-button" aria-pressed={run.starred} aria-label={run.starred ? 'Unstar' : 'Star'} onClick={() => void star(run.id, !run.starred)}>
                        {run.starred ? '★' : '☆'}
                      </button>
                    </td>
                    <td>
                      <RunName run={run} />
                      {run.sweep ? <span className="tag small">{run.sweep.name}</span> : null}
                      {run.parent ? (
                        <span className="tag small" data-testid="run-parent-tag" title={`The LoRA started from the adapter of ${run.parent.name}`}>
                          from {run.parent.name} ({run.parent.algorithm})
                        </span>
                      ) : null}
                      {live ? <span className="tag tag-ok small">live</span> : null}
                    </td>
                    <td className="small">{new Date(run.createdAt).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })}</td>
                    <td className="small" title={`fingerprint ${run.model.fingerprint}`}>{run.model.name}</td>
                    <td className="small" title={`fingerprint ${run.dataset.fingerprint}`}>
                      {run.dataset.name}
                      {run.dataset.evalFile ? ` (test: ${run.dataset.evalFile})` : ''}
                    </td>
                    <td className="mono small">{recipe(run)}</td>
                    <td className="num">{pct(p.best)}</td>
                    <td className="num">{pct(p.last)}</td>
                    <td className="num">
                      {run.steps}/{run.maxSteps}
                    </td>
                    <td className="num">{formatDuration(run.durationMs)}</td>
                    <td className="small">{status}</td>
                    <td className="run-actions">
                      <button type="button" className="secondary small" title={`${formatBytes(bytes)}${run.hasAdapter ? ', with its adapter' : ''}`} onClick={() => void exportRun(run.id).then((f) => saveFile(f.name, f.text, 'application/json'))}>
                        Export
                      </button>
                      <button type="button" className="secondary small" disabled={live} onClick={() => {
                        if (confirm(`Delete the run "${run.name}" from this browser?`)) void del(run.id);
                      }}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <FileDrop
        testId="run-import"
        label="Import a run file"
        hint="A .grpo-run.json exported from this page, in this browser or another."
        accept=".json"
        onFiles={(files) => void files[0].file.text().then((t) => importRun(files[0].path, t))}
      />
    </div>
  );
}
