// Batched generation with a KV cache: prefill all prompts together (right-padded), then decode every row
// one token per step, all on the GPU. Nothing but the sampled ids is ever read back, and those only
// every few steps to stop early once every row has finished.

import type { Tensor } from '../gpu/tensor';
import type { GpuRuntime } from '../gpu/runtime';
import { embeddingForward } from '../gpu/kernels/embedding';
import { rmsnormForward } from '../gpu/kernels/rmsnorm';
import { attentionDecode, kvCacheWrite } from '../gpu/kernels/attention';
import { addRmsnormForward } from '../gpu/kernels/add_rmsnorm';
import { ropeKvCacheWrite } from '../gpu/kernels/rope_kv_cache_write';
import { swigluPackedForward } from '../gpu/kernels/swiglu_packed';
import { matmul } from '../gpu/kernels/matmul';
import { sample } from '../gpu/kernels/sample';
import type { GpuTransformer } from './transformer';
import type { LoraModule, LoraSet } from './lora';
import { PACK_MULTIPLE } from './logprobs';

export interface SamplingOptions {
  /** 0 = greedy */
  temperature: number;
  /** <= 0: no top-k */
  topK: number;
  /** >= 1: no top-p */
  topP: number;
  seed: number;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** token ids that end a completion (kept out of the completion) */
  stopIds: readonly number[];
  lora: LoraSet | null;
  /** text that ends a completion (the completion is cut before it); needs `decode` */
  stopStrings?: readonly string[];
  /** the tokenizer's decode, for stop strings */
  decode?: (ids: number[]) => string;
  /** how often (in decode steps) the sampled ids are read back to check whether every row has stopped */
  checkEvery?: number;
  /** bytes that concatenated q/k/v and gate/up weights may take for fused decode projections (default:
   * a quarter of the model's weights, at least 32 MiB); 0 turns the fusion off */
  fusedWeightBudget?: number;
}

export type FinishReason = 'stop' | 'length';

export interface Generation {
  /** generated ids of each row, without the stop token; with a stop string, up to the token that completes it */
  tokens: number[][];
  /** with stop strings: each row's decoded text, cut before the stop string */
  texts?: string[];
  finish: FinishReason[];
  /** decode steps actually run */
  steps: number;
}

const DEFAULT_CHECK_EVERY = 16;

export async function generate(model: GpuTransformer, prompts: number[][], opts: GenerateOptions): Promise<Generation> {
  const { gpu, config: c } = model;
  const B = prompts.length;
  if (B === 0) return { tokens: [], finish: [], steps: 0 };
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty: generation needs at least one token (e.g. BOS)`);
  });
  if (!(opts.maxNewTokens >= 1)) throw new Error(`max new tokens must be at least 1, got ${opts.maxNewTokens}`);
  const lens = prompts.map((p) => p.length);
  const longest = Math.max(...lens);
  const maxNew = Math.min(opts.maxNewTokens, c.maxPositionEmbeddings - longest);
  if (maxNew < 1) {
    throw new Error(`prompt of ${longest} tokens leaves no room: the model's context is ${c.maxPositionEmbeddings} tokens`);
  }
  // Prefill length and cache length are rounded up (like packRows) so that calls with slightly different
  // lengths reuse pooled buffers; padding positions are never attended to.
  const Tp = Math.min(c.maxPositionEmbeddings, Math.ceil(longest / PACK_MULTIPLE) * PACK_MULTIPLE);
  const TMAX = Math.max(Tp, Math.ceil((longest + maxNew) / PACK_MULTIPLE) * PACK_MULTIPLE);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const tensors: Tensor[] = [];
  const alloc = (shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32') => {
    const t = gpu.tensor(shape, label, dtype);
    tensors.push(t);
    return t;
  };
  const kCache: Tensor[] = [];
  const vCache: Tensor[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    kCache.push(alloc([B, TMAX, KVD], `layer${l}.k_cache`));
    vCache.push(alloc([B, TMAX, KVD], `layer${l}.v_cache`));
  }

  try {
    // ---- prefill: the training forward over right-padded prompts, then its k/v into the caches ----
    const ids = new Uint32Array(B * Tp);
    const pos = new Uint32Array(B * Tp);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Tp; t++) {
        ids[b * Tp + t] = t < lens[b] ? prompts[b][t] : 0;
        pos[b * Tp + t] = t;
      }
    }
    const idsT = alloc([B * Tp], 'prefill.ids', 'u32');
    const posT = alloc([B * Tp], 'prefill.positions', 'u32');
    gpu.write(idsT, ids);
    gpu.write(posT, pos);
    const dims = { B, T: Tp, NKV: c.numKvHeads, HS: c.headDim, TMAX };
    // one layer's activations at a time: each layer's k/v go into the caches before it is released
    const act = model.forward(idsT, posT, B, Tp, opts.lora, null, {
      onLayer: (l, saved) => {
        kvCacheWrite(gpu, kCache[l], saved.kr, posT, dims);
        kvCacheWrite(gpu, vCache[l], saved.v, posT, dims);
      },
    });
    const lastIdx = alloc([B], 'prefill.last_index', 'u32');
    gpu.write(lastIdx, lens.map((n, b) => b * Tp + n - 1));
    const hLast = alloc([B, C], 'prefill.last_hidden');
    embeddingForward(gpu, hLast, lastIdx, act.f); // row gather
    model.releaseActivations(act);

    // ---- decode ----
    const logits = alloc([B, c.vocabSize], 'decode.logits');
    const next = alloc([B], 'decode.ids', 'u32');
    const allIds = alloc([maxNew, B], 'decode.all_ids', 'u32');
    // positions of step s's input token: lens[b] + s; attention then sees lens[b] + s + 1 cache entries
    const posTable = new Uint32Array(maxNew * B);
    const lenTable = new Uint32Array(maxNew * B);
    for (let s = 0; s < maxNew; s++) {
      for (let b = 0; b < B; b++) {
        posTable[s * B + b] = lens[b] + s;
        lenTable[s * B + b] = lens[b] + s + 1;
      }
    }
    const posAll = alloc([maxNew, B], 'decode.position_table', 'u32');
    const lenAll = alloc([maxNew, B], 'decode.length_table', 'u32');
    gpu.write(posAll, posTable);
    gpu.write(lenAll, lenTable);
    const posCur = alloc([B], 'decode.positions', 'u32');
    const lenCur = alloc([B], 'decode.lengths', 'u32');
    const x = alloc([B, C], 'decode.x');
    const a = alloc([B, C], 'decode.a');
    const rstd = alloc([B], 'decode.rstd');
    const q = alloc([B, QD], 'decode.q');
    const k = alloc([B, KVD], 'decode.k');
    const v = alloc([B, KVD], 'decode.v');
    const qr = alloc([B, QD], 'decode.qr');
    const kr = alloc([B, KVD], 'decode.kr');
    const att = alloc([B, QD], 'decode.att');
    const o = alloc([B, C], 'decode.o');
    const xm = alloc([B, C], 'decode.xm');
    const g = alloc([B, H], 'decode.g');
    const u = alloc([B, H], 'decode.u');
    const sw = alloc([B, H], 'decode.s');
    const f = alloc([B, C], 'decode.f');
    // decode steps use the adapter merged into copies of its weights (3x fewer dispatches per projection),
    // and q/k/v (and gate/up) as one matmul each against concatenated copies when they fit the budget
    const merged = opts.lora ? model.mergeLora(opts.lora) : null;
    // a 16-bit base is read by the packed matmuls: no stacked f32 copies (and LoRA stays unmerged, see lin)
    const budget = model.formats.size > 0 ? 0 : opts.fusedWeightBudget ?? Math.max(32 * 2 ** 20, model.bytes / 4);
    const fused = fuseDecodeWeights(model, merged, budget);
    if (merged) tensors.push(...merged.values());
    for (const fl of fused) tensors.push(...[fl.qkv, fl.qkvBias, fl.gateUp].filter((t): t is Tensor => t !== null));
    const qkv = fused[0]?.qkv ? alloc([B, QD + 2 * KVD], 'decode.qkv') : null;
    const gu = fused[0]?.gateUp ? alloc([B, 2 * H], 'decode.gate_up') : null;

    // a projection with LoRA merged into a copy of its weight; unmerged (16-bit base) it adds LoRA itself
    const lin = (y: Tensor, xIn: Tensor, l: number, m: LoraModule) => {
      const r = model.linear(y, xIn, l, m, opts.lora, null, merged);
      if (r) gpu.release(r.h, r.xd);
    };
    const sampleInto = (hidden: Tensor, step: number) => {
      const lg = model.lmHeadInto(logits, hidden);
      sample(gpu, next, lg, { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, seed: opts.seed, counter: step });
      gpu.copy(next, allIds, B, 0, step * B);
    };
    sampleInto(hLast, 0);

    const stop = new Set(opts.stopIds);
    const stopStrings = (opts.stopStrings ?? []).filter((x) => x.length > 0);
    if (stopStrings.length && !opts.decode) throw new Error('stop strings need the tokenizer (decode)');
    const rowStop = (ids: Uint32Array, n: number) => cutRows(ids, B, n, stop, stopStrings, opts.decode);
    const checkEvery = opts.checkEvery ?? DEFAULT_CHECK_EVERY;
    let steps = 1;
    for (let s = 1; s < maxNew; s++) {
      if (s % checkEvery === 0 && (stop.size || stopStrings.length) && rowStop(await gpu.readU32(allIds, s * B), s).every((r) => r.finish === 'stop')) break;
      // the token sampled at step s-1 sits at position lens[b] + s - 1
      gpu.copy(posAll, posCur, B, (s - 1) * B, 0);
      gpu.copy(lenAll, lenCur, B, (s - 1) * B, 0);
      model.embed(x, next);
      // residual adds run fused with the norm after them, so only layer 0's input norm stands alone
      const off = model.normOffset;
      rmsnormForward(gpu, a, rstd, x, model.w('model.layers.0.input_layernorm.weight'), c.rmsNormEps, off);
      for (let l = 0; l < c.numLayers; l++) {
        const p = `model.layers.${l}`;
        const fl = fused[l];
        if (fl.qkv && qkv) {
          // 2 dispatches instead of 7: one matmul, then RoPE of q and k with both cache writes
          matmul(gpu, qkv, a, fl.qkv, { transB: true, bias: fl.qkvBias });
          ropeKvCacheWrite(gpu, qr, kCache[l], vCache[l], qkv, posCur, model.invFreqOf(l),
            { B, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, TMAX }, c.ropeConvention);
        } else {
          lin(q, a, l, 'q_proj');
          lin(k, a, l, 'k_proj');
          lin(v, a, l, 'v_proj');
          const qkRstd = model.qkNormRope(qr, kr, q, k, posCur, l); // q/k norms (Qwen3, Gemma), then RoPE
          if (qkRstd) gpu.release(qkRstd.rstdQ, qkRstd.rstdK);
          const dims = { B, T: 1, NKV: c.numKvHeads, HS: c.headDim, TMAX };
          kvCacheWrite(gpu, kCache[l], kr, posCur, dims);
          kvCacheWrite(gpu, vCache[l], v, posCur, dims);
        }
        const { scale, window } = model.attentionDims(B, 1, l);
        attentionDecode(gpu, att, qr, kCache[l], vCache[l], lenCur, { B, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, TMAX, scale, window });
        lin(o, att, l, 'o_proj');
        // Gemma normalises the attention and MLP outputs before their residual adds
        const postO = c.sandwichNorms ? model.postNorm(o, `${p}.post_attention_layernorm.weight`) : null;
        addRmsnormForward(gpu, xm, a, rstd, x, postO?.y ?? o, model.w(model.mlpNormName(l)), c.rmsNormEps, off);
        if (postO) gpu.release(postO.y, postO.rstd);
        if (fl.gateUp && gu) {
          matmul(gpu, gu, a, fl.gateUp, { transB: true });
          swigluPackedForward(gpu, sw, gu);
        } else {
          lin(g, a, l, 'gate_proj');
          lin(u, a, l, 'up_proj');
          model.gate(sw, g, u);
        }
        lin(o, sw, l, 'down_proj');
        const postD = c.sandwichNorms ? model.postNorm(o, `${p}.post_feedforward_layernorm.weight`) : null;
        const last = l === c.numLayers - 1;
        addRmsnormForward(gpu, x, last ? f : a, rstd, xm, postD?.y ?? o,
          model.w(last ? 'model.norm.weight' : `model.layers.${l + 1}.input_layernorm.weight`), c.rmsNormEps, off);
        if (postD) gpu.release(postD.y, postD.rstd);
      }
      sampleInto(f, s);
      steps++;
    }
    const rows = rowStop(await gpu.readU32(allIds, steps * B), steps);
    return {
      tokens: rows.map((r) => r.tokens),
      finish: rows.map((r) => r.finish),
      texts: stopStrings.length ? rows.map((r) => r.text!) : undefined,
      steps,
    };
  } finally {
    gpu.release(...tensors);
  }
}

/** One layer's concatenated decode weights (null: that group runs as separate projections). */
interface FusedLayer {
  /** [Wq; Wk; Wv] (QD + 2 KVD, C), LoRA merged where it applies */
  qkv: Tensor | null;
  /** [bq; bk; bv] with attention biases */
  qkvBias: Tensor | null;
  /** [Wgate; Wup] (2H, C) */
  gateUp: Tensor | null;
}

/** Copies of each layer's q/k/v weights stacked into one (and gate/up into another) so that a decode step
 * needs one matmul per group: taken from `merged` (LoRA merged in) where present, else the base weights.
 * q/k/v first, then gate/up, each only if every layer's copies fit in `budget` bytes. Merged weights that
 * went into a stack are released and dropped from `merged`. The caller releases the stacks. */
function fuseDecodeWeights(model: GpuTransformer, merged: Map<string, Tensor> | null, budget: number): FusedLayer[] {
  const { gpu, config: c } = model;
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const qkvBytes = c.numLayers * (QD + 2 * KVD) * C * 4;
  const guBytes = c.numLayers * 2 * H * C * 4;
  // q/k norms sit between the projection and RoPE, and the packed gate is SwiGLU's: those families decode unfused
  const withQkv = budget > 0 && qkvBytes <= budget && !c.qkNorm;
  const withGu = withQkv && qkvBytes + guBytes <= budget && (c.hiddenAct ?? 'silu') === 'silu';
  const stack = (paths: string[], rows: number[], label: string, suffix: 'weight' | 'bias') => {
    const total = rows.reduce((x, y) => x + y, 0);
    const t = gpu.tensor(suffix === 'weight' ? [total, C] : [total], label);
    let at = 0;
    paths.forEach((path, i) => {
      const src = (suffix === 'weight' ? merged?.get(path) : undefined) ?? model.w(`${path}.${suffix}`);
      const n = rows[i] * (suffix === 'weight' ? C : 1);
      gpu.copy(src, t, n, 0, at);
      at += n;
    });
    if (suffix === 'weight') dropMerged(gpu, merged, paths);
    return t;
  };
  const layers: FusedLayer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const att = ['q_proj', 'k_proj', 'v_proj'].map((m) => `model.layers.${l}.self_attn.${m}`);
    const mlp = ['gate_proj', 'up_proj'].map((m) => `model.layers.${l}.mlp.${m}`);
    layers.push({
      qkv: withQkv ? stack(att, [QD, KVD, KVD], `model.layers.${l}.qkv_proj.weight (decode)`, 'weight') : null,
      qkvBias: withQkv && c.attentionBias ? stack(att, [QD, KVD, KVD], `model.layers.${l}.qkv_proj.bias (decode)`, 'bias') : null,
      gateUp: withGu ? stack(mlp, [H, H], `model.layers.${l}.gate_up_proj.weight (decode)`, 'weight') : null,
    });
  }
  return layers;
}

function dropMerged(gpu: GpuRuntime, merged: Map<string, Tensor> | null, paths: string[]): void {
  for (const p of paths) {
    const t = merged?.get(p);
    if (!t) continue;
    gpu.release(t); // its copy into the stack is recorded already; later users are ordered after it
    merged!.delete(p);
  }
}

interface RowResult {
  tokens: number[];
  finish: FinishReason;
  text?: string;
}

/** Each row's completion: up to its first stop id, or to the first token whose text completes a stop string. */
function cutRows(ids: Uint32Array, B: number, steps: number, stop: Set<number>, stopStrings: string[], decode?: (ids: number[]) => string): RowResult[] {
  const out: RowResult[] = [];
  for (let b = 0; b < B; b++) {
    const row: number[] = [];
    let finish: FinishReason = 'length';
    for (let s = 0; s < steps; s++) {
      const id = ids[s * B + b];
      if (stop.has(id)) {
        finish = 'stop';
        break;
      }
      row.push(id);
    }
    if (!stopStrings.length || !decode) {
      out.push({ tokens: row, finish });
      continue;
    }
    const text = decode(row);
    let cut = -1;
    for (const st of stopStrings) {
      const at = text.indexOf(st);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut < 0) {
      out.push({ tokens: row, finish, text });
      continue;
    }
    // the shortest token prefix whose text reaches past the stop string's start
    let n = 1;
    while (n < row.length && decode(row.slice(0, n)).length <= cut) n++;
    out.push({ tokens: row.slice(0, n), finish: 'stop', text: text.slice(0, cut) });
  }
  return out;
}
