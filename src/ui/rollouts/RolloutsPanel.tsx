// The rollouts inspector: for a recent step (the latest by default, following the run), each prompt with
// its G completions, each completion's reward per function, total reward and advantage, colour-coded;
// a search over prompts and completions; a completion of a recent step opens token by token (TokenInspector).
// Texts are rendered as text, never as HTML.

import { useDeferredValue, useMemo, useState } from 'react';
import type { CompletionView, StepEvent } from '../../worker/protocol';
import { formatValue } from '../charts/series';
import { useAppStore } from '../store';
import { Turns } from './Turns';
import { TokenInspector } from './TokenInspector';

const LATEST = -1;
const ALL = -2;
/** groups drawn at most when every kept step is shown */
const MAX_GROUPS = 60;

/** A background for an advantage: green above 0, red below, stronger further from 0 (|A| of 2 is full). */
export function advantageColor(a: number): string {
  if (!Number.isFinite(a) || a === 0) return 'transparent';
  const t = Math.min(1, Math.abs(a) / 2);
  return a > 0 ? `rgba(43, 138, 62, ${0.1 + 0.35 * t})` : `rgba(201, 42, 42, ${0.1 + 0.35 * t})`;
}

function matches(text: string, q: string): boolean {
  return q === '' || text.toLowerCase().includes(q);
}

export function RolloutsPanel() {
  const rollouts = useAppStore((s) => s.rollouts);
  const logCompletions = useAppStore((s) => (s.runConfig ?? s.config).log_completions);
  const [picked, setPicked] = useState<number>(LATEST);
  const [query, setQuery] = useState('');
  const q = useDeferredValue(query.trim().toLowerCase());
  const events: StepEvent[] = picked === ALL ? [...rollouts].reverse() : [picked === LATEST ? rollouts[rollouts.length - 1] : rollouts.find((r) => r.step === picked)].filter((e): e is StepEvent => !!e);
  const event = events[0];
  const groups = useMemo(() => {
    const out = events.flatMap((ev) =>
      ev.groups
        .map((g, gi) => ({ ev, g, gi, completions: g.completions.map((c, ci) => ({ c, ci })).filter(({ c }) => matches(g.prompt, q) || matches(c.text, q) || matches(g.answer, q)) }))
        .filter((x) => x.completions.length > 0),
    );
    return out.slice(0, MAX_GROUPS);
  }, [rollouts, picked, q]);
  if (rollouts.length === 0) {
    return (
      <p className="help empty" data-testid="rollouts-empty">
        {logCompletions
          ? "Each step's prompts and the model's completions appear here as it trains, with their rewards and advantages."
          : 'log_completions is off: the run keeps its metrics but not its completions.'}
      </p>
    );
  }
  return (
    <div className="rollouts" data-testid="rollouts">
      <div className="toolbar">
        <label className="row small">
          <span className="muted">Step</span>
          <select className="input" value={picked} onChange={(e) => setPicked(Number(e.target.value))} data-testid="rollout-step">
            <option value={LATEST}>latest ({rollouts[rollouts.length - 1].step})</option>
            <option value={ALL}>all kept steps ({rollouts.length})</option>
            {[...rollouts].reverse().map((r) => (
              <option key={r.step} value={r.step}>
                {r.step}
              </option>
            ))}
          </select>
        </label>
        <label className="row small grow">
          <span className="visually-hidden">Search prompts and completions</span>
          <input className="input grow" type="search" placeholder="Search prompts and completions" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="rollout-search" />
        </label>
        <span className="legend small">
          <span className="swatch" style={{ background: advantageColor(1.5) }} /> above the group's mean
          <span className="swatch" style={{ background: advantageColor(-1.5) }} /> below
        </span>
      </div>
      {picked !== ALL && event && event.rewardErrors.length ? (
        <div className="callout callout-warn small" role="alert">
          <strong>Reward errors at step {event.step}:</strong>
          <ul>
            {event.rewardErrors.slice(0, 5).map((e, i) => (
              <li key={i} className="mono wrap">
                {e}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {groups.length === 0 ? <p className="help">Nothing {picked === ALL ? 'in the kept steps' : 'at this step'} matches “{query}”.</p> : null}
      {groups.length === MAX_GROUPS ? <p className="help">Showing the first {MAX_GROUPS} matching prompts, newest first.</p> : null}
      {groups.map(({ ev, g, gi, completions }) => (
            <article className="group-card" key={`${ev.step}-${gi}`} data-testid="rollout-group">
              <header className="group-card-head">
                {picked === ALL ? (
                  <div className="answer">
                    <div className="label-small">Step</div>
                    <span className="mono">{ev.step}</span>
                  </div>
                ) : null}
                <div className="grow">
                  <div className="label-small">Prompt</div>
                  <pre className="text-block">{g.prompt}</pre>
                </div>
                <div className="answer">
                  <div className="label-small">Answer</div>
                  <pre className="text-block">{g.answer}</pre>
                </div>
                <div className="answer num">
                  <div className="label-small">Reward std</div>
                  <span className="mono">{formatValue(g.rewardStd)}</span>
                </div>
              </header>
              <table className="data-table completions">
                <thead>
                  <tr>
                    <th scope="col" className="num">
                      #
                    </th>
                    <th scope="col">Completion</th>
                    {ev.rewardNames.map((n) => (
                      <th scope="col" key={n} className="num mono small">
                        {n}
                      </th>
                    ))}
                    <th scope="col" className="num">
                      Reward
                    </th>
                    <th scope="col" className="num">
                      Advantage
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {completions.map(({ c, ci }) => (
                    <CompletionRow key={ci} index={ci} c={c} />
                  ))}
                </tbody>
              </table>
            </article>
          ))}
    </div>
  );
}

function CompletionRow({ index, c }: { index: number; c: CompletionView }) {
  const [open, setOpen] = useState(false);
  return (
    <tr data-testid="completion" style={{ boxShadow: `inset 4px 0 0 ${c.advantage > 0 ? 'var(--ok)' : c.advantage < 0 ? 'var(--fail)' : 'var(--border)'}` }}>
      <td className="num muted">{index + 1}</td>
      <td className="cell-text">
        {c.turns ? (
          <>
            <pre className="completion-text" data-testid="completion-full-text" title="the whole completion as the model's context holds it: its own text and the inserted results">
              {c.text === '' ? <span className="muted">(empty)</span> : c.text}
            </pre>
            <Turns turns={c.turns} />
          </>
        ) : <pre className="completion-text">{c.text === '' ? <span className="muted">(empty)</span> : c.text}</pre>}
        <span className="muted small">
          {c.tokens} token{c.tokens === 1 ? '' : 's'}
          {c.truncated ? ' · truncated' : ''}
        </span>
        {c.trace ? (
          <button type="button" className="link-button small token-toggle" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="token-inspector-toggle">
            {open ? 'Hide tokens' : 'Tokens'}
          </button>
        ) : null}
        {open && c.trace ? <TokenInspector trace={c.trace} /> : null}
      </td>
      {c.rewards.map((r, i) => (
        <td key={i} className="num mono">
          {r === null ? <span className="muted">n/a</span> : formatValue(r)}
        </td>
      ))}
      <td className="num mono strong">{formatValue(c.reward)}</td>
      <td className="num mono" style={{ background: advantageColor(c.advantage) }}>
        {c.advantage > 0 ? '+' : ''}
        {formatValue(c.advantage)}
      </td>
    </tr>
  );
}
