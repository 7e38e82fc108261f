// Kernel self-checks: each kernel's GPU result against its CPU reference on random inputs. The same
// checks run under vitest in Node (test/kernels.test.ts) and in the page's self-test (browser).

import type { GpuRuntime } from '../gpu/runtime';

export interface CaseResult {
  kernel: string;
  /** e.g. "M=7 K=13 N=5 transB" */
  case: string;
  ok: boolean;
  maxAbsErr: number;
  /** the first mismatches: "out[3] got 1.2 want 1.25 (tol 1e-4)" */
  mismatches: string[];
  /** set when the case did not run on this device, with why (e.g. a feature the adapter lacks): neither
   * passed nor failed; shown as untested, never counted as a pass */
  skipped?: string;
}

/** The one case of a check that cannot run on this device: untested here, with the reason. */
export function skippedCase(kernel: string, why: string): CaseResult {
  return { kernel, case: `untested here: ${why}`, ok: true, maxAbsErr: 0, mismatches: [], skipped: why };
}

export interface KernelCheck {
  /** the kernel (or forward/backward pair) this checks, e.g. "matmul" */
  kernel: string;
  run(gpu: GpuRuntime): Promise<CaseResult[]>;
  /** Why this check cannot run on this device (e.g. a kernel variant needing a feature the adapter lacks),
   * or null; absent: it always can. */
  unavailable?(gpu: GpuRuntime): string | null;
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

export const DEFAULT_TOL: Tolerance = { atol: 1e-4, rtol: 1e-4 };

/** Compares `got` with `want` elementwise: |got - want| <= atol + rtol*|want|; NaN/Inf always mismatch
 * unless equal. Lists the first few mismatches with their index. */
export function compare(
  kernel: string,
  caseName: string,
  tensorName: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance = DEFAULT_TOL,
): CaseResult {
  const mismatches: string[] = [];
  let maxAbsErr = 0;
  let bad = 0;
  if (got.length !== want.length) {
    mismatches.push(`${tensorName}: length ${got.length}, want ${want.length}`);
    return { kernel, case: caseName, ok: false, maxAbsErr: Infinity, mismatches };
  }
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const ok = g === w || err <= tol.atol + tol.rtol * Math.abs(w);
    if (Number.isFinite(err)) maxAbsErr = Math.max(maxAbsErr, err);
    else if (g !== w) maxAbsErr = Infinity;
    if (!ok) {
      bad++;
      if (mismatches.length < 5) {
        mismatches.push(`${tensorName}[${i}] got ${g} want ${w} (|err| ${err.toExponential(2)})`);
      }
    }
  }
  if (bad > 5) mismatches.push(`... ${bad} mismatches of ${want.length} in ${tensorName}`);
  return { kernel, case: caseName, ok: bad === 0, maxAbsErr, mismatches };
}

/** Merges the comparisons of several output tensors of one case into one result. */
export function merge(results: CaseResult[]): CaseResult {
  return {
    kernel: results[0].kernel,
    case: results[0].case,
    ok: results.every((r) => r.ok),
    maxAbsErr: Math.max(...results.map((r) => r.maxAbsErr)),
    mismatches: results.flatMap((r) => r.mismatches),
  };
}

/** A case that passes when `call` throws an error whose message matches `pattern` (shape validation). */
export function rejects(kernel: string, caseName: string, pattern: RegExp, call: () => void): CaseResult {
  let message = 'no error';
  try {
    call();
  } catch (e) {
    message = (e as Error).message;
  }
  const ok = pattern.test(message);
  const mismatches = ok ? [] : [`expected an error matching ${pattern}, got: ${message}`];
  return { kernel, case: caseName, ok, maxAbsErr: 0, mismatches };
}
