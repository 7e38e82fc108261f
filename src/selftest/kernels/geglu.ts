import * as gpuK from '../../gpu/kernels/geglu';
import * as ref from '../../reference/geglu';
import { compare, merge, type KernelCheck, type CaseResult } from '../check';
import { Rng, randn } from '../../util/random';

// Elementwise with exp(): a few ulp apart from the float64 reference.
const TOL = { atol: 1e-5, rtol: 1e-5 };

/** A case that passes when `call` throws an error whose message matches `pattern` (shape validation). */
function rejects(kernel: string, caseName: string, pattern: RegExp, call: () => void): CaseResult {
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

export const check: KernelCheck = {
  kernel: 'geglu',
  async run(gpu) {
    const rng = new Rng(5);
    const results: CaseResult[] = [];
    // [N, H]: one element; odd sizes; stories260K's hidden 172; 257 elements (one past a workgroup).
    for (const [N, H] of [
      [1, 1],
      [3, 7],
      [17, 172],
      [1, 257],
      [4, 1536],
    ]) {
      const n = N * H;
      const gate = randn(n, rng, 3); // wide enough to reach both tails of tanh
      if (n > 2) {
        gate[0] = 60; // tanh saturates to 1
        gate[1] = -60; // tanh saturates to -1 without overflowing exp
      }
      const up = randn(n, rng);
      const dout = randn(n, rng);
      const tGate = gpu.upload(gate, [N, H], 'gate');
      const tUp = gpu.upload(up, [N, H], 'up');
      const tOut = gpu.tensor([N, H], 'out');
      const tDout = gpu.upload(dout, [N, H], 'dout');
      const tDgate = gpu.upload(randn(n, rng), [N, H], 'dgate'); // garbage: the backward overwrites
      const tDup = gpu.upload(randn(n, rng), [N, H], 'dup');
      const name = `N=${N} H=${H}`;

      gpuK.gegluForward(gpu, tOut, tGate, tUp);
      const out = new Float32Array(n);
      ref.gegluForward(out, gate, up);
      results.push(compare('geglu_forward', name, 'out', await gpu.read(tOut), out, TOL));

      gpuK.gegluBackward(gpu, tDgate, tDup, tDout, tGate, tUp);
      const dgate = new Float32Array(n);
      const dup = new Float32Array(n);
      ref.gegluBackward(dgate, dup, dout, gate, up);
      results.push(
        merge([
          compare('geglu_backward', name, 'dgate', await gpu.read(tDgate), dgate, TOL),
          compare('geglu_backward', name, 'dup', await gpu.read(tDup), dup, TOL),
        ]),
      );
      gpu.release(tGate, tUp, tOut, tDout, tDgate, tDup);
    }
    {
      const a = gpu.tensor([2, 3], 'gate');
      const b = gpu.tensor([3, 2], 'up');
      const out = gpu.tensor([2, 3], 'out');
      results.push(rejects('geglu_forward', 'rejects up of another shape', /^up: expected shape \[2, 3\]/, () =>
        gpuK.gegluForward(gpu, out, a, b)));
      results.push(rejects('geglu_backward', 'rejects up of another shape', /^up: expected shape \[2, 3\]/, () =>
        gpuK.gegluBackward(gpu, out, a, a, a, b)));
      gpu.release(a, b, out);
    }
    return results;
  },
};
