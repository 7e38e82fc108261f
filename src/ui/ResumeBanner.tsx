// The saved-run banner: when the page opens and this browser holds a run's checkpoint, it offers "Resume
// run from step N (model, dataset, saved at time)?" with Resume and Discard. Resuming loads the model and
// dataset again (asking for files the browser cannot fetch by itself), restores the checkpoint, redraws
// the metric history and continues training (store/run.ts).

import { useEffect } from 'react';
import type { FilePayload, SavedRunSummary } from '../worker/protocol';
import { FileDrop, formatDuration, type PickedFile } from './common';
import { useAppStore } from './store';

function payload(files: PickedFile[]): FilePayload[] {
  return files.map(({ path, file }) => (path === file.name || path === file.webkitRelativePath ? file : { name: path, blob: file }));
}

function modelLabel(m: SavedRunSummary['model']): string {
  if (m.kind === 'builtin') return `${m.modelName} (built-in)`;
  if (m.kind === 'url') return `${m.modelName} (from ${m.repo ?? m.input.split('\n')[0]})`;
  return `${m.modelName} (files ${m.files.map((f) => f.name.slice(f.name.lastIndexOf('/') + 1)).join(', ')})`;
}

function datasetLabel(d: SavedRunSummary['dataset']): string {
  return d.kind === 'demo' ? `demo dataset ${d.name}` : `dataset ${d.name}`;
}

export function ResumeBanner() {
  const saved = useAppStore((s) => s.savedRun);
  const resume = useAppStore((s) => s.resume);
  const check = useAppStore((s) => s.checkSavedRun);
  const resumeRun = useAppStore((s) => s.resumeSavedRun);
  const discard = useAppStore((s) => s.discardSavedRun);
  const giveModel = useAppStore((s) => s.provideResumeModelFiles);
  const giveDataset = useAppStore((s) => s.provideResumeDatasetFile);
  useEffect(() => {
    void check();
  }, [check]);
  if (!saved || resume.phase === 'none') return null;
  const working = resume.phase === 'working';
  const askModel = resume.phase === 'model-files';
  const askDataset = resume.phase === 'dataset-file';
  const problem = resume.phase === 'error' ? resume.message : askModel || askDataset ? resume.problem : undefined;
  const age = Date.now() - saved.savedAt;
  return (
    <section className="banner callout callout-warn" aria-label="Saved run" data-testid="resume-banner" data-phase={resume.phase}>
      <h3>
        {saved.finished ? `Reopen the finished run (step ${saved.step} of ${saved.maxSteps})?` : `Resume run from step ${saved.step} of ${saved.maxSteps}?`}
      </h3>
      <p data-testid="resume-details">
        {modelLabel(saved.model)}, {datasetLabel(saved.dataset)}, saved at {new Date(saved.savedAt).toLocaleString()}
        {age > 0 ? ` (${formatDuration(age)} ago)` : ''}.
      </p>
      {askModel ? (
        <FileDrop
          testId="resume-model-drop"
          label={`Pick the model files again: ${saved.model.files.map((f) => f.name.slice(f.name.lastIndexOf('/') + 1)).join(', ')}`}
          hint="The browser cannot reopen files from disk by itself; they are checked against the saved names and sizes."
          accept=".json,.safetensors,.bin,.jinja"
          multiple
          folder
          disabled={working}
          onFiles={(files) =>
            void giveModel(
              payload(files),
              files.map((f) => ({ name: f.path, size: f.file.size })),
              files.length === 1 ? files[0].path : (files[0].path.split('/').length > 1 ? files[0].path.split('/')[0] : `${files.length} files`),
            )
          }
        />
      ) : null}
      {askDataset ? (
        <FileDrop
          testId="resume-dataset-drop"
          label={`Pick the dataset again: ${saved.dataset.name}`}
          hint={`It was too large to keep in the browser; the run checks that its training prompts are the same (fingerprint ${saved.dataset.fingerprint}).`}
          accept=".jsonl,.json,.csv,.tsv,.txt"
          disabled={working}
          onFiles={(files) => void files[0].file.arrayBuffer().then((b) => giveDataset(files[0].path, new Uint8Array(b)))}
        />
      ) : null}
      {working ? (
        <p className="muted" role="status" data-testid="resume-working">
          {resume.doing}
        </p>
      ) : null}
      {problem ? (
        <div className="callout callout-error" role="alert" data-testid="resume-error">
          <p className="mono wrap">{problem}</p>
        </div>
      ) : null}
      <div className="run-buttons" style={{ marginTop: 'var(--s2)' }}>
        <button type="button" className="primary" onClick={() => void resumeRun()} disabled={working || askModel || askDataset}>
          {saved.finished ? 'Reopen' : 'Resume'}
        </button>
        <button type="button" className="secondary" onClick={() => void discard()} disabled={working}>
          Discard
        </button>
      </div>
    </section>
  );
}
