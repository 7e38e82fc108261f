// The frozen base on the GPU by tensor group: storage type(s) (a GGUF file's block types per group, or
// base_precision's), bytes on the GPU and bytes saved against bf16. The rows come from the worker
// (src/model/weight_groups.ts, in the model summary and the memory plan); this only shows them.
import type { WeightGroupRow } from '../../model/weight_groups';
import { formatBytes } from './memory';

function saved(r: { gpuBytes: number; bf16Bytes: number }): string {
  const d = r.bf16Bytes - r.gpuBytes;
  if (d === 0) return '—';
  const pct = r.bf16Bytes ? ` (${Math.round((100 * Math.abs(d)) / r.bf16Bytes)}%)` : '';
  return d > 0 ? `${formatBytes(d)}${pct}` : `none: ${formatBytes(-d)} more${pct}`;
}

export function WeightGroupsTable({ rows, precision }: { rows: WeightGroupRow[]; precision: string }) {
  const total = rows.reduce((a, r) => ({ gpuBytes: a.gpuBytes + r.gpuBytes, bf16Bytes: a.bf16Bytes + r.bf16Bytes }), { gpuBytes: 0, bf16Bytes: 0 });
  return (
    <div data-testid="weight-groups">
      <h3>Weights on the GPU by tensor group ({precision})</h3>
      <table className="limits">
        <thead>
          <tr>
            <th scope="col">Tensor group</th>
            <th scope="col">Type</th>
            <th scope="col" className="num">On the GPU</th>
            <th scope="col" className="num">Saved vs bf16</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.group} data-testid={`weight-group-${r.group.replace(/\s+/g, '-')}`}>
              <th scope="row">
                {r.group} <span className="muted small">({r.tensors})</span>
              </th>
              <td className="mono" data-testid="weight-group-types">{r.types.join(' + ')}</td>
              <td className="num">{formatBytes(r.gpuBytes)}</td>
              <td className="num">{saved(r)}</td>
            </tr>
          ))}
          <tr className="total-row">
            <th scope="row">All</th>
            <td />
            <td className="num" data-testid="weight-groups-total">{formatBytes(total.gpuBytes)}</td>
            <td className="num" data-testid="weight-groups-saved">{saved(total)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}
