// The Llama-family transformer on the GPU, readable top to bottom: a training forward that saves what
// backward needs, a backward from dlogits into every LoRA A/B (and optionally every weight), and the
// pieces that generation reuses (see generate.ts). Weights use Hugging Face's tensor names.
//
//   x0 = embed(ids)                                              (N, C), N = B*T
//   per layer l:
//     a  = rmsnorm(x)            q = a Wq^T (+bq) (+lora)        (N, NH*HS)
//     k  = a Wk^T (+bk) (+lora)  v = a Wv^T (+bv) (+lora)        (N, NKV*HS)
//     qr, kr = rope(q), rope(k)  att = attention(qr, kr, v)      (N, NH*HS)
//     xm = x + att Wo^T (+lora)                                  (N, C)
//     m  = rmsnorm(xm)           g = m Wg^T, u = m Wu^T (+lora)  (N, H)
//     s  = silu(g) * u           x' = xm + s Wd^T (+lora)
//   f = rmsnorm(x_L)             logits = f Wlm^T                (N, V)
// Every residual add runs fused with the RMSNorm after it (xm with m, x' with the next layer's a or f).

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { embeddingBackward, embeddingForward } from '../gpu/kernels/embedding';
import { rmsnormBackward, rmsnormForward } from '../gpu/kernels/rmsnorm';
import { ropeInvFreq, llama3InvFreq } from '../gpu/kernels/rope';
import { ropeQkBackward, ropeQkForward, type RopeQkDims } from '../gpu/kernels/rope_qk';
import { attentionBackward, attentionForward, type AttentionDims } from '../gpu/kernels/attention';
import { swigluBackward, swigluForward } from '../gpu/kernels/swiglu';
import { addRmsnormForward } from '../gpu/kernels/add_rmsnorm';
import { loraBackward, loraForward } from '../gpu/kernels/lora';
import { dropoutBackward, dropoutForward, type DropoutMask } from '../gpu/kernels/dropout';
import { formatBytes } from '../gpu/buffer_pool';
import { embeddingPacked16Forward, matmulPacked16Backward, matmulPacked16Forward, type Format16 } from '../gpu/kernels/matmul_packed16';
import { isPackable, packWeight, resolveBasePrecision, type BaseStorageOptions } from './weight_storage';
import type { ModelConfig } from './config';
import { expectedShapes, type WeightMap } from './weights';
import type { LoraModule, LoraSet } from './lora';

/** A forward without backward (log-probs, prefill): each layer's tensors are released as soon as the next
 * layer has its input, after onLayer (prefill writes its k/v into the caches there); act.layers stays empty. */
export interface InferenceForward {
  onLayer?: (layer: number, saved: Readonly<LayerSaved>) => void;
}

/** Activations of one layer saved by the training forward. */
export interface LayerSaved {
  x: Tensor; // layer input (N, C)
  a: Tensor; // rmsnorm(x) (N, C)
  rstdA: Tensor; // (N)
  qr: Tensor; // (N, NH*HS) after RoPE
  kr: Tensor; // (N, NKV*HS) after RoPE
  v: Tensor; // (N, NKV*HS)
  att: Tensor; // (N, NH*HS)
  lse: Tensor; // (B, NH, T)
  xm: Tensor; // after the attention residual (N, C)
  m: Tensor; // rmsnorm(xm)
  rstdM: Tensor;
  g: Tensor; // (N, H)
  u: Tensor;
  s: Tensor; // silu(g) * u
  /** LoRA hidden h = x A^T (N, R) per module */
  loraH: Map<LoraModule, Tensor>;
  /** LoRA's dropped-out input per module (only with lora_dropout in a training forward) */
  loraX: Map<LoraModule, Tensor>;
}

export interface Activations {
  B: number;
  T: number;
  N: number;
  ids: Tensor;
  positions: Tensor;
  layers: LayerSaved[];
  xL: Tensor; // last layer's output (N, C)
  f: Tensor; // final rmsnorm (N, C)
  rstdF: Tensor;
  /** the LoRA set the forward used (null: base model) */
  lora: LoraSet | null;
  /** LoRA dropout of this forward (null: none), keyed per module by its counter */
  dropout: { p: number; seed: number; counter: number } | null;
}

const MODULE_INDEX: Record<LoraModule, number> = { q_proj: 0, k_proj: 1, v_proj: 2, o_proj: 3, gate_proj: 4, up_proj: 5, down_proj: 6 };

/** The dropout mask of one module of one forward: its own counter, so every module draws its own mask. */
function moduleMask(d: NonNullable<Activations['dropout']>, layer: number, module: LoraModule): DropoutMask {
  return { p: d.p, seed: d.seed, counter: (Math.imul(d.counter, 1024) + layer * 8 + MODULE_INDEX[module]) >>> 0 };
}

export class GpuTransformer {
  readonly invFreq: Tensor;
  readonly bytes: number;
  /** the largest logits buffer the fused LM head writes at once (lm_head.ts; bigger vocabularies go in chunks) */
  lmHeadChunkBytes = 64 * 2 ** 20;
  /** keep every layer in forwards without backward too (the design before issue 12; the benchmark's "before") */
  inferenceKeepsLayers = false;

  private constructor(
    readonly gpu: GpuRuntime,
    readonly config: ModelConfig,
    readonly weights: Map<string, Tensor>,
    /** weights stored in 16 bits (packed pairs, (rows, cols / 2) u32) and their format; the rest are f32 */
    readonly formats: Map<string, Format16> = new Map(),
  ) {
    const c = config;
    const rs = c.ropeScaling;
    const inv = rs
      ? llama3InvFreq(c.headDim, c.ropeTheta, {
          factor: rs.factor,
          low_freq_factor: rs.lowFreqFactor,
          high_freq_factor: rs.highFreqFactor,
          original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
        })
      : ropeInvFreq(c.headDim, c.ropeTheta);
    this.invFreq = gpu.upload(inv, [c.headDim / 2], 'rope.inv_freq');
    let bytes = 0;
    for (const t of weights.values()) bytes += t.size * 4;
    this.bytes = bytes;
  }

  /** Uploads host weights (f32 on the host) after checking that they fit the device; the frozen matrices go
   * to the GPU in 16 bits when storage.basePrecision resolves to bf16/f16 (weight_storage.ts). */
  static upload(gpu: GpuRuntime, config: ModelConfig, host: WeightMap, storage: BaseStorageOptions = {}): GpuTransformer {
    const shapes = expectedShapes(config);
    const maxBinding = gpu.device.limits.maxStorageBufferBindingSize;
    const format = resolveBasePrecision(config, storage);
    let total = 0;
    for (const [name, shape] of shapes) {
      const bytes = shape.reduce((a, b) => a * b, 1) * (format !== 'f32' && isPackable(name, shape) ? 2 : 4);
      total += bytes;
      if (bytes > maxBinding) {
        throw new Error(
          `tensor ${name} [${shape.join(', ')}] needs ${formatBytes(bytes)} in one buffer, more than this device's ` +
            `maxStorageBufferBindingSize (${formatBytes(maxBinding)}): the model is too large for this GPU`,
        );
      }
    }
    const weights = new Map<string, Tensor>();
    const formats = new Map<string, Format16>();
    for (const name of shapes.keys()) if (!host.has(name)) throw new Error(`missing tensor ${name}`);
    // every tensor is checked (f16 range) before the first upload, so a refusal allocates nothing
    const packed = new Map<string, Uint32Array>();
    for (const [name, shape] of shapes) {
      if (format !== 'f32' && isPackable(name, shape)) packed.set(name, packWeight(name, host.get(name)!.data, format));
    }
    for (const [name, shape] of shapes) {
      const p = packed.get(name);
      if (p && format !== 'f32') {
        weights.set(name, gpu.upload(p, [shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, gpu.upload(host.get(name)!.data, shape, name));
      }
    }
    void total;
    return new GpuTransformer(gpu, config, weights, formats);
  }

  /** The weight tensors of `upload` (same shapes, formats and order) without their data: for memory planning on
   * a dry runtime (src/gpu/dry_device.ts), where a plan needs no weights. */
  static allocateForPlan(gpu: GpuRuntime, config: ModelConfig, storage: BaseStorageOptions = {}): GpuTransformer {
    const format = resolveBasePrecision(config, storage);
    const weights = new Map<string, Tensor>();
    const formats = new Map<string, Format16>();
    for (const [name, shape] of expectedShapes(config)) {
      if (format !== 'f32' && isPackable(name, shape)) {
        weights.set(name, gpu.tensor([shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, gpu.tensor(shape, name));
      }
    }
    return new GpuTransformer(gpu, config, weights, formats);
  }

  /** 'f32', or the 16-bit format a frozen weight is stored in. */
  weightFormat(name: string): 'f32' | Format16 {
    return this.formats.get(name) ?? 'f32';
  }

  /** y (M, N) = alpha * x (M, K) W^T (+ bias) (+ y when accumulate) for the weight `name` (N, K), f32 or 16-bit. */
  project(y: Tensor, x: Tensor, name: string, opts: { bias?: Tensor | null; accumulate?: boolean; alpha?: number } = {}): void {
    const fmt = this.formats.get(name);
    if (fmt) matmulPacked16Forward(this.gpu, y, x, this.w(name), fmt, opts);
    else matmul(this.gpu, y, x, this.w(name), { ...opts, transB: true });
  }

  /** dx (M, K) (=|+=) dy (M, N) W for the weight `name` (N, K), f32 or 16-bit. */
  projectBackward(dx: Tensor, dy: Tensor, name: string, accumulate = false): void {
    const fmt = this.formats.get(name);
    if (fmt) matmulPacked16Backward(this.gpu, dx, dy, this.w(name), fmt, { accumulate });
    else matmul(this.gpu, dx, dy, this.w(name), { accumulate });
  }

  /** out (N, C) = embedding rows of ids (N), from the f32 or 16-bit table. */
  embed(out: Tensor, ids: Tensor): void {
    const name = 'model.embed_tokens.weight';
    const fmt = this.formats.get(name);
    if (fmt) embeddingPacked16Forward(this.gpu, out, ids, this.w(name), fmt);
    else embeddingForward(this.gpu, out, ids, this.w(name));
  }

  w(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`model has no tensor ${name}`);
    return t;
  }

  lmHead(): Tensor {
    return this.config.tieWordEmbeddings ? this.w('model.embed_tokens.weight') : this.w('lm_head.weight');
  }

  ropeDims(): RopeQkDims {
    return { NH: this.config.numHeads, NKV: this.config.numKvHeads, HS: this.config.headDim };
  }

  attentionDims(B: number, T: number): AttentionDims {
    const c = this.config;
    return { B, T, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim };
  }

  /** y = x W^T (+ bias) (+ LoRA on dropout(x) when a mask is given): one of the seven projections of layer l.
   * Returns the LoRA hidden h (and the dropped-out input) when LoRA applies. */
  linear(
    y: Tensor, x: Tensor, layer: number, module: LoraModule, lora: LoraSet | null, dropout: DropoutMask | null = null,
    merged: Map<string, Tensor> | null = null,
  ): { h: Tensor; xd: Tensor | null } | null {
    const prefix = `model.layers.${layer}.${module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn'}.${module}`;
    const bias = this.config.attentionBias && (module === 'q_proj' || module === 'k_proj' || module === 'v_proj')
      ? this.w(`${prefix}.bias`)
      : null;
    const mergedWeight = merged?.get(prefix);
    if (mergedWeight) matmul(this.gpu, y, x, mergedWeight, { transB: true, bias });
    else this.project(y, x, `${prefix}.weight`, { bias });
    if (mergedWeight) return null; // LoRA is already in the weight
    const pair = lora?.get(layer, module);
    if (!pair || !lora) return null;
    const h = this.gpu.tensor([x.shape[0], lora.spec.r], `${prefix}.lora_h`);
    let xd: Tensor | null = null;
    if (dropout && dropout.p > 0) {
      xd = this.gpu.tensor(x.shape, `${prefix}.lora_dropout_x`);
      dropoutForward(this.gpu, xd, x, dropout);
    }
    loraForward(this.gpu, y, h, xd ?? x, pair.A, pair.B, lora.scale);
    return { h, xd };
  }

  /** Training forward over B right-padded rows of T tokens. ids/positions: (N) u32 tensors. With
   * `dropoutCounter`, LoRA's inputs go through lora.spec.dropout (a new mask per counter value). */
  forward(
    ids: Tensor, positions: Tensor, B: number, T: number, lora: LoraSet | null, dropoutCounter: number | null = null,
    inference: InferenceForward | null = null,
  ): Activations {
    const { gpu, config: c } = this;
    const N = B * T;
    const C = c.hiddenSize;
    const QD = c.numHeads * c.headDim;
    const KVD = c.numKvHeads * c.headDim;
    const H = c.intermediateSize;
    const dropout = lora && dropoutCounter !== null && (lora.spec.dropout ?? 0) > 0
      ? { p: lora.spec.dropout!, seed: lora.dropoutSeed, counter: dropoutCounter }
      : null;
    let x = gpu.tensor([N, C], 'x0');
    this.embed(x, ids);
    // Each residual add is fused with the RMSNorm that follows it (add_rmsnorm_forward.wgsl): the attention
    // residual with post_attention_layernorm, the MLP residual with the next layer's input_layernorm (the
    // final norm after the last layer). Only layer 0's input norm stands alone.
    let a = gpu.tensor([N, C], 'model.layers.0.a');
    let rstdA = gpu.tensor([N], 'model.layers.0.rstd_a');
    rmsnormForward(gpu, a, rstdA, x, this.w('model.layers.0.input_layernorm.weight'), c.rmsNormEps);
    const f = gpu.tensor([N, C], 'final_norm');
    const rstdF = gpu.tensor([N], 'rstd_final');
    const layers: LayerSaved[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const loraH = new Map<LoraModule, Tensor>();
      const loraX = new Map<LoraModule, Tensor>();
      const lin = (y: Tensor, xIn: Tensor, m: LoraModule) => {
        const r = this.linear(y, xIn, l, m, lora, dropout && moduleMask(dropout, l, m));
        if (r) loraH.set(m, r.h);
        if (r?.xd) loraX.set(m, r.xd);
      };
      const q = gpu.tensor([N, QD], `${p}.q`);
      const k = gpu.tensor([N, KVD], `${p}.k`);
      const v = gpu.tensor([N, KVD], `${p}.v`);
      lin(q, a, 'q_proj');
      lin(k, a, 'k_proj');
      lin(v, a, 'v_proj');
      const qr = gpu.tensor([N, QD], `${p}.qr`);
      const kr = gpu.tensor([N, KVD], `${p}.kr`);
      ropeQkForward(gpu, qr, kr, q, k, positions, this.invFreq, this.ropeDims(), c.ropeConvention);
      gpu.release(q, k);
      const att = gpu.tensor([N, QD], `${p}.att`);
      const lse = gpu.tensor([B, c.numHeads, T], `${p}.lse`);
      attentionForward(gpu, att, lse, qr, kr, v, this.attentionDims(B, T));
      const o = gpu.tensor([N, C], `${p}.o`);
      lin(o, att, 'o_proj');
      const xm = gpu.tensor([N, C], `${p}.xm`);
      const m = gpu.tensor([N, C], `${p}.m`);
      const rstdM = gpu.tensor([N], `${p}.rstd_m`);
      addRmsnormForward(gpu, xm, m, rstdM, x, o, this.w(`${p}.post_attention_layernorm.weight`), c.rmsNormEps);
      gpu.release(o);
      const g = gpu.tensor([N, H], `${p}.g`);
      const u = gpu.tensor([N, H], `${p}.u`);
      lin(g, m, 'gate_proj');
      lin(u, m, 'up_proj');
      const s = gpu.tensor([N, H], `${p}.s`);
      swigluForward(gpu, s, g, u);
      const d = gpu.tensor([N, C], `${p}.d`);
      lin(d, s, 'down_proj');
      const xOut = gpu.tensor([N, C], `${p}.out`);
      const last = l === c.numLayers - 1;
      const aNext = last ? f : gpu.tensor([N, C], `model.layers.${l + 1}.a`);
      const rstdNext = last ? rstdF : gpu.tensor([N], `model.layers.${l + 1}.rstd_a`);
      const wNext = this.w(last ? 'model.norm.weight' : `model.layers.${l + 1}.input_layernorm.weight`);
      addRmsnormForward(gpu, xOut, aNext, rstdNext, xm, d, wNext, c.rmsNormEps);
      gpu.release(d);
      const saved: LayerSaved = { x, a, rstdA, qr, kr, v, att, lse, xm, m, rstdM, g, u, s, loraH, loraX };
      inference?.onLayer?.(l, saved);
      // no backward: release the layer at once (one layer's activations at a time)
      if (inference && !this.inferenceKeepsLayers) this.releaseLayer(saved);
      else layers.push(saved);
      x = xOut;
      a = aNext;
      rstdA = rstdNext;
    }
    return { B, T, N, ids, positions, layers, xL: x, f, rstdF, lora, dropout };
  }

  /** logits = f Wlm^T for rows [0, N) of f: (N, V). The caller releases the result. */
  logits(f: Tensor): Tensor {
    return this.lmHeadInto(this.gpu.tensor([f.shape[0], this.config.vocabSize], 'logits'), f);
  }

  /** out (N, V) = f Wlm^T. */
  lmHeadInto(out: Tensor, f: Tensor): Tensor {
    this.project(out, f, this.lmHeadName());
    return out;
  }

  /**
   * Backward from dlogits (N, V) through the whole network. Accumulates (+=) into the LoRA gradients of
   * act.lora (when present) and, when fullGrads is given, into full-weight gradients keyed by tensor name
   * (same shapes as the weights; the caller zeroes them). Does not release act (see releaseActivations).
   */
  backward(act: Activations, dlogits: Tensor, fullGrads: Map<string, Tensor> | null = null): void {
    const { gpu, config: c } = this;
    const df = gpu.tensor([act.N, c.hiddenSize], 'd_final_norm');
    this.projectBackward(df, dlogits, this.lmHeadName());
    const dLm = fullGrads?.get(this.lmHeadName()) ?? null;
    if (dLm) matmul(gpu, dLm, dlogits, act.f, { transA: true, accumulate: true });
    this.backwardFromHead(act, df, fullGrads);
  }

  /** Name of the LM head's weight (the embedding when tied). */
  lmHeadName(): string {
    return this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  /**
   * Backward from df = dLoss/df (N, C), the gradient at the final norm's output (the LM head's input: see
   * lm_head.ts, which computes it without an (N, V) buffer), through the rest of the network. Releases df.
   * The LM head's own weight gradient is the caller's (lm_head.ts adds it).
   */
  backwardFromHead(act: Activations, df: Tensor, fullGrads: Map<string, Tensor> | null = null): void {
    const { gpu, config: c } = this;
    const { N, B, T } = act;
    const C = c.hiddenSize;
    const QD = c.numHeads * c.headDim;
    const KVD = c.numKvHeads * c.headDim;
    const H = c.intermediateSize;
    const grad = (name: string) => fullGrads?.get(name) ?? null;

    // dx is the residual stream's gradient. The forward's residual adds (fused into add_rmsnorm_forward)
    // pass it through unchanged, so they have no backward pass: each rmsnormBackward adds its norm's share
    // into dx from the saved h (xm, or the layer's output) and rstd.
    // Final norm.
    const dx = gpu.zeros([N, C], 'd_residual');
    rmsnormBackward(gpu, dx, grad('model.norm.weight'), df, act.xL, this.w('model.norm.weight'), act.rstdF);
    gpu.release(df);

    for (let l = c.numLayers - 1; l >= 0; l--) {
      const s = act.layers[l];
      const p = `model.layers.${l}`;
      // MLP: x' = xm + down(silu(g) * u)
      const ds = gpu.tensor([N, H], `${p}.ds`);
      this.linearBackward(ds, dx, s.s, l, 'down_proj', act, s, fullGrads, false);
      const dg = gpu.tensor([N, H], `${p}.dg`);
      const du = gpu.tensor([N, H], `${p}.du`);
      swigluBackward(gpu, dg, du, ds, s.g, s.u);
      gpu.release(ds);
      const dm = gpu.tensor([N, C], `${p}.dm`);
      this.linearBackward(dm, dg, s.m, l, 'gate_proj', act, s, fullGrads, false);
      this.linearBackward(dm, du, s.m, l, 'up_proj', act, s, fullGrads, true);
      gpu.release(dg, du);
      rmsnormBackward(gpu, dx, grad(`${p}.post_attention_layernorm.weight`), dm, s.xm,
        this.w(`${p}.post_attention_layernorm.weight`), s.rstdM);
      gpu.release(dm);
      // attention: xm = x + o_proj(attention(rope(q), rope(k), v))
      const datt = gpu.tensor([N, QD], `${p}.datt`);
      this.linearBackward(datt, dx, s.att, l, 'o_proj', act, s, fullGrads, false);
      const dqr = gpu.tensor([N, QD], `${p}.dqr`);
      const dkr = gpu.tensor([N, KVD], `${p}.dkr`);
      const dv = gpu.tensor([N, KVD], `${p}.dv`);
      attentionBackward(gpu, dqr, dkr, dv, datt, s.qr, s.kr, s.v, s.att, s.lse, this.attentionDims(B, T));
      gpu.release(datt);
      const dq = gpu.tensor([N, QD], `${p}.dq`);
      const dk = gpu.tensor([N, KVD], `${p}.dk`);
      ropeQkBackward(gpu, dq, dk, dqr, dkr, act.positions, this.invFreq, this.ropeDims(), c.ropeConvention);
      gpu.release(dqr, dkr);
      const da = gpu.tensor([N, C], `${p}.da`);
      this.linearBackward(da, dq, s.a, l, 'q_proj', act, s, fullGrads, false);
      this.linearBackward(da, dk, s.a, l, 'k_proj', act, s, fullGrads, true);
      this.linearBackward(da, dv, s.a, l, 'v_proj', act, s, fullGrads, true);
      gpu.release(dq, dk, dv);
      rmsnormBackward(gpu, dx, grad(`${p}.input_layernorm.weight`), da, s.x, this.w(`${p}.input_layernorm.weight`), s.rstdA);
      gpu.release(da);
    }
    const dEmb = grad('model.embed_tokens.weight');
    if (dEmb) embeddingBackward(gpu, dEmb, dx, act.ids);
    gpu.release(dx);
  }

  /** dx (=|+=) dy W, then LoRA's dA, dB (+=) and its share of dx (+=, through the dropout mask when one was
   * used); full dW (+=) when asked. */
  private linearBackward(
    dxOut: Tensor,
    dy: Tensor,
    x: Tensor,
    layer: number,
    module: LoraModule,
    act: Activations,
    saved: LayerSaved,
    fullGrads: Map<string, Tensor> | null,
    accumulate: boolean,
  ): void {
    const lora = act.lora;
    const group = module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
    const name = `model.layers.${layer}.${group}.${module}.weight`;
    this.projectBackward(dxOut, dy, name, accumulate);
    const dW = fullGrads?.get(name);
    if (dW) matmul(this.gpu, dW, dy, x, { transA: true, accumulate: true });
    const pair = lora?.get(layer, module);
    const h = saved.loraH.get(module);
    if (!pair || !h || !lora) return;
    const xd = saved.loraX.get(module);
    if (!xd || !act.dropout) {
      loraBackward(this.gpu, pair.dA, pair.dB, dxOut, dy, x, h, pair.A, pair.B, lora.scale);
      return;
    }
    const dxd = this.gpu.zeros(x.shape, `${module}.lora_dropout_dx`);
    loraBackward(this.gpu, pair.dA, pair.dB, dxd, dy, xd, h, pair.A, pair.B, lora.scale);
    dropoutBackward(this.gpu, dxOut, dxd, moduleMask(act.dropout, layer, module));
    this.gpu.release(dxd);
  }

  /** Copies of the LoRA-targeted weights with the adapter merged in, W + scale * B A, keyed by module path:
   * generation then needs one matmul per projection instead of three dispatches. The caller releases them. */
  mergeLora(lora: LoraSet): Map<string, Tensor> {
    const merged = new Map<string, Tensor>();
    for (const p of lora.pairs.values()) {
      if (this.formats.has(`${p.path}.weight`)) continue; // a 16-bit base: decode applies LoRA unmerged (no f32 copy)
      const w = this.w(`${p.path}.weight`);
      const m = this.gpu.tensor(w.shape, `${p.path}.weight+lora`);
      this.gpu.copy(w, m);
      matmul(this.gpu, m, p.B, p.A, { alpha: lora.scale, accumulate: true });
      merged.set(p.path, m);
    }
    return merged;
  }

  private releaseLayer(s: LayerSaved): void {
    this.gpu.release(s.x, s.a, s.rstdA, s.qr, s.kr, s.v, s.att, s.lse, s.xm, s.m, s.rstdM, s.g, s.u, s.s, ...s.loraH.values(), ...s.loraX.values());
  }

  releaseActivations(act: Activations): void {
    for (const s of act.layers) this.releaseLayer(s);
    this.gpu.release(act.xL, act.f, act.rstdF);
    act.layers = [];
  }

  /** Zeroed full-weight gradient tensors for every weight (for supervised full fine-tuning). */
  createFullGrads(): Map<string, Tensor> {
    if (this.formats.size > 0) {
      throw new Error('full-weight training needs f32 weights: this model\'s base is stored in 16 bits (set base_precision to "f32")');
    }
    const out = new Map<string, Tensor>();
    for (const [name, t] of this.weights) {
      if (name.endsWith('.bias')) continue; // biases stay frozen
      out.set(name, this.gpu.zeros(t.shape, `${name}.grad`));
    }
    return out;
  }

  release(): void {
    for (const t of this.weights.values()) this.gpu.release(t);
    this.weights.clear();
    this.gpu.release(this.invFreq);
  }
}
