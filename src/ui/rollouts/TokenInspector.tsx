// The token-level inspector: one completion token by token, each token coloured by a chosen quantity from
// the optimizer step that trained on it (log-prob, entropy, policy ratio, or advantage contribution), with
// tokens clipped low/high, masked as truncated, or masked by the entropy quantile marked, and with tools or an
// environment the inserted tokens (tool results, observations: context the model did not write, out of the
// loss, TRL's tool_mask 0) set apart from the model's own. The numbers are the
// worker's (the trainer's read-back of that step), never recomputed here. Texts are rendered as text.

import { useId, useState } from 'react';
import type { TokenTraceView } from '../../grpo/trainer';
import { formatValue } from '../charts/series';

export type TokenQuantity = 'logp' | 'entropy' | 'ratio' | 'advantage' | 'contribution';

const QUANTITIES: { id: TokenQuantity; label: string; help: string }[] = [
  { id: 'logp', label: 'log-prob', help: 'log-probability of the token under the policy at that step (at the sampling temperature): green likely, red unlikely' },
  { id: 'entropy', label: 'entropy', help: 'entropy of the predictive distribution at the token: darker is more uncertain (a "forking" token)' },
  { id: 'ratio', label: 'ratio', help: 'policy ratio rho (per completion under GSPO): blue below 1, orange above' },
  { id: 'advantage', label: 'advantage', help: 'the advantage the token was trained with: the episode\'s, or its turn\'s under step_advantage "per_turn_discounted" (green positive, red negative)' },
  { id: 'contribution', label: 'advantage contribution', help: 'how hard the step pushed this token up (green) or down (red): its advantage after clipping, gating and masking (−∂loss/∂logp per unit of aggregation weight)' },
];

/** A background for a value of a quantity; `scale` is the completion's largest magnitude where relevant. */
export function tokenColor(q: TokenQuantity, v: number, scale: number): string {
  if (!Number.isFinite(v)) return 'transparent';
  switch (q) {
    case 'logp': {
      const t = Math.min(1, -v / 4);
      return `hsla(${Math.round(120 * (1 - t))}, 65%, 45%, ${0.15 + 0.4 * t})`;
    }
    case 'entropy': {
      const t = scale > 0 ? Math.min(1, v / scale) : 0;
      return `rgba(112, 72, 232, ${0.05 + 0.5 * t})`;
    }
    case 'ratio': {
      const d = Math.log(Math.max(v, 1e-9));
      const t = Math.min(1, Math.abs(d) / 0.3);
      if (t < 1e-6) return 'transparent';
      return d > 0 ? `rgba(230, 119, 0, ${0.1 + 0.5 * t})` : `rgba(25, 113, 194, ${0.1 + 0.5 * t})`;
    }
    case 'advantage':
    case 'contribution': {
      const t = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0;
      if (v === 0) return 'transparent';
      return v > 0 ? `rgba(43, 138, 62, ${0.1 + 0.45 * t})` : `rgba(201, 42, 42, ${0.1 + 0.45 * t})`;
    }
  }
}

function marks(trace: TokenTraceView, j: number): string[] {
  const out: string[] = [];
  const f = trace.flags[j];
  if (trace.modelMask && trace.modelMask[j] === 0) out.push('inserted');
  if (j >= trace.active) out.push('truncation-masked');
  if (f & 1) out.push('clipped-low');
  if (f & 2) out.push('clipped-high');
  if (f & 4) out.push('entropy-masked');
  return out;
}

/** A visible form of a token: spaces and newlines shown. */
function shown(tok: string): string {
  return tok.replace(/\n/g, '↵').replace(/ /g, '·') || '∅';
}

export function TokenInspector({ trace }: { trace: TokenTraceView }) {
  const [q, setQ] = useState<TokenQuantity>('logp');
  const group = useId();
  const values = trace[q] ?? [];
  const scale = Math.max(0, ...values.filter(Number.isFinite).map(Math.abs));
  const counts = { low: 0, high: 0, trunc: 0, ent: 0, inserted: 0 };
  trace.tokens.forEach((_, j) => {
    const m = marks(trace, j);
    if (m.includes('clipped-low')) counts.low++;
    if (m.includes('clipped-high')) counts.high++;
    if (m.includes('truncation-masked')) counts.trunc++;
    if (m.includes('entropy-masked')) counts.ent++;
    if (m.includes('inserted')) counts.inserted++;
  });
  return (
    <div className="token-inspector" data-testid="token-inspector" data-step={trace.step}>
      <div className="row small token-inspector-bar">
        <span className="muted">Values from step {trace.step}, which trained on this completion. Colour by</span>
        {QUANTITIES.map((x) => (
          <label key={x.id} className="check" title={x.help}>
            <input type="radio" name={group} checked={q === x.id} onChange={() => setQ(x.id)} data-testid={`token-quantity-${x.id}`} />
            {x.label}
          </label>
        ))}
      </div>
      <div className="token-strip mono" data-testid="token-strip" data-quantity={q}>
        {trace.tokens.map((tok, j) => {
          const m = marks(trace, j);
          const inserted = m.includes('inserted');
          const title = inserted
            ? `token ${j + 1}: ${JSON.stringify(tok)}\ninserted (a tool result or an observation): context the model did not write, out of the loss`
            :
            `token ${j + 1}: ${JSON.stringify(tok)}\nlog-prob ${formatValue(trace.logp[j])}\nentropy ${formatValue(trace.entropy[j])}\n` +
            `ratio ${formatValue(trace.ratio[j])}\nadvantage ${formatValue(trace.advantage?.[j] ?? NaN)}\nadvantage contribution ${formatValue(trace.contribution[j])}` +
            (m.length ? `\n${m.join(', ')}` : '');
          return (
            <span
              key={j}
              className={`token ${m.map((x) => `tok-${x}`).join(' ')}`}
              style={inserted ? undefined : { background: tokenColor(q, values[j], scale) }}
              title={title}
              data-testid="token"
              data-value={String(values[j])}
              data-marks={m.join(' ')}
            >
              {shown(tok)}
            </span>
          );
        })}
      </div>
      <div className="legend small muted token-legend">
        {trace.modelMask ? (
          <>
            <span className="token tok-inserted" data-testid="legend-inserted">
              inserted (tool result / observation, not trained on)
            </span>{' '}
            {counts.inserted}
          </>
        ) : null}
        <span className="token tok-clipped-low">clipped low</span> {counts.low}
        <span className="token tok-clipped-high">clipped high</span> {counts.high}
        <span className="token tok-truncation-masked">masked (truncated)</span> {counts.trunc}
        <span className="token tok-entropy-masked">masked (entropy quantile)</span> {counts.ent}
        <span>· {QUANTITIES.find((x) => x.id === q)!.help}</span>
      </div>
    </div>
  );
}
