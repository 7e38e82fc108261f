// Command-line argument parsing with one-line errors that say what to change.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { BASE_PRECISIONS, type BasePrecision } from '../grpo/config/enums';

export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(argv: string[], options: Options): Record<string, string | boolean | string[] | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return values as Record<string, string | boolean | string[] | undefined>;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function requireString(v: Record<string, unknown>, name: string): string {
  const s = v[name];
  if (typeof s !== 'string' || s === '') throw new UsageError(`--${name} is required`);
  return s;
}

export function numberOpt(v: Record<string, unknown>, name: string, fallback: number, check?: (n: number) => boolean, what?: string): number {
  const s = v[name];
  if (s === undefined) return fallback;
  const n = Number(s);
  if (typeof s !== 'string' || s.trim() === '' || !Number.isFinite(n) || (check && !check(n))) {
    throw new UsageError(`--${name} must be ${what ?? 'a number'}, got "${String(s)}"`);
  }
  return n;
}

/** --base-precision NAME (the config's base_precision, e.g. nf4 / nf4_dq), or undefined when not given. */
export function basePrecisionOpt(v: Record<string, unknown>): BasePrecision | undefined {
  const s = v['base-precision'];
  if (s === undefined) return undefined;
  if (typeof s !== 'string' || !(BASE_PRECISIONS as readonly string[]).includes(s)) {
    throw new UsageError(`--base-precision must be one of ${BASE_PRECISIONS.join(', ')}, got "${String(s)}"`);
  }
  return s as BasePrecision;
}
