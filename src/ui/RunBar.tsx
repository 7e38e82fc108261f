// The run controls: Start, Pause, Resume, Stop and Step, a progress bar with step i of N, elapsed time
// and an ETA, and the latest reward and pass@1 at a glance; below them the last checkpoint and the run
// log (storage problems, a lost GPU device and the recovery, a resumed run). Training runs in the worker,
// so the page stays responsive; the clock ticks here once a second while a run is going.

import { useEffect, useState } from 'react';
import { ProgressBar, formatDuration } from './common';
import { isBusy, startBlocker, useAppStore, type RunStatus } from './store';
import { formatValue } from './charts/series';

const STATUS_TEXT: Record<RunStatus, string> = {
  idle: 'Ready',
  running: 'Training',
  pausing: 'Pausing after this step…',
  paused: 'Paused',
  stopping: 'Stopping after this step…',
  finished: 'Finished',
  stopped: 'Stopped',
  error: 'Stopped by an error',
};

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

export function RunBar() {
  const status = useAppStore((s) => s.runStatus);
  const blocker = useAppStore(startBlocker);
  const start = useAppStore((s) => s.startRun);
  const pause = useAppStore((s) => s.pauseRun);
  const resume = useAppStore((s) => s.resumeRun);
  const stop = useAppStore((s) => s.stopRun);
  const step = useAppStore((s) => s.stepRun);
  const busy = isBusy(status);
  const canStart = !busy && !blocker;
  const paused = status === 'paused';
  return (
    <section className="runbar" aria-label="Run controls" data-testid="run-bar" data-status={status}>
      <div className="run-buttons">
        <button type="button" className="primary" onClick={() => void start()} disabled={!canStart} title={blocker ?? undefined}>
          {status === 'idle' ? 'Start' : 'Start new run'}
        </button>
        {paused ? (
          <button type="button" className="secondary" onClick={() => void resume()} disabled={!!blocker}>
            Resume
          </button>
        ) : (
          <button type="button" className="secondary" onClick={() => void pause()} disabled={status !== 'running'}>
            Pause
          </button>
        )}
        <button type="button" className="secondary" onClick={() => void stop()} disabled={!(status === 'running' || status === 'pausing' || paused)}>
          Stop
        </button>
        <button type="button" className="secondary" onClick={() => void step()} disabled={busy || !!blocker} title="Train exactly one step, then pause">
          Step
        </button>
      </div>
      <ContinueFromSft />
      <RunProgress />
      <RunGlance />
      {blocker && !busy ? (
        <p className="run-blocker muted small" role="status" data-testid="start-blocker">
          {blocker}
        </p>
      ) : null}
      <RunError />
      <div style={{ gridColumn: '1 / -1', margin: 0 }}>
        <RunCheckpoint />
        <RunLog />
      </div>
    </section>
  );
}

function RunProgress() {
  const status = useAppStore((s) => s.runStatus);
  const starting = useAppStore((s) => s.runStarting);
  const step = useAppStore((s) => s.runStep);
  const maxSteps = useAppStore((s) => (s.runStatus === 'idle' ? s.config.max_steps : s.runMaxSteps));
  const activeMs = useAppStore((s) => s.runActiveMs);
  const resumedAt = useAppStore((s) => s.runResumedAt);
  const history = useAppStore((s) => s.history);
  const now = useNow(resumedAt !== null);
  const elapsed = activeMs + (resumedAt !== null ? Math.max(0, now - resumedAt) : 0);
  const recent = history.slice(-10).map((r) => r.step_time).filter((x): x is number => Number.isFinite(x));
  const perStep = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  const eta = Number.isFinite(perStep) && step < maxSteps ? perStep * 1000 * (maxSteps - step) : NaN;
  return (
    <div className="run-progress">
      <div className="row-between small">
        <span>
          <span className={`status-dot status-${status}`} aria-hidden="true" />
          <strong data-testid="run-status">{starting ? 'Starting…' : STATUS_TEXT[status]}</strong>
          <span className="muted">
            {' '}
            · step <span data-testid="run-step">{step}</span> of {maxSteps}
          </span>
        </span>
        <span className="muted num">
          elapsed {formatDuration(elapsed)}
          {status === 'running' || status === 'paused' ? <> · ETA {Number.isFinite(eta) ? formatDuration(eta) : '—'}</> : null}
        </span>
      </div>
      <ProgressBar value={step} max={maxSteps} label={`Training progress: step ${step} of ${maxSteps}`} testId="run-progress" />
    </div>
  );
}

function RunGlance() {
  const last = useAppStore((s) => s.history[s.history.length - 1]);
  const evals = useAppStore((s) => s.evals);
  const lastEval = evals[evals.length - 1];
  const firstEval = evals[0];
  return (
    <dl className="glance">
      <div>
        <dt>Reward</dt>
        <dd className="num">{formatValue(last?.reward)}</dd>
      </div>
      <div>
        <dt>Eval pass@1</dt>
        <dd className="num" data-testid="glance-pass">
          {lastEval && Number.isFinite(lastEval.passAt1) ? `${(lastEval.passAt1 * 100).toFixed(1)}%` : '—'}
          {lastEval && firstEval && lastEval !== firstEval && Number.isFinite(firstEval.passAt1) ? (
            <span className="muted small"> (from {(firstEval.passAt1 * 100).toFixed(1)}%)</span>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>Step time</dt>
        <dd className="num">{last?.step_time !== undefined ? `${last.step_time.toFixed(2)} s` : '—'}</dd>
      </div>
    </dl>
  );
}

function RunError() {
  const error = useAppStore((s) => s.runError);
  const status = useAppStore((s) => s.runStatus);
  // (a run that paused by itself says why too)
  if (!error || (status !== 'error' && status !== 'paused')) return null;
  return (
    <div className="callout callout-error run-error" role="alert" data-testid="run-error">
      <p className="mono wrap">{error}</p>
    </div>
  );
}

function RunCheckpoint() {
  const ckpt = useAppStore((s) => s.lastCheckpoint);
  const interval = useAppStore((s) => (s.runConfig ?? s.config).checkpoint_interval);
  if (!ckpt) return null;
  return (
    <p className="muted small" style={{ margin: 0 }} data-testid="run-checkpoint" data-step={ckpt.step} data-stored={ckpt.problem === null}>
      Last checkpoint: step {ckpt.step}, {new Date(ckpt.savedAt).toLocaleTimeString()}
      {ckpt.problem === null ? ', saved in this browser' : ', kept in memory only (not in this browser\'s storage)'}
      {interval > 0 ? ` · every ${interval} steps and on pause or stop` : ' · on pause or stop'}
    </p>
  );
}

function RunLog() {
  const log = useAppStore((s) => s.runLog);
  if (log.length === 0) return null;
  return (
    <details className="run-log small" open data-testid="run-log" style={{ marginTop: 'var(--s1)' }}>
      <summary>Run log ({log.length})</summary>
      <ul style={{ margin: 'var(--s1) 0 0', paddingLeft: 'var(--s4)', maxHeight: '7.5em', overflowY: 'auto' }}>
        {log.map((e, i) => (
          <li key={i} data-level={e.level} style={{ color: e.level === 'error' ? 'var(--fail)' : e.level === 'warn' ? 'var(--warn)' : undefined }}>
            <span className="muted num">{new Date(e.at).toLocaleTimeString()}</span> <span className="wrap">{e.text}</span>
          </li>
        ))}
      </ul>
    </details>
  );
}

/** After an SFT run: start GRPO (or DPO) from its adapter in one click; during the child run, name its parent. */
function ContinueFromSft() {
  const status = useAppStore((s) => s.runStatus);
  const algorithm = useAppStore((s) => s.runConfig?.algorithm);
  const hasAdapter = useAppStore((s) => s.hasAdapter);
  const parent = useAppStore((s) => s.runParent);
  const cont = useAppStore((s) => s.continueFromAdapter);
  if (parent && algorithm !== 'sft') {
    return (
      <p className="muted small" style={{ gridColumn: '1 / -1', margin: 0 }} data-testid="run-parent">
        LoRA initialised from the adapter of <strong>{parent.name}</strong> ({parent.algorithm})
      </p>
    );
  }
  const done = status === 'finished' || status === 'paused' || status === 'stopped';
  if (algorithm !== 'sft' || !hasAdapter || !done) return null;
  return (
    <div className="run-buttons" style={{ gridColumn: '1 / -1' }} data-testid="continue-from-sft">
      <button type="button" className="primary" onClick={() => void cont('grpo')} title="A new GRPO run whose LoRA starts from this SFT adapter">
        Continue with GRPO
      </button>
      <button type="button" className="secondary" onClick={() => void cont('dpo')} title="A new DPO run whose LoRA starts from this SFT adapter (load a preference dataset first)">
        Continue with DPO
      </button>
    </div>
  );
}
