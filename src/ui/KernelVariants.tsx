// The GPU panel's kernel variants: whether autotuning is on (a page setting kept in IndexedDB, applied when
// the engine worker next starts), and which variant each matmul shape class runs with its measured GFLOP/s
// (src/gpu/autotune.ts). Software adapters always run the software kernels. Below, every matmul variant and
// whether this device can run it: one it cannot (a feature the adapter lacks, e.g. shader-f16) is marked
// "untested here" with the reason, never as checked (and that CI compiles it without running it).

import { useEffect, useState } from 'react';
import { clearAutotuneCache, readAutotuneSetting, writeAutotuneSetting } from '../gpu/autotune_idb';
import type { VariantAvailabilityRow } from '../gpu/kernels/matmul_availability';
import { useAppStore } from './store';

export function KernelVariants({ isSoftware, summary }: { isSoftware: boolean; summary?: string }) {
  const variants = useAppStore((s) => s.variants);
  const availability = useAppStore((s) => (s.adapter.status === 'ready' ? s.adapter.info.variantAvailability : undefined));
  const [on, setOn] = useState<boolean | null>(null);
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    readAutotuneSetting().then(setOn, () => setOn(null));
  }, []);
  const toggle = async (v: boolean) => {
    setOn(v);
    try {
      await writeAutotuneSetting(v);
      setNote('Applies when the page is next loaded.');
    } catch (e) {
      setNote(`Could not save the setting: ${(e as Error).message}`);
    }
  };
  const rows = variants ?? [];
  return (
    <div data-testid="kernel-variants">
      <h3>Kernel variants</h3>
      <p className="muted note" data-testid="autotune-summary">
        Autotune: {summary ?? (isSoftware ? 'software adapter: software kernels, never tuned' : 'starting')}
      </p>
      {!isSoftware ? (
        <p>
          <label>
            <input type="checkbox" checked={on ?? true} disabled={on === null} onChange={(e) => void toggle(e.target.checked)} /> Autotune
            kernels on this GPU (time each variant the first time a shape is met, keep the fastest)
          </label>{' '}
          <button type="button" onClick={() => void clearAutotuneCache().then(() => setNote('Cached choices cleared; they are re-measured after the next page load.'))}>
            Forget measured choices
          </button>
        </p>
      ) : null}
      {note ? <p className="muted note">{note}</p> : null}
      {rows.length === 0 ? (
        <p className="muted note">
          {isSoftware
            ? 'Every matmul runs the software kernels (matmul_subgroup / matmul / matmul_scalar); the GPU-class variants are checked by the self-test.'
            : 'No matmul has run yet: after the first training step each shape class and its variant appear here.'}
        </p>
      ) : (
        <table className="limits" data-testid="variant-table">
          <thead>
            <tr>
              <th scope="col">Op, shape class</th>
              <th scope="col">Variant</th>
              <th scope="col">Chosen by</th>
              <th scope="col">GFLOP/s</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.shapeClass}>
                <th scope="row" className="mono" title={r.shape ?? undefined}>
                  {r.shapeClass}
                </th>
                <td className="mono">{r.variant}</td>
                <td>{r.source === 'autotuned' ? 'measured' : r.source === 'default' ? 'default table' : 'software'}</td>
                <td className="num">{r.gflops === null ? '–' : r.gflops.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {availability ? <VariantAvailability rows={availability} /> : null}
    </div>
  );
}

function VariantAvailability({ rows }: { rows: VariantAvailabilityRow[] }) {
  const missing = rows.filter((r) => r.unavailable !== null).length;
  return (
    <details data-testid="variant-availability">
      <summary>
        Matmul variants on this device: {rows.length - missing} of {rows.length} can run here
        {missing ? `, ${missing} untested here` : ''}
      </summary>
      <table className="limits">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Here</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={`${r.op} ${r.variant}`} data-testid="variant-availability-row" data-available={r.unavailable === null}>
              <th scope="row" className="mono">
                {r.op} [{r.variant}]{r.kind === 'software' ? <span className="muted"> software</span> : null}
              </th>
              <td>
                {r.unavailable === null ? (
                  <span className="tag tag-ok">runs</span>
                ) : (
                  <>
                    <span className="tag tag-skip">untested here</span> <span className="muted note">{r.unavailable}</span>
                    {r.note ? <span className="muted note"> ({r.note})</span> : null}
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
