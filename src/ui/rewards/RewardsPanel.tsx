// Step 3: rewards. The run's reward functions with their weights and parameters (each built-in documents
// itself), and a custom JavaScript reward with an editor and a "try on 5 rows" button.

import { useEffect, useRef, useState } from 'react';
import { BUILTIN_REWARD_NAMES, CUSTOM_REWARD, CUSTOM_REWARD_NAME, REWARD_FUNCS, isBuiltinReward, rewardParamSpecs, type RewardParamSpec } from '../../grpo/rewards';
import { checkCustomRewardSourceInSandbox, checkParamsFor } from '../../grpo/rewards';
import { REWARD_MODEL_NAME, REWARD_MODEL_REWARD } from '../../grpo/rewards/registry';
import type { RewardFuncConfig } from '../../grpo/config';
import { Panel } from '../common';
import { useAppStore, isBusy } from '../store';
import { NumberInput } from '../settings/NumberInput';
import { tryCustomReward, type TryOutcome, type TryRow } from './tryCustom';

const ALL_REWARDS = [...BUILTIN_REWARD_NAMES, CUSTOM_REWARD_NAME, REWARD_MODEL_NAME];

function docOf(name: string): string {
  if (isBuiltinReward(name)) return REWARD_FUNCS[name].doc;
  if (name === CUSTOM_REWARD_NAME) return CUSTOM_REWARD.doc;
  if (name === REWARD_MODEL_NAME) return REWARD_MODEL_REWARD.doc;
  return '';
}

function defaultsFor(name: string): Record<string, unknown> {
  if (name !== CUSTOM_REWARD_NAME) return {};
  return { source: CUSTOM_REWARD.params[0].default };
}

export function RewardsPanel() {
  const funcs = useAppStore((s) => s.config.reward_funcs);
  const setField = useAppStore((s) => s.setConfigField);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const [adding, setAdding] = useState<string>('format');
  const update = (i: number, f: RewardFuncConfig) => setField('reward_funcs', funcs.map((x, k) => (k === i ? f : x)));
  const remove = (i: number) => setField('reward_funcs', funcs.filter((_, k) => k !== i));
  const total = funcs.reduce((a, f) => a + Math.abs(f.weight), 0);
  return (
    <Panel id="rewards" title="Rewards" step={3}>
      <p className="help">A completion's reward is the weighted sum of these functions; a function that does not apply to a row is skipped.</p>
      {funcs.length === 0 ? <p className="callout callout-warn">Add at least one reward function.</p> : null}
      <ol className="reward-list">
        {funcs.map((f, i) => (
          <RewardCard key={i} index={i} func={f} share={total > 0 ? Math.abs(f.weight) / total : 0} disabled={busy} onChange={(x) => update(i, x)} onRemove={() => remove(i)} />
        ))}
      </ol>
      <div className="add-row">
        <label className="visually-hidden" htmlFor="add-reward">
          Reward to add
        </label>
        <select id="add-reward" className="input" value={adding} onChange={(e) => setAdding(e.target.value)} disabled={busy}>
          {ALL_REWARDS.map((n) => (
            <option key={n} value={n}>
              {n === CUSTOM_REWARD_NAME ? 'custom (JavaScript)' : n}
            </option>
          ))}
        </select>
        <button type="button" className="secondary" disabled={busy} onClick={() => setField('reward_funcs', [...funcs, { name: adding, weight: 1, params: defaultsFor(adding) }])}>
          Add reward
        </button>
      </div>
    </Panel>
  );
}

function RewardCard({
  index,
  func,
  share,
  disabled,
  onChange,
  onRemove,
}: {
  index: number;
  func: RewardFuncConfig;
  share: number;
  disabled: boolean;
  onChange: (f: RewardFuncConfig) => void;
  onRemove: () => void;
}) {
  const specs = rewardParamSpecs(func.name) ?? [];
  const problems = checkParamsFor(func.name, func.params);
  const id = `reward-${index}`;
  const setParam = (name: string, value: unknown) => {
    const params = { ...func.params };
    if (value === undefined) delete params[name];
    else params[name] = value;
    onChange({ ...func, params });
  };
  return (
    <li className="reward-card" data-testid="reward-card">
      <div className="reward-head">
        <label className="visually-hidden" htmlFor={`${id}-name`}>
          Reward function {index + 1}
        </label>
        <select
          id={`${id}-name`}
          className="input reward-name mono"
          value={func.name}
          disabled={disabled}
          onChange={(e) => onChange({ name: e.target.value, weight: func.weight, params: defaultsFor(e.target.value) })}
        >
          {ALL_REWARDS.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <label className="weight">
          <span className="muted small">weight</span>
          <NumberInput value={func.weight} disabled={disabled} onChange={(w) => onChange({ ...func, weight: w })} label={`Weight of ${func.name}`} />
        </label>
        <span className="share" aria-hidden="true" title="share of the total weight">
          <span style={{ width: `${Math.round(share * 100)}%` }} />
        </span>
        <button type="button" className="icon-button" onClick={onRemove} disabled={disabled} aria-label={`Remove ${func.name}`} title="Remove">
          ×
        </button>
      </div>
      <details className="reward-doc">
        <summary>What it does</summary>
        <p>{docOf(func.name)}</p>
      </details>
      {func.name === CUSTOM_REWARD_NAME ? (
        <CustomEditor func={func} disabled={disabled} onChange={onChange} />
      ) : specs.length ? (
        <div className="params">
          {specs.map((spec) => (
            <ParamInput key={spec.name} id={`${id}-${spec.name}`} spec={spec} value={func.params[spec.name]} disabled={disabled} onChange={(v) => setParam(spec.name, v)} />
          ))}
        </div>
      ) : null}
      {func.name === REWARD_MODEL_NAME ? <SavedRewardModels /> : null}
      {problems.length ? (
        <ul className="field-errors" role="alert">
          {problems.map((p, k) => (
            <li key={k}>{p}</li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

/** The saved runs whose kept adapter is a reward model (algorithm reward_model): the names adapters may use. */
function SavedRewardModels() {
  const runs = useAppStore((s) => s.libraryRuns);
  const names = runs.filter((e) => e.run.hasAdapter && e.run.config.algorithm === 'reward_model').map((e) => e.run.name);
  return (
    <p className="help" data-testid="saved-reward-models">
      {names.length ? `Saved reward models: ${names.join(', ')}` : 'No saved reward model yet: train a run with algorithm reward_model and "keep adapters" on.'}
    </p>
  );
}

function ParamInput({ id, spec, value, disabled, onChange }: { id: string; spec: RewardParamSpec; value: unknown; disabled: boolean; onChange: (v: unknown) => void }) {
  const current = value === undefined ? spec.default : value;
  const label = (
    <span className="param-name mono" title={spec.doc}>
      {spec.name}
    </span>
  );
  const help = (
    <span className="help" id={`${id}-help`}>
      {spec.doc}
    </span>
  );
  if (spec.type === 'boolean') {
    return (
      <div className="param">
        <label className="check">
          <input type="checkbox" checked={current === true} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-help`} />
          {label}
        </label>
        {help}
      </div>
    );
  }
  if (spec.type === 'choice') {
    return (
      <div className="param">
        <label htmlFor={id}>{label}</label>
        <select id={id} className="input" value={String(current)} disabled={disabled} onChange={(e) => onChange(e.target.value)} aria-describedby={`${id}-help`}>
          {spec.choices!.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        {help}
      </div>
    );
  }
  if (spec.type === 'number' || spec.type === 'integer') {
    const isNull = current === null;
    return (
      <div className="param">
        <label htmlFor={id}>{label}</label>
        <div className="row">
          {isNull ? (
            <span className="muted small">the run's value</span>
          ) : (
            <NumberInput id={id} value={current as number} disabled={disabled} onChange={onChange} describedBy={`${id}-help`} />
          )}
          {spec.nullable ? (
            <label className="check small">
              <input type="checkbox" checked={isNull} disabled={disabled} onChange={(e) => onChange(e.target.checked ? null : 64)} />
              use the run's value
            </label>
          ) : null}
        </div>
        {help}
      </div>
    );
  }
  return (
    <div className="param">
      <label htmlFor={id}>{label}</label>
      <input id={id} className="input mono" value={String(current ?? '')} disabled={disabled} onChange={(e) => onChange(e.target.value)} aria-describedby={`${id}-help`} />
      {help}
    </div>
  );
}

function CustomEditor({ func, disabled, onChange }: { func: RewardFuncConfig; disabled: boolean; onChange: (f: RewardFuncConfig) => void }) {
  const source = typeof func.params.source === 'string' ? func.params.source : '';
  const timeout = typeof func.params.timeout_ms === 'number' ? func.params.timeout_ms : 2000;
  const preview = useAppStore((s) => s.datasetSummary?.preview);
  const rollouts = useAppStore((s) => s.rollouts);
  const [from, setFrom] = useState<'answers' | 'rollouts'>('answers');
  const [outcome, setOutcome] = useState<TryOutcome | null>(null);
  const [running, setRunning] = useState(false);
  const latest = rollouts[rollouts.length - 1];
  const syntax = useSandboxSyntaxCheck(func, onChange);
  const rows = (): TryRow[] => {
    if (from === 'rollouts' && latest) {
      return latest.groups
        .flatMap((g) => g.completions.map((c) => ({ prompt: g.prompt, completion: c.text, answer: g.answer, row: { prompt: g.prompt, answer: g.answer }, origin: `step ${latest.step}` })))
        .slice(0, 5);
    }
    return (preview ?? []).slice(0, 5).map((r) => ({ prompt: r.prompt, completion: r.answer, answer: r.answer, row: r.raw, origin: `line ${r.line}` }));
  };
  const run = async () => {
    setRunning(true);
    try {
      setOutcome(await tryCustomReward(source, timeout, rows()));
    } finally {
      setRunning(false);
    }
  };
  return (
    <div className="custom-editor">
      <label className="field-label" htmlFor="custom-source">
        <span className="mono">(prompt, completion, answer, row, group) =&gt; number | null</span>
      </label>
      <textarea
        id="custom-source"
        className="input code"
        rows={6}
        spellCheck={false}
        value={source}
        disabled={disabled}
        onChange={(e) => onChange({ ...func, params: { ...func.params, source: e.target.value } })}
        data-testid="custom-source"
        aria-invalid={syntax ? true : undefined}
        aria-describedby={syntax ? 'custom-source-problem' : undefined}
      />
      {syntax ? (
        <p id="custom-source-problem" className="field-errors mono wrap small" role="alert" data-testid="custom-source-problem">
          {syntax}
        </p>
      ) : null}
      <div className="row wrap-row">
        <label className="row small">
          <span className="muted">Try on</span>
          <select className="input" value={from} onChange={(e) => setFrom(e.target.value as 'answers' | 'rollouts')} aria-label="Completions to try the reward on">
            <option value="answers">5 dataset rows (answer as completion)</option>
            <option value="rollouts" disabled={!latest}>
              5 completions of the latest step
            </option>
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void run()} disabled={running || (from === 'answers' && !preview?.length)}>
          {running ? 'Running…' : 'Try on 5 rows'}
        </button>
      </div>
      {outcome ? <TryResults outcome={outcome} /> : null}
    </div>
  );
}

/**
 * The source's syntax, checked in a sandbox worker a moment after each edit (the page itself compiles no
 * user code: its Content-Security-Policy forbids it). A problem found is remembered by
 * checkCustomRewardSource, and the reward is set again (same content) so that the settings' validation,
 * which keeps Start disabled, runs again and sees it.
 */
function useSandboxSyntaxCheck(func: RewardFuncConfig, onChange: (f: RewardFuncConfig) => void): string | null {
  const source = typeof func.params.source === 'string' ? func.params.source : '';
  const [problem, setProblem] = useState<{ source: string; message: string | null } | null>(null);
  const latest = useRef({ func, onChange });
  latest.current = { func, onChange };
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      void checkCustomRewardSourceInSandbox(source).then((message) => {
        if (!live) return;
        setProblem({ source, message });
        if (message) latest.current.onChange({ ...latest.current.func });
      });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [source]);
  return problem && problem.source === source ? problem.message : null;
}

function TryResults({ outcome }: { outcome: TryOutcome }) {
  return (
    <div className="try-results" data-testid="custom-try-results">
      {outcome.batchErrors.map((e, k) => (
        <p key={k} className="callout callout-error mono wrap small" role="alert">
          {e}
        </p>
      ))}
      <table className="data-table">
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">Completion</th>
            <th scope="col" className="num">
              Output
            </th>
          </tr>
        </thead>
        <tbody>
          {outcome.rows.map((r, i) => (
            <tr key={i}>
              <td className="muted small nowrap">{r.origin}</td>
              <td className="cell-text">{r.completion}</td>
              <td className="num">
                {outcome.errors[i] ? (
                  <span className="error-text small wrap">{outcome.errors[i]}</span>
                ) : outcome.values[i] === null ? (
                  <span className="muted">null</span>
                ) : (
                  <span className="mono">{(() => {
                    const v = outcome.values[i];
                    return Array.isArray(v) ? `[${v.join(', ')}] (per step)` : String(v);
                  })()}</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
