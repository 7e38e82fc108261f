import * as gpuK from '../../gpu/kernels/rope';
import * as ref from '../../reference/rope';
import { compare, rejects, type KernelCheck, type CaseResult } from '../check';
import { Rng, randn, randInts } from '../../util/random';

// The shaders' own cos_sin is good to ~2e-7 for angles up to 1e4 rad (~1e-6 at 1e5) on any GPU, since it
// uses only +, -, *; the errors seen are below 1e-6.
const TOL = { atol: 1e-5, rtol: 1e-5 };

export const check: KernelCheck = {
  kernel: 'rope',
  async run(gpu) {
    const rng = new Rng(11);
    const results: CaseResult[] = [];
    const llama3 = { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    // [N, NH, HS, theta, maxPos, llama3 scaling]: the smallest head; stories260K (8 heads of 8); SmolLM2
    // (9 heads of 64, theta 1e5) at long positions; Llama 3 scaled frequencies.
    for (const [N, NH, HS, theta, maxPos, scaled] of [
      [1, 1, 2, 10000, 1, false],
      [5, 8, 8, 10000, 512, false],
      [7, 9, 64, 100000, 8192, false],
      [3, 2, 64, 500000, 131072, true],
    ] as const) {
      const invFreq = scaled ? gpuK.llama3InvFreq(HS, theta, llama3) : gpuK.ropeInvFreq(HS, theta);
      const positions = randInts(N, rng, maxPos);
      const width = NH * HS;
      const x = randn(N * width, rng);
      const dout = randn(N * width, rng);
      const tX = gpu.upload(x, [N, width], 'x');
      const tPos = gpu.upload(positions, [N], 'positions', 'u32');
      const tFreq = gpu.upload(invFreq, [HS / 2], 'invFreq');
      const tOut = gpu.tensor([N, width], 'out');
      const tDout = gpu.upload(dout, [N, width], 'dout');
      const tDx = gpu.tensor([N, width], 'dx');
      for (const convention of ['interleaved', 'half'] as const) {
        const name = `N=${N} NH=${NH} HS=${HS} theta=${theta} positions<${maxPos}${scaled ? ' llama3' : ''} ${convention}`;
        gpuK.ropeForward(gpu, tOut, tX, tPos, tFreq, NH, HS, convention);
        const out = new Float32Array(N * width);
        ref.ropeForward(out, x, positions, invFreq, N, NH, HS, convention);
        results.push(compare('rope_forward', name, 'out', await gpu.read(tOut), out, TOL));

        gpuK.ropeBackward(gpu, tDx, tDout, tPos, tFreq, NH, HS, convention);
        const dx = new Float32Array(N * width);
        ref.ropeBackward(dx, dout, positions, invFreq, N, NH, HS, convention);
        results.push(compare('rope_backward', name, 'dx', await gpu.read(tDx), dx, TOL));
      }
      gpu.release(tX, tPos, tFreq, tOut, tDout, tDx);
    }
    {
      const x = gpu.tensor([3, 8], 'x');
      const out = gpu.tensor([3, 8], 'out');
      const positions = gpu.upload([0, 1], [2], 'positions', 'u32');
      const invFreq = gpu.tensor([2], 'invFreq');
      results.push(rejects('rope_forward', 'rejects too few positions', /^positions: expected 3 positions/, () =>
        gpuK.ropeForward(gpu, out, x, positions, invFreq, 2, 4, 'half')));
      results.push(rejects('rope_backward', 'rejects rows that are not NH*HS', /^x: expected rows of nHeads\*headDim/, () =>
        gpuK.ropeBackward(gpu, out, x, positions, invFreq, 3, 4, 'interleaved')));
      gpu.release(x, out, positions, invFreq);
    }
    return results;
  },
};
