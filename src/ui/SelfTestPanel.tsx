// The kernel self-test: every WGSL kernel against its CPU reference on random inputs, run by the engine
// worker on this machine's GPU. Each check's cases appear as they finish; the summary line comes last. A check
// this device cannot run (e.g. a variant needing shader-f16) shows as "untested here", never as passed.

import type { CaseResult } from '../selftest/check';
import type { KernelCheckResult } from '../worker/protocol';
import { useAppStore } from './store';

function formatErr(x: number): string {
  if (Number.isNaN(x)) return '—';
  if (!Number.isFinite(x)) return '∞';
  return x === 0 ? '0' : x.toExponential(2);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function SelfTestPanel() {
  const adapterStatus = useAppStore((s) => s.adapter.status);
  const adapterReady = adapterStatus === 'ready';
  const status = useAppStore((s) => s.selfTestStatus);
  const runSelfTest = useAppStore((s) => s.runSelfTest);
  const running = status === 'running';
  return (
    <section className="panel" aria-labelledby="selftest-title" data-testid="selftest-panel">
      <div className="panel-head">
        <div>
          <h2 id="selftest-title">Kernel self-test</h2>
          <p className="muted" id="selftest-about">
            Runs every WGSL kernel on this GPU and compares it with its CPU reference on random inputs.
          </p>
        </div>
        <button
          type="button"
          className="primary"
          onClick={() => void runSelfTest()}
          disabled={!adapterReady || running}
          aria-describedby="selftest-about"
          aria-busy={running}
        >
          {running ? 'Running…' : 'Run kernel self-test'}
        </button>
      </div>
      {adapterStatus === 'unavailable' || adapterStatus === 'error' ? (
        <p className="summary">The self-test needs a WebGPU adapter: see the GPU adapter panel.</p>
      ) : null}
      <SelfTestStatusLine />
      <SelfTestResults />
    </section>
  );
}

function SelfTestStatusLine() {
  const status = useAppStore((s) => s.selfTestStatus);
  const results = useAppStore((s) => s.selfTestResults);
  const runningKernel = useAppStore((s) => s.selfTestRunning);
  const summary = useAppStore((s) => s.selfTestSummary);
  const error = useAppStore((s) => s.selfTestError);
  if (status === 'error') {
    return (
      <div className="callout callout-error" role="alert" data-testid="selftest-error">
        <h3>The self-test stopped</h3>
        <p className="mono">{error}</p>
      </div>
    );
  }
  if (status === 'done' && summary) {
    const allPassed = summary.passed === summary.checks;
    return (
      <p className={`summary ${allPassed ? 'summary-ok' : 'summary-fail'}`} role="status">
        <strong data-testid="selftest-summary">
          {summary.passed} of {summary.checks} kernel checks passed
        </strong>
        <span className="muted">
          {' '}
          · {summary.casesPassed} of {summary.cases} cases · {formatMs(summary.ms)}
        </span>
        {allPassed ? null : <span className="summary-failed"> · failed: {summary.failed.join(', ')}</span>}
        {summary.skipped?.length ? (
          <span className="muted" data-testid="selftest-skipped" title={summary.skipped.join(', ')}>
            {' '}
            · {summary.skipped.length} untested here (this device cannot run them)
          </span>
        ) : null}
      </p>
    );
  }
  if (status === 'running') {
    const total = results[0]?.total;
    return (
      <p className="summary" role="status">
        Running <span className="mono">{runningKernel ?? 'the first check'}</span>
        {total === undefined ? '' : ` · ${results.length} of ${total} checks done`}
      </p>
    );
  }
  return null;
}

function SelfTestResults() {
  const results = useAppStore((s) => s.selfTestResults);
  if (results.length === 0) return null;
  return (
    <ol className="kernels" aria-label="Kernel check results">
      {results.map((r) => (
        <KernelResult key={r.index} result={r} />
      ))}
    </ol>
  );
}

function KernelResult({ result }: { result: KernelCheckResult }) {
  const passed = result.cases.filter((c) => c.ok && !c.skipped).length;
  const maxErr = Math.max(0, ...result.cases.filter((c) => !Number.isNaN(c.maxAbsErr)).map((c) => c.maxAbsErr));
  const skipped = result.skipped !== undefined;
  // Passing and skipped checks start folded to one line, failing ones open at their mismatches.
  return (
    <li
      className={`kernel ${skipped ? 'kernel-skipped' : result.ok ? 'kernel-ok' : 'kernel-fail'}`}
      data-testid="kernel-result"
      data-ok={skipped ? 'skipped' : result.ok}
    >
      <details open={!result.ok}>
        <summary className="kernel-head">
          <span className="mono kernel-name">{result.kernel}</span>
          <Verdict ok={result.ok} skipped={skipped} />
          <span className="muted kernel-meta">
            {skipped
              ? `untested here: ${result.skipped}`
              : `${passed} of ${result.cases.length} cases · max |err| ${formatErr(maxErr)} · ${formatMs(result.ms)}`}
          </span>
        </summary>
        <table className="cases">
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Result</th>
              <th scope="col" className="num">
                max |err|
              </th>
            </tr>
          </thead>
          <tbody>
            {result.cases.map((c, i) => (
              <CaseRow key={i} c={c} kernel={result.kernel} />
            ))}
          </tbody>
        </table>
      </details>
    </li>
  );
}

function CaseRow({ c, kernel }: { c: CaseResult; kernel: string }) {
  // A check may cover several kernels (e.g. a forward and its in-place variant): name the other ones.
  const label = c.kernel === kernel ? c.case : `${c.kernel} · ${c.case}`;
  return (
    <>
      <tr data-ok={c.skipped ? 'skipped' : c.ok}>
        <td className="mono">{label}</td>
        <td>
          <Verdict ok={c.ok} skipped={c.skipped !== undefined} />
        </td>
        <td className="num mono">{formatErr(c.maxAbsErr)}</td>
      </tr>
      {c.mismatches.length > 0 ? (
        <tr className="mismatches">
          <td colSpan={3}>
            <ul aria-label={`First mismatches of ${label}`}>
              {c.mismatches.map((m, i) => (
                <li key={i} className="mono">
                  {m}
                </li>
              ))}
            </ul>
          </td>
        </tr>
      ) : null}
    </>
  );
}

function Verdict({ ok, skipped = false }: { ok: boolean; skipped?: boolean }) {
  if (skipped && ok) return <span className="tag tag-skip">untested</span>;
  return <span className={`tag ${ok ? 'tag-ok' : 'tag-fail'}`}>{ok ? 'pass' : 'fail'}</span>;
}
