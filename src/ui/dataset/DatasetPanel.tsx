// Step 2: the data. A demo dataset (selected when the page opens), a JSONL / JSON / CSV / parquet file
// picked or dropped, or a dataset by Hub id (../hub/HubDatasetChoice.tsx); the worker parses it and reports counts, a preview, the columns (mapped to prompt and answer
// here) and every bad row with its line. Token-length histograms show what the configured maxima cut.

import { BUILTIN_MODEL, DEMO_DATASETS } from '../../demo/builtin';
import { FileDrop, Panel, ProgressBar } from '../common';
import { useAppStore, isBusy } from '../store';
import { evalRowCount } from './histogram';
import { LengthHistogram } from './LengthHistogram';
import { DifficultyScan } from './DifficultyScan';
import { HubDatasetChoice } from '../hub/HubDatasetChoice';
import { EvalFilePicker } from '../runs/EvalFilePicker';

const PREVIEW_SHOWN = 5;
const ISSUES_SHOWN = 50;

export function DatasetPanel() {
  const source = useAppStore((s) => s.datasetSource);
  const selectDemo = useAppStore((s) => s.selectDemoDataset);
  const upload = useAppStore((s) => s.uploadDataset);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  return (
    <Panel id="dataset" title="Data" step={2}>
      <fieldset className="choices" disabled={busy}>
        <legend className="field-label">Demo datasets</legend>
        {DEMO_DATASETS.map((d) => (
          <label key={d.id} className={`choice-card ${source?.kind === 'demo' && source.id === d.id ? 'choice-card-on' : ''}`}>
            <input type="radio" name="dataset" value={d.id} checked={source?.kind === 'demo' && source.id === d.id} onChange={() => void selectDemo(d.id)} />
            <span>
              <strong>{d.name}</strong>
              {d.model !== BUILTIN_MODEL.name ? <span className="tag small"> for {d.model}{d.tools ? ', with a tool' : ''}</span> : null}
              {d.algorithm ? <span className="tag small"> {d.algorithm.toUpperCase()}: preference pairs</span> : null}
              <span className="muted small block">{d.description}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <FileDrop
        testId="dataset-drop"
        label={source?.kind === 'file' ? `Your file: ${source.name}` : 'Or your own file'}
        hint="JSONL, JSON, CSV or parquet with a prompt and an answer column (DPO, SimPO, ORPO: prompt, chosen, rejected; KTO: prompt, completion, label)."
        accept=".jsonl,.json,.csv,.tsv,.txt,.parquet,.zip"
        disabled={busy}
        // the File itself goes to the engine worker, which reads and parses it in chunks: the page never
        // holds or copies the bytes, so a 100 MB file does not stall it
        onFiles={(files) => void upload(files[0].path, files[0].file)}
      />
      <HubDatasetChoice disabled={busy} />
      <DatasetStatus />
      <EvalFilePicker />
    </Panel>
  );
}

function DatasetStatus() {
  const status = useAppStore((s) => s.datasetStatus);
  const error = useAppStore((s) => s.datasetError);
  const summary = useAppStore((s) => s.datasetSummary);
  return (
    <div className="status-block" data-testid="dataset-status" data-state={status}>
      {status === 'loading' ? <DatasetProgress /> : null}
      {error ? (
        <div className="callout callout-error" role="alert" data-testid="dataset-error">
          <h3>The file could not be read</h3>
          <p className="mono wrap">{error}</p>
        </div>
      ) : null}
      {summary && status === 'ready' ? (
        <>
          <DatasetCounts />
          <ColumnMapping />
          <DatasetIssues />
          <DatasetPreview />
          <TokenHistograms />
          {summary.kind === undefined ? <DifficultyScan /> : null}
        </>
      ) : null}
    </div>
  );
}

function megabytes(n: number): string {
  return `${(n / 1e6).toLocaleString('en-US', { maximumFractionDigits: n < 1e7 ? 1 : 0 })} MB`;
}

function DatasetProgress() {
  const progress = useAppStore((s) => s.datasetProgress);
  const fraction = progress && progress.total > 0 ? progress.bytes / progress.total : null;
  return (
    <div className="dataset-progress" data-testid="dataset-progress">
      <p className="muted" role="status">
        Reading the dataset…
        {progress && fraction !== null ? ` ${megabytes(progress.bytes)} of ${megabytes(progress.total)} (${Math.floor(fraction * 100)}%)` : null}
      </p>
      <ProgressBar value={progress?.bytes ?? 0} max={progress?.total ?? null} label="Dataset read so far" testId="dataset-progress-bar" />
    </div>
  );
}

function DatasetCounts() {
  const summary = useAppStore((s) => s.datasetSummary)!;
  const evalSplit = useAppStore((s) => s.config.eval_split);
  const evalMax = useAppStore((s) => s.config.eval_max_samples);
  const c = summary.counts;
  const nEval = evalRowCount(c.kept, evalSplit);
  return (
    <dl className="stats" data-testid="dataset-counts">
      <div>
        <dt>Rows</dt>
        <dd data-testid="rows-kept">{c.kept.toLocaleString('en-US')}</dd>
      </div>
      <div>
        <dt>Train</dt>
        <dd>{(c.kept - nEval).toLocaleString('en-US')}</dd>
      </div>
      <div>
        <dt>Eval</dt>
        <dd title={`eval_split ${evalSplit}; each evaluation uses at most ${evalMax} of them`}>{nEval.toLocaleString('en-US')}</dd>
      </div>
      <div className={c.invalid ? 'stat-bad' : ''}>
        <dt>Invalid</dt>
        <dd data-testid="rows-invalid">{c.invalid.toLocaleString('en-US')}</dd>
      </div>
      {c.duplicate ? (
        <div>
          <dt>Duplicates</dt>
          <dd>{c.duplicate.toLocaleString('en-US')}</dd>
        </div>
      ) : null}
      {c.empty ? (
        <div>
          <dt>Empty</dt>
          <dd>{c.empty.toLocaleString('en-US')}</dd>
        </div>
      ) : null}
      <div>
        <dt>Format</dt>
        <dd className="upper">{summary.format}</dd>
      </div>
    </dl>
  );
}

function ColumnMapping() {
  const summary = useAppStore((s) => s.datasetSummary)!;
  const setMapping = useAppStore((s) => s.setColumnMapping);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const { columns, mapping } = summary;
  if (columns.length === 0) return null;
  const names = { prompt: 'Prompt', answer: mapping.rejected !== undefined ? 'Chosen' : mapping.label !== undefined ? 'Completion' : 'Answer', rejected: 'Rejected', label: 'Label' };
  const select = (role: 'prompt' | 'answer' | 'rejected' | 'label') => mapping[role] === undefined ? null : (
    <label className="field inline-field">
      <span className="field-label">{names[role]} column</span>
      <select
        className="input"
        value={mapping[role]}
        disabled={busy}
        onChange={(e) => void setMapping({ ...mapping, [role]: e.target.value })}
        data-testid={`map-${role}`}
      >
        {columns.includes(mapping[role]!) ? null : <option value={mapping[role]}>{mapping[role]} (missing)</option>}
        {columns.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="mapping">
      {select('prompt')}
      {select('answer')}
      {select('rejected')}
      {select('label')}
    </div>
  );
}

function DatasetIssues() {
  const summary = useAppStore((s) => s.datasetSummary)!;
  const { issues, issuesOmitted } = summary;
  if (issues.length === 0) return null;
  const more = issues.length - ISSUES_SHOWN + issuesOmitted;
  return (
    <div className="callout callout-warn" role="alert" data-testid="dataset-issues">
      <h3>
        {issues.length + issuesOmitted} row{issues.length + issuesOmitted === 1 ? '' : 's'} not used
      </h3>
      <ul className="issues">
        {issues.slice(0, ISSUES_SHOWN).map((i, k) => (
          <li key={k} className="issue">
            <span className="issue-line mono">{summary.format === 'parquet' ? 'row' : 'line'} {i.line}</span>
            <span className="wrap">
              {i.field ? <span className="mono">{i.field}: </span> : null}
              {i.message}
            </span>
          </li>
        ))}
      </ul>
      {more > 0 ? <p className="muted small">… and {more} more.</p> : null}
    </div>
  );
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function DatasetPreview() {
  const summary = useAppStore((s) => s.datasetSummary)!;
  const rows = summary.preview.slice(0, PREVIEW_SHOWN);
  if (rows.length === 0) return null;
  const { prompt, answer, rejected, label } = summary.mapping;
  // a preference dataset: chosen and rejected (KTO: completion and label) in place of the answer
  const pair = rejected !== undefined;
  const unpaired = label !== undefined;
  const answerTitle = pair ? 'Chosen' : unpaired ? 'Completion' : 'Answer';
  const others = summary.columns.filter((c) => c !== prompt && c !== answer && c !== rejected && c !== label).slice(0, pair || unpaired ? 1 : 2);
  return (
    <div className="preview">
      <h3>First rows</h3>
      <div className="table-scroll">
        <table className="data-table" data-testid="dataset-preview">
          <thead>
            <tr>
              <th scope="col" className="num">
                {summary.format === 'parquet' ? 'Row' : 'Line'}
              </th>
              <th scope="col">
                Prompt {prompt !== 'prompt' ? <span className="muted mono small">{prompt}</span> : null}
              </th>
              <th scope="col">
                {answerTitle} {answer !== answerTitle.toLowerCase() ? <span className="muted mono small">{answer}</span> : null}
              </th>
              {pair ? (
                <th scope="col">
                  Rejected {rejected !== 'rejected' ? <span className="muted mono small">{rejected}</span> : null}
                </th>
              ) : null}
              {unpaired ? <th scope="col">Label</th> : null}
              {others.map((c) => (
                <th scope="col" key={c} className="mono small">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.line}>
                <td className="num muted">{r.line}</td>
                <td className="cell-text">{r.prompt}</td>
                <td className="cell-text">{r.answer}</td>
                {pair ? <td className="cell-text">{r.rejected}</td> : null}
                {unpaired ? <td className="mono small">{r.label ? 'desirable' : 'undesirable'}</td> : null}
                {others.map((c) => (
                  <td key={c} className="cell-text muted">
                    {cell(r.raw[c])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function TokenHistograms() {
  const lengths = useAppStore((s) => s.tokenLengths);
  const maxPrompt = useAppStore((s) => s.config.max_prompt_length);
  const maxCompletion = useAppStore((s) => s.config.max_completion_length);
  const kind = useAppStore((s) => s.datasetSummary?.kind);
  const modelReady = useAppStore((s) => s.modelStatus === 'ready');
  if (!lengths) return modelReady ? null : <p className="help">Token lengths appear once a model is loaded (they depend on its tokenizer).</p>;
  return (
    <div className="histograms">
      <LengthHistogram title="Prompt tokens" lengths={lengths.prompt} limit={maxPrompt} limitName="max_prompt_length" testId="hist-prompt" />
      <LengthHistogram title={lengths.rejected ? 'Chosen tokens' : kind === 'unpaired' ? 'Completion tokens' : 'Answer tokens'} lengths={lengths.answer} limit={maxCompletion} limitName="max_completion_length" testId="hist-answer" />
      {lengths.rejected ? <LengthHistogram title="Rejected tokens" lengths={lengths.rejected} limit={maxCompletion} limitName="max_completion_length" testId="hist-rejected" /> : null}
    </div>
  );
}
