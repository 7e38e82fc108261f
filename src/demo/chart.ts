// The demo report's chart as a standalone SVG: the mean reward per GRPO step (with a moving average) and
// the held-out pass@1 at each evaluation (and, optionally, greedy accuracy), side by side, with labelled
// axes, units and legends.
// scripts/demo_report.ts screenshots it to docs/demo/curves.png.

export interface CurvesInput {
  title: string;
  subtitle: string;
  /** mean reward of each step's completions, step 1.. */
  rewards: { step: number; reward: number }[];
  /** held-out pass@1 (0..1) at each evaluation, step 0 = before training */
  passAt1: { step: number; pass: number }[];
  /** how pass@1 was decoded, for the legend and axis, e.g. "sampled at temperature 1" or "greedy" */
  passLabel: string;
  /** optional second curve: greedy accuracy at the same evaluations */
  greedy?: { step: number; pass: number }[];
  /** reward's name and range, for the axis label */
  rewardLabel: string;
  /** moving-average window for the reward */
  smooth: number;
  /** optional: tool calls per completion of each step (0..1 with one call allowed), drawn smoothed on the reward panel */
  toolCalls?: { step: number; rate: number }[];
}

const W = 1200;
const H = 520;
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceStep(range: number, target: number): number {
  const raw = range / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  xMax: number;
  yMin: number;
  yMax: number;
  yTicks: number[];
  yFmt: (v: number) => string;
  xLabel: string;
  yLabel: string;
  title: string;
}

function axes(p: Panel): string {
  const out: string[] = [];
  const sx = (v: number) => p.x + (v / p.xMax) * p.w;
  const sy = (v: number) => p.y + p.h - ((v - p.yMin) / (p.yMax - p.yMin)) * p.h;
  out.push(`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="#fff" stroke="#999"/>`);
  for (const t of p.yTicks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${p.x - 8}" y="${y}" ${FONT} font-size="13" text-anchor="end" dominant-baseline="middle" fill="#333">${p.yFmt(t)}</text>`);
  }
  const xs = niceStep(p.xMax, 6);
  for (let t = 0; t <= p.xMax + 1e-9; t += xs) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${p.y}" x2="${x}" y2="${p.y + p.h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${p.y + p.h + 20}" ${FONT} font-size="13" text-anchor="middle" fill="#333">${t}</text>`);
  }
  out.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 44}" ${FONT} font-size="14" text-anchor="middle" fill="#111">${esc(p.xLabel)}</text>`);
  const ly = p.y + p.h / 2;
  out.push(`<text x="${p.x - 52}" y="${ly}" ${FONT} font-size="14" text-anchor="middle" fill="#111" transform="rotate(-90 ${p.x - 52} ${ly})">${esc(p.yLabel)}</text>`);
  out.push(`<text x="${p.x}" y="${p.y - 12}" ${FONT} font-size="16" font-weight="bold" fill="#111">${esc(p.title)}</text>`);
  return out.join('\n');
}

function polyline(points: [number, number][], color: string, width: number, opacity = 1): string {
  if (points.length === 0) return '';
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  return `<polyline points="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-opacity="${opacity}" stroke-linejoin="round"/>`;
}

function legend(x: number, y: number, items: { color: string; label: string; width: number; opacity?: number; dot?: boolean }[]): string {
  const out: string[] = [];
  // wide enough for the longest label (about 7 px per character at 13 px)
  const w = legendWidth(items.map((it) => it.label));
  out.push(`<rect x="${x}" y="${y}" width="${w}" height="${items.length * 22 + 10}" fill="#fff" fill-opacity="0.9" stroke="#ccc"/>`);
  items.forEach((it, i) => {
    const cy = y + 16 + i * 22;
    out.push(`<line x1="${x + 10}" y1="${cy}" x2="${x + 38}" y2="${cy}" stroke="${it.color}" stroke-width="${it.width}" stroke-opacity="${it.opacity ?? 1}"/>`);
    if (it.dot) out.push(`<circle cx="${x + 24}" cy="${cy}" r="4" fill="${it.color}"/>`);
    out.push(`<text x="${x + 46}" y="${cy}" ${FONT} font-size="13" dominant-baseline="middle" fill="#222">${esc(it.label)}</text>`);
  });
  return out.join('\n');
}

function legendWidth(labels: string[]): number {
  return Math.max(250, 56 + 7.2 * Math.max(...labels.map((l) => l.length)));
}

export function movingAverage(xs: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    sum += xs[i];
    if (i >= window) sum -= xs[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

export function curvesSvg(d: CurvesInput): string {
  const maxStep = Math.max(1, ...d.rewards.map((r) => r.step), ...d.passAt1.map((p) => p.step));
  const top = 110;
  const ph = 300;
  const left: Panel = {
    x: 90, y: top, w: 470, h: ph, xMax: maxStep, yMin: 0, yMax: 1, yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
    yFmt: (v) => v.toFixed(1), xLabel: 'GRPO step', yLabel: d.rewardLabel, title: 'Reward of the sampled completions',
  };
  const right: Panel = {
    x: 690, y: top, w: 470, h: ph, xMax: maxStep, yMin: 0, yMax: 100, yTicks: [0, 20, 40, 60, 80, 100],
    yFmt: (v) => `${v}%`, xLabel: 'GRPO step', yLabel: 'held-out accuracy (%)', title: 'Held-out accuracy on prompts never trained on',
  };
  const sxL = (v: number) => left.x + (v / maxStep) * left.w;
  const syL = (v: number) => left.y + left.h - v * left.h;
  const sxR = (v: number) => right.x + (v / maxStep) * right.w;
  const syR = (v: number) => right.y + right.h - (v / 100) * right.h;
  const raw = d.rewards.map((r) => [sxL(r.step), syL(r.reward)] as [number, number]);
  const ma = movingAverage(d.rewards.map((r) => r.reward), d.smooth).map((v, i) => [sxL(d.rewards[i].step), syL(v)] as [number, number]);
  const pass = d.passAt1.map((p) => [sxR(p.step), syR(p.pass * 100)] as [number, number]);
  const greedy = (d.greedy ?? []).map((p) => [sxR(p.step), syR(p.pass * 100)] as [number, number]);
  const toolsLabel = `tool calls per completion (${d.smooth}-step average)`;
  const tc = d.toolCalls ?? [];
  const tools = movingAverage(tc.map((t) => t.rate), d.smooth).map((v, i) => [sxL(tc[i].step), syL(v)] as [number, number]);
  const first = d.passAt1[0];
  const last = d.passAt1[d.passAt1.length - 1];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`,
    `<rect width="${W}" height="${H}" fill="#fafafa"/>`,
    `<text x="${W / 2}" y="34" ${FONT} font-size="20" font-weight="bold" text-anchor="middle" fill="#111">${esc(d.title)}</text>`,
    `<text x="${W / 2}" y="60" ${FONT} font-size="14" text-anchor="middle" fill="#444">${esc(d.subtitle)}</text>`,
    axes(left),
    polyline(raw, '#7aa6d8', 1, 0.7),
    polyline(ma, '#1f4e9c', 2.5),
    tools.length ? polyline(tools, '#27ae60', 2.5) : '',
    legend(left.x + left.w - 10 - legendWidth([`moving average (${d.smooth} steps)`, ...(tools.length ? [toolsLabel] : [])]), left.y + left.h - (tools.length ? 84 : 62), [
      { color: '#7aa6d8', label: 'mean reward per step', width: 1, opacity: 0.7 },
      { color: '#1f4e9c', label: `moving average (${d.smooth} steps)`, width: 2.5 },
      ...(tools.length ? [{ color: '#27ae60', label: toolsLabel, width: 2.5 }] : []),
    ]),
    axes(right),
    polyline(greedy, '#8e8e8e', 2),
    ...greedy.map(([x, y]) => `<rect x="${(x - 3).toFixed(1)}" y="${(y - 3).toFixed(1)}" width="6" height="6" fill="#8e8e8e"/>`),
    polyline(pass, '#c0392b', 2.5),
    ...pass.map(([x, y]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="#c0392b"/>`),
    first ? `<text x="${sxR(first.step) + 8}" y="${syR(first.pass * 100) - 10}" ${FONT} font-size="13" fill="#c0392b">${(first.pass * 100).toFixed(0)}%</text>` : '',
    last && last !== first
      ? `<text x="${sxR(last.step) - 8}" y="${syR(last.pass * 100) - 12}" ${FONT} font-size="13" font-weight="bold" text-anchor="end" fill="#c0392b">${(last.pass * 100).toFixed(0)}%</text>`
      : '',
    legend(right.x + right.w - 10 - legendWidth([`pass@1, ${d.passLabel}`]), right.y + right.h - (greedy.length ? 62 : 40), [
      { color: '#c0392b', label: `pass@1, ${d.passLabel}`, width: 2.5, dot: true },
      ...(greedy.length ? [{ color: '#8e8e8e', label: 'greedy decoding', width: 2 }] : []),
    ]),
    '</svg>',
  ];
  return parts.filter((s) => s !== '').join('\n');
}
