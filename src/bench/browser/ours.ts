// Our WGSL kernels through the engine's GpuRuntime, one host-wrapper call per op (what the trainer calls).
import { acquireGpu } from '../../gpu/device';
import { attentionBackward, attentionForward } from '../../gpu/kernels/attention';
import { logprobGatherBackward, logprobGatherForward } from '../../gpu/kernels/logprob_gather';
import { loraBackward, loraForward } from '../../gpu/kernels/lora';
import { matmul } from '../../gpu/kernels/matmul';
import type { GpuRuntime } from '../../gpu/runtime';
import type { Tensor } from '../../gpu/tensor';
import type { AttentionCaseDims, BenchCase } from './cases';
import type { BenchLibrary, PreparedCase } from './library';

export async function createOurs(): Promise<{ lib: BenchLibrary; gpu: GpuRuntime }> {
  const gpu = await acquireGpu();
  const lib: BenchLibrary = {
    name: 'ours',
    version: 'grpo-playground WGSL kernels',
    prepare: async (c) => prepareOurs(gpu, c),
    destroy: () => gpu.destroy(),
  };
  return { lib, gpu };
}

function prepareOurs(gpu: GpuRuntime, c: BenchCase): PreparedCase {
  const made: Tensor[] = [];
  const up = (name: string): Tensor => {
    const a = c.f32[name];
    const t = gpu.upload(a.data, a.shape, name);
    made.push(t);
    return t;
  };
  const empty = (shape: number[], label: string): Tensor => {
    const t = gpu.tensor(shape, label);
    made.push(t);
    return t;
  };
  const d = c.dims;
  let run: () => void;
  let reset: () => void = () => {};
  let outs: Tensor[];

  switch (c.op) {
    case 'matmul': {
      const a = up('a');
      const b = up('b');
      const y = empty([d.M, d.N], 'y');
      run = () => matmul(gpu, y, a, b, { transB: d.transB === 1 });
      outs = [y];
      break;
    }
    case 'attention_forward': {
      const dims = d as unknown as AttentionCaseDims;
      const [q, k, v] = ['q', 'k', 'v'].map(up);
      const out = empty([dims.B, dims.T, dims.NH, dims.HS], 'out');
      const lse = empty([dims.B, dims.NH, dims.T], 'lse');
      run = () => attentionForward(gpu, out, lse, q, k, v, dims);
      outs = [out];
      break;
    }
    case 'attention_backward': {
      const dims = d as unknown as AttentionCaseDims;
      const [q, k, v, out, lse, dout] = ['q', 'k', 'v', 'out', 'lse', 'dout'].map(up);
      const dq = empty(c.f32.q.shape, 'dq');
      const dk = empty(c.f32.k.shape, 'dk');
      const dv = empty(c.f32.v.shape, 'dv');
      run = () => attentionBackward(gpu, dq, dk, dv, dout, q, k, v, out, lse, dims);
      outs = [dq, dk, dv];
      break;
    }
    case 'lora_forward': {
      const [x, A, B, y0] = ['x', 'A', 'B', 'y0'].map(up);
      const y = empty([d.N, d.OUT], 'y');
      const h = empty([d.N, d.R], 'h');
      reset = () => gpu.copy(y0, y);
      reset();
      run = () => loraForward(gpu, y, h, x, A, B, d.scale); // y += scale * (x A^T) B^T
      outs = [y, h];
      break;
    }
    case 'lora_backward': {
      const [x, A, B, dy, h, dx0] = ['x', 'A', 'B', 'dy', 'h', 'dx0'].map(up);
      const dA = empty([d.R, d.IN], 'dA');
      const dB = empty([d.OUT, d.R], 'dB');
      const dx = empty([d.N, d.IN], 'dx');
      reset = () => {
        gpu.fillZero(dA);
        gpu.fillZero(dB);
        gpu.copy(dx0, dx);
      };
      reset();
      run = () => loraBackward(gpu, dA, dB, dx, dy, x, h, A, B, d.scale); // all three accumulate
      outs = [dA, dB, dx];
      break;
    }
    case 'logprob_gather_forward': {
      const logits = up('logits');
      const targets = gpu.upload(c.targets!, [d.N], 'targets', 'u32');
      made.push(targets);
      const logp = empty([d.N], 'logp');
      const entropy = empty([d.N], 'entropy');
      const lse = empty([d.N], 'lse');
      run = () => logprobGatherForward(gpu, logp, entropy, lse, logits, targets, d.temperature);
      outs = [logp, entropy, lse];
      break;
    }
    case 'logprob_gather_backward': {
      const [logits, lse, dlogp] = ['logits', 'lse', 'dlogp'].map(up);
      const targets = gpu.upload(c.targets!, [d.N], 'targets', 'u32');
      made.push(targets);
      const dlogits = empty([d.N, d.V], 'dlogits');
      run = () => logprobGatherBackward(gpu, dlogits, dlogp, logits, targets, lse, d.temperature);
      outs = [dlogits];
      break;
    }
  }

  return {
    run,
    sync: () => gpu.sync(),
    check: async () => {
      reset();
      run();
      const res: Float32Array[] = [];
      for (const t of outs) res.push(await gpu.read(t));
      return res;
    },
    dispose: () => gpu.release(...made),
  };
}
