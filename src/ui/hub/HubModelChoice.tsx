// A model by its Hub id: "Check" lists the repository's files and sizes, reads config.json and refuses an
// architecture the engine cannot run before any weights download; the plan then says how much will
// download (what is cached already is not downloaded again), and "Download and load" fetches the rest
// with progress per file and in total (shown by the model panel's status), resuming a download that
// stopped. A repository of GGUF files offers its quantisations (name and size, from the listing); choosing
// one writes it after ":" in the id (org/name:Q4_K_M) and plans that file. The endpoint, the token and the
// cache manager are below.

import { useState } from 'react';
import { formatSize } from '../../hub/download';
import { choiceKey, describeSkipped } from '../../hub/gguf_choice';
import { describePlan, planKind, planModel, type ModelPlan } from '../../hub/model';
import { formatModelSpec, parseModelSpec } from '../../hub/repo_id';
import { useAppStore } from '../store';
import { HubCacheManager } from './HubCacheManager';
import { HubSettingsFields } from './HubSettingsFields';
import { hubContext, useHubSettings } from './settings';

export function HubModelChoice({ disabled }: { disabled: boolean }) {
  const loadFromHub = useAppStore((s) => s.loadModelFromHub);
  const endpoint = useHubSettings((s) => s.endpoint);
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<ModelPlan | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const check = async (input = text) => {
    setPlan(null);
    setProblem(null);
    setChecking(true);
    try {
      const spec = parseModelSpec(input);
      const { client, cache } = await hubContext();
      setPlan(await planModel(client, cache, spec));
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      setChecking(false);
      useHubSettings.getState().cacheChanged();
    }
  };
  const current = plan && (() => {
    try {
      return formatModelSpec(parseModelSpec(text)) === formatModelSpec(plan.spec);
    } catch {
      return false;
    }
  })();

  return (
    <div className="choice">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void check();
        }}
      >
        <label className="field-label" htmlFor="hub-model-id">
          Model on the Hub
        </label>
        <div className="row-between gap">
          <input
            id="hub-model-id"
            className="input mono"
            placeholder="Qwen/Qwen3-0.6B or org/name@revision"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
            aria-describedby="hub-model-help"
          />
          <button type="submit" className="secondary" disabled={disabled || checking || text.trim() === ''}>
            {checking ? 'Checking…' : 'Check'}
          </button>
        </div>
        <p className="help" id="hub-model-help">
          A repository id as on {endpoint.replace(/^https?:\/\//, '')} (Llama, Mistral, Qwen2 and the other families the engine runs, with safetensors
          weights), or a repository of GGUF files (its quantisations to choose from; <code>org/name:Q4_K_M</code> names one). Its files are
          listed first; nothing large downloads before you confirm.
        </p>
      </form>
      {problem ? (
        <div className="callout callout-error" role="alert" data-testid="hub-model-error">
          <p className="mono wrap">{problem}</p>
        </div>
      ) : null}
      {plan && current ? (
        <div className="hub-plan" data-testid="hub-model-plan">
          <p>
            <strong className="mono">{formatModelSpec(plan.spec)}</strong> · {planKind(plan)} · <span data-testid="hub-plan-summary">{describePlan(plan)}</span>
          </p>
          {plan.gguf ? <GgufChoices plan={plan} disabled={disabled || checking} onChoose={(key) => {
            const next = `${formatModelSpec({ repo: plan.spec.repo, revision: plan.spec.revision })}:${key}`;
            setText(next);
            void check(next);
          }} /> : null}
          <table className="limits">
            <tbody>
              {plan.files.map((f) => (
                <tr key={f.path}>
                  <th scope="row" className="mono small">
                    {f.path}
                  </th>
                  <td className="num small">
                    {formatSize(f.size)}
                    {f.cached ? <span className="muted"> cached</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {plan.files.length ? (
            <button type="button" className="primary" disabled={disabled} onClick={() => void loadFromHub(text, plan)}>
              {plan.downloadBytes === 0 ? 'Load from the cache' : `Download ${formatSize(plan.downloadBytes)} and load`}
            </button>
          ) : null}
        </div>
      ) : null}
      <HubSettingsFields idPrefix="hub-model" />
      <HubCacheManager />
    </div>
  );
}

/** The quantisations of a repository of GGUF files, one radio button each (the chosen one checked). */
function GgufChoices({ plan, disabled, onChoose }: { plan: ModelPlan; disabled: boolean; onChoose: (key: string) => void }) {
  const g = plan.gguf!;
  return (
    <fieldset className="gguf-choices" data-testid="hub-gguf-choices">
      <legend>Quantisation ({g.choices.length} GGUF files)</legend>
      {g.choices.map((c) => (
        <label key={c.path} className="row-between gap" data-testid="hub-gguf-choice">
          <span>
            <input
              type="radio"
              name="hub-gguf"
              value={c.path}
              checked={g.chosen?.path === c.path}
              disabled={disabled}
              onChange={() => onChoose(choiceKey(c, g.choices))}
            />{' '}
            <strong className="mono">{c.quant ?? '(no quantisation in the name)'}</strong> <span className="mono small muted">{c.path}</span>
          </span>
          <span className="num small">{formatSize(c.size)}</span>
        </label>
      ))}
      {g.skipped.length ? (
        <p className="help">Set aside: {describeSkipped(g)}.</p>
      ) : null}
      {!g.chosen ? <p className="help">Choose one; only that file downloads. Its architecture and tokenizer are read from the file.</p> : null}
    </fieldset>
  );
}
