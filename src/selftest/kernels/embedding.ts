import * as gpuK from '../../gpu/kernels/embedding';
import * as ref from '../../reference/embedding';
import { compare, rejects, type KernelCheck, type CaseResult } from '../check';
import { Rng, randn, randInts } from '../../util/random';

// Exact: the forward is a copy, and the backward adds each vocab row's gradients in position order, as the
// reference does (WGSL f32 addition is correctly rounded), so any other order would show in the low bits.
const EXACT = { atol: 0, rtol: 0 };

export const check: KernelCheck = {
  kernel: 'embedding',
  async run(gpu) {
    const rng = new Rng(7);
    const results: CaseResult[] = [];
    // [N, V, C]: single token; repeated ids (V < N); sizes off every tile; N over one 256-id sort tile;
    // a SmolLM2-sized vocabulary with few tokens.
    // scale: Gemma's sqrt(C) embedding multiplier (products round differently from the float64 reference's
    // sums, so those cases compare within a few ulp).
    for (const [N, V, C, scale] of [
      [1, 5, 7, 1],
      [13, 4, 64, 1],
      [37, 50, 172, 1],
      [300, 23, 9, 1],
      [20, 49152, 3, 1],
      [13, 4, 64, Math.fround(Math.sqrt(640))],
    ]) {
      const tol = scale === 1 ? EXACT : { atol: 1e-5, rtol: 1e-6 };
      const ids = randInts(N, rng, V);
      if (N > 2) ids[1] = V + 3; // out of range: a zero row forward, no contribution backward
      if (N > 5) ids[N - 1] = ids[0]; // at least one repeat
      const table = randn(V * C, rng);
      const dout = randn(N * C, rng);
      const dtable0 = randn(V * C, rng, 0.5);
      const tIds = gpu.upload(ids, [N], 'ids', 'u32');
      const tTable = gpu.upload(table, [V, C], 'table');
      const tOut = gpu.tensor([N, C], 'out');
      const tDout = gpu.upload(dout, [N, C], 'dout');
      const tDtable = gpu.upload(dtable0, [V, C], 'dtable');
      const name = `N=${N} V=${V} C=${C}${scale === 1 ? '' : ` scale=${scale}`}`;

      gpuK.embeddingForward(gpu, tOut, tIds, tTable, scale);
      const out = new Float32Array(N * C);
      ref.embeddingForward(out, ids, table, N, V, C, scale);
      results.push(compare('embedding_forward', name, 'out', await gpu.read(tOut), out, EXACT));

      gpuK.embeddingBackward(gpu, tDtable, tDout, tIds, scale);
      const dtable = dtable0.slice();
      ref.embeddingBackward(dtable, dout, ids, N, V, C, scale);
      const accumulated = await gpu.read(tDtable);
      results.push(compare('embedding_backward', `${name} (+= onto non-zero dtable)`, 'dtable', accumulated, dtable, tol));

      // A second call accumulates again (the model adds the LM head's gradient of a tied table the same way).
      gpuK.embeddingBackward(gpu, tDtable, tDout, tIds, scale);
      ref.embeddingBackward(dtable, dout, ids, N, V, C, scale);
      const twice = await gpu.read(tDtable);
      results.push(compare('embedding_backward', `${name} (accumulated twice)`, 'dtable', twice, dtable, tol));
      gpu.release(tIds, tTable, tOut, tDout, tDtable);
    }
    {
      const ids = gpu.upload([0, 1], [2], 'ids', 'u32');
      const fids = gpu.upload([0, 1], [2], 'float ids');
      const table = gpu.tensor([3, 4], 'table');
      const out = gpu.tensor([2, 5], 'out');
      const dout = gpu.tensor([2, 4], 'dout');
      results.push(rejects('embedding_forward', 'rejects out of the wrong width', /^out: expected shape \[2, 4\]/, () =>
        gpuK.embeddingForward(gpu, out, ids, table)));
      results.push(rejects('embedding_backward', 'rejects f32 ids', /^float ids: expected u32/, () =>
        gpuK.embeddingBackward(gpu, table, dout, fids)));
      gpu.release(ids, fids, table, out, dout);
    }
    return results;
  },
};
