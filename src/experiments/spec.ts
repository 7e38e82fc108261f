// A sweep spec: the same JSON the page exports and `grpo-playground sweep --spec` reads. A base config
// (overrides on the defaults), one swept dimension — a setting and its values, or a set of presets — and
// seeds; every arm runs once per seed on the same model and data, one run after another.
//
// {
//   "name": "presets-demo",
//   "model": "public/models/tiny-puzzles",          (CLI: a path; the page names its model)
//   "dataset": "public/datasets/reverse.jsonl",
//   "eval_dataset": null,                             (optional separate test file)
//   "config": { "learning_rate": 0.003, ... },        (overrides on the defaults, every run)
//   "sweep": { "presets": ["grpo", "dr_grpo", "dapo"] }  or  { "setting": "learning_rate", "values": [0.001, 0.003] },
//   "seeds": [1, 2],
//   "steps": 100                                      (optional; --steps overrides it)
// }

import { CONFIG_KEYS, parseConfigJson, type GrpoConfig, type ValidationContext } from '../grpo/config';
import { applyPreset, PRESETS } from '../grpo/presets';

export const SPEC_FORMAT = 'grpo-playground-sweep';

export type SweepDimension = { presets: string[] } | { setting: keyof GrpoConfig; values: unknown[] };

export interface SweepSpec {
  format?: typeof SPEC_FORMAT;
  name: string;
  model: string;
  dataset: string;
  eval_dataset?: string | null;
  config: Record<string, unknown>;
  sweep: SweepDimension;
  seeds: number[];
  steps?: number;
}

/** One run of a sweep: its arm, seed, name (unique, safe as a folder name) and full config. */
export interface SweepRun {
  name: string;
  arm: string;
  /** the swept value: a preset id or the setting's value */
  value: unknown;
  seed: number;
  config: GrpoConfig;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** Reads and checks a spec (a parsed value or its text); every problem in one Error starting with `source`. */
export function parseSweepSpec(json: unknown, source: string): SweepSpec {
  let v = json;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${source}: a sweep spec is a JSON object with name, model, dataset, config, sweep and seeds, got ${describe(v)}`);
  const o = v as Record<string, unknown>;
  const p: string[] = [];
  const known = ['format', 'name', 'model', 'dataset', 'eval_dataset', 'config', 'sweep', 'seeds', 'steps'];
  for (const k of Object.keys(o)) if (!known.includes(k)) p.push(`unknown key ${JSON.stringify(k)} (a spec has ${known.join(', ')})`);
  if (o.format !== undefined && o.format !== SPEC_FORMAT) p.push(`format must be "${SPEC_FORMAT}", got ${describe(o.format)}`);
  const str = (k: string, optional = false) => {
    if (optional && (o[k] === undefined || o[k] === null)) return;
    if (typeof o[k] !== 'string' || o[k] === '') p.push(`${k} must be a non-empty string${k === 'model' ? ' (a model path, e.g. "public/models/tiny-puzzles")' : k.includes('dataset') ? ' (a dataset file, e.g. "public/datasets/reverse.jsonl")' : ''}, got ${describe(o[k])}`);
  };
  str('name');
  str('model');
  str('dataset');
  str('eval_dataset', true);
  const config = o.config ?? {};
  if (config === null || typeof config !== 'object' || Array.isArray(config)) p.push(`config must be an object of settings (overrides on the defaults), got ${describe(config)}`);
  const seeds = o.seeds;
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffffffff)) p.push(`seeds must be a non-empty array of whole numbers (0 to 4294967295), e.g. [1, 2, 3], got ${describe(seeds)}`);
  else if (new Set(seeds).size !== seeds.length) p.push('seeds must not repeat');
  if (o.steps !== undefined && (!Number.isInteger(o.steps) || (o.steps as number) < 1)) p.push(`steps must be a positive whole number, got ${describe(o.steps)}`);
  const sw = o.sweep;
  if (sw === null || typeof sw !== 'object' || Array.isArray(sw)) p.push(`sweep must be {"presets": [...]} or {"setting": "...", "values": [...]}, got ${describe(sw)}`);
  else {
    const s = sw as Record<string, unknown>;
    if ('presets' in s) {
      const ids = PRESETS.map((x) => x.id);
      if (!Array.isArray(s.presets) || s.presets.length === 0) p.push(`sweep.presets must be a non-empty array of preset ids (${ids.join(', ')})`);
      else {
        for (const id of s.presets) if (typeof id !== 'string' || !ids.includes(id)) p.push(`sweep.presets: unknown preset ${describe(id)}; the presets are ${ids.join(', ')}`);
        if (new Set(s.presets).size !== s.presets.length) p.push('sweep.presets must not repeat');
      }
    } else if ('setting' in s) {
      if (typeof s.setting !== 'string' || !(CONFIG_KEYS as string[]).includes(s.setting)) p.push(`sweep.setting must name a setting (e.g. "learning_rate"), got ${describe(s.setting)}`);
      else if (s.setting === 'seed') p.push('sweep.setting cannot be "seed": seeds are given by "seeds"');
      if (!Array.isArray(s.values) || s.values.length === 0) p.push(`sweep.values must be a non-empty array of the setting's values, got ${describe(s.values)}`);
      else if (new Set(s.values.map((x) => JSON.stringify(x))).size !== s.values.length) p.push('sweep.values must not repeat');
    } else p.push('sweep must have "presets" or "setting" and "values"');
  }
  if (p.length) throw new Error(`${source}: ${p.length === 1 ? 'a problem' : `${p.length} problems`} in the sweep spec:\n${p.map((m) => `- ${m}`).join('\n')}`);
  return { ...(o as unknown as SweepSpec), config: config as Record<string, unknown> };
}

/** The arms' names, in order: the preset id, or setting=value. */
export function armName(spec: SweepSpec, value: unknown): string {
  return 'presets' in spec.sweep ? String(value) : `${spec.sweep.setting}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
}

/** A name safe as a folder name on every system. */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^[._]+/, '').slice(0, 100) || 'run';
}

/** Every run of the sweep (arm-major, then seed), each config checked; `steps` (e.g. --steps) overrides
 * the spec's and the config's max_steps. Problems name the run and the setting. */
export function expandSweep(spec: SweepSpec, ctx: ValidationContext = {}, steps?: number): SweepRun[] {
  const values = 'presets' in spec.sweep ? spec.sweep.presets : spec.sweep.values;
  const runs: SweepRun[] = [];
  for (const value of values) {
    const arm = armName(spec, value);
    for (const seed of spec.seeds) {
      const name = safeName(`${arm}-seed${seed}`);
      const json: Record<string, unknown> = { ...spec.config, seed };
      const maxSteps = steps ?? spec.steps;
      if (maxSteps !== undefined) json.max_steps = maxSteps;
      if ('setting' in spec.sweep) json[spec.sweep.setting] = value;
      let config = parseConfigJson(json, `sweep run ${name}`, ctx);
      if ('presets' in spec.sweep) {
        config = applyPreset(config, String(value));
        const again = parseConfigJson(JSON.parse(JSON.stringify(config)), `sweep run ${name} (preset ${String(value)})`, ctx);
        config = again;
      }
      runs.push({ name, arm, value, seed, config });
    }
  }
  return runs;
}
