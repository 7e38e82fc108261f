// Charts as standalone SVG strings (for the self-contained HTML report and the page's sweep chart): a
// line chart of several runs over steps, and a chart of one final metric per arm (each seed a dot, the
// mean a bar with ± std whiskers). Pure string building: no DOM, so Node writes the same report.

export interface LineSeries {
  name: string;
  color: string;
  points: [number, number][];
}

export const RUN_COLORS = ['#1f5fbf', '#d9480f', '#2b8a3e', '#7048e8', '#c2255c', '#0b7285', '#e67700', '#5c940d', '#862e9c', '#495057'];

const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(range: number, target: number): number {
  const raw = range / target || 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function ticks(lo: number, hi: number, target: number): number[] {
  const s = niceStep(hi - lo, target);
  const out: number[] = [];
  for (let t = Math.ceil(lo / s - 1e-9) * s; t <= hi + 1e-9 * Math.max(1, Math.abs(hi)); t += s) out.push(Number(t.toPrecision(10)));
  return out;
}

function fmt(v: number, percent: boolean): string {
  if (percent) return `${Number((v * 100).toPrecision(3))}%`;
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e5 || a < 1e-3) ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

interface Frame {
  w: number;
  h: number;
  left: number;
  top: number;
  pw: number;
  ph: number;
}

function frame(w: number, h: number, legendRows: number): Frame {
  const left = 64;
  const top = 34 + legendRows * 16;
  return { w, h, left, top, pw: w - left - 16, ph: h - top - 44 };
}

/** Runs overlaid on one metric over x (steps, tokens or seconds). */
export function lineChartSvg(opts: { title: string; xLabel: string; yLabel: string; series: LineSeries[]; percent?: boolean; width?: number; height?: number }): string {
  const { title, xLabel, yLabel, series, percent = false } = opts;
  const legendRows = Math.ceil(series.length / 3);
  const f = frame(opts.width ?? 560, opts.height ?? 300 + legendRows * 16, legendRows);
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  let [x0, x1] = pts.length ? [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = pts.length ? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))] : [0, 1];
  if (x1 <= x0) x1 = x0 + 1;
  if (percent) [y0, y1] = [0, Math.max(1e-9, y1) > 0.5 ? 1 : Math.max(0.1, y1 * 1.1)];
  else if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5 * (Math.abs(y0) || 1), y1 + 0.5 * (Math.abs(y1) || 1)];
  else {
    const pad = (y1 - y0) * 0.06;
    [y0, y1] = [y0 >= 0 && y0 - pad < 0 ? 0 : y0 - pad, y1 + pad];
  }
  const sx = (x: number) => f.left + ((x - x0) / (x1 - x0)) * f.pw;
  const sy = (y: number) => f.top + f.ph - ((y - y0) / (y1 - y0)) * f.ph;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.w} ${f.h}" width="${f.w}" height="${f.h}" role="img" aria-label="${esc(title)}">`];
  out.push(`<rect width="${f.w}" height="${f.h}" fill="#fff"/>`);
  out.push(`<text x="${f.left}" y="16" ${FONT} font-size="14" font-weight="bold" fill="#111">${esc(title)}</text>`);
  series.forEach((s, i) => {
    const lx = f.left + (i % 3) * 165;
    const ly = 30 + Math.floor(i / 3) * 16;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"/>`);
    out.push(`<text x="${lx + 23}" y="${ly}" ${FONT} font-size="11" fill="#333">${esc(s.name.length > 24 ? s.name.slice(0, 23) + '…' : s.name)}</text>`);
  });
  out.push(`<rect x="${f.left}" y="${f.top}" width="${f.pw}" height="${f.ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(y0, y1, 4)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${f.left}" y1="${y}" x2="${f.left + f.pw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${f.left - 6}" y="${y}" ${FONT} font-size="11" text-anchor="end" dominant-baseline="middle" fill="#333">${fmt(t, percent)}</text>`);
  }
  for (const t of ticks(x0, x1, 5)) {
    const x = sx(t).toFixed(1);
    out.push(`<text x="${x}" y="${f.top + f.ph + 16}" ${FONT} font-size="11" text-anchor="middle" fill="#333">${fmt(t, false)}</text>`);
  }
  out.push(`<text x="${f.left + f.pw / 2}" y="${f.h - 8}" ${FONT} font-size="12" text-anchor="middle" fill="#111">${esc(xLabel)}</text>`);
  const ly = f.top + f.ph / 2;
  out.push(`<text x="14" y="${ly}" ${FONT} font-size="12" text-anchor="middle" fill="#111" transform="rotate(-90 14 ${ly})">${esc(yLabel)}</text>`);
  for (const s of series) {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (p.length === 0) continue;
    out.push(`<polyline class="series" data-name="${esc(s.name)}" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`);
    if (p.length <= 3) for (const [x, y] of p) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** One final metric per arm: a bar at the mean over seeds, ± std whiskers, each seed's value a dot. */
export function armChartSvg(opts: { title: string; yLabel: string; arms: { name: string; mean: number | null; std: number | null; values: (number | null)[] }[]; percent?: boolean; width?: number }): string {
  const { title, yLabel, arms, percent = false } = opts;
  const f = frame(opts.width ?? Math.max(440, 90 * arms.length + 100), 300, 0);
  const vals = arms.flatMap((a) => [...a.values, a.mean !== null && a.std !== null ? a.mean + a.std : null]).filter((x): x is number => x !== null && Number.isFinite(x));
  const lows = arms.flatMap((a) => [...a.values, a.mean !== null && a.std !== null ? a.mean - a.std : null]).filter((x): x is number => x !== null && Number.isFinite(x));
  let y0 = Math.min(0, ...lows);
  let y1 = percent ? 1 : Math.max(...vals, 0) * 1.1 || 1;
  if (y1 <= y0) y1 = y0 + 1;
  if (percent) y0 = 0;
  const sy = (y: number) => f.top + f.ph - ((y - y0) / (y1 - y0)) * f.ph;
  const slot = f.pw / Math.max(1, arms.length);
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.w} ${f.h}" width="${f.w}" height="${f.h}" role="img" aria-label="${esc(title)}">`];
  out.push(`<rect width="${f.w}" height="${f.h}" fill="#fff"/>`);
  out.push(`<text x="${f.left}" y="18" ${FONT} font-size="14" font-weight="bold" fill="#111">${esc(title)}</text>`);
  out.push(`<rect x="${f.left}" y="${f.top}" width="${f.pw}" height="${f.ph}" fill="none" stroke="#999"/>`);
  for (const t of ticks(y0, y1, 4)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${f.left}" y1="${y}" x2="${f.left + f.pw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${f.left - 6}" y="${y}" ${FONT} font-size="11" text-anchor="end" dominant-baseline="middle" fill="#333">${fmt(t, percent)}</text>`);
  }
  const ly = f.top + f.ph / 2;
  out.push(`<text x="14" y="${ly}" ${FONT} font-size="12" text-anchor="middle" fill="#111" transform="rotate(-90 14 ${ly})">${esc(yLabel)}</text>`);
  arms.forEach((a, i) => {
    const cx = f.left + slot * (i + 0.5);
    const color = RUN_COLORS[i % RUN_COLORS.length];
    if (a.mean !== null) {
      const bw = Math.min(48, slot * 0.5);
      out.push(`<rect class="arm-bar" data-arm="${esc(a.name)}" x="${(cx - bw / 2).toFixed(1)}" y="${Math.min(sy(a.mean), sy(y0)).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(sy(y0) - sy(a.mean)).toFixed(1)}" fill="${color}" fill-opacity="0.3" stroke="${color}"/>`);
      if (a.std) out.push(`<line x1="${cx}" x2="${cx}" y1="${sy(a.mean - a.std).toFixed(1)}" y2="${sy(a.mean + a.std).toFixed(1)}" stroke="#111" stroke-width="1.5"/>`);
      out.push(`<text x="${cx}" y="${(sy(a.mean) - 6).toFixed(1)}" ${FONT} font-size="11" text-anchor="middle" fill="#111">${fmt(a.mean, percent)}</text>`);
    }
    a.values.forEach((v, j) => {
      if (v === null) return;
      out.push(`<circle cx="${(cx + (j - (a.values.length - 1) / 2) * 7).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="3" fill="${color}"/>`);
    });
    out.push(`<text x="${cx}" y="${f.top + f.ph + 16}" ${FONT} font-size="11" text-anchor="middle" fill="#333">${esc(a.name.length > 18 ? a.name.slice(0, 17) + '…' : a.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
