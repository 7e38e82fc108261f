// An optional separate test file for evaluation, in the Data panel: when given, every row of the dataset
// trains and held-out accuracy is measured on this file (rows the run never saw in any form).

import { FileDrop } from '../common';
import { isBusy, useAppStore } from '../store';

export function EvalFilePicker() {
  const evalFile = useAppStore((s) => s.evalFile);
  const status = useAppStore((s) => s.evalFileStatus);
  const error = useAppStore((s) => s.evalFileError);
  const setFile = useAppStore((s) => s.setEvalFile);
  const clear = useAppStore((s) => s.clearEvalFile);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  return (
    <div className="eval-file" data-testid="eval-file">
      <FileDrop
        testId="eval-file-drop"
        label={evalFile ? `Test file: ${evalFile.name} (${evalFile.rows} rows)` : 'Optional: a separate test file for evaluation'}
        hint="Same format as the dataset. With a test file the whole dataset trains and held-out pass@1 is measured on the test file (eval_split is then unused)."
        accept=".jsonl,.json,.csv,.tsv,.txt"
        disabled={busy || status === 'loading'}
        onFiles={(files) => void files[0].file.arrayBuffer().then((b) => setFile(files[0].path, new Uint8Array(b)))}
      />
      {evalFile ? (
        <button type="button" className="secondary small" disabled={busy} onClick={() => void clear()} data-testid="eval-file-clear">
          Use eval_split instead
        </button>
      ) : null}
      {error ? (
        <p className="callout callout-error mono wrap" role="alert" data-testid="eval-file-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}
