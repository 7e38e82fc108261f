// The LM head fused with the log-prob gather, forward and backward, without an (N, V) buffer when the
// vocabulary is large: logits are computed one vocabulary chunk at a time (columns [v0, v0 + vc) of
// f Wlm^T), folded into a running log-sum-exp per row (logprob_chunk_forward.wgsl), and in backward each
// chunk's logits are recomputed, turned into dlogits of that chunk, and pushed into df (and dWlm).
//
//   forward:  for each chunk c:  Z_c = f W_c^T (N, vc);  state <- fold(state, Z_c)   -> logp, entropy, lse (N)
//   backward: for each chunk c:  Z_c = f W_c^T;  dZ_c = dlogp (1[j == t] - p) / T  (+ the entropy bonus's
//             dentropy dH/dZ_c, elementwise given lse and H);
//             df += dZ_c W_c (N, C);  dW_c += dZ_c^T f (vc, C) (full fine-tuning only)
//
// When N * V * 4 bytes is at most model.lmHeadChunkBytes the whole vocabulary is one chunk and the
// unchunked kernels run (logprob_gather): the same floating-point sums as before chunking, so small
// models (the built-in demo, stories260K) reproduce bit for bit.
// Cross-entropy (SFT) is -logp at temperature 1 with ignored rows' targets >= V: dlogp = -dloss.
// A final logit soft-cap (Gemma 4's final_logit_softcapping) is applied to each chunk's logits before the
// fold, Z_c' = cap * tanh(Z_c / cap); in backward each chunk's dZ_c' is multiplied by the cap's derivative
// 1 - tanh^2(Z_c / cap) before it reaches df. Both the Llama-family and the Gemma 4 model run this head.

import type { Tensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { logprobGatherBackward, logprobGatherForward } from '../gpu/kernels/logprob_gather';
import { logprobChunkBackward, logprobChunkForward } from '../gpu/kernels/logprob_chunk';
import { entropyBackward } from '../gpu/kernels/entropy';
import { matmulPacked16Backward, matmulPacked16Forward, type Format16 } from '../gpu/kernels/matmul_packed16';
import { matmulQuantBackward, matmulQuantForward } from '../gpu/kernels/matmul_quant';
import { ggmlType, quantGpuWords, type GgmlTypeName } from '../ops/ggml_types';
import { softcapBackward, softcapForward } from '../gpu/kernels/softcap';
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from './config';

/** What the fused head needs of a model: its sizes, the head weight (f32 or 16-bit) and the chunk budget
 * (GpuTransformer and Gemma4Gpu both have it). */
export interface LmHeadModel {
  readonly gpu: GpuRuntime;
  readonly config: ModelConfig;
  lmHeadChunkBytes: number;
  lmHead(): Tensor;
  lmHeadName(): string;
  weightFormat(name: string): 'f32' | Format16;
  project(y: Tensor, x: Tensor, name: string): void;
  projectBackward(dx: Tensor, dy: Tensor, name: string): void;
  /** weights kept in a ggml block format (GGUF), by name */
  readonly quant?: Map<string, GgmlTypeName>;
  /** a head kept in host memory (Gemma 4's embed_on_host, tied to its embedding): writes the head's rows
   * [v0, v0 + vc) into w as stored (f32, or 16-bit pairs as u32 words); each chunk's slice is uploaded into one
   * reused chunk buffer instead of copied from the GPU's table, and the head always runs in chunks */
  readonly lmHeadHost?: ((w: Tensor, v0: number, vc: number) => void) | null;
}

/** The final logit soft-cap of the config (Gemma 4's final_logit_softcapping), or null. */
export function logitSoftcap(c: ModelConfig): number | null {
  return c.gemma4?.finalLogitSoftcap ?? null;
}

/** Soft-capped logits z' = cap * tanh(z / cap) in a new tensor (the caller releases both), or z without a cap. */
function capped(gpu: GpuRuntime, z: Tensor, cap: number | null): Tensor {
  if (cap === null) return z;
  const out = gpu.tensor(z.shape, `${z.label} (soft-capped)`);
  softcapForward(gpu, out, z, cap);
  return out;
}

/** dz (of the uncapped z) from dzc (of the capped logits): a new tensor, or dzc itself without a cap. */
function cappedBackward(gpu: GpuRuntime, dzc: Tensor, z: Tensor, cap: number | null): Tensor {
  if (cap === null) return dzc;
  const dz = gpu.tensor(z.shape, `${dzc.label} (uncapped)`);
  softcapBackward(gpu, dz, dzc, z, cap);
  return dz;
}

/** Columns per vocabulary chunk for N rows: V when N*V*4 fits the budget, else the largest multiple of 64
 * that fits (at least 64). */
export function vocabChunkColumns(n: number, v: number, budgetBytes: number): number {
  if (n * v * 4 <= budgetBytes) return v;
  const cols = Math.floor(budgetBytes / (4 * Math.max(1, n)) / 64) * 64;
  return Math.max(64, Math.min(v, cols));
}

/** Columns per vocabulary chunk of the model's head for N rows: vocabChunkColumns, and for a head kept in host
 * memory also its uploaded weight slice within the budget (a multiple of 64 columns, at least 64). */
export function headChunkColumns(model: LmHeadModel, n: number): number {
  const V = model.config.vocabSize;
  let vc = vocabChunkColumns(n, V, model.lmHeadChunkBytes);
  if (model.lmHeadHost) {
    const rowBytes = model.config.hiddenSize * (model.weightFormat(model.lmHeadName()) === 'f32' ? 4 : 2);
    vc = Math.min(vc, Math.max(64, Math.floor(model.lmHeadChunkBytes / rowBytes / 64) * 64));
  }
  // an NF4_DQ head is cut in whole groups of 256 rows (each chunk starts a 256-block scale group: nf4DqChunkLogits)
  if (vc !== V && model.quant?.get(model.lmHeadName()) === 'NF4_DQ') vc = Math.min(V, Math.max(256, Math.floor(vc / 256) * 256));
  return vc;
}

/** Whether the head runs as one whole-vocabulary matmul (the unchunked kernels): its logits fit the budget and its
 * weight is on the GPU. */
function wholeHead(model: LmHeadModel, vc: number): boolean {
  return vc === model.config.vocabSize && !model.lmHeadHost;
}

export interface HeadLogprobs {
  logp: Tensor; // (N)
  entropy: Tensor; // (N)
  lse: Tensor; // (N), saved for backward
}

/** Chunks [v0, vc) covering the vocabulary. */
function chunks(v: number, vc: number): { v0: number; vc: number }[] {
  const out: { v0: number; vc: number }[] = [];
  for (let v0 = 0; v0 < v; v0 += vc) out.push({ v0, vc: Math.min(vc, v - v0) });
  return out;
}

/** A new tensor of `shape` in a buffer sized for `full` (a full chunk's shape): a short last vocabulary chunk takes
 * the same pool bucket as the full chunks (its own size would hold a second set of weight-slice, logits and dlogits
 * buffers: 142 MiB of Qwen3.5-2B's step); released as usual (one buffer). */
function chunkTensor(gpu: GpuRuntime, shape: [number, number], full: [number, number], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
  const t = gpu.tensor(full, label, dtype);
  return shape[0] === full[0] && shape[1] === full[1] ? t : { ...t, shape, size: shape[0] * shape[1] };
}

/** Z (N, vc) = f W[v0:v0+vc]^T; W's rows are copied into a (vc, C) slice first (bindings start at offset 0);
 * a 16-bit head is copied as packed rows (C / 2 words each) and read by the packed matmul. */
function chunkLogits(model: LmHeadModel, f: Tensor, v0: number, vc: number, fullVc: number): { z: Tensor; w: Tensor; fmt: Format16 | null; q?: GgmlTypeName } {
  const { gpu } = model;
  const q = model.quant?.get(model.lmHeadName());
  if (q) {
    // a quantised head: whole rows of blocks are copied, as words
    const words = model.lmHead().shape[1];
    if (q === 'NF4_DQ') return { ...nf4DqChunkLogits(model, f, v0, vc, fullVc), fmt: null, q };
    const w = chunkTensor(gpu, [vc, words], [fullVc, words], 'lm_head.chunk', 'u32');
    gpu.copy(model.lmHead(), w, vc * words, v0 * words, 0);
    const z = chunkTensor(gpu, [f.shape[0], vc], [f.shape[0], fullVc], 'logits.chunk');
    matmulQuantForward(gpu, z, f, w, q);
    return { z, w, fmt: null, q };
  }
  const C = model.config.hiddenSize;
  const format = model.weightFormat(model.lmHeadName());
  const fmt = format === 'f32' ? null : format;
  const width = fmt ? C / 2 : C;
  const w = chunkTensor(gpu, [vc, width], [fullVc, width], 'lm_head.chunk', fmt ? 'u32' : 'f32');
  if (model.lmHeadHost) model.lmHeadHost(w, v0, vc);
  else gpu.copy(model.lmHead(), w, vc * width, v0 * width, 0);
  const z = chunkTensor(gpu, [f.shape[0], vc], [f.shape[0], fullVc], 'logits.chunk');
  if (fmt) matmulPacked16Forward(gpu, z, f, w, fmt);
  else matmul(gpu, z, f, w, { transB: true });
  return { z, w, fmt };
}

/** An NF4_DQ head's chunk (rows v0 .. v0 + vc, v0 and fullVc multiples of 256: headChunkColumns): its code rows,
 * then its part of the side region (the absmax codes of its blocks, the absmax2 of their 256-block groups, which
 * start at the chunk's first block, and the offset): itself an NF4_DQ tensor of vc rows. */
function nf4DqChunkLogits(model: LmHeadModel, f: Tensor, v0: number, vc: number, fullVc: number): { z: Tensor; w: Tensor } {
  const { gpu } = model;
  const head = model.lmHead();
  const [V, words] = head.shape;
  const C = model.config.hiddenSize;
  const t = ggmlType('NF4_DQ');
  const nb = C / 64;
  const flat = (x: Tensor, size: number): Tensor => ({ ...x, shape: [size], size });
  const src = flat(head, head.size);
  const chunkWords = quantGpuWords(t, vc, C);
  const buf = gpu.tensor([quantGpuWords(t, fullVc, C)], 'lm_head.chunk', 'u32');
  const dst = flat(buf, chunkWords);
  const [srcSide, dstSide] = [V * words, vc * words];
  const [b0, bn] = [v0 * nb, vc * nb];
  gpu.copy(src, dst, vc * words, v0 * words, 0);
  gpu.copy(src, dst, Math.ceil(bn / 4), srcSide + b0 / 4, dstSide); // absmax codes (b0 a multiple of 256)
  const [srcScales, dstScales] = [srcSide + Math.ceil((V * nb) / 4), dstSide + Math.ceil(bn / 4)];
  gpu.copy(src, dst, Math.ceil(bn / 256), srcScales + b0 / 256, dstScales);
  gpu.copy(src, dst, 1, src.size - 1, chunkWords - 1); // offset
  const z = chunkTensor(gpu, [f.shape[0], vc], [f.shape[0], fullVc], 'logits.chunk');
  const w = { ...buf, shape: [vc, words], size: chunkWords }; // size: the side region too (the kernels' binding)
  matmulQuantForward(gpu, z, f, w, 'NF4_DQ');
  return { z, w };
}

/** logp, entropy and lse (N) of targets (N) under softmax(f Wlm^T / temperature); the caller releases them. */
export function headLogprobs(model: LmHeadModel, f: Tensor, targets: Tensor, temperature: number, label = 'logp'): HeadLogprobs {
  const { gpu } = model;
  const N = f.shape[0];
  const V = model.config.vocabSize;
  const out = {
    logp: gpu.tensor([N], label),
    entropy: gpu.tensor([N], `${label}.entropy`),
    lse: gpu.tensor([N], `${label}.lse`),
  };
  const vc = headChunkColumns(model, N);
  const cap = logitSoftcap(model.config);
  if (wholeHead(model, vc)) {
    const raw = gpu.tensor([N, V], 'logits');
    model.project(raw, f, model.lmHeadName());
    const logits = capped(gpu, raw, cap);
    logprobGatherForward(gpu, out.logp, out.entropy, out.lse, logits, targets, temperature);
    gpu.release(raw);
    if (logits !== raw) gpu.release(logits);
    return out;
  }
  const state = gpu.tensor([N, 4], `${label}.lse_state`);
  for (const c of chunks(V, vc)) {
    const { z, w } = chunkLogits(model, f, c.v0, c.vc, vc);
    const zc = capped(gpu, z, cap);
    logprobChunkForward(gpu, out.logp, out.entropy, out.lse, state, zc, targets, { v0: c.v0, v: V }, temperature);
    gpu.release(z, w);
    if (zc !== z) gpu.release(zc);
  }
  gpu.release(state);
  return out;
}

/** The entropy bonus's part of the head's gradient: dentropy (N) = d total / d entropy[n], with the entropy
 * (N) headLogprobs returned. Its dlogits term is elementwise given lse and entropy, so it is added to each
 * vocabulary chunk's dlogits as to the whole row's (entropy_backward.wgsl). */
export interface EntropyGrad {
  dentropy: Tensor;
  entropy: Tensor;
}

/** df (N, C) = d(sum_n dlogp[n] logp[n] (+ dentropy[n] entropy[n])) / df (overwritten); dWlm (V, C) += the
 * head's gradient when given. */
export function headLogprobsBackward(
  model: LmHeadModel,
  df: Tensor,
  dlogp: Tensor,
  f: Tensor,
  targets: Tensor,
  lse: Tensor,
  temperature: number,
  dWlm: Tensor | null = null,
  entropyGrad: EntropyGrad | null = null,
): void {
  const { gpu } = model;
  const N = f.shape[0];
  const V = model.config.vocabSize;
  const C = model.config.hiddenSize;
  const vc = headChunkColumns(model, N);
  const cap = logitSoftcap(model.config);
  if (wholeHead(model, vc)) {
    const raw = gpu.tensor([N, V], 'logits');
    model.project(raw, f, model.lmHeadName());
    const logits = capped(gpu, raw, cap);
    const dcapped = gpu.tensor([N, V], 'dlogits');
    logprobGatherBackward(gpu, dcapped, dlogp, logits, targets, lse, temperature);
    if (entropyGrad) entropyBackward(gpu, dcapped, entropyGrad.dentropy, logits, lse, entropyGrad.entropy, temperature);
    if (logits !== raw) gpu.release(logits);
    const dlogits = cappedBackward(gpu, dcapped, raw, cap);
    if (dlogits !== dcapped) gpu.release(dcapped);
    gpu.release(raw);
    model.projectBackward(df, dlogits, model.lmHeadName());
    if (dWlm) matmul(gpu, dWlm, dlogits, f, { transA: true, accumulate: true });
    gpu.release(dlogits);
    return;
  }
  let first = true;
  for (const c of chunks(V, vc)) {
    const { z, w, fmt, q } = chunkLogits(model, f, c.v0, c.vc, vc);
    const zc = capped(gpu, z, cap);
    const dzc = chunkTensor(gpu, [N, c.vc], [N, vc], 'dlogits.chunk');
    logprobChunkBackward(gpu, dzc, dlogp, zc, targets, lse, { v0: c.v0, v: V }, temperature);
    if (entropyGrad) entropyBackward(gpu, dzc, entropyGrad.dentropy, zc, lse, entropyGrad.entropy, temperature);
    if (zc !== z) gpu.release(zc);
    const dz = cappedBackward(gpu, dzc, z, cap);
    if (dz !== dzc) gpu.release(dzc);
    gpu.release(z);
    if (q) matmulQuantBackward(gpu, df, dz, w, q, { accumulate: !first });
    else if (fmt) matmulPacked16Backward(gpu, df, dz, w, fmt, { accumulate: !first });
    else matmul(gpu, df, dz, w, { accumulate: !first });
    first = false;
    if (dWlm && !fmt && !q) {
      // dW rows [v0, v0 + vc) += dz^T f, through a (vc, C) slice (bindings start at offset 0)
      gpu.copy(dWlm, w, c.vc * C, c.v0 * C, 0);
      matmul(gpu, w, dz, f, { transA: true, accumulate: true });
      gpu.copy(w, dWlm, c.vc * C, 0, c.v0 * C);
    }
    gpu.release(dz, w);
  }
}
