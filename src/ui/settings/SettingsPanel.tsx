// Step 4: settings. Every field of the config, grouped as its documentation groups them, each with its
// help text (what it does, its default and where it comes from); the algorithm presets; and every
// problem checkConfig finds (and configWarnings' advice), shown at the field it is keyed to.

import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { CONFIG_DOCS, checkConfig, configWarnings, summaryValidationContext, type GrpoConfig } from '../../grpo/config';
import { PRESETS, matchingPreset } from '../../grpo/presets';
import { Panel } from '../common';
import { useAppStore, isBusy } from '../store';
import { ESSENTIAL_FIELDS, FIELD_INPUTS, TOOL_FORMAT_FIELDS, TOOL_SOURCE_FIELDS, fieldGroups, problemsByField } from './fields';
import { NumberInput } from './NumberInput';

/** Fields a paused run takes from the settings when it resumes; the rest apply at the next Start. */
const RESUMABLE: readonly (keyof GrpoConfig)[] = ['max_steps', 'eval_interval'];

export function SettingsPanel() {
  const config = useAppStore((s) => s.config);
  const modelSummary = useAppStore((s) => s.modelSummary);
  const runStatus = useAppStore((s) => s.runStatus);
  const problems = useMemo(() => checkConfig(config, summaryValidationContext(modelSummary)), [config, modelSummary]);
  const byField = useMemo(() => problemsByField(problems), [problems]);
  const warnings = useMemo(() => problemsByField(configWarnings(config)), [config]);
  const groups = useMemo(() => fieldGroups(), []);
  const locked = isBusy(runStatus);
  return (
    <Panel id="settings" title="Settings" step={4} actions={<SettingsActions />}>
      <Presets />
      {runStatus === 'paused' ? (
        <p className="help">The run is paused: Resume takes max_steps and eval_interval from here; other changes apply at the next Start.</p>
      ) : null}
      {problems.length ? (
        <p className="callout callout-error small" role="alert" data-testid="settings-problems">
          {problems.length === 1 ? 'One setting needs' : `${problems.length} settings need`} fixing before a run can start.
        </p>
      ) : null}
      <div className="essentials">
        {ESSENTIAL_FIELDS.map((k) => (
          <Field key={k} name={k} problems={byField[k]} warnings={warnings[k]} locked={locked && !RESUMABLE.includes(k)} />
        ))}
      </div>
      <p className="help small">
        Tools, environments and their call format: <a href="#tools-title">Tools and environments</a>.
      </p>
      {groups.map((g) => (
        <Group key={g.group} title={g.group} keys={g.keys.filter((k) => !ESSENTIAL_FIELDS.includes(k) && !TOOL_FORMAT_FIELDS.includes(k) && !TOOL_SOURCE_FIELDS.includes(k))} byField={byField} warnings={warnings} locked={locked} />
      ))}
    </Panel>
  );
}

function SettingsActions() {
  const reset = useAppStore((s) => s.resetConfig);
  const importJson = useAppStore((s) => s.importConfigJson);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button type="button" className="link-button" onClick={reset} disabled={busy}>
        Reset
      </button>
      <label className={`link-button ${busy ? 'is-disabled' : ''}`}>
        Import JSON…
        <input
          type="file"
          accept=".json,application/json"
          className="visually-hidden"
          disabled={busy}
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            e.currentTarget.value = '';
            if (!f) return;
            void f.text().then((t) => {
              try {
                importJson(t, f.name);
                setError(null);
              } catch (err) {
                setError((err as Error).message);
              }
            });
          }}
        />
      </label>
      {error ? (
        <div className="callout callout-error popover mono wrap small" role="alert">
          {error}
          <button type="button" className="link-button" onClick={() => setError(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
    </>
  );
}

function Presets() {
  const config = useAppStore((s) => s.config);
  const apply = useAppStore((s) => s.applyPreset);
  const busy = useAppStore((s) => isBusy(s.runStatus));
  const active = matchingPreset(config);
  return (
    <div className="presets">
      <div className="segmented" role="group" aria-label="Algorithm preset">
        {PRESETS.map((p) => (
          <button key={p.id} type="button" className={`segment ${active?.id === p.id ? 'segment-on' : ''}`} aria-pressed={active?.id === p.id} disabled={busy} onClick={() => apply(p.id)}>
            {p.name}
          </button>
        ))}
      </div>
      <p className="help">{active ? active.description : 'Custom loss settings (no preset matches them exactly).'}</p>
    </div>
  );
}

type ByField = Partial<Record<keyof GrpoConfig, string[]>>;

function Group({ title, keys, byField, warnings, locked }: { title: string; keys: (keyof GrpoConfig)[]; byField: ByField; warnings: ByField; locked: boolean }) {
  const errors = keys.reduce((n, k) => n + (byField[k]?.length ?? 0), 0);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (errors > 0) setOpen(true);
  }, [errors]);
  if (keys.length === 0) return null;
  return (
    <details className="group" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary className="group-head">
        <span>{title}</span>
        <span className="muted small">
          {keys.length} setting{keys.length === 1 ? '' : 's'}
        </span>
        {errors ? <span className="tag tag-fail">{errors} to fix</span> : null}
      </summary>
      <div className="group-body">
        {keys.map((k) => (
          <Field key={k} name={k} problems={byField[k]} warnings={warnings[k]} locked={locked && !RESUMABLE.includes(k)} />
        ))}
      </div>
    </details>
  );
}

function defaultText(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? (x as { name: string }).name : String(x))).join(', ');
  return String(v);
}

export function Field({ name, problems, warnings, locked }: { name: keyof GrpoConfig; problems?: string[]; warnings?: string[]; locked: boolean }) {
  const value = useAppStore((s) => s.config[name]);
  const set = useAppStore((s) => s.setConfigField);
  const id = useId();
  const input = FIELD_INPUTS[name];
  const doc = CONFIG_DOCS[name];
  // the LoRA modules the loaded model has (Qwen3.5's in_proj_* / out_proj only where it has linear layers)
  const modelModules = useAppStore((s) => s.modelSummary?.loraModules);
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const invalid = !!problems?.length;
  const describedBy = invalid ? `${errId} ${helpId}` : helpId;
  let control: ReactNode;
  switch (input.kind) {
    case 'int':
    case 'number':
      control = <NumberInput id={id} value={value as number} onChange={(v) => set(name, v as never)} disabled={locked} invalid={invalid} describedBy={describedBy} />;
      break;
    case 'optional_number': {
      const n = value as number | null;
      control = (
        <div className="text-field">
          <label className="check small">
            <input type="checkbox" checked={n !== null} disabled={locked} onChange={(e) => set(name, (e.target.checked ? input.suggest : null) as never)} />
            set
          </label>
          {n !== null ? (
            <NumberInput id={id} value={n} onChange={(v) => set(name, v as never)} disabled={locked} invalid={invalid} describedBy={describedBy} />
          ) : (
            <span className="muted small">none</span>
          )}
        </div>
      );
      break;
    }
    case 'boolean':
      control = (
        <input id={id} type="checkbox" checked={value as boolean} disabled={locked} onChange={(e) => set(name, e.target.checked as never)} aria-describedby={describedBy} aria-invalid={invalid || undefined} />
      );
      break;
    case 'enum':
      control = (
        <select id={id} className="input" value={value as string} disabled={locked} onChange={(e) => set(name, e.target.value as never)} aria-describedby={describedBy} aria-invalid={invalid || undefined}>
          {input.choices.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      );
      break;
    case 'text': {
      const text = value as string | null;
      control = (
        <div className="text-field">
          <label className="check small">
            <input type="checkbox" checked={text !== null} disabled={locked} onChange={(e) => set(name, (e.target.checked ? '' : null) as never)} />
            set
          </label>
          {text !== null ? (
            <textarea id={id} className="input mono" rows={2} value={text} disabled={locked} onChange={(e) => set(name, e.target.value as never)} aria-describedby={describedBy} aria-invalid={invalid || undefined} />
          ) : (
            <span className="muted small">none</span>
          )}
        </div>
      );
      break;
    }
    case 'modules': {
      const modules = value as string[];
      // with a model loaded, only its modules (and any already chosen, so a flagged one can be unticked)
      const offered = modelModules ? input.choices.filter((m) => modules.includes(m) || modelModules.some((x) => x.name === m)) : input.choices;
      control = (
        <div className="modules" role="group" aria-labelledby={`${id}-label`} aria-describedby={describedBy}>
          {offered.map((m) => (
            <label key={m} className="check mono small">
              <input
                type="checkbox"
                checked={modules.includes(m)}
                disabled={locked}
                onChange={(e) => set(name, (e.target.checked ? input.choices.filter((x) => x === m || modules.includes(x)) : modules.filter((x) => x !== m)) as never)}
              />
              {m}
            </label>
          ))}
        </div>
      );
      break;
    }
    case 'rewards':
      control = (
        <a className="small" href="#rewards-title">
          {(value as GrpoConfig['reward_funcs']).map((r) => `${r.name} × ${r.weight}`).join(', ') || 'none'}: edit them in Rewards
        </a>
      );
      break;
  }
  const labelFor = input.kind === 'modules' || input.kind === 'rewards' ? undefined : id;
  return (
    <div
      className={`field ${input.kind === 'boolean' ? 'field-check' : ''} ${input.kind === 'text' || input.kind === 'modules' || input.kind === 'rewards' ? 'field-wide' : ''} ${invalid ? 'field-invalid' : ''}`}
      data-field={name}
    >
      <label className="field-name mono" htmlFor={labelFor} id={`${id}-label`}>
        {name}
      </label>
      <div className="field-control">{control}</div>
      {invalid ? (
        <ul className="field-errors" id={errId} role="alert">
          {problems!.map((p, k) => (
            <li key={k}>{p}</li>
          ))}
        </ul>
      ) : null}
      {warnings?.length ? (
        <ul className="field-warnings small">
          {warnings.map((w, k) => (
            <li key={k}>{w}</li>
          ))}
        </ul>
      ) : null}
      <p className="help field-help" id={helpId}>
        {doc.doc} <span className="muted">Default {defaultText(doc.default)}.</span>
        {doc.source ? <span className="source"> Source: {doc.source}.</span> : null}
      </p>
    </div>
  );
}
