// The self-test cases shared by the elementwise MLP gates (SwiGLU: kernels/swiglu.ts, GeGLU: kernels/geglu.ts):
// the same shapes, inputs and shape-rejection cases, run against each gate's own host wrappers and CPU reference.
import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { compare, merge, rejects, type KernelCheck, type CaseResult } from './check';
import { Rng, randn } from '../util/random';

// Elementwise with exp(): a few ulp apart from the float64 reference.
const TOL = { atol: 1e-5, rtol: 1e-5 };

/** One gate: its name (the kernels are `${name}_forward` and `${name}_backward`), host wrappers and reference. */
export interface GateUnderTest {
  name: string;
  gpuForward(gpu: GpuRuntime, out: Tensor, gate: Tensor, up: Tensor): void;
  gpuBackward(gpu: GpuRuntime, dgate: Tensor, dup: Tensor, dout: Tensor, gate: Tensor, up: Tensor): void;
  refForward(out: Float32Array, gate: Float32Array, up: Float32Array): void;
  refBackward(dgate: Float32Array, dup: Float32Array, dout: Float32Array, gate: Float32Array, up: Float32Array): void;
}

/** The check of one gate's forward and backward against its reference. */
export function gateCheck(g: GateUnderTest): KernelCheck {
  const fwd = `${g.name}_forward`;
  const bwd = `${g.name}_backward`;
  return {
    kernel: g.name,
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
        const gate = randn(n, rng, 3); // wide enough to reach both saturated tails of the activation
        if (n > 2) {
          gate[0] = 60; // sigmoid / tanh saturate to 1
          gate[1] = -60; // sigmoid underflows towards 0, tanh saturates to -1, without overflowing exp
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

        g.gpuForward(gpu, tOut, tGate, tUp);
        const out = new Float32Array(n);
        g.refForward(out, gate, up);
        results.push(compare(fwd, name, 'out', await gpu.read(tOut), out, TOL));

        g.gpuBackward(gpu, tDgate, tDup, tDout, tGate, tUp);
        const dgate = new Float32Array(n);
        const dup = new Float32Array(n);
        g.refBackward(dgate, dup, dout, gate, up);
        results.push(
          merge([
            compare(bwd, name, 'dgate', await gpu.read(tDgate), dgate, TOL),
            compare(bwd, name, 'dup', await gpu.read(tDup), dup, TOL),
          ]),
        );
        gpu.release(tGate, tUp, tOut, tDout, tDgate, tDup);
      }
      {
        const a = gpu.tensor([2, 3], 'gate');
        const b = gpu.tensor([3, 2], 'up');
        const out = gpu.tensor([2, 3], 'out');
        results.push(rejects(fwd, 'rejects up of another shape', /^up: expected shape \[2, 3\]/, () => g.gpuForward(gpu, out, a, b)));
        results.push(rejects(bwd, 'rejects up of another shape', /^up: expected shape \[2, 3\]/, () => g.gpuBackward(gpu, out, a, a, a, b)));
        gpu.release(a, b, out);
      }
      return results;
    },
  };
}
