// TensorFlow.js on its WebGPU backend (@tensorflow/tfjs-core + @tensorflow/tfjs-backend-webgpu), each op
// written as a TF.js user would: tf.matMul with its transpose flags, attention from batched matMuls and
// softmax (k/v heads tiled up to the query heads), log-probs from logSumExp and gather. TF.js has no
// fused attention and no attention backward: the backward is composed from the same saved values ours
// takes (flash-attention style, p recomputed from lse).
import * as tf from '@tensorflow/tfjs-core';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgpu';
import type { AttentionCaseDims, BenchCase } from './cases';
import { watchErrors, type BenchLibrary, type PreparedCase } from './library';

export async function createTfjs(): Promise<BenchLibrary> {
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: the webgpu backend did not initialise');
  await tf.ready();
  const backend = tf.backend() as WebGPUBackend;
  const throwIfErrors = watchErrors(backend.device);
  return {
    name: 'tfjs',
    version: `@tensorflow/tfjs-core ${tf.version_core} + tfjs-backend-webgpu`,
    prepare: async (c) => prepareTfjs(backend, c, throwIfErrors),
    destroy: () => tf.disposeVariables(),
  };
}

const COMPOSED: Partial<Record<BenchCase['op'], string>> = {
  attention_forward:
    'no fused attention: q transposed to (B*NKV, G*T, HS) (the query heads of one kv head stacked), k/v to (B*NKV, T, HS); matMul(q, k^T) * scale + causal mask, softmax, matMul(p, v), transposed back',
  attention_backward:
    'no attention backward: from the saved out and lse as ours, p = exp(q k^T * scale - lse) masked, dv = p^T dout, dp = dout v^T, ds = p * (dp - rowsum(dout * out)), dq = ds k * scale, dk = ds^T q * scale, with the same head stacking as the forward (the sums over each kv group fall out of the matMuls)',
  lora_forward: 'h = matMul(x, A, false, true); y = y0 + scale * matMul(h, B, false, true)',
  lora_backward: 'dB = scale * matMul(dy, h, true); dh = scale * matMul(dy, B); dA = matMul(dh, x, true); dx = dx0 + matMul(dh, A)',
  logprob_gather_forward: 'z = logits / T; lse = logSumExp(z); logp = gather(z, targets, batchDims 1) - lse; entropy = lse - sum(exp(z - lse) * z)',
  logprob_gather_backward: 'dlogits = (oneHot(targets, V) - exp(logits / T - lse)) * dlogp / T',
};

function prepareTfjs(backend: WebGPUBackend, c: BenchCase, throwIfErrors: () => void): PreparedCase {
  const inputs: Record<string, tf.Tensor> = {};
  for (const [name, a] of Object.entries(c.f32)) inputs[name] = tf.tensor(a.data, a.shape, 'float32');
  if (c.targets) inputs.targets = tf.tensor(Int32Array.from(c.targets), [c.targets.length], 'int32');
  const consts: tf.Tensor[] = [];
  const fn = build(c, inputs, consts);
  let last: tf.Tensor[] = [];
  const disposeLast = () => {
    tf.dispose(last);
    last = [];
  };
  return {
    composed: COMPOSED[c.op],
    run: () => {
      disposeLast();
      last = tf.tidy(fn);
    },
    sync: async () => {
      // what tfjs's own readback does before submitting: close the open compute pass (submitQueue alone
      // would finish an encoder whose pass is still open, which WebGPU rejects, and the work would be lost)
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
      disposeLast();
      throwIfErrors();
    },
    check: async () => {
      disposeLast();
      const outs = tf.tidy(fn);
      const res: Float32Array[] = [];
      for (const t of outs) res.push(Float32Array.from((await t.data()) as Float32Array));
      tf.dispose(outs);
      throwIfErrors();
      return res;
    },
    dispose: () => {
      disposeLast();
      tf.dispose(Object.values(inputs));
      tf.dispose(consts);
    },
  };
}

function build(c: BenchCase, x: Record<string, tf.Tensor>, consts: tf.Tensor[]): () => tf.Tensor[] {
  const d = c.dims;
  switch (c.op) {
    case 'matmul':
      return () => [tf.matMul(x.a, x.b, false, d.transB === 1)];
    case 'attention_forward': {
      const a = d as unknown as AttentionCaseDims;
      const mask = causalMask(a, 0, -1e9);
      consts.push(mask);
      const scale = 1 / Math.sqrt(a.HS);
      return () => {
        const s = tf.add(tf.mul(tf.matMul(qHeads(x.q, a), kvHeads(x.k, a), false, true), scale), mask);
        return [unQHeads(tf.matMul(tf.softmax(s), kvHeads(x.v, a)), a)];
      };
    }
    case 'attention_backward': {
      const a = d as unknown as AttentionCaseDims;
      const keep = causalMask(a, 1, 0);
      consts.push(keep);
      const scale = 1 / Math.sqrt(a.HS);
      return () => {
        const q = qHeads(x.q, a);
        const k = kvHeads(x.k, a);
        const v = kvHeads(x.v, a);
        const dO = qHeads(x.dout, a);
        const O = qHeads(x.out, a);
        const lse = tf.reshape(x.lse, [a.B * a.NKV, a.NH / a.NKV * a.T, 1]);
        const s = tf.mul(tf.matMul(q, k, false, true), scale);
        // masked entries: s - lse may be large; exp of (s - lse) * keep stays finite, then * keep zeroes them
        const p = tf.mul(tf.exp(tf.mul(tf.sub(s, lse), keep)), keep);
        const dv = tf.matMul(p, dO, true, false);
        const dp = tf.matMul(dO, v, false, true);
        const D = tf.sum(tf.mul(dO, O), -1, true);
        const ds = tf.mul(p, tf.sub(dp, D));
        const dq = tf.mul(tf.matMul(ds, k), scale);
        const dk = tf.mul(tf.matMul(ds, q, true, false), scale);
        return [unQHeads(dq, a), unKvHeads(dk, a), unKvHeads(dv, a)];
      };
    }
    case 'lora_forward':
      return () => {
        const h = tf.matMul(x.x, x.A, false, true);
        const y = tf.add(x.y0, tf.mul(tf.matMul(h, x.B, false, true), d.scale));
        return [y, h];
      };
    case 'lora_backward':
      return () => {
        const dB = tf.mul(tf.matMul(x.dy, x.h, true, false), d.scale);
        const dh = tf.mul(tf.matMul(x.dy, x.B), d.scale);
        const dA = tf.matMul(dh, x.x, true, false);
        const dx = tf.add(x.dx0, tf.matMul(dh, x.A));
        return [dA, dB, dx];
      };
    case 'logprob_gather_forward':
      return () => {
        const z = tf.mul(x.logits, 1 / d.temperature);
        const lse = tf.logSumExp(z, -1, true);
        const zt = tf.gather(z, tf.reshape(x.targets, [d.N, 1]), 1, 1);
        const logp = tf.reshape(tf.sub(zt, lse), [d.N]);
        const entropy = tf.sub(tf.reshape(lse, [d.N]), tf.sum(tf.mul(tf.exp(tf.sub(z, lse)), z), -1));
        return [logp, entropy, tf.reshape(lse, [d.N])];
      };
    case 'logprob_gather_backward':
      return () => {
        const p = tf.exp(tf.sub(tf.mul(x.logits, 1 / d.temperature), tf.reshape(x.lse, [d.N, 1])));
        const onehot = tf.oneHot(x.targets, d.V, 1, 0, 'float32');
        return [tf.mul(tf.sub(onehot, p), tf.reshape(tf.mul(x.dlogp, 1 / d.temperature), [d.N, 1]))];
      };
  }
}

// Grouped-query attention as batched matMuls without copying k/v: the G = NH / NKV query heads that share
// a kv head are stacked along the rows, q -> (B*NKV, G*T, HS) against k, v -> (B*NKV, T, HS).

/** q-like (B, T, NH, HS) -> (B*NKV, G*T, HS) */
function qHeads(t: tf.Tensor, a: AttentionCaseDims): tf.Tensor {
  const G = a.NH / a.NKV;
  return tf.reshape(tf.transpose(tf.reshape(t, [a.B, a.T, a.NKV, G, a.HS]), [0, 2, 3, 1, 4]), [a.B * a.NKV, G * a.T, a.HS]);
}

/** (B*NKV, G*T, HS) -> (B, T, NH, HS) */
function unQHeads(t: tf.Tensor, a: AttentionCaseDims): tf.Tensor {
  const G = a.NH / a.NKV;
  return tf.reshape(tf.transpose(tf.reshape(t, [a.B, a.NKV, G, a.T, a.HS]), [0, 3, 1, 2, 4]), [a.B, a.T, a.NH, a.HS]);
}

/** k-like (B, T, NKV, HS) -> (B*NKV, T, HS) */
function kvHeads(t: tf.Tensor, a: AttentionCaseDims): tf.Tensor {
  return tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [a.B * a.NKV, a.T, a.HS]);
}

/** (B*NKV, T, HS) -> (B, T, NKV, HS) */
function unKvHeads(t: tf.Tensor, a: AttentionCaseDims): tf.Tensor {
  return tf.transpose(tf.reshape(t, [a.B, a.NKV, a.T, a.HS]), [0, 2, 1, 3]);
}

/** (G*T, T): `on` where key <= query (row r is query position r % T), `off` elsewhere. */
function causalMask(a: AttentionCaseDims, on: number, off: number): tf.Tensor {
  const G = a.NH / a.NKV;
  const T = a.T;
  const m = new Float32Array(G * T * T);
  for (let r = 0; r < G * T; r++) for (let j = 0; j < T; j++) m[r * T + j] = j <= r % T ? on : off;
  return tf.tensor(m, [G * T, T]);
}
