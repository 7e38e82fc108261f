// Reward parameters: fill defaults and check types against a function's parameter list, with messages
// that name the function, the parameter and what to write instead.

import type { RewardFuncEntry, RewardInfo, RewardParams, RewardParamSpec } from './types';
import { closestMatch } from './text';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Problems with one parameter value ([] when it is fine). */
function checkParam(where: string, spec: RewardParamSpec, v: unknown): string[] {
  const at = `${where}: parameter ${spec.name}`;
  if (v === null) return spec.nullable ? [] : [`${at} must not be null; remove it to use the default ${JSON.stringify(spec.default)}`];
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return [`${at} must be a finite number, got ${describe(v)}`];
      if (spec.type === 'integer' && !Number.isInteger(v)) return [`${at} must be a whole number, got ${v}`];
      if (spec.min !== undefined && v < spec.min) return [`${at} must be at least ${spec.min}, got ${v}`];
      if (spec.greaterThan !== undefined && v <= spec.greaterThan) return [`${at} must be greater than ${spec.greaterThan}, got ${v}`];
      return [];
    }
    case 'boolean':
      return typeof v === 'boolean' ? [] : [`${at} must be true or false, got ${describe(v)}`];
    case 'string':
      return typeof v === 'string' ? [] : [`${at} must be a string, got ${describe(v)}`];
    case 'regex': {
      if (typeof v !== 'string') return [`${at} must be a regular expression written as a string, got ${describe(v)}`];
      try {
        new RegExp(v);
        return [];
      } catch (e) {
        return [`${at} is not a valid regular expression: ${(e as Error).message}`];
      }
    }
    case 'choice':
      return typeof v === 'string' && spec.choices!.includes(v)
        ? []
        : [`${at} must be one of ${spec.choices!.map((c) => JSON.stringify(c)).join(', ')}, got ${describe(v)}`];
  }
}

/** Every problem with a params object for the function `name` described by `specs`. */
export function checkRewardParams(name: string, specs: readonly RewardParamSpec[], params: unknown): string[] {
  const where = `reward ${name}`;
  if (params === undefined) return [];
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return [`${where}: params must be an object, got ${describe(params)}`];
  const problems: string[] = [];
  const known = specs.map((s) => s.name);
  for (const [key, value] of Object.entries(params as RewardParams)) {
    const spec = specs.find((s) => s.name === key);
    if (!spec) {
      const hint = closestMatch(key, known);
      const list = known.length ? `its parameters are ${known.join(', ')}` : 'it takes no parameters';
      problems.push(`${where}: unknown parameter ${JSON.stringify(key)}${hint ? ` (did you mean ${hint}?)` : ''}; ${list}`);
      continue;
    }
    problems.push(...checkParam(where, spec, value));
  }
  return problems;
}

/** params with defaults filled in; throws one Error listing every problem. */
export function withDefaults(name: string, specs: readonly RewardParamSpec[], params: RewardParams | undefined): RewardParams {
  const problems = checkRewardParams(name, specs, params);
  if (problems.length) throw new Error(problems.join('\n'));
  const out: RewardParams = {};
  for (const s of specs) out[s.name] = params && Object.prototype.hasOwnProperty.call(params, s.name) ? params[s.name] : s.default;
  return out;
}

/** A registry entry whose fn checks and fills its params once per params object (cached), then calls
 * `impl` with every parameter present. Bad params throw an Error naming the function and parameter. */
export function defineReward(
  name: string,
  doc: string,
  params: readonly RewardParamSpec[],
  impl: (completion: string, answer: string, prompt: string, p: RewardParams, info: RewardInfo) => number | null,
): RewardFuncEntry {
  const resolved = new WeakMap<RewardParams, RewardParams>();
  const defaults = withDefaults(name, params, {});
  return {
    doc,
    params,
    fn: (completion, answer, prompt, given, info) => {
      let p = defaults;
      if (given && Object.keys(given).length > 0) {
        p = resolved.get(given) ?? withDefaults(name, params, given);
        resolved.set(given, p);
      }
      return impl(completion, answer, prompt, p, info ?? {});
    },
  };
}
