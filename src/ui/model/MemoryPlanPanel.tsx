// The exact memory plan of this run, before Start: one worker request (memoryPlan: a dry run of one training
// step's host code) for the loaded model and the current settings, shown as the parts of the peak against
// the budget (memory_budget_bytes, else 2 GiB), with what to lower when it does not fit.
import { useEffect, useState } from 'react';
import type { PagePlan } from '../../worker/protocol';
import { useAppStore } from '../store';
import { requireEngine } from '../store/engine';
import { formatBytes } from './memory';
import { WeightGroupsTable } from './WeightGroupsTable';

export function MemoryPlanPanel() {
  const model = useAppStore((s) => s.modelSummary);
  const config = useAppStore((s) => s.config);
  const [plan, setPlan] = useState<PagePlan | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!model) return;
    let live = true;
    // settings change key by key: plan once they settle
    const timer = setTimeout(() => {
      requireEngine().call({ type: 'memoryPlan', model, config }).then(
        (p) => live && (setPlan(p), setError(null)),
        (e: unknown) => live && (setPlan(null), setError(e instanceof Error ? e.message : String(e))),
      );
    }, 300);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [model, config]);
  if (!model) return null;
  // the base by tensor group as this run's base_precision stores it (the plan's), else as loaded
  const groups = plan ? { rows: plan.weightGroups, precision: plan.basePrecision } : model.weightGroups ? { rows: model.weightGroups, precision: 'auto (as loaded)' } : null;
  const table = groups ? <WeightGroupsTable rows={groups.rows} precision={groups.precision} /> : null;
  if (error) return <>{table}<p className="callout callout-warn" data-testid="memory-plan-error">Memory plan: {error}</p></>;
  if (!plan) return <>{table}<p className="help" data-testid="memory-plan-pending">Planning GPU memory…</p></>;
  const b = plan.breakdown;
  const rows: [string, number][] = [
    [`Weights (${plan.basePrecision})`, b.weights],
    ['KV cache (one generation batch)', b.kvCache],
    ['Activations and the rest', b.activations],
    ['LoRA + Adam', b.loraAdam],
  ];
  return (
    <div data-testid="memory-plan">
      {table}
      <h3>Memory plan (exact, one worst-case step)</h3>
      <table className="limits">
        <tbody>
          {rows.map(([name, bytes]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td className="num">{formatBytes(bytes)}</td>
            </tr>
          ))}
          <tr className={`total-row ${plan.fits ? '' : 'row-bad'}`}>
            <th scope="row">Peak</th>
            <td className="num" data-testid="memory-plan-peak">
              {formatBytes(plan.peakBytes)}
              {plan.budgetBytes !== null ? <span className="muted"> of {formatBytes(plan.budgetBytes)} budget</span> : null}
            </td>
          </tr>
          <tr>
            <th scope="row">Largest buffer ({plan.largestBufferLabel})</th>
            <td className="num">
              {formatBytes(plan.largestBufferBytes)}
              <span className="muted"> of {formatBytes(plan.maxBufferSize)}</span>
            </td>
          </tr>
        </tbody>
      </table>
      {plan.fits ? (
        <p className="help">
          {plan.layout.generationPrompts} prompt(s) generated together, {plan.layout.rowsPerPass ?? 'all'} rows per training pass.
        </p>
      ) : (
        <p className="callout callout-warn" role="alert" data-testid="memory-plan-refusal">
          This run does not fit its memory budget; lower {plan.advice.join('; ')}.
        </p>
      )}
    </div>
  );
}
