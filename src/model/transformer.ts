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
// Families (config.ts FamilyFields): Qwen3 and Gemma 3 normalise each head of q and k before RoPE
// (q_norm / k_norm); Gemma 3 scales the embedding by sqrt(C), uses x * (1 + w) norms, normalises the
// attention and MLP outputs before their residual adds (post_attention / post_feedforward_layernorm, the
// MLP's input norm is then pre_feedforward_layernorm), gelu_tanh instead of silu, its own attention scale,
// and sliding-window layers with their own RoPE base. Qwen3.5: linear_attention layers run the Gated
// DeltaNet mixer of qwen35_linear_attention.ts instead of attention; its full layers split q_proj into query and
// gate (att * sigmoid(gate) before o_proj) and turn RoPE over the first rotaryDim channels of each head only.
// Over 400 lines: one layer's forward and backward belong side by side.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { embeddingBackward, embeddingForward } from '../gpu/kernels/embedding';
import { gegluBackward, gegluForward } from '../gpu/kernels/geglu';
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
import { embeddingQuantForward, matmulQuantBackward, matmulQuantForward } from '../gpu/kernels/matmul_quant';
import { keepsQuantised, plannedQuant, quantUploadBytes, quantWeightTensor, type QuantTypes } from './quant_storage';
import type { ModelConfig, RopeScaling } from './config';
import { expectedShapes, type WeightMap } from './weights';
import { modulePath, type LoraModule, type LoraSet } from './lora';
import { outputGateBackward, outputGateForward, partialRope, splitQuery } from '../gpu/kernels/qwen35_ops';
import { gdnBackward, gdnForward, releaseGdn, type GdnDecodeState, type GdnSaved } from './qwen35_linear_attention';
import { isLinearAttentionLayer } from './weights_qwen35';

/** A forward without backward (log-probs, prefill): each layer's tensors are released as soon as the next
 * layer has its input, after onLayer (prefill writes its k/v into the caches there); act.layers stays empty. */
export interface InferenceForward {
  onLayer?: (layer: number, saved: Readonly<LayerSaved>) => void;
  /** Qwen3.5 prefill: each linear layer writes its decoding state (as each row's token lens[b] - 1 leaves it) */
  gdnStates?: { lens: Tensor; of: (layer: number) => GdnDecodeState };
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
  s: Tensor; // silu(g) * u (gelu_tanh(g) * u)
  /** qkNorm: q and k before their per-head norms (N, NH*HS), (N, NKV*HS), and the norms' rstd (N*NH), (N*NKV) */
  qk: { q: Tensor; k: Tensor; rstdQ: Tensor; rstdK: Tensor } | null;
  /** sandwichNorms: attention and MLP outputs before post_attention / post_feedforward_layernorm, and rstd */
  post: { o: Tensor; rstdO: Tensor; d: Tensor; rstdD: Tensor } | null;
  /** LoRA hidden h = x A^T (N, R) per module */
  loraH: Map<LoraModule, Tensor>;
  /** LoRA's dropped-out input per module (only with lora_dropout in a training forward) */
  loraX: Map<LoraModule, Tensor>;
  /** Qwen3.5 full layers: q_proj's output (N, NH*2*HS) and the gated attention output (o_proj's input) */
  gate?: { qg: Tensor; attG: Tensor };
  /** Qwen3.5 linear layers: the Gated DeltaNet's saved tensors (qr, kr, v, att, lse are then 1-element stand-ins) */
  gdn?: GdnSaved;
}

export interface Activations {
  B: number;
  T: number;
  N: number;
  ids: Tensor;
  positions: Tensor;
  /** the shared-prefix attention mask the forward used (src/model/prefix_pack.ts; null: plain causal rows) */
  segments: Tensor | null;
  layers: LayerSaved[];
  xL: Tensor; // last layer's output (N, C)
  f: Tensor; // final rmsnorm (N, C)
  rstdF: Tensor;
  /** the LoRA set the forward used (null: base model) */
  lora: LoraSet | null;
  /** LoRA dropout of this forward (null: none), keyed per module by its counter */
  dropout: { p: number; seed: number; counter: number } | null;
  /** recomputation (GpuTransformer.recomputeLayers): each layer's input only; layers stays empty and backward
   * recomputes a layer's other activations from its input, one layer at a time */
  inputs?: LayerInput[];
}

/** What a recomputing training forward keeps of a layer: its input and the input's norm (as the fused
 * add_rmsnorm of the layer before wrote them, so the recomputed layer is bit for bit the forward's). */
export type LayerInput = Pick<LayerSaved, 'x' | 'a' | 'rstdA'>;

// Qwen3.5's linear layers have no q/k/v/o_proj: their projections reuse those stream words (out_proj the spare 7)
const MODULE_INDEX: Record<LoraModule, number> = {
  q_proj: 0, k_proj: 1, v_proj: 2, o_proj: 3, gate_proj: 4, up_proj: 5, down_proj: 6,
  in_proj_qkv: 0, in_proj_z: 1, in_proj_b: 2, in_proj_a: 3, out_proj: 7,
};

/** The dropout mask of one module of one forward: Philox stream words (the forward's counter, below 2^53,
 * as its low and high 32 bits; then layer * 8 + module), so no two (forward, layer, module) share a mask. */
export function moduleMask(d: NonNullable<Activations['dropout']>, layer: number, module: LoraModule): DropoutMask {
  if (!Number.isSafeInteger(d.counter) || d.counter < 0) throw new Error(`the dropout counter must be an integer in [0, 2^53), got ${d.counter}`);
  return { p: d.p, seed: d.seed, stream: [d.counter % 2 ** 32, Math.floor(d.counter / 2 ** 32), (layer * 8 + MODULE_INDEX[module]) >>> 0] };
}

/** The same buffer seen as rows of HS: (N, heads*HS) -> (N*heads, HS), for the per-head q/k norms. Not
 * released on its own (it is the tensor it views). */
function headRows(t: Tensor, HS: number): Tensor {
  return { buffer: t.buffer, shape: [t.size / HS, HS], dtype: t.dtype, label: `${t.label} (per head)`, size: t.size };
}

function invFreqOf(headDim: number, theta: number, rs: RopeScaling | null | undefined): Float32Array {
  if (!rs) return ropeInvFreq(headDim, theta);
  if (rs.type === 'linear') return ropeInvFreq(headDim, theta).map((f) => f / rs.factor);
  return llama3InvFreq(headDim, theta, {
    factor: rs.factor,
    low_freq_factor: rs.lowFreqFactor,
    high_freq_factor: rs.highFreqFactor,
    original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
  });
}

export class GpuTransformer {
  /** RoPE inverse frequencies of full-attention layers (every layer unless the config has sliding ones) */
  readonly invFreq: Tensor;
  /** RoPE of sliding_attention layers (Gemma's rope_local_base_freq); null when there are none */
  readonly invFreqLocal: Tensor | null;
  readonly bytes: number;
  /** RMSNorm weight offset of every norm (Gemma: 1) */
  readonly normOffset: number;
  /** the largest logits buffer the fused LM head writes at once (lm_head.ts; bigger vocabularies go in chunks) */
  lmHeadChunkBytes = 64 * 2 ** 20;
  /** keep every layer in forwards without backward too (the design before issue 12; the benchmark's "before") */
  inferenceKeepsLayers = false;
  /** activation recomputation (gradient checkpointing): a training forward keeps only each layer's input
   * (x, its norm a and rstd) and backward recomputes the layer from it before its backward (config
   * `recompute`; the trainer sets it from the memory plan) */
  recomputeLayers = false;

  private constructor(
    readonly gpu: GpuRuntime,
    readonly config: ModelConfig,
    readonly weights: Map<string, Tensor>,
    /** weights stored in 16 bits (packed pairs, (rows, cols / 2) u32) and their format; the rest are f32 */
    readonly formats: Map<string, Format16> = new Map(),
    /** weights kept in a ggml block format (GGUF files; quant_storage.ts) and their type */
    readonly quant: QuantTypes = new Map(),
  ) {
    const c = config;
    if (c.gemma4) {
      throw new Error(`${c.modelType} (${c.architecture}): the training and generation engine does not run Gemma 4 yet (per-layer ` +
        'head sizes, shared K/V, per-layer embeddings); its own model, src/model/gemma4_gpu.ts, runs it: upload it with ' +
        'uploadPolicyModel (src/model/policy_model.ts)');
    }
    const rot = c.rotaryDim ?? c.headDim; // Qwen3.5: partial RoPE, frequencies over the rotated slice only
    this.invFreq = gpu.upload(invFreqOf(rot, c.ropeTheta, c.ropeScaling), [rot / 2], 'rope.inv_freq');
    this.invFreqLocal = c.layerTypes?.includes('sliding_attention')
      ? gpu.upload(invFreqOf(c.headDim, c.ropeLocalTheta ?? c.ropeTheta, c.ropeLocalScaling), [c.headDim / 2], 'rope.inv_freq (sliding layers)')
      : null;
    this.normOffset = c.normWeightOffset ?? 0;
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
      const q = keepsQuantised(host.get(name), storage, name);
      const bytes = q ? quantUploadBytes(q) : shape.reduce((a, b) => a * b, 1) * (format !== 'f32' && isPackable(name, shape) ? 2 : 4);
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
    const quant: QuantTypes = new Map();
    for (const [name, shape] of shapes) {
      if (keepsQuantised(host.get(name), storage, name)) continue;
      if (format !== 'f32' && isPackable(name, shape)) packed.set(name, packWeight(name, host.get(name)!.data, format));
    }
    for (const [name, shape] of shapes) {
      const p = packed.get(name);
      const q = keepsQuantised(host.get(name), storage, name);
      // frozen weights in exactly sized buffers (GpuRuntime.weightTensor), as allocateForPlan plans them
      const put = (data: ArrayLike<number>, sh: number[], label: string, dtype: 'f32' | 'u32' = 'f32') => {
        const t = gpu.weightTensor(sh, label, dtype);
        gpu.write(t, data);
        return t;
      };
      if (q) {
        weights.set(name, quantWeightTensor(gpu, q.type, shape[0], shape[1], `${name} (${q.type})`, q.words));
        quant.set(name, q.type);
      } else if (p && format !== 'f32') {
        weights.set(name, put(p, [shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, put(host.get(name)!.data, [...shape], name));
      }
    }
    void total;
    return new GpuTransformer(gpu, config, weights, formats, quant);
  }

  /** The weight tensors of `upload` (same shapes, formats and order) without their data: for memory planning on
   * a dry runtime (src/gpu/dry_device.ts), where a plan needs no weights. */
  static allocateForPlan(gpu: GpuRuntime, config: ModelConfig, storage: BaseStorageOptions = {}): GpuTransformer {
    const format = resolveBasePrecision(config, storage);
    const weights = new Map<string, Tensor>();
    const formats = new Map<string, Format16>();
    const quant: QuantTypes = new Map();
    const planned = plannedQuant(storage, config);
    for (const [name, shape] of expectedShapes(config)) {
      const q = planned?.get(name);
      if (q) {
        weights.set(name, quantWeightTensor(gpu, q, shape[0], shape[1], `${name} (${q})`));
        quant.set(name, q);
      } else if (format !== 'f32' && isPackable(name, shape)) {
        weights.set(name, gpu.weightTensor([shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, gpu.weightTensor(shape, name));
      }
    }
    return new GpuTransformer(gpu, config, weights, formats, quant);
  }

  /** 'f32', or the 16-bit format a frozen weight is stored in. */
  weightFormat(name: string): 'f32' | Format16 {
    return this.formats.get(name) ?? 'f32';
  }

  /** y (M, N) = alpha * x (M, K) W^T (+ bias) (+ y when accumulate) for the weight `name` (N, K), f32 or 16-bit. */
  project(y: Tensor, x: Tensor, name: string, opts: { bias?: Tensor | null; accumulate?: boolean; alpha?: number } = {}): void {
    const fmt = this.formats.get(name);
    const q = this.quant.get(name);
    if (q) matmulQuantForward(this.gpu, y, x, this.w(name), q, opts);
    else if (fmt) matmulPacked16Forward(this.gpu, y, x, this.w(name), fmt, opts);
    else matmul(this.gpu, y, x, this.w(name), { ...opts, transB: true });
  }

  /** dx (M, K) (=|+=) dy (M, N) W for the weight `name` (N, K), f32 or 16-bit. */
  projectBackward(dx: Tensor, dy: Tensor, name: string, accumulate = false): void {
    const fmt = this.formats.get(name);
    const q = this.quant.get(name);
    if (q) matmulQuantBackward(this.gpu, dx, dy, this.w(name), q, { accumulate });
    else if (fmt) matmulPacked16Backward(this.gpu, dx, dy, this.w(name), fmt, { accumulate });
    else matmul(this.gpu, dx, dy, this.w(name), { accumulate });
  }

  /** out (N, C) = embedding rows of ids (N), from the f32 or 16-bit table. */
  embed(out: Tensor, ids: Tensor): void {
    const name = 'model.embed_tokens.weight';
    const fmt = this.formats.get(name);
    const scale = this.config.embedScale ?? 1; // Gemma: sqrt(hidden)
    const q = this.quant.get(name);
    if (q) embeddingQuantForward(this.gpu, out, ids, this.w(name), q, scale);
    else if (fmt) embeddingPacked16Forward(this.gpu, out, ids, this.w(name), fmt, scale);
    else embeddingForward(this.gpu, out, ids, this.w(name), scale);
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

  /** Why this model cannot train on shared-prefix packed rows (src/model/prefix_pack.ts), or null: only
   * attention may mix tokens (sliding windows count positions under the mask: attention_segments.wgsl). */
  sharedPrefixUnsupported(): string | null {
    const c = this.config;
    for (let l = 0; l < c.numLayers; l++) {
      if (isLinearAttentionLayer(c, l)) return `${c.modelType ?? 'this model'}'s linear-attention layers mix tokens outside attention`;
    }
    return null;
  }

  private checkSharedPrefix(): void {
    const why = this.sharedPrefixUnsupported();
    if (why) throw new Error(`shared-prefix training: ${why}`);
  }

  /** Whether layer l is a sliding-window layer (Gemma's sliding_attention). */
  isSliding(layer: number): boolean {
    return this.config.layerTypes?.[layer] === 'sliding_attention';
  }

  /** The RoPE inverse frequencies of layer l. */
  invFreqOf(layer: number): Tensor {
    return this.isSliding(layer) && this.invFreqLocal ? this.invFreqLocal : this.invFreq;
  }

  /** Attention dims of layer l (its window and the family's score scale). */
  attentionDims(B: number, T: number, layer = 0): AttentionDims {
    const c = this.config;
    const window = this.isSliding(layer) ? c.slidingWindow ?? 0 : 0;
    return { B, T, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, scale: c.attentionScale, window };
  }

  /** The norm before the MLP: post_attention_layernorm (Llama), pre_feedforward_layernorm (Gemma). */
  mlpNormName(layer: number): string {
    return `model.layers.${layer}.${this.config.sandwichNorms ? 'pre_feedforward_layernorm' : 'post_attention_layernorm'}.weight`;
  }

  /** qr, kr = rope(q_norm(q), k_norm(k)) (rope(q), rope(k) without q/k norms) of layer l. With q/k norms,
   * returns their rstd (N*NH), (N*NKV); q and k are left as they are. */
  qkNormRope(qr: Tensor, kr: Tensor, q: Tensor, k: Tensor, positions: Tensor, layer: number): { rstdQ: Tensor; rstdK: Tensor } | null {
    const { gpu, config: c } = this;
    if (!c.qkNorm) {
      this.ropeQk(qr, kr, q, k, positions, layer);
      return null;
    }
    const p = `model.layers.${layer}.self_attn`;
    const HS = c.headDim;
    const qn = gpu.tensor(q.shape, `${p}.q_normed`);
    const kn = gpu.tensor(k.shape, `${p}.k_normed`);
    const rstdQ = gpu.tensor([q.size / HS], `${p}.rstd_q`);
    const rstdK = gpu.tensor([k.size / HS], `${p}.rstd_k`);
    rmsnormForward(gpu, headRows(qn, HS), rstdQ, headRows(q, HS), this.w(`${p}.q_norm.weight`), c.rmsNormEps, this.normOffset);
    rmsnormForward(gpu, headRows(kn, HS), rstdK, headRows(k, HS), this.w(`${p}.k_norm.weight`), c.rmsNormEps, this.normOffset);
    this.ropeQk(qr, kr, qn, kn, positions, layer);
    gpu.release(qn, kn);
    return { rstdQ, rstdK };
  }

  /** qr, kr = rope(q), rope(k) of layer l; Qwen3.5's partial RoPE (rotaryDim) with its own kernel. */
  private ropeQk(qr: Tensor, kr: Tensor, q: Tensor, k: Tensor, positions: Tensor, layer: number, dir: 'forward' | 'backward' = 'forward'): void {
    const { gpu, config: c } = this;
    if (c.rotaryDim !== undefined) {
      partialRope(gpu, dir, qr, q, positions, this.invFreqOf(layer), c.numHeads, c.headDim, c.rotaryDim);
      partialRope(gpu, dir, kr, k, positions, this.invFreqOf(layer), c.numKvHeads, c.headDim, c.rotaryDim);
    } else if (dir === 'forward') ropeQkForward(gpu, qr, kr, q, k, positions, this.invFreqOf(layer), this.ropeDims(), c.ropeConvention);
    else ropeQkBackward(gpu, qr, kr, q, k, positions, this.invFreqOf(layer), this.ropeDims(), c.ropeConvention);
  }

  /** The MLP gate: s = silu(g) * u, or gelu_tanh(g) * u (Gemma). */
  gate(s: Tensor, g: Tensor, u: Tensor): void {
    if (this.config.hiddenAct === 'gelu_tanh') gegluForward(this.gpu, s, g, u);
    else swigluForward(this.gpu, s, g, u);
  }

  /** y = x W^T (+ bias) (+ LoRA on dropout(x) when a mask is given): one of the seven projections of layer l.
   * Returns the LoRA hidden h (and the dropped-out input) when LoRA applies. */
  linear(
    y: Tensor, x: Tensor, layer: number, module: LoraModule, lora: LoraSet | null, dropout: DropoutMask | null = null,
    merged: Map<string, Tensor> | null = null,
  ): { h: Tensor; xd: Tensor | null } | null {
    const prefix = modulePath(layer, module);
    const c = this.config;
    const bias = (c.attentionBias && (module === 'q_proj' || module === 'k_proj' || module === 'v_proj')) || (c.oProjBias && module === 'o_proj')
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
    segments: Tensor | null = null,
  ): Activations {
    const { gpu, config: c } = this;
    if (segments) this.checkSharedPrefix();
    const N = B * T;
    const C = c.hiddenSize;
    const dropout = lora && dropoutCounter !== null && (lora.spec.dropout ?? 0) > 0
      ? { p: lora.spec.dropout!, seed: lora.dropoutSeed, counter: dropoutCounter }
      : null;
    const off = this.normOffset;
    let x = gpu.tensor([N, C], 'x0');
    this.embed(x, ids);
    // Each residual add is fused with the RMSNorm that follows it (add_rmsnorm_forward.wgsl): the attention
    // residual with post_attention_layernorm, the MLP residual with the next layer's input_layernorm (the
    // final norm after the last layer). Only layer 0's input norm stands alone.
    let a = gpu.tensor([N, C], 'model.layers.0.a');
    let rstdA = gpu.tensor([N], 'model.layers.0.rstd_a');
    rmsnormForward(gpu, a, rstdA, x, this.w('model.layers.0.input_layernorm.weight'), c.rmsNormEps, off);
    // the final norm's output is allocated when the last layer writes it, not held through every layer
    let f: Tensor | null = null;
    let rstdF: Tensor | null = null;
    const layers: LayerSaved[] = [];
    const recompute = !inference && this.recomputeLayers;
    const inputs: LayerInput[] = [];
    for (let l = 0; l < c.numLayers; l++) {
      const last = l === c.numLayers - 1;
      const nextNorm = (): [Tensor, Tensor] => last
        ? [(f = gpu.tensor([N, C], 'final_norm')), (rstdF = gpu.tensor([N], 'rstd_final'))]
        : [gpu.tensor([N, C], `model.layers.${l + 1}.a`), gpu.tensor([N], `model.layers.${l + 1}.rstd_a`)];
      const gs = inference?.gdnStates && isLinearAttentionLayer(c, l) ? { ...inference.gdnStates.of(l), lens: inference.gdnStates.lens } : null;
      const { saved, xOut, aNext, rstdNext } = this.layerForward(l, { x, a, rstdA }, nextNorm, positions, B, T, lora, dropout, gs, segments);
      inference?.onLayer?.(l, saved);
      // no backward: release the layer at once (one layer's activations at a time)
      if (inference && !this.inferenceKeepsLayers) this.releaseLayer(saved);
      else if (recompute) {
        // keep the layer's input only; backward recomputes the rest
        inputs.push({ x, a, rstdA });
        this.releaseLayer(saved, true);
      } else layers.push(saved);
      x = xOut;
      a = aNext;
      rstdA = rstdNext;
    }
    return { B, T, N, ids, positions, segments, layers, xL: x, f: f!, rstdF: rstdF!, lora, dropout, ...(recompute ? { inputs } : {}) };
  }

  /** Layer l's forward from its input (x, a = its norm, rstdA): writes the layer's output into a new tensor
   * xOut and the next norm (the next layer's input_layernorm, or the final norm after the last layer) into
   * the tensors nextNorm gives (aNext (N, C), rstdNext (N)); returns them and every activation backward
   * needs. Used by forward and, recomputing a layer before its backward, by backwardFromHead. */
  private layerForward(
    l: number, input: LayerInput, nextNorm: () => [Tensor, Tensor], positions: Tensor, B: number, T: number,
    lora: LoraSet | null, dropout: Activations['dropout'], gdnPrefill: (GdnDecodeState & { lens: Tensor }) | null = null,
    segments: Tensor | null = null,
  ): { saved: LayerSaved; xOut: Tensor; aNext: Tensor; rstdNext: Tensor } {
    const { gpu, config: c } = this;
    const { x, a, rstdA } = input;
    const N = B * T;
    const C = c.hiddenSize;
    const QD = c.numHeads * c.headDim;
    const KVD = c.numKvHeads * c.headDim;
    const H = c.intermediateSize;
    const off = this.normOffset;
    const p = `model.layers.${l}`;
    const loraH = new Map<LoraModule, Tensor>();
    const loraX = new Map<LoraModule, Tensor>();
    const lin = (y: Tensor, xIn: Tensor, m: LoraModule) => {
      const r = this.linear(y, xIn, l, m, lora, dropout && moduleMask(dropout, l, m));
      if (r) loraH.set(m, r.h);
      if (r?.xd) loraX.set(m, r.xd);
    };
    let o: Tensor;
    let gdn: GdnSaved | undefined;
    let gate: LayerSaved['gate'];
    let qr: Tensor, kr: Tensor, v: Tensor, att: Tensor, lse: Tensor;
    let qk: LayerSaved['qk'] = null;
    if (isLinearAttentionLayer(c, l)) {
      // Qwen3.5 linear layer: the Gated DeltaNet mixer (1-element stand-ins for the attention fields)
      const r = gdnForward(gpu, c, (name) => this.w(name), (y, xIn, m) => lin(y, xIn, m), p, a, B, T, gdnPrefill);
      o = r.out;
      gdn = r.saved;
      [qr, kr, v, att, lse] = ['qr', 'kr', 'v', 'att', 'lse'].map((n) => gpu.tensor([1], `${p}.${n} (linear layer: unused)`));
    } else {
      const q = gpu.tensor([N, QD], `${p}.q`);
      const k = gpu.tensor([N, KVD], `${p}.k`);
      v = gpu.tensor([N, KVD], `${p}.v`);
      if (c.attnOutputGate) {
        // Qwen3.5: q_proj yields per head the query then the gate
        const qg = gpu.tensor([N, 2 * QD], `${p}.q_and_gate`);
        lin(qg, a, 'q_proj');
        splitQuery(gpu, q, qg, c.numHeads, c.headDim);
        gate = { qg, attG: gpu.tensor([N, QD], `${p}.att_gated`) };
      } else lin(q, a, 'q_proj');
      lin(k, a, 'k_proj');
      lin(v, a, 'v_proj');
      qr = gpu.tensor([N, QD], `${p}.qr`);
      kr = gpu.tensor([N, KVD], `${p}.kr`);
      const qkRstd = this.qkNormRope(qr, kr, q, k, positions, l);
      qk = qkRstd ? { q, k, ...qkRstd } : null;
      if (!qk) gpu.release(q, k);
      att = gpu.tensor([N, QD], `${p}.att`);
      lse = gpu.tensor([B, c.numHeads, T], `${p}.lse`);
      attentionForward(gpu, att, lse, qr, kr, v, this.attentionDims(B, T, l), null, segments);
      o = gpu.tensor([N, C], `${p}.o`);
      if (gate) outputGateForward(gpu, gate.attG, att, gate.qg, c.numHeads, c.headDim);
      lin(o, gate?.attG ?? att, 'o_proj');
    }
    // Gemma: o goes through post_attention_layernorm before the residual add
    const postO = c.sandwichNorms ? this.postNorm(o, `${p}.post_attention_layernorm.weight`) : null;
    const xm = gpu.tensor([N, C], `${p}.xm`);
    const m = gpu.tensor([N, C], `${p}.m`);
    const rstdM = gpu.tensor([N], `${p}.rstd_m`);
    addRmsnormForward(gpu, xm, m, rstdM, x, postO?.y ?? o, this.w(this.mlpNormName(l)), c.rmsNormEps, off);
    if (postO) gpu.release(postO.y);
    else gpu.release(o);
    const g = gpu.tensor([N, H], `${p}.g`);
    const u = gpu.tensor([N, H], `${p}.u`);
    lin(g, m, 'gate_proj');
    lin(u, m, 'up_proj');
    const s = gpu.tensor([N, H], `${p}.s`);
    this.gate(s, g, u);
    const d = gpu.tensor([N, C], `${p}.d`);
    lin(d, s, 'down_proj');
    const postD = c.sandwichNorms ? this.postNorm(d, `${p}.post_feedforward_layernorm.weight`) : null;
    const xOut = gpu.tensor([N, C], `${p}.out`);
    const [aNext, rstdNext] = nextNorm();
    const last = l === c.numLayers - 1;
    const wNext = this.w(last ? 'model.norm.weight' : `model.layers.${l + 1}.input_layernorm.weight`);
    addRmsnormForward(gpu, xOut, aNext, rstdNext, xm, postD?.y ?? d, wNext, c.rmsNormEps, off);
    if (postD) gpu.release(postD.y);
    else gpu.release(d);
    const post = postO && postD ? { o, rstdO: postO.rstd, d, rstdD: postD.rstd } : null;
    return { saved: { x, a, rstdA, qr, kr, v, att, lse, xm, m, rstdM, g, u, s, qk, post, loraH, loraX, gate, gdn }, xOut, aNext, rstdNext };
  }

  /** y = rmsnorm(x) with one of Gemma's output norms (post_attention / post_feedforward_layernorm); returns y
   * and rstd (N) (the caller releases y; rstd is saved for backward). */
  postNorm(x: Tensor, weight: string): { y: Tensor; rstd: Tensor } {
    const y = this.gpu.tensor(x.shape, `${weight} (out)`);
    const rstd = this.gpu.tensor([x.shape[0]], `${weight} (rstd)`);
    rmsnormForward(this.gpu, y, rstd, x, this.w(weight), this.config.rmsNormEps, this.normOffset);
    return { y, rstd };
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
    const off = this.normOffset;

    // dx is the residual stream's gradient. The forward's residual adds (fused into add_rmsnorm_forward)
    // pass it through unchanged, so they have no backward pass: each rmsnormBackward adds its norm's share
    // into dx from the saved h (xm, or the layer's output) and rstd.
    // Final norm.
    const dx = gpu.zeros([N, C], 'd_residual');
    rmsnormBackward(gpu, dx, grad('model.norm.weight'), df, act.xL, this.w('model.norm.weight'), act.rstdF, off);
    gpu.release(df);
    /** Gemma's output norms: the gradient of their input x (N, C) from dy = the residual stream's gradient. */
    const postNormBackward = (x: Tensor, rstd: Tensor, weight: string): Tensor => {
      const dIn = gpu.zeros([N, C], `${weight} (d input)`);
      rmsnormBackward(gpu, dIn, grad(weight), dx, x, this.w(weight), rstd, off);
      return dIn;
    };

    for (let l = c.numLayers - 1; l >= 0; l--) {
      const s = act.inputs ? this.recomputeLayer(act, l) : act.layers[l];
      const p = `model.layers.${l}`;
      // MLP: x' = xm + down(silu(g) * u)   (Gemma: xm + post_feedforward_layernorm(down(gelu_tanh(g) * u)))
      const dd = s.post ? postNormBackward(s.post.d, s.post.rstdD, `${p}.post_feedforward_layernorm.weight`) : dx;
      const ds = gpu.tensor([N, H], `${p}.ds`);
      this.linearBackward(ds, dd, s.s, l, 'down_proj', act, s, fullGrads, false);
      if (dd !== dx) gpu.release(dd);
      const dg = gpu.tensor([N, H], `${p}.dg`);
      const du = gpu.tensor([N, H], `${p}.du`);
      if (c.hiddenAct === 'gelu_tanh') gegluBackward(gpu, dg, du, ds, s.g, s.u);
      else swigluBackward(gpu, dg, du, ds, s.g, s.u);
      gpu.release(ds);
      const dm = gpu.tensor([N, C], `${p}.dm`);
      this.linearBackward(dm, dg, s.m, l, 'gate_proj', act, s, fullGrads, false);
      this.linearBackward(dm, du, s.m, l, 'up_proj', act, s, fullGrads, true);
      gpu.release(dg, du);
      const mlpNorm = this.mlpNormName(l);
      rmsnormBackward(gpu, dx, grad(mlpNorm), dm, s.xm, this.w(mlpNorm), s.rstdM, off);
      gpu.release(dm);
      // attention: xm = x + o_proj(attention(rope(q), rope(k), v))   (Gemma: + post_attention_layernorm(...))
      const dAttOut = s.post ? postNormBackward(s.post.o, s.post.rstdO, `${p}.post_attention_layernorm.weight`) : dx;
      const da = gpu.tensor([N, C], `${p}.da`);
      if (s.gdn) {
        // Qwen3.5 linear layer
        gdnBackward(gpu, c, (name) => this.w(name), grad, (dxIn, dy, xIn, m, accumulate) =>
          this.linearBackward(dxIn, dy, xIn, l, m, act, s, fullGrads, accumulate), p, da, false, dAttOut, s.a, s.gdn, B, T);
        if (dAttOut !== dx) gpu.release(dAttOut);
      } else {
        let datt = gpu.tensor([N, QD], `${p}.datt`);
        this.linearBackward(datt, dAttOut, s.gate?.attG ?? s.att, l, 'o_proj', act, s, fullGrads, false);
        if (dAttOut !== dx) gpu.release(dAttOut);
        let dqg: Tensor | null = null;
        let dGated: Tensor | null = null;
        if (s.gate) {
          // the gate's share now (datt, and dqg's gate halves); the query halves once dq is known, below
          dGated = datt;
          datt = gpu.tensor([N, QD], `${p}.datt (before the gate)`);
          dqg = gpu.tensor([N, 2 * QD], `${p}.dq_and_gate`);
          const noDq = gpu.zeros([N, QD], `${p}.dq (not yet)`);
          outputGateBackward(gpu, datt, dqg, dGated, s.att, s.gate.qg, noDq, c.numHeads, c.headDim);
          gpu.release(noDq);
        }
        const dqr = gpu.tensor([N, QD], `${p}.dqr`);
        const dkr = gpu.tensor([N, KVD], `${p}.dkr`);
        const dv = gpu.tensor([N, KVD], `${p}.dv`);
        attentionBackward(gpu, dqr, dkr, dv, datt, s.qr, s.kr, s.v, s.att, s.lse, this.attentionDims(B, T, l), null, act.segments);
        gpu.release(datt);
        let dq = gpu.tensor([N, QD], `${p}.dq`);
        let dk = gpu.tensor([N, KVD], `${p}.dk`);
        this.ropeQk(dq, dk, dqr, dkr, act.positions, l, 'backward');
        gpu.release(dqr, dkr);
        if (s.qk) {
          // q_norm / k_norm per head: (N*NH, HS) rows
          const HS = c.headDim;
          const dqIn = gpu.zeros([N, QD], `${p}.dq (before q_norm)`);
          const dkIn = gpu.zeros([N, KVD], `${p}.dk (before k_norm)`);
          const qn = `${p}.self_attn.q_norm.weight`;
          const kn = `${p}.self_attn.k_norm.weight`;
          rmsnormBackward(gpu, headRows(dqIn, HS), grad(qn), headRows(dq, HS), headRows(s.qk.q, HS), this.w(qn), s.qk.rstdQ, off);
          rmsnormBackward(gpu, headRows(dkIn, HS), grad(kn), headRows(dk, HS), headRows(s.qk.k, HS), this.w(kn), s.qk.rstdK, off);
          gpu.release(dq, dk);
          dq = dqIn;
          dk = dkIn;
        }
        if (dqg && dGated && s.gate) {
          const scratch = gpu.tensor([N, QD], `${p}.datt (again)`);
          outputGateBackward(gpu, scratch, dqg, dGated, s.att, s.gate.qg, dq, c.numHeads, c.headDim);
          gpu.release(scratch, dGated, dq);
          dq = dqg;
        }
        this.linearBackward(da, dq, s.a, l, 'q_proj', act, s, fullGrads, false);
        this.linearBackward(da, dk, s.a, l, 'k_proj', act, s, fullGrads, true);
        this.linearBackward(da, dv, s.a, l, 'v_proj', act, s, fullGrads, true);
        gpu.release(dq, dk, dv);
      }
      rmsnormBackward(gpu, dx, grad(`${p}.input_layernorm.weight`), da, s.x, this.w(`${p}.input_layernorm.weight`), s.rstdA, off);
      gpu.release(da);
      // a recomputed layer is freed at once (its input stays with act until releaseActivations)
      if (act.inputs) this.releaseLayer(s, true);
    }
    const dEmb = grad('model.embed_tokens.weight');
    if (dEmb) embeddingBackward(gpu, dEmb, dx, act.ids, c.embedScale ?? 1);
    gpu.release(dx);
  }

  /** Layer l's activations recomputed from its kept input (same LoRA, same dropout masks: the forward's
   * counter), for its backward; the layer's output and next norm are computed into scratch and freed. */
  private recomputeLayer(act: Activations, l: number): LayerSaved {
    const { gpu, config: c } = this;
    const input = act.inputs![l];
    const { saved, xOut, aNext, rstdNext } = this.layerForward(
      l, input, () => [gpu.tensor([act.N, c.hiddenSize], 'recompute: next norm'), gpu.tensor([act.N], 'recompute: next rstd')],
      act.positions, act.B, act.T, act.lora, act.dropout, null, act.segments,
    );
    gpu.release(xOut, aNext, rstdNext);
    return saved;
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
    const name = `${modulePath(layer, module)}.weight`;
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
      if (this.formats.has(`${p.path}.weight`) || this.quant.has(`${p.path}.weight`)) continue; // a 16-bit or quantised base: decode applies LoRA unmerged (no f32 copy)
      const w = this.w(`${p.path}.weight`);
      const m = this.gpu.tensor(w.shape, `${p.path}.weight+lora`);
      this.gpu.copy(w, m);
      matmul(this.gpu, m, p.B, p.A, { alpha: lora.scale, accumulate: true });
      merged.set(p.path, m);
    }
    return merged;
  }

  /** Frees a layer's saved activations (all but its input x, a, rstdA when keepInput). */
  private releaseLayer(s: LayerSaved, keepInput = false): void {
    if (!keepInput) this.gpu.release(s.x, s.a, s.rstdA);
    this.gpu.release(s.qr, s.kr, s.v, s.att, s.lse, s.xm, s.m, s.rstdM, s.g, s.u, s.s, ...s.loraH.values(), ...s.loraX.values());
    if (s.qk) this.gpu.release(s.qk.q, s.qk.k, s.qk.rstdQ, s.qk.rstdK);
    if (s.post) this.gpu.release(s.post.o, s.post.rstdO, s.post.d, s.post.rstdD);
    if (s.gate) this.gpu.release(s.gate.qg, s.gate.attG);
    if (s.gdn) releaseGdn(this.gpu, s.gdn);
  }

  releaseActivations(act: Activations): void {
    for (const s of act.layers) this.releaseLayer(s);
    for (const i of act.inputs ?? []) this.gpu.release(i.x, i.a, i.rstdA);
    if (act.inputs) act.inputs = [];
    this.gpu.release(act.xL, act.f, act.rstdF);
    act.layers = [];
  }

  /** Zeroed full-weight gradient tensors for every weight (for supervised full fine-tuning). */
  createFullGrads(): Map<string, Tensor> {
    if (this.formats.size > 0 || this.quant.size > 0) {
      throw new Error(`full-weight training needs f32 weights: this model's base is stored in ${this.quant.size ? 'a quantised format' : '16 bits'} (set base_precision to "f32")`);
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
    if (this.invFreqLocal) this.gpu.release(this.invFreqLocal);
  }
}
