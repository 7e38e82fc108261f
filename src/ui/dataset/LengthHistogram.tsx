// A token-length histogram with the configured maximum marked; bars past it are drawn in the warning colour.

import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { lengthHistogram } from './histogram';

export function LengthHistogram({ title, lengths, limit, limitName, testId }: { title: string; lengths: Uint32Array; limit: number; limitName: string; testId: string }) {
  const h = lengthHistogram(lengths, limit);
  const limitBin = h.bins.find((b) => b.from <= limit && limit <= b.to);
  const data = h.bins.map((b) => ({ x: b.from, label: b.from === b.to ? `${b.from}` : `${b.from}–${b.to}`, count: b.count, over: b.over }));
  return (
    <figure className="histogram" data-testid={testId} aria-label={`${title}: mean ${h.mean.toFixed(1)} tokens, longest ${h.max}`}>
      <figcaption className="row-between">
        <span className="chart-title">{title}</span>
        <span className="muted small num">
          mean {h.mean.toFixed(1)} · max {h.max} · limit {Number.isFinite(limit) ? limit : '—'}
        </span>
      </figcaption>
      <ResponsiveContainer width="100%" height={120}>
        <BarChart data={data} margin={{ top: 6, right: 8, bottom: 16, left: 0 }} barCategoryGap={1}>
          <CartesianGrid vertical={false} stroke="var(--grid)" />
          <XAxis dataKey="label" interval="preserveStartEnd" tick={{ fontSize: 11 }} label={{ value: 'tokens', position: 'insideBottom', offset: -8, fontSize: 11 }} />
          <YAxis width={40} tick={{ fontSize: 11 }} allowDecimals={false} label={{ value: 'rows', angle: -90, position: 'insideLeft', offset: 12, fontSize: 11 }} />
          <Tooltip formatter={(v) => [String(v), 'rows']} labelFormatter={(l) => `${String(l)} tokens`} />
          <Bar dataKey="count" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.x} fill={d.over ? 'var(--warn-strong)' : 'var(--accent)'} />
            ))}
          </Bar>
          {limitBin ? <ReferenceLine x={limitBin.from === limitBin.to ? `${limitBin.from}` : `${limitBin.from}–${limitBin.to}`} stroke="var(--fail)" strokeDasharray="4 3"  /> : null}
        </BarChart>
      </ResponsiveContainer>
      {h.over > 0 ? (
        <p className="help warn-text">
          {h.over} of {lengths.length} rows are longer than {limitName} ({limit}).
        </p>
      ) : null}
    </figure>
  );
}
