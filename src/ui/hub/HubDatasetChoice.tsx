// A dataset by its Hub id: "List splits" asks the Hub for its parquet files per config and split (every
// Hub dataset is converted to parquet), the person picks a config and a split, and "Load" downloads that
// split's files (into the cache, resumably) and hands them to the engine worker, which reads them with
// hyparquet like any uploaded file (same preview, column mapping and row issues). A split of several
// files goes as one .zip of them.

import { useState } from 'react';
import { bundleParquetFiles } from '../../data';
import { dataBytes } from '../../hub/cache';
import { chooseSplit, fetchSplit, listParquet, type ParquetListing } from '../../hub/dataset';
import { formatSize } from '../../hub/download';
import { parseDatasetSpec } from '../../hub/repo_id';
import { ProgressBar } from '../common';
import { useAppStore } from '../store';
import { HubSettingsFields } from './HubSettingsFields';
import { hubContext, useHubSettings } from './settings';

export function HubDatasetChoice({ disabled }: { disabled: boolean }) {
  const upload = useAppStore((s) => s.uploadDataset);
  const [text, setText] = useState('');
  const [listing, setListing] = useState<{ repo: string; splits: ParquetListing } | null>(null);
  const [config, setConfig] = useState('');
  const [split, setSplit] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ file: string; loaded: number; size: number | null } | null>(null);

  const list = async () => {
    setListing(null);
    setProblem(null);
    setBusy('Listing…');
    try {
      const spec = parseDatasetSpec(text);
      const { client } = await hubContext();
      const splits = await listParquet(client, spec.repo);
      const configs = Object.keys(splits);
      const c = spec.config && splits[spec.config] ? spec.config : configs.includes('default') ? 'default' : configs[0];
      const names = Object.keys(splits[c]);
      setListing({ repo: spec.repo, splits });
      setConfig(c);
      setSplit(spec.split && splits[c][spec.split] ? spec.split : names.includes('train') ? 'train' : names[0]);
      // a config or split that was asked for by name and is not there is said, with what there is
      if (spec.config || spec.split) chooseSplit(splits, spec);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  };

  const load = async () => {
    if (!listing) return;
    setProblem(null);
    setBusy('Downloading…');
    try {
      const { client, cache } = await hubContext();
      const choice = chooseSplit(listing.splits, { repo: listing.repo, config, split });
      const files = await fetchSplit(client, cache, choice, (p) => setProgress({ file: `${p.file.path} (${p.filesDone + 1} of ${p.files})`, loaded: p.file.loaded, size: p.file.size }));
      const base = `${listing.repo.slice(listing.repo.indexOf('/') + 1)}-${config}-${split}`;
      if (files.length === 1) {
        const f = files[0].data;
        await upload(`${base}.parquet`, f);
      } else {
        const parts = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await dataBytes(f.data) })));
        await upload(`${base}.parquet.zip`, bundleParquetFiles(parts));
      }
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
      setProgress(null);
      useHubSettings.getState().cacheChanged();
    }
  };

  const configs = listing ? Object.keys(listing.splits) : [];
  const splits = listing && listing.splits[config] ? Object.keys(listing.splits[config]) : [];
  return (
    <div className="choice hub-dataset" data-testid="hub-dataset">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void list();
        }}
      >
        <label className="field-label" htmlFor="hub-dataset-id">
          Or a dataset on the Hub
        </label>
        <div className="row-between gap">
          <input
            id="hub-dataset-id"
            className="input mono"
            placeholder="openai/gsm8k"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
          <button type="submit" className="secondary" disabled={disabled || busy !== null || text.trim() === ''}>
            List splits
          </button>
        </div>
      </form>
      {listing ? (
        <div className="row-between gap hub-split" data-testid="hub-dataset-splits">
          <label className="field inline-field">
            <span className="field-label">Config</span>
            <select
              className="input"
              value={config}
              onChange={(e) => {
                setConfig(e.target.value);
                const names = Object.keys(listing.splits[e.target.value]);
                setSplit(names.includes('train') ? 'train' : names[0]);
              }}
            >
              {configs.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </label>
          <label className="field inline-field">
            <span className="field-label">Split</span>
            <select className="input" value={split} onChange={(e) => setSplit(e.target.value)}>
              {splits.map((s) => (
                <option key={s} value={s}>
                  {s} ({listing.splits[config][s].length} file{listing.splits[config][s].length === 1 ? '' : 's'})
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="secondary" disabled={disabled || busy !== null} onClick={() => void load()}>
            Load {config}/{split}
          </button>
        </div>
      ) : null}
      {busy && progress ? (
        <div className="download" aria-live="polite">
          <div className="row-between">
            <span className="mono ellipsis">{progress.file}</span>
            <span className="muted num">
              {formatSize(progress.loaded)}
              {progress.size ? ` of ${formatSize(progress.size)}` : ''}
            </span>
          </div>
          <ProgressBar value={progress.loaded} max={progress.size} label="Downloading the dataset" testId="hub-dataset-progress" />
        </div>
      ) : null}
      {problem ? (
        <div className="callout callout-error" role="alert" data-testid="hub-dataset-error">
          <p className="mono wrap">{problem}</p>
        </div>
      ) : null}
      <HubSettingsFields idPrefix="hub-dataset" />
    </div>
  );
}
