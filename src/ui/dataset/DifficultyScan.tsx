// The data panel's difficulty scan (issue 29): "Scan difficulty" samples k completions per prompt in the worker
// (the loaded model, the config's temperature and rewards) with a progress line; or a scan JSONL is uploaded; the
// pass-rate histogram (10 bins over [0, 1]) and the band that sets pass_rate_band, with how many prompts it keeps.
// The scan is kept with the dataset and in this browser's storage (store/scan.ts), and downloadable.

import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { inBand, parseBand, passRateHistogram, SCAN_MAX_K } from '../../grpo/difficulty';
import { FileDrop, ProgressBar, formatDuration, saveFile } from '../common';
import { isBusy, useAppStore } from '../store';

/** The band presets: label and pass_rate_band (null: every prompt). */
export const BAND_PRESETS: { label: string; band: string | null }[] = [
  { label: 'all', band: null },
  { label: '0 < p < 1', band: '(0, 1)' },
  { label: '[0.2, 0.8]', band: '[0.2, 0.8]' },
];

export function DifficultyScan() {
  const status = useAppStore((s) => s.scanStatus);
  const scan = useAppStore((s) => s.scan);
  const progress = useAppStore((s) => s.scanProgress);
  const error = useAppStore((s) => s.scanError);
  const k = useAppStore((s) => s.scanK);
  const setK = useAppStore((s) => s.setScanK);
  const runScan = useAppStore((s) => s.runScan);
  const upload = useAppStore((s) => s.uploadScan);
  const forget = useAppStore((s) => s.forgetScan);
  const download = useAppStore((s) => s.downloadScan);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const modelReady = useAppStore((s) => s.modelStatus === 'ready');
  const temperature = useAppStore((s) => s.config.temperature);
  const datasetName = useAppStore((s) => s.datasetSummary?.name ?? 'dataset');
  const scanning = status === 'scanning';
  return (
    <section className="difficulty-scan" data-testid="difficulty-scan" data-state={status} style={{ marginTop: 'var(--s3)' }}>
      <h3 className="field-label">Which prompts: difficulty scan</h3>
      <p className="help">
        Samples k completions of every prompt with the loaded model (its base, no adapter) at the training temperature ({temperature}) and
        scores them with the rewards: a prompt's pass rate is the share its first reward gives full marks. Prompts always or never solved
        give GRPO no reward spread; keep a band below. The scan is kept with this dataset and model in this browser.
      </p>
      <div className="row" style={{ gap: 'var(--s2)', alignItems: 'center', flexWrap: 'wrap' }}>
        <label className="small">
          k{' '}
          <input type="number" min={1} max={SCAN_MAX_K} value={k} disabled={scanning} data-testid="scan-k" style={{ width: '5em' }}
            onChange={(e) => setK(Math.max(1, Math.min(SCAN_MAX_K, Math.round(Number(e.target.value) || 1))))} />
        </label>
        <button type="button" className="secondary" data-testid="scan-run" disabled={scanning || busy || !modelReady} onClick={() => void runScan()}>
          {scanning ? 'Scanning…' : 'Scan difficulty'}
        </button>
        {scan ? (
          <>
            <button type="button" className="secondary small" data-testid="scan-download" onClick={() => void download().then((t) => saveFile(`${datasetName.replace(/\.[^.]*$/, '')}.scan.jsonl`, t, 'application/jsonl'))}>Download scan</button>
            <button type="button" className="secondary small" data-testid="scan-forget" disabled={scanning || busy} onClick={() => void forget()}>Forget scan</button>
          </>
        ) : null}
      </div>
      {!modelReady ? <p className="help">Load a model to scan with it.</p> : null}
      {scanning ? (
        <div data-testid="scan-progress">
          <ProgressBar value={progress?.done ?? 0} max={progress?.total ?? null} label="difficulty scan" />
          <p className="small muted num">
            {progress ? `${progress.done} of ${progress.total} completions sampled · ${formatDuration(progress.ms)}` : 'starting…'}
          </p>
        </div>
      ) : null}
      {error ? <p className="callout callout-error mono wrap" role="alert" data-testid="scan-error">{error}</p> : null}
      <FileDrop testId="scan-drop" label="Or a scan file" hint="JSONL from grpo-playground scan or Download scan (key, k, pass_rate, reward_mean per prompt)." accept=".jsonl,.txt" disabled={scanning || busy}
        onFiles={(files) => void upload(files[0].path, files[0].file)} />
      {scan ? <ScanResult /> : null}
    </section>
  );
}

function ScanResult() {
  const scan = useAppStore((s) => s.scan)!;
  const band = useAppStore((s) => s.config.pass_rate_band);
  const setField = useAppStore((s) => s.setConfigField);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const [custom, setCustom] = useState(band ?? '');
  const rates = Array.from(scan.rates).filter((p) => !Number.isNaN(p));
  const unscanned = scan.rates.length - rates.length;
  const parsed = band === null ? null : parseBand(band);
  const kept = parsed === null ? scan.rates.length : typeof parsed === 'string' ? null : rates.filter((p) => inBand(p, parsed)).length;
  // each bin split into the prompts the band keeps and those it leaves out
  const inside = parsed === null || typeof parsed === 'string' ? rates : rates.filter((p) => inBand(p, parsed));
  const hIn = passRateHistogram(inside);
  const hAll = passRateHistogram(rates);
  const data = hAll.map((count, i) => ({
    label: i === 9 ? '0.9–1' : `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`,
    kept: hIn[i],
    out: count - hIn[i],
  }));
  const zero = rates.filter((p) => p === 0).length;
  const one = rates.filter((p) => p === 1).length;
  return (
    <div data-testid="scan-result">
      <figure className="histogram" data-testid="hist-pass-rate" aria-label={`pass rates of ${rates.length} prompts`}>
        <figcaption className="row-between">
          <span className="chart-title">Pass rate per prompt</span>
          <span className="muted small num" data-testid="scan-source">{scan.source} · {scan.records} records</span>
        </figcaption>
        <ResponsiveContainer width="100%" height={140}>
          <BarChart data={data} margin={{ top: 6, right: 8, bottom: 16, left: 0 }} barCategoryGap={1}>
            <CartesianGrid vertical={false} stroke="var(--grid)" />
            <XAxis dataKey="label" tick={{ fontSize: 10 }} interval={0} label={{ value: 'pass rate', position: 'insideBottom', offset: -8, fontSize: 11 }} />
            <YAxis width={40} tick={{ fontSize: 11 }} allowDecimals={false} />
            <Tooltip formatter={(v, name) => [String(v), name === 'kept' ? 'prompts kept' : 'prompts left out']} />
            <Bar dataKey="kept" stackId="p" fill="var(--accent)" isAnimationActive={false} />
            <Bar dataKey="out" stackId="p" fill="var(--muted)" fillOpacity={0.3} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
        <p className="small muted num" data-testid="scan-counts">
          {rates.length} prompts scanned: never solved {zero}, always solved {one}, in between {rates.length - zero - one}
          {unscanned ? `; ${unscanned} rows not in the scan` : ''}. Bars: prompts per pass-rate bin, coloured where the band keeps them.
        </p>
      </figure>
      <fieldset disabled={busy} data-testid="band-choices" style={{ border: 0, padding: 0, margin: 'var(--s2) 0 0' }}>
        <legend className="field-label">Keep prompts whose pass rate p is (pass_rate_band)</legend>
        {BAND_PRESETS.map((b) => (
          <label key={b.label} className="small" style={{ marginRight: 'var(--s3)' }}>
            <input type="radio" name="pass-rate-band" checked={band === b.band} onChange={() => { setField('pass_rate_band', b.band); setCustom(b.band ?? ''); }} /> {b.label}
          </label>
        ))}
        <label className="small">
          custom{' '}
          <input type="text" data-testid="band-custom" placeholder="(0.1, 0.9]" value={custom} style={{ width: '8em' }}
            onChange={(e) => {
              setCustom(e.target.value);
              const t = e.target.value.trim();
              setField('pass_rate_band', t === '' ? null : t);
            }} />
        </label>
      </fieldset>
      <p className="small" data-testid="band-kept">
        {typeof parsed === 'string'
          ? <span className="warn-text">pass_rate_band: {parsed}</span>
          : parsed === null
            ? `All ${scan.rates.length} prompts train (no band).`
            : `The band ${band} keeps ${kept} of ${scan.rates.length} prompts (before the eval split is held out).`}
      </p>
    </div>
  );
}
