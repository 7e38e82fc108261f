// One live chart: lines for some metrics (smoothed, with the raw values faint behind them when smoothing
// is on), an optional ±band, labelled axes with units. Rows arrive already downsampled.

import { memo } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatValue, yAxis, type Row } from './series';

export interface SeriesSpec {
  key: string;
  name: string;
  color: string;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** y-axis label, with the unit */
  unit: string;
  series: SeriesSpec[];
  /** a shaded range between two keys (e.g. mean ± std) */
  band?: { lo: string; hi: string; name: string; color: string };
  /** values are fractions shown as per cent */
  percent?: boolean;
  /** a note under the title (e.g. why a metric is flat) */
  note?: string;
}

function tick(v: number, percent?: boolean): string {
  if (!percent) return formatValue(v);
  if (!Number.isFinite(v)) return '—';
  return `${Number((v * 100).toPrecision(3))}%`;
}

export const MetricChart = memo(function MetricChart({ spec, rows, raw, points }: { spec: ChartSpec; rows: Row[]; raw: Row[] | null; points: number }) {
  const last = rows[rows.length - 1];
  const main = spec.series[0];
  const latest = last ? last[main.key] : undefined;
  // raw values (faint) and smoothed ones share one data array, under different keys
  const data = raw
    ? rows.map((r, i) => {
        const o: Record<string, number | undefined> = { ...r };
        for (const s of spec.series) o[`${s.key}__raw`] = raw[i]?.[s.key];
        return o;
      })
    : rows;
  const multi = spec.series.length > 1;
  const keys = [...spec.series.map((s) => s.key), ...(spec.band ? [spec.band.lo, spec.band.hi] : []), ...(raw ? spec.series.map((s) => `${s.key}__raw`) : [])];
  const axis = yAxis(data as Row[], keys, spec.percent);
  return (
    <figure className="chart" data-testid={`chart-${spec.id}`} data-points={points} aria-label={`${spec.title}: ${points} points, latest ${tick(latest ?? NaN, spec.percent)}`}>
      <figcaption className="chart-head">
        <span className="chart-title">{spec.title}</span>
        <span className="chart-latest num" title="latest value">
          {latest !== undefined ? tick(latest, spec.percent) : '—'}
        </span>
      </figcaption>
      {spec.note ? <p className="chart-note muted small">{spec.note}</p> : null}
      <div className="chart-body">
        {rows.length === 0 ? (
          <div className="chart-empty muted small">No data yet</div>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={data} margin={{ top: 6, right: 10, bottom: 14, left: 4 }}>
              <CartesianGrid stroke="var(--grid)" vertical={false} />
              <XAxis
                dataKey="step"
                type="number"
                domain={['dataMin', 'dataMax']}
                allowDecimals={false}
                tick={{ fontSize: 11, fill: 'var(--muted)' }}
                tickLine={false}
                label={{ value: 'step', position: 'insideBottom', offset: -6, fontSize: 11, fill: 'var(--muted)' }}
              />
              <YAxis
                width={58}
                tick={{ fontSize: 11, fill: 'var(--muted)' }}
                tickLine={false}
                tickFormatter={axis.format}
                domain={axis.domain}
                ticks={axis.ticks}
                label={{ value: spec.unit, angle: -90, position: 'insideLeft', offset: 0, fontSize: 11, fill: 'var(--muted)', style: { textAnchor: 'middle' } }}
              />
              <Tooltip
                isAnimationActive={false}
                formatter={(v, name) => [Array.isArray(v) ? v.map((x) => tick(Number(x), spec.percent)).join(' – ') : tick(Number(v), spec.percent), String(name)]}
                labelFormatter={(l) => `step ${String(l)}`}
                contentStyle={{ fontSize: 12, borderRadius: 6 }}
              />
              {multi || spec.band ? <Legend verticalAlign="top" height={20} iconSize={10} wrapperStyle={{ fontSize: 11 }} /> : null}
              {spec.band ? (
                <Area
                  dataKey={(d: Record<string, number | undefined>) => {
                    const lo = d[spec.band!.lo];
                    const hi = d[spec.band!.hi];
                    return lo === undefined || hi === undefined ? null : [lo, hi];
                  }}
                  name={spec.band.name}
                  stroke="none"
                  fill={spec.band.color}
                  fillOpacity={0.18}
                  isAnimationActive={false}
                  connectNulls
                />
              ) : null}
              {raw
                ? spec.series.map((s) => (
                    <Line
                      key={`${s.key}__raw`}
                      dataKey={(d: Record<string, number | undefined>) => d[`${s.key}__raw`]}
                      name={`${s.name} (raw)`}
                      legendType="none"
                      stroke={s.color}
                      strokeOpacity={0.25}
                      dot={false}
                      strokeWidth={1}
                      isAnimationActive={false}
                      connectNulls
                    />
                  ))
                : null}
              {spec.series.map((s) => (
                <Line
                  key={s.key}
                  dataKey={(d: Record<string, number | undefined>) => d[s.key]}
                  name={s.name}
                  stroke={s.color}
                  dot={rows.length <= 2 ? { r: 2 } : false}
                  strokeWidth={1.75}
                  isAnimationActive={false}
                  connectNulls
                />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
});
