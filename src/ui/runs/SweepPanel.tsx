// Sweeps in the page: a setting and its values, or a set of presets, and seeds; the runs are queued on
// the loaded model and data and trained one after another (surviving a reload). The summary per arm is
// the CLI's (held-out pass@1 best and last, reward, gap, KL, time as mean ± std over seeds), with a chart
// of the final metric per swept value; the spec (the JSON `grpo-playground sweep` reads), the HTML report
// and CSV export from here.

import { useMemo, useState } from 'react';
import { FileDrop, saveFile } from '../common';
import { isBusy, startBlocker, useAppStore } from '../store';
import { CONFIG_KEYS, CONFIG_DOCS, type GrpoConfig } from '../../grpo/config';
import { PRESETS } from '../../grpo/presets';
import { parseSweepSpec, type SweepDimension } from '../../experiments/spec';
import { formatStat, summaryToCsv } from '../../experiments/summary';
import { armChartSvg } from '../../experiments/svg_chart';
import { errorMessage } from '../store/engine';
import { continueSweep, discardSweep, pauseSweep, startSweep } from './sweep_runner';
import { specFromPage, sweepReport, sweepSummary } from './sweep_view';
import { RunsPanel } from './RunsPanel';
import './runs.css';

const store = () => useAppStore;

/** "1, 2, 3" -> [1, 2, 3] (null when a part is not a whole number). */
function parseSeeds(text: string): number[] | null {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const nums = parts.map(Number);
  return parts.length && nums.every((n) => Number.isInteger(n) && n >= 0) ? nums : null;
}

/** "0.001, 0.003" -> numbers, true/false -> booleans, anything else a string. */
function parseValues(text: string): unknown[] {
  return text.split(',').map((t) => t.trim()).filter(Boolean).map((t) => (t === 'true' ? true : t === 'false' ? false : t === 'null' ? null : Number.isFinite(Number(t)) ? Number(t) : t));
}

const SWEEPABLE = CONFIG_KEYS.filter((k) => k !== 'seed' && k !== 'max_steps' && k !== 'reward_funcs' && k !== 'lora_target_modules');

function SweepDesigner() {
  const config = useAppStore((s) => s.config);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const blocker = useAppStore((s) => startBlocker(s));
  const sweep = useAppStore((s) => s.sweep);
  const [mode, setMode] = useState<'presets' | 'setting'>('presets');
  const [presets, setPresets] = useState<string[]>(['grpo', 'dr_grpo', 'dapo']);
  const [setting, setSetting] = useState<keyof GrpoConfig>('learning_rate');
  const [values, setValues] = useState('0.001, 0.003');
  const [seedsText, setSeedsText] = useState('1, 2');
  const [steps, setSteps] = useState(String(config.max_steps));
  const [name, setName] = useState('sweep');
  const [problem, setProblem] = useState<string | null>(null);
  const seeds = parseSeeds(seedsText);
  const stepsN = Number(steps);
  const dimension: SweepDimension = mode === 'presets' ? { presets } : { setting, values: parseValues(values) };
  const arms = mode === 'presets' ? presets.length : parseValues(values).length;
  const make = () => specFromPage(useAppStore.getState(), name.trim() || 'sweep', dimension, seeds ?? [], stepsN);
  const ok = seeds && arms > 0 && Number.isInteger(stepsN) && stepsN >= 1;
  const start = async () => {
    setProblem(null);
    try {
      const spec = parseSweepSpec(JSON.parse(JSON.stringify(make())), 'the sweep');
      await startSweep(store(), spec);
    } catch (e) {
      setProblem(errorMessage(e));
    }
  };
  const active = sweep && sweep.state !== 'finished';
  return (
    <div className="sweep-designer" data-testid="sweep-designer">
      <div className="sweep-form">
        <label className="field-inline small">
          name <input className="input" value={name} onChange={(e) => setName(e.target.value)} data-testid="sweep-name" />
        </label>
        <fieldset className="choices-inline">
          <legend className="small">sweep over</legend>
          <label className="check small">
            <input type="radio" name="sweep-mode" checked={mode === 'presets'} onChange={() => setMode('presets')} /> presets
          </label>
          <label className="check small">
            <input type="radio" name="sweep-mode" checked={mode === 'setting'} onChange={() => setMode('setting')} data-testid="sweep-mode-setting" /> a setting
          </label>
        </fieldset>
        {mode === 'presets' ? (
          <div className="choices-inline" data-testid="sweep-presets">
            {PRESETS.map((p) => (
              <label key={p.id} className="check small" title={p.description}>
                <input type="checkbox" checked={presets.includes(p.id)} onChange={(e) => setPresets(e.target.checked ? PRESETS.map((x) => x.id).filter((x) => x === p.id || presets.includes(x)) : presets.filter((x) => x !== p.id))} />
                {p.name}
              </label>
            ))}
          </div>
        ) : (
          <div className="choices-inline">
            <select className="input" value={setting} onChange={(e) => setSetting(e.target.value as keyof GrpoConfig)} data-testid="sweep-setting" title={CONFIG_DOCS[setting].doc}>
              {SWEEPABLE.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
            <input className="input mono" value={values} onChange={(e) => setValues(e.target.value)} aria-label="Values, comma-separated" data-testid="sweep-values" />
          </div>
        )}
        <label className="field-inline small">
          seeds <input className="input mono" value={seedsText} onChange={(e) => setSeedsText(e.target.value)} aria-invalid={!seeds || undefined} data-testid="sweep-seeds" />
        </label>
        <label className="field-inline small">
          steps per run <input className="input mono" value={steps} onChange={(e) => setSteps(e.target.value)} data-testid="sweep-steps" />
        </label>
      </div>
      <p className="small muted">
        {ok ? `${arms} arm${arms === 1 ? '' : 's'} × ${seeds!.length} seed${seeds!.length === 1 ? '' : 's'} = ${arms * seeds!.length} runs of ${stepsN} steps, one after another, on the loaded model and data with the current settings as the base.` : 'Give at least one arm, whole-number seeds and steps.'}
      </p>
      <div className="button-row">
        <button type="button" className="primary" disabled={!ok || busy || !!blocker || !!active} onClick={() => void start()} data-testid="sweep-start" title={blocker ?? (active ? 'A sweep is queued: finish or discard it first' : '')}>
          Queue and start
        </button>
        <button type="button" className="secondary" disabled={!ok} onClick={() => saveFile(`${name || 'sweep'}.sweep.json`, JSON.stringify(make(), null, 2) + '\n', 'application/json')} data-testid="sweep-export-spec">
          Export spec
        </button>
        <FileDrop
          testId="sweep-import"
          label="Run a spec file"
          hint="A sweep spec (.json), as exported here or written for the CLI; its model and data must be the loaded ones."
          accept=".json"
          disabled={busy || !!active}
          onFiles={(files) =>
            void files[0].file.text().then(async (t) => {
              setProblem(null);
              try {
                const spec = parseSweepSpec(t, files[0].path);
                await startSweep(store(), spec);
              } catch (e) {
                setProblem(errorMessage(e));
              }
            })
          }
        />
      </div>
      {problem ? (
        <p className="callout callout-error mono wrap" role="alert" data-testid="sweep-problem">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

function SweepStatus() {
  const sweep = useAppStore((s) => s.sweep);
  const library = useAppStore((s) => s.libraryRuns);
  const setSelection = useAppStore((s) => s.setRunSelection);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const records = useMemo(() => library.map((e) => e.run), [library]);
  const view = useMemo(() => (sweep ? sweepSummary(sweep, records) : null), [sweep, records]);
  if (!sweep || !view) return null;
  const { summary } = view;
  const done = sweep.runs.filter((r) => r.status === 'done').length;
  const chart = armChartSvg({
    title: `Last held-out pass@1 by ${'presets' in sweep.spec.sweep ? 'preset' : sweep.spec.sweep.setting}`,
    yLabel: 'pass@1',
    percent: true,
    arms: summary.arms.map((a) => ({ name: 'presets' in sweep.spec.sweep ? a.arm : String(a.value), ...a.pass_last })),
  });
  const ids = sweep.runs.map((r) => r.recordId).filter((x): x is string => !!x);
  return (
    <div className="sweep-status" data-testid="sweep-status" data-state={sweep.state} data-done={done} data-total={sweep.runs.length}>
      <div className="panel-head">
        <h3>
          {sweep.spec.name}: {done} of {sweep.runs.length} runs done ({sweep.state})
        </h3>
        <div className="button-row">
          {sweep.state === 'running' ? (
            <button type="button" className="secondary small" onClick={() => pauseSweep(store())} data-testid="sweep-pause">
              Pause sweep
            </button>
          ) : sweep.state === 'paused' ? (
            <button type="button" className="secondary small" disabled={busy} onClick={() => void continueSweep(store())} data-testid="sweep-continue">
              Continue
            </button>
          ) : null}
          <button type="button" className="secondary small" disabled={ids.length === 0} onClick={() => setSelection(ids)} data-testid="sweep-overlay">
            Overlay its runs
          </button>
          <button type="button" className="secondary small" onClick={() => saveFile(`${sweep.spec.name}-report.html`, sweepReport(sweep, records), 'text/html')} data-testid="sweep-report">
            Report (HTML)
          </button>
          <button type="button" className="secondary small" onClick={() => saveFile(`${sweep.spec.name}-summary.csv`, summaryToCsv(summary), 'text/csv')} data-testid="sweep-csv">
            CSV
          </button>
          <button type="button" className="secondary small" onClick={() => saveFile(`${sweep.spec.name}.sweep.json`, JSON.stringify(sweep.spec, null, 2) + '\n', 'application/json')}>
            Spec
          </button>
          <button type="button" className="secondary small" disabled={busy} onClick={() => discardSweep(store())} data-testid="sweep-discard">
            Close
          </button>
        </div>
      </div>
      {sweep.note ? <p className="callout callout-warn small">{sweep.note}</p> : null}
      <ol className="sweep-queue small">
        {sweep.runs.map((r) => (
          <li key={r.name} data-status={r.status}>
            <span className="mono">{r.name}</span> <span className={`tag ${r.status === 'done' ? 'tag-ok' : r.status === 'failed' ? 'tag-fail' : ''}`}>{r.status}</span>
            {r.error ? <span className="small"> {r.error}</span> : null}
          </li>
        ))}
      </ol>
      <div className="table-scroll">
        <table className="sweep-summary" data-testid="sweep-summary">
          <thead>
            <tr>
              <th>arm</th>
              <th>runs</th>
              <th>pass@1 before</th>
              <th>pass@1 best</th>
              <th>pass@1 last</th>
              <th>reward (last {summary.final_window} steps)</th>
              <th>reward − held-out</th>
              <th>KL</th>
              <th>time (s)</th>
            </tr>
          </thead>
          <tbody>
            {summary.arms.map((a) => (
              <tr key={a.arm} data-testid="sweep-arm" data-arm={a.arm} data-pass-last={a.pass_last.mean ?? ''} data-pass-best={a.pass_best.mean ?? ''} data-reward={a.reward_final.mean ?? ''} data-reward-std={a.reward_final.std ?? ''}>
                <th className="mono">{a.arm}</th>
                <td className="num">{a.runs.length}</td>
                <td className="num">{formatStat(a.pass_before, 3, true)}</td>
                <td className="num">{formatStat(a.pass_best, 3, true)}</td>
                <td className="num">{formatStat(a.pass_last, 3, true)}</td>
                <td className="num">{formatStat(a.reward_final)}</td>
                <td className="num">{formatStat(a.gap)}</td>
                <td className="num">{formatStat(a.kl_final, 4)}</td>
                <td className="num">{formatStat(a.wall_time_s, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {/* our own SVG string (every text escaped), drawn as an image so no markup is injected */}
      <img className="sweep-chart" alt={`Last held-out pass@1 by arm`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(chart)}`} data-testid="sweep-chart" />
    </div>
  );
}

export function ExperimentsPanel() {
  const [tab, setTab] = useState<'runs' | 'sweep'>('runs');
  const sweep = useAppStore((s) => s.sweep);
  return (
    <section className="panel experiments-panel" aria-labelledby="experiments-title" data-testid="experiments-panel">
      <div className="panel-head">
        <h2 id="experiments-title">Runs and sweeps</h2>
        <div className="tablist" role="tablist" aria-label="Runs and sweeps">
          <button type="button" role="tab" className="tab" aria-selected={tab === 'runs'} onClick={() => setTab('runs')} data-testid="tab-runs">
            Runs
          </button>
          <button type="button" role="tab" className="tab" aria-selected={tab === 'sweep'} onClick={() => setTab('sweep')} data-testid="tab-sweep">
            Sweep{sweep && sweep.state !== 'finished' ? ' •' : ''}
          </button>
        </div>
      </div>
      <div hidden={tab !== 'runs'}>
        <RunsPanel />
      </div>
      <div hidden={tab !== 'sweep'}>
        <SweepDesigner />
        <SweepStatus />
      </div>
    </section>
  );
}
