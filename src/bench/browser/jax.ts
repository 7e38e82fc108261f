// jax-js (@jax-js/jax) on its WebGPU device, each op a jit-compiled function written as a JAX user would:
// np.matmul, nn.dotProductAttention (causal, grouped-query), np.einsum, nn.logsumexp, np.takeAlongAxis,
// nn.oneHot. jax-js has no fused attention backward: it is composed with einsum from the same saved
// values ours takes (p recomputed from lse). jax-js arrays are reference-counted: a function consumes its
// arguments, so every run passes `.ref` of the inputs and disposes its outputs after the sync.
import { type Array as JaxArray, blockUntilReady, defaultDevice, getWebGPUDevice, init, jit, nn, numpy as np } from '@jax-js/jax';
import type { AttentionCaseDims, BenchCase } from './cases';
import { watchErrors, type BenchLibrary, type PreparedCase } from './library';

type Arr = JaxArray;

export const JAX_VERSION = '0.1.25';

export async function createJax(): Promise<BenchLibrary> {
  const devices = await init('webgpu');
  if (!devices.includes('webgpu')) throw new Error('jax-js: the webgpu device did not initialise');
  defaultDevice('webgpu');
  const throwIfErrors = watchErrors(getWebGPUDevice());
  return {
    name: 'jax',
    version: `@jax-js/jax ${JAX_VERSION}`,
    prepare: async (c) => prepareJax(c, throwIfErrors),
    destroy: () => {},
  };
}

const COMPOSED: Partial<Record<BenchCase['op'], string>> = {
  attention_backward:
    'no fused attention backward: einsum from the saved out and lse as ours, p = where(causal, exp(q k^T * scale - lse), 0), dv = p^T dout, dp = dout v^T, ds = p * (dp - sum(dout * out)), dq = ds k * scale, dk = ds^T q * scale (grouped heads as an einsum axis), one jit',
  lora_forward: 'jit: h = x @ A^T; y = y0 + scale * h @ B^T',
  lora_backward: 'jit: dB = scale * dy^T @ h; dh = scale * dy @ B; dA = dh^T @ x; dx = dx0 + dh @ A',
  logprob_gather_forward: 'jit: z = logits / T; lse = nn.logsumexp(z); logp = takeAlongAxis(z, targets) - lse; entropy = lse - sum(exp(z - lse) * z)',
  logprob_gather_backward: 'jit: dlogits = (where(arange(V) == targets, 1, 0) - exp(logits / T - lse)) * dlogp / T (nn.oneHot inside jit asked for a 9.7 GB buffer at V = 49152)',
};

function prepareJax(c: BenchCase, throwIfErrors: () => void): PreparedCase {
  const inputs: Arr[] = [];
  const named: Record<string, Arr> = {};
  for (const [name, a] of Object.entries(c.f32)) named[name] = np.array(new Float32Array(a.data), { shape: a.shape, dtype: np.float32 });
  if (c.targets) named.targets = np.array(Int32Array.from(c.targets), { shape: [c.targets.length], dtype: np.int32 });
  const { fn, args } = build(c, named);
  for (const name of args) inputs.push(named[name]);
  const extras = Object.keys(named).filter((n) => !args.includes(n)).map((n) => named[n]);
  for (const e of extras) e.dispose();
  const device = getWebGPUDevice();
  let last: Arr[] = [];
  const disposeLast = () => {
    for (const a of last) a.dispose();
    last = [];
  };
  const call = (): Arr[] => {
    const out = fn(...inputs.map((a) => a.ref));
    return Array.isArray(out) ? out : [out];
  };
  return {
    composed: COMPOSED[c.op],
    run: () => {
      disposeLast();
      last = call();
    },
    sync: async () => {
      await blockUntilReady(last); // dispatches the pending kernels and reads back 0 bytes of each output
      await device.queue.onSubmittedWorkDone();
      disposeLast();
      throwIfErrors();
    },
    check: async () => {
      disposeLast();
      const res: Float32Array[] = [];
      for (const a of call()) res.push(Float32Array.from((await a.data()) as Float32Array)); // data() consumes a
      throwIfErrors();
      return res;
    },
    dispose: () => {
      disposeLast();
      for (const a of inputs) a.dispose();
      fn.dispose();
    },
  };
}

type JitFn = ((...args: Arr[]) => Arr | Arr[]) & { dispose: () => void };

function build(c: BenchCase, named: Record<string, Arr>): { fn: JitFn; args: string[] } {
  const d = c.dims;
  const j = (f: (...args: Arr[]) => Arr | Arr[]): JitFn => jit(f) as unknown as JitFn;
  switch (c.op) {
    case 'matmul':
      return {
        args: ['a', 'b'],
        fn: j((a, b) => np.matmul(a, d.transB === 1 ? b.transpose() : b)),
      };
    case 'attention_forward':
      return {
        args: ['q', 'k', 'v'],
        fn: j((q, k, v) => nn.dotProductAttention(q, k, v, { isCausal: true })),
      };
    case 'attention_backward': {
      const a = d as unknown as AttentionCaseDims;
      const G = a.NH / a.NKV;
      const scale = 1 / Math.sqrt(a.HS);
      const mask = new Float32Array(a.T * a.T);
      for (let i = 0; i < a.T; i++) for (let t = 0; t <= i; t++) mask[i * a.T + t] = 1;
      named.mask = np.array(mask, { shape: [a.T, a.T], dtype: np.float32 });
      return {
        args: ['q', 'k', 'v', 'out', 'lse', 'dout', 'mask'],
        fn: j((q, k, v, out, lse, dout, maskF) => {
          const q5 = q.reshape([a.B, a.T, a.NKV, G, a.HS]);
          const do5 = dout.ref.reshape([a.B, a.T, a.NKV, G, a.HS]);
          const s = np.einsum('btkgd,bskd->bkgts', q5.ref, k.ref).mul(scale);
          const L = lse.reshape([a.B, a.NKV, G, a.T, 1]);
          const p = np.where(maskF.greater(0.5), np.exp(s.sub(L)), 0);
          const dv = np.einsum('bkgts,btkgd->bskd', p.ref, do5.ref);
          const dp = np.einsum('btkgd,bskd->bkgts', do5, v);
          const D = dout.mul(out).sum(-1).reshape([a.B, a.T, a.NKV, G]).transpose([0, 2, 3, 1]).reshape([a.B, a.NKV, G, a.T, 1]);
          const ds = p.mul(dp.sub(D));
          const dq = np.einsum('bkgts,bskd->btkgd', ds.ref, k).mul(scale).reshape([a.B, a.T, a.NH, a.HS]);
          const dk = np.einsum('bkgts,btkgd->bskd', ds, q5).mul(scale);
          return [dq, dk, dv];
        }),
      };
    }
    case 'lora_forward':
      return {
        args: ['x', 'A', 'B', 'y0'],
        fn: j((x, A, B, y0) => {
          const h = np.matmul(x, A.transpose());
          const y = y0.add(np.matmul(h.ref, B.transpose()).mul(d.scale));
          return [y, h];
        }),
      };
    case 'lora_backward':
      return {
        args: ['x', 'A', 'B', 'dy', 'h', 'dx0'],
        fn: j((x, A, B, dy, h, dx0) => {
          const dB = np.matmul(dy.ref.transpose(), h).mul(d.scale);
          const dh = np.matmul(dy, B).mul(d.scale);
          const dA = np.matmul(dh.ref.transpose(), x);
          const dx = dx0.add(np.matmul(dh, A));
          return [dA, dB, dx];
        }),
      };
    case 'logprob_gather_forward':
      return {
        args: ['logits', 'targets'],
        fn: j((logits, targets) => {
          const z = logits.mul(1 / d.temperature);
          const lse = nn.logsumexp(z.ref, -1);
          const zt = np.takeAlongAxis(z.ref, targets.reshape([d.N, 1]), -1).reshape([d.N]);
          const logp = zt.sub(lse.ref);
          const p = np.exp(z.ref.sub(lse.ref.reshape([d.N, 1])));
          const entropy = lse.ref.sub(p.mul(z).sum(-1));
          return [logp, entropy, lse];
        }),
      };
    case 'logprob_gather_backward':
      named.iota = np.array(Int32Array.from({ length: d.V }, (_, i) => i), { shape: [d.V], dtype: np.int32 });
      return {
        args: ['logits', 'targets', 'lse', 'dlogp', 'iota'],
        fn: j((logits, targets, lse, dlogp, iota) => {
          const p = np.exp(logits.mul(1 / d.temperature).sub(lse.reshape([d.N, 1])));
          // nn.oneHot(targets, V) inside jit asked WebGPU for a 9.7 GB buffer at V = 49152: compare with arange instead
          const onehot = np.where(iota.reshape([1, d.V]).equal(targets.reshape([d.N, 1])), 1, 0);
          return onehot.sub(p).mul(dlogp.mul(1 / d.temperature).reshape([d.N, 1]));
        }),
      };
  }
}
