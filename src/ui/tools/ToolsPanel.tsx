// Tools and environments (issue 16): the tools file (tools_source) and the environment file (env_source)
// edited as code, loaded from the site's examples or the person's own file, and checked as a run loads
// them: in the locked sandbox worker (./check.ts), never evaluated on the page. The parsed tools (name,
// description, argument schema) or the sandbox's message are shown under the editors; the call-format
// settings (from the config schema, with their docs and checks) follow.

import { useEffect, useId, useMemo, useState } from 'react';
import { checkConfig, configWarnings, summaryValidationContext, type GrpoConfig } from '../../grpo/config';
import { Panel } from '../common';
import { useAppStore, isBusy } from '../store';
import { fetchSiteFile } from '../store/model';
import { Field } from '../settings/SettingsPanel';
import { TOOL_FORMAT_FIELDS, problemsByField } from '../settings/fields';
import { checkToolSources, toolArguments, type ToolsCheck } from './check';

const CHECK_DELAY_MS = 500;

type SourceField = 'tools_source' | 'env_source';

const EXAMPLES: Record<SourceField, { path: string; label: string }> = {
  tools_source: { path: 'datasets/calculator.tools.js', label: 'the calculator example' },
  env_source: { path: 'datasets/guess_number.env.js', label: 'the guess-the-number example' },
};

export function ToolsPanel() {
  const config = useAppStore((s) => s.config);
  const modelSummary = useAppStore((s) => s.modelSummary);
  const locked = useAppStore((s) => isBusy(s.runStatus));
  const problems = useMemo(() => problemsByField(checkConfig(config, summaryValidationContext(modelSummary))), [config, modelSummary]);
  const warnings = useMemo(() => problemsByField(configWarnings(config)), [config]);
  const check = useToolsCheck(config.tools_source, config.env_source, config.tool_timeout_ms);
  const on = (config.tools_source ?? '').trim() !== '' || (config.env_source ?? '').trim() !== '';
  return (
    <Panel id="tools" title="Tools and environments" actions={<span className={`tag ${on ? 'tag-ok' : ''}`}>{on ? 'on' : 'off'}</span>}>
      <p className="help">
        A <strong>tools file</strong> is a JavaScript array of tools <code>{'{ name, description, parameters, run }'}</code>: when a completion writes a call
        in the call format below, that row pauses, the tool runs, and its result is inserted into the model's context (out of the loss), as TRL's{' '}
        <code>tools</code> do. An <strong>environment file</strong> makes one environment per rollout, <code>{'{ reset(row), step(text) }'}</code>, for
        multi-turn episodes. Both run in the same locked worker as custom rewards (no network, no page, no storage).
      </p>
      <SourceEditor field="tools_source" title="Tools file" locked={locked} />
      <SourceEditor field="env_source" title="Environment file" locked={locked} />
      <CheckResult check={check} />
      <details className="group" open={on}>
        <summary className="group-head">
          <span>Call format and limits</span>
          <span className="muted small">{TOOL_FORMAT_FIELDS.length} settings</span>
        </summary>
        <div className="group-body" data-testid="tool-format-fields">
          {TOOL_FORMAT_FIELDS.map((k) => (
            <Field key={k} name={k} problems={problems[k]} warnings={warnings[k]} locked={locked} />
          ))}
        </div>
      </details>
    </Panel>
  );
}

/** The sandbox's verdict on the sources, re-checked a moment after they stop changing. */
function useToolsCheck(tools: string | null, env: string | null, timeoutMs: number): ToolsCheck {
  const [check, setCheck] = useState<ToolsCheck>({ state: 'none' });
  useEffect(() => {
    let live = true;
    if ((tools ?? '').trim() === '' && (env ?? '').trim() === '') {
      setCheck({ state: 'none' });
      return;
    }
    setCheck({ state: 'checking' });
    const timer = setTimeout(() => {
      void checkToolSources(tools, env, timeoutMs).then((c) => {
        if (live) setCheck(c);
      });
    }, CHECK_DELAY_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tools, env, timeoutMs]);
  return check;
}

function SourceEditor({ field, title, locked }: { field: SourceField; title: string; locked: boolean }) {
  const value = useAppStore((s) => s.config[field]) as GrpoConfig[SourceField];
  const set = useAppStore((s) => s.setConfigField);
  const id = useId();
  const [error, setError] = useState<string | null>(null);
  const example = EXAMPLES[field];
  const put = (text: string | null) => set(field, text !== null && text.trim() === '' ? null : text);
  const loadExample = async () => {
    try {
      put(new TextDecoder().decode(await fetchSiteFile(example.path, example.label)));
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className="field field-wide" data-field={field}>
      <div className="row-between">
        <label className="field-label" htmlFor={id}>
          {title} <span className="mono muted small">{field}</span>
        </label>
        <span className="row small">
          <button type="button" className="link-button" onClick={() => void loadExample()} disabled={locked} data-testid={`${field}-example`}>
            Load {example.label}
          </button>
          <label className={`link-button ${locked ? 'is-disabled' : ''}`}>
            Open a file…
            <input
              type="file"
              accept=".js,.mjs,.cjs,.txt,text/javascript"
              className="visually-hidden"
              disabled={locked}
              data-testid={`${field}-file`}
              onChange={(e) => {
                const f = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (!f) return;
                void f.text().then(
                  (t) => {
                    put(t);
                    setError(null);
                  },
                  (err: unknown) => setError(`${f.name}: ${(err as Error).message}`),
                );
              }}
            />
          </label>
          <button type="button" className="link-button" onClick={() => put(null)} disabled={locked || value === null}>
            Clear
          </button>
        </span>
      </div>
      <textarea
        id={id}
        className="input mono code-editor"
        rows={value ? Math.min(18, Math.max(6, value.split('\n').length + 1)) : 4}
        spellCheck={false}
        placeholder={field === 'tools_source' ? '[\n  { name: "calc", description: "...", parameters: { type: "object", properties: { ... } }, run: (args) => ... },\n]' : '() => ({ reset(row) { ... }, step(text) { return { observation, reward, done }; } })'}
        value={value ?? ''}
        disabled={locked}
        onChange={(e) => put(e.target.value)}
        data-testid={`${field}-editor`}
        style={{ width: '100%', fontSize: 12 }}
      />
      {error ? (
        <p className="callout callout-error small mono wrap" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function CheckResult({ check }: { check: ToolsCheck }) {
  return (
    <div className="status-block" data-testid="tools-check" data-state={check.state}>
      {check.state === 'none' ? <p className="muted small">No tools and no environment: completions are single turns.</p> : null}
      {check.state === 'checking' ? (
        <p className="muted small" role="status">
          Loading the files in the sandbox…
        </p>
      ) : null}
      {check.state === 'error' ? (
        <div className="callout callout-error" role="alert" data-testid="tools-error">
          <h3>The files do not load</h3>
          <p className="mono wrap small">{check.message}</p>
        </div>
      ) : null}
      {check.state === 'ok' ? (
        <>
          {check.tools.length ? (
            <table className="data-table small" data-testid="tools-list">
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col">Description</th>
                  <th scope="col">Arguments</th>
                </tr>
              </thead>
              <tbody>
                {check.tools.map((t) => (
                  <tr key={t.name} data-testid="tool-row">
                    <td className="mono strong">{t.name}</td>
                    <td>{t.description || <span className="muted">(none)</span>}</td>
                    <td>
                      {toolArguments(t.parameters).map((a) => (
                        <div key={a.name}>
                          <span className="mono">{a.name}</span>
                          <span className="muted mono">: {a.type}</span>
                          {a.required ? <span className="tag small">required</span> : null}
                          {a.description ? <span className="muted"> — {a.description}</span> : null}
                        </div>
                      ))}
                      {toolArguments(t.parameters).length === 0 ? <span className="muted">none</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {check.env ? (
            <p className="small" data-testid="env-loaded">
              Environment loaded: one is made per rollout (reset with the dataset row, stepped with each model turn).
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
