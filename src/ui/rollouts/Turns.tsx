// The turns of a multi-turn completion (tools, environments): the model's text, each tool call with its
// arguments, the tool's result or error, and the environment's observations with their rewards. Inserted
// text (results, observations) is context the model did not write and is not trained on; it is marked so.
// Everything is rendered as text, never as HTML.

import type { TurnView } from '../../worker/protocol';

const LABEL: Record<TurnView['kind'], string> = {
  model: 'Model',
  tool_call: 'Tool call',
  tool_result: 'Result',
  tool_error: 'Tool error',
  observation: 'Observation',
  env_error: 'Environment error',
};

function body(t: TurnView): string {
  return t.kind === 'tool_call' ? `${t.name}(${JSON.stringify(t.args)})` : t.text;
}

export function Turns({ turns }: { turns: TurnView[] }) {
  return (
    <ol className="turns" data-testid="turns" style={{ listStyle: 'none', padding: 0, margin: '4px 0' }}>
      {turns.map((t, i) => {
        const error = t.kind === 'tool_error' || t.kind === 'env_error';
        const inserted = t.kind !== 'model' && t.kind !== 'tool_call';
        return (
          <li
            key={i}
            data-testid={`turn-${t.kind}`}
            style={{
              borderLeft: `3px solid ${error ? 'var(--fail)' : inserted ? 'var(--border)' : 'var(--ok)'}`,
              paddingLeft: 6,
              marginBottom: 2,
              opacity: inserted ? 0.85 : 1,
            }}
          >
            <span className="muted small">
              {LABEL[t.kind]}
              {t.kind === 'observation' && t.reward !== null ? ` · reward ${t.reward}` : ''}
              {inserted ? ' · inserted, not trained on' : ''}
            </span>
            <pre className="completion-text" style={{ margin: 0 }}>{body(t) === '' ? '(empty)' : body(t)}</pre>
          </li>
        );
      })}
    </ol>
  );
}
