// Gemma 4 text on the GPU, forward and LoRA backward: the whole model (src/reference/gemma4.ts is its CPU
// reference, read it for the formulas) built from the existing kernels, each layer with its own head size and kv
// heads, shared layers attending over their source layer's rotated K and normed V (their gradients summed into
// the source layer's), per-layer embeddings, layer_scalar and the soft-capped logits. f32 weights; LoRA on the
// projections a layer owns. Letters: N = B*T rows, C hidden, L layers, P hidden_size_per_layer_input, V vocab;
// HS, NKV, H per layer.
//
// The PLE table may stay in host memory (upload's pleOnHost: E2B's is 4.4 GiB in 16 bits); each forward then
// uploads only its tokens' rows and needs the token ids on the host.
// Greedy decoding keeps a KV cache per non-shared layer (rings of sliding_window slots on sliding layers) and
// shared layers attend over their source layer's cache.
// Log-probs and training use forwardHidden and backwardFromHead around the shared chunked LM head (lm_head.ts,
// soft-cap inside each chunk; gemma4_logprobs.ts); sampled generation is gemma4_generate.ts; the CLI's generate
// and logprobs reach this model through src/cli/model_runner.ts, supervised LoRA training through
// gemma4_trainable.ts, GRPO through src/model/policy_model.ts. The caches are f32 or 16 bits as kv_precision resolves
// (kv_storage.ts; the 16-bit decode attention kernels unpack them). Not here (yet): full-weight gradients.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { embeddingForward } from '../gpu/kernels/embedding';
import { gegluBackward, gegluForward } from '../gpu/kernels/geglu';
import { rmsnormBackward, rmsnormForward } from '../gpu/kernels/rmsnorm';
import { ropeQkBackward, ropeQkForward } from '../gpu/kernels/rope_qk';
import { addRmsnormForward } from '../gpu/kernels/add_rmsnorm';
import { attentionBackward, attentionForward, type AttentionDims } from '../gpu/kernels/attention';
import { loraBackward, loraForward } from '../gpu/kernels/lora';
import { allocKvCache, attentionDecode, kvCacheWrite } from '../gpu/kernels/attention_decode';
import { RING_SKIP, type KvFormat } from '../ops/attention';
import { scaleBackward, scaleForward } from '../gpu/kernels/scale';
import { softcapBackward, softcapForward } from '../gpu/kernels/softcap';
import { embeddingPacked16Forward, matmulPacked16Backward, matmulPacked16Forward, type Format16 } from '../gpu/kernels/matmul_packed16';
import { isPackable, packWeight, resolveBasePrecision, type BaseStorageOptions } from './weight_storage';
import { loadQuantPlan } from './quant_storage';
import { bf16FromBits, f16FromBits } from '../ops/float16';
import type { ModelConfig } from './config';
import { gemma4Layers, type Gemma4Layer } from './gemma4_config';
import { gemma4CheckLoraModule, gemma4InvFreq } from './gemma4_lora';
import { expectedShapes, type WeightMap } from './weights';
import { headChunkColumns } from './lm_head';

/** A LoRA on the GPU: A (R, IN), B (OUT, R), keyed by module path (model.layers.0.self_attn.q_proj). */
export type Gemma4GpuLora = Map<string, { A: Tensor; B: Tensor; r: number; scale: number }>;

/** Gradients of a Gemma4GpuLora: dA (R, IN), dB (OUT, R) per module path (accumulated into). */
export type Gemma4GpuLoraGrads = Map<string, { dA: Tensor; dB: Tensor }>;

/** What one layer's backward needs (kept by a training forward). */
interface LayerActs {
  x: Tensor; a: Tensor; rstdA: Tensor; q: Tensor; rstdQ: Tensor; qr: Tensor;
  k: Tensor | null; rstdK: Tensor | null; v: Tensor | null; rstdV: Tensor | null;
  att: Tensor; lse: Tensor; o: Tensor; rstdO: Tensor; xm: Tensor; m: Tensor; rstdM: Tensor;
  g: Tensor; u: Tensor; s: Tensor; d: Tensor; rstdD: Tensor; xp: Tensor;
  gi: Tensor | null; pleL: Tensor | null; ge: Tensor | null; pp: Tensor | null; rstdP: Tensor | null; xq: Tensor;
  /** LoRA hiddens h = x A^T per module path, and each projection's input */
  h: Map<string, { h: Tensor; x: Tensor }>;
}

/** A training forward's activations: release with releaseActivations. */
export interface Gemma4Activations {
  B: number; T: number; positions: Tensor; lora: Gemma4GpuLora | null;
  layers: LayerActs[];
  /** each non-shared layer's rotated K and normed V */
  kv: Map<number, { k: Tensor; v: Tensor }>;
  xL: Tensor; rstdF: Tensor; f: Tensor;
  /** logits before the soft-cap (N, V); null without a cap (then the logits are not the activations') */
  raw: Tensor | null;
  /** recomputation (Gemma4Gpu.recomputeLayers): each layer's input x (N, C) only (layers stays empty), and the
   * per-layer embeddings ple (N*L, P) the recomputed layers read; backward recomputes one layer at a time */
  inputs?: Tensor[];
  ple?: Tensor | null;
}

/** What one layer's forward reads besides its input (forwardHidden's, or backward's recomputation). */
interface LayerContext {
  B: number; T: number; positions: Tensor; lora: Gemma4GpuLora | null; keep: boolean;
  ple: Tensor | null;
  kv: Map<number, { k: Tensor; v: Tensor }>;
  /** per K/V source layer, the last layer reading it (a forward without keep frees it there) */
  lastReader: Map<number, number>;
  prefill?: Gemma4Caches | null;
  step?: DecodeStep | null;
  recomputing: boolean;
}

/** KV caches of the non-shared layers (shared layers own none and read their source layer's): f32 or 16 bits packed
 * in pairs (kv_storage.ts), full-length (TMAX = the longest sequence) on full layers, rings of `window` slots on
 * sliding layers. */
export interface Gemma4Caches {
  B: number;
  format: KvFormat;
  byLayer: Map<number, { k: Tensor; v: Tensor; TMAX: number; ring: boolean }>;
}

/** One decode step's attention: every row's cache length after this token and the position it writes. */
interface DecodeStep {
  caches: Gemma4Caches;
  /** (B) u32: cache length after this step's write (position + 1) */
  lengths: Tensor;
}

const PLE_TABLE = 'model.embed_tokens_per_layer.weight';
const EMBED = 'model.embed_tokens.weight';

/** The main embedding table kept in host memory (embedOnHost) as the GPU would store it: f32, or 16-bit pairs as
 * u32 words (packWeight); empty in the memory plan's dry run. */
interface HostTable {
  data: Float32Array | Uint32Array;
  fmt: Format16 | null;
}

/** Whether the PLE table stays in host memory on a device with these limits: when no one buffer can hold it as
 * the base is stored (E2B's 262,144 x 35*256 values are 4.4 GiB in 16 bits). uploadPolicyModel and the memory plan
 * both decide with it. */
export function gemma4PleOnHost(config: ModelConfig, storage: BaseStorageOptions, limits: { maxBufferSize: number; maxStorageBufferBindingSize: number }): boolean {
  const g = config.gemma4;
  if (!g || !g.plePerLayer) return false;
  const shape = [g.pleVocab, config.numLayers * g.plePerLayer];
  const format = resolveBasePrecision(config, storage);
  const bytes = shape[0] * shape[1] * (format !== 'f32' && isPackable(PLE_TABLE, shape) ? 2 : 4);
  return bytes > Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
}

/** The f32 value of IEEE half bits h. */
function halfValue(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : e === 0x1f ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

const BITS = new Uint32Array(1);
const BITS_F32 = new Float32Array(BITS.buffer);

/** The f32 value of 16 bits stored in `format` (the embedding kernel's unpack). */
function value16(h: number, format: Format16): number {
  if (format === 'f16') return halfValue(h);
  BITS[0] = h << 16;
  return BITS_F32[0];
}

/** data rounded to `format` as its 16-bit upload stores it (nearest even), back in f32. */
function rounded16(data: Float32Array, format: Format16): Float32Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Float32Array(data.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (format === 'bf16') {
      outBits[i] = bf16FromBits(bits[i]) << 16;
      continue;
    }
    out[i] = halfValue(f16FromBits(bits[i]));
  }
  return out;
}

/** Tables an upload keeps in host memory: the PLE table (pleOnHost; gemma4PleOnHost decides it) and the main
 * embedding table, tied to the LM head (embedOnHost; the memory plan decides it when the budget needs it). */
export interface Gemma4HostOptions {
  pleOnHost?: boolean;
  embedOnHost?: boolean;
}

/** Options of one forward: decoding caches to fill (prefill) or read (step), and the token ids on the host (needed
 * when the PLE table is kept there). */
export interface Gemma4ForwardOptions {
  prefill?: Gemma4Caches | null;
  step?: DecodeStep | null;
  hostIds?: ArrayLike<number>;
}

/** A tensor's view as rows of `width` (same buffer). */
function rowsView(t: Tensor, width: number): Tensor {
  return { buffer: t.buffer, shape: [t.size / width, width], dtype: t.dtype, label: `${t.label} (rows of ${width})`, size: t.size };
}

export class Gemma4Gpu {
  readonly layers: Gemma4Layer[];
  /** the largest logits buffer the chunked LM head writes at once (lm_head.ts) */
  lmHeadChunkBytes = 64 * 2 ** 20;
  /** the tied LM head's rows from the host table when the embedding stays there (lm_head.ts's LmHeadModel) */
  readonly lmHeadHost: ((w: Tensor, v0: number, vc: number) => void) | null;
  /** activation recomputation (gradient checkpointing, as GpuTransformer.recomputeLayers): a training forward keeps
   * only each layer's input (and the per-layer embeddings), and backward recomputes each layer just before its
   * backward (the trainer sets it from the memory plan's layout) */
  recomputeLayers = false;
  /** per layer: RoPE inverse frequencies (HS/2), shared between layers of one type */
  private readonly invFreq: Tensor[];
  /** the weightless v_norm as a weight of ones, per head size */
  private readonly ones = new Map<number, Tensor>();
  /** layer_scalar of each layer, read once on upload (a frozen scalar) */
  private readonly scalars: number[];

  private constructor(
    readonly gpu: GpuRuntime, readonly config: ModelConfig, readonly weights: Map<string, Tensor>, scalars: number[],
    /** weights stored in 16 bits (packed pairs) and their format; the rest are f32 */
    readonly formats: Map<string, Format16>,
    /** the PLE table kept in host memory (pleOnHost; rounded as base_precision stores it), else null */
    private readonly pleHost: Float32Array | null = null,
    /** the main embedding table kept in host memory (embedOnHost), else null */
    private readonly embedHost: HostTable | null = null,
  ) {
    this.layers = gemma4Layers(config);
    const byType = new Map<string, Tensor>();
    this.invFreq = this.layers.map((ly) => {
      const key = `${ly.type}:${ly.HS}`;
      let t = byType.get(key);
      if (!t) byType.set(key, (t = gpu.upload(Float32Array.from(gemma4InvFreq(config, ly)), [ly.HS / 2], `rope.inv_freq (${ly.type})`)));
      return t;
    });
    // the tied head streams its vocabulary chunks from the host table (lm_head.ts)
    this.lmHeadHost = embedHost && this.lmHeadName() === EMBED ? (w, v0, vc) => this.headRowsFromHost(w, v0, vc) : null;
    for (const ly of this.layers) if (!this.ones.has(ly.HS)) this.ones.set(ly.HS, gpu.upload(new Float32Array(ly.HS).fill(1), [ly.HS], `v_norm (no weight, HS ${ly.HS})`));
    this.scalars = scalars;
  }

  /** The model's tensors with the shapes and storage an upload gives them, their contents unset: the memory plan's
   * dry run (src/grpo/memory_plan.ts) allocates exactly what upload does (layer_scalar 1; no PLE table on the host). */
  static allocateForPlan(gpu: GpuRuntime, config: ModelConfig, storage: BaseStorageOptions = {}, opts: Gemma4HostOptions = {}): Gemma4Gpu {
    if (!config.gemma4) throw new Error(`${config.architecture}: not a Gemma 4 config`);
    loadQuantPlan(config, storage.basePrecision);
    const format = resolveBasePrecision(config, storage);
    const weights = new Map<string, Tensor>();
    const formats = new Map<string, Format16>();
    let embedHost: HostTable | null = null;
    for (const [name, shape] of expectedShapes(config)) {
      if (opts.pleOnHost && name === PLE_TABLE) continue;
      if (opts.embedOnHost && name === EMBED) {
        const packed = format !== 'f32' && isPackable(name, shape);
        if (packed) formats.set(name, format);
        embedHost = { data: packed ? new Uint32Array(0) : new Float32Array(0), fmt: packed ? format : null };
        continue;
      }
      if (format !== 'f32' && isPackable(name, shape)) {
        weights.set(name, gpu.tensor([shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, gpu.tensor(shape, name));
      }
    }
    // a host table of no rows: the dry run uploads each forward's (N, L*P) rows without reading them
    return new Gemma4Gpu(gpu, config, weights, new Array<number>(config.numLayers).fill(1), formats, opts.pleOnHost ? new Float32Array(0) : null, embedHost);
  }

  /** Uploads the weights (every tensor of expectedShapes, checked by the loader): the matrices in 16 bits when
   * storage.basePrecision resolves to bf16/f16 (weight_storage.ts), the PLE table included. */
  static upload(
    gpu: GpuRuntime, config: ModelConfig, host: WeightMap, storage: BaseStorageOptions = {}, opts: Gemma4HostOptions = {},
  ): Gemma4Gpu {
    if (!config.gemma4) throw new Error(`${config.architecture}: not a Gemma 4 config`);
    loadQuantPlan(config, storage.basePrecision); // refuses base_precision "q8_0" / "q4_k" (not covered yet)
    const format = resolveBasePrecision(config, storage);
    const weights = new Map<string, Tensor>();
    const formats = new Map<string, Format16>();
    let pleHost: Float32Array | null = null;
    let embedHost: HostTable | null = null;
    for (const [name, shape] of expectedShapes(config)) {
      const t = host.get(name);
      if (!t) throw new Error(`missing tensor ${name}`);
      if (opts.embedOnHost && name === EMBED) {
        // E2B's is 262,144 x 1536 (0.75 GiB in 16 bits): each forward gathers its tokens' rows, the tied head
        // uploads one vocabulary chunk at a time
        const packed = format !== 'f32' && isPackable(name, shape);
        if (packed) formats.set(name, format);
        embedHost = packed ? { data: packWeight(name, t.data, format), fmt: format } : { data: t.data, fmt: null };
        continue;
      }
      if (opts.pleOnHost && name === PLE_TABLE) {
        // E2B's table is 2.35 B values (4.4 GiB in 16 bits): each step needs only its tokens' rows
        if (format !== 'f32' && isPackable(name, shape)) packWeight(name, t.data, format); // refuses what f16 cannot hold
        pleHost = format !== 'f32' && isPackable(name, shape) ? rounded16(t.data, format) : t.data;
        continue;
      }
      if (format !== 'f32' && isPackable(name, shape)) {
        weights.set(name, gpu.upload(packWeight(name, t.data, format), [shape[0], shape[1] / 2], name, 'u32'));
        formats.set(name, format);
      } else {
        weights.set(name, gpu.upload(t.data, shape, name));
      }
    }
    const scalars = gemma4Layers(config).map((_, l) => host.get(`model.layers.${l}.layer_scalar`)!.data[0]);
    return new Gemma4Gpu(gpu, config, weights, scalars, formats, pleHost, embedHost);
  }

  /** Bytes of the weights on the GPU, and of the PLE table among them (262,144 x L*P values: E2B's is 2.35 B). */
  weightBytes(): { total: number; pleTable: number } {
    let total = 0;
    for (const t of this.weights.values()) total += t.size * 4;
    const ple = this.weights.get(PLE_TABLE);
    return { total, pleTable: ple ? ple.size * 4 : 0 };
  }

  /** y (M, N) = alpha * x (M, K) W^T (+ y when accumulate) for the weight `name` (N, K), f32 or 16-bit. */
  project(y: Tensor, x: Tensor, name: string, opts: { accumulate?: boolean; alpha?: number } = {}): void {
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

  /** out = table rows of ids * scale, from the f32 or 16-bit table `name`. */
  private embed(out: Tensor, ids: Tensor, name: string, scale: number): void {
    const fmt = this.formats.get(name);
    if (fmt) embeddingPacked16Forward(this.gpu, out, ids, this.w(name), fmt, scale);
    else embeddingForward(this.gpu, out, ids, this.w(name), scale);
  }

  private w(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`model has no tensor ${name}`);
    return t;
  }

  /** y = x W^T (+ LoRA) for the weight `path`.weight (OUT, IN); with `saved`, keeps LoRA's hidden and input. */
  private linear(y: Tensor, x: Tensor, path: string, lora: Gemma4GpuLora | null, saved: LayerActs['h'] | null = null): void {
    this.project(y, x, `${path}.weight`);
    const pair = lora?.get(path);
    if (!pair) return;
    const h = this.gpu.tensor([x.shape[0], pair.r], `${path}.lora_h`);
    loraForward(this.gpu, y, h, x, pair.A, pair.B, pair.scale);
    if (saved) saved.set(path, { h, x });
    else this.gpu.release(h);
  }

  /** dx (=|+=) dy W (+ LoRA's share; LoRA's dA, dB accumulate) for the weight `path`.weight (OUT, IN). */
  private linearBack(dx: Tensor, dy: Tensor, path: string, act: Gemma4Activations, L: LayerActs | null, grads: Gemma4GpuLoraGrads, accumulate: boolean): void {
    this.projectBackward(dx, dy, `${path}.weight`, accumulate);
    const pair = act.lora?.get(path);
    const saved = L?.h.get(path);
    const g = grads.get(path);
    if (pair && saved && g) loraBackward(this.gpu, g.dA, g.dB, dx, dy, saved.x, saved.h, pair.A, pair.B, pair.scale);
  }

  /** out = rmsnorm(x) * w over rows of `width`; returns out and its rstd (the caller releases both). */
  private normR(x: Tensor, weight: Tensor, width: number, label: string): { out: Tensor; rstd: Tensor } {
    const out = this.gpu.tensor(x.shape, label);
    const rstd = this.gpu.tensor([x.size / width], `${label} rstd`);
    rmsnormForward(this.gpu, rowsView(out, width), rstd, rowsView(x, width), weight, this.config.rmsNormEps);
    return { out, rstd };
  }

  private norm(x: Tensor, weight: Tensor, width: number, label: string): Tensor {
    const { out, rstd } = this.normR(x, weight, width, label);
    this.gpu.release(rstd);
    return out;
  }

  /** dx += d rmsnorm(x) over rows of `width` from dy. */
  private normBack(dx: Tensor, dy: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, width: number): void {
    rmsnormBackward(this.gpu, rowsView(dx, width), null, rowsView(dy, width), rowsView(x, width), weight, rstd);
  }

  /** Soft-capped logits (N, V) of B rows of T tokens; ids and positions (N) u32. The caller releases the result. */
  logits(ids: Tensor, positions: Tensor, B: number, T: number, lora: Gemma4GpuLora | null = null, hostIds?: ArrayLike<number>): Tensor {
    return this.forward(ids, positions, B, T, lora, false, { hostIds }).logits;
  }

  /** The forward with the whole (N, V) head: soft-capped logits; with `keep`, also every activation the backward
   * needs (release with releaseActivations). Training and log-probs use forwardHidden and the chunked head
   * (lm_head.ts), which never holds (N, V). */
  forward(
    ids: Tensor, positions: Tensor, B: number, T: number, lora: Gemma4GpuLora | null, keep: boolean, opts: Gemma4ForwardOptions = {},
  ): { logits: Tensor; act: Gemma4Activations | null } {
    const { f, act } = this.forwardHidden(ids, positions, B, T, lora, keep, opts);
    const { raw, logits } = this.headLogits(f);
    if (!act) {
      this.gpu.release(f);
      if (logits !== raw) this.gpu.release(raw);
      return { logits, act: null };
    }
    act.raw = logits !== raw ? raw : null;
    return { logits, act };
  }

  /** logits (N, V) = softcap(f Wlm^T) of the rows of f, and the uncapped raw (the same tensor without a cap). */
  headLogits(f: Tensor): { raw: Tensor; logits: Tensor } {
    const { gpu, config: c } = this;
    const cap = c.gemma4!.finalLogitSoftcap;
    const raw = gpu.tensor([f.shape[0], c.vocabSize], 'logits (uncapped)');
    if (this.lmHeadHost) this.hostHeadLogits(raw, f);
    else this.project(raw, f, this.lmHeadName());
    if (cap === null) return { raw, logits: raw };
    const logits = gpu.tensor([f.shape[0], c.vocabSize], 'logits');
    softcapForward(gpu, logits, raw, cap);
    return { raw, logits };
  }

  /** raw (N, V) = f Wlm^T with the head in host memory: each vocabulary chunk's rows uploaded into one reused chunk
   * buffer (headChunkColumns), its (N, vc) logits computed as the whole head's are and copied into raw's columns. */
  private hostHeadLogits(raw: Tensor, f: Tensor): void {
    const { gpu, config: c } = this;
    const N = f.shape[0];
    const V = c.vocabSize;
    const fmt = this.formats.get(EMBED) ?? null;
    const width = fmt ? c.hiddenSize / 2 : c.hiddenSize;
    const vc = headChunkColumns(this, N);
    const w = gpu.tensor([vc, width], 'lm_head.chunk', fmt ? 'u32' : 'f32');
    const z = gpu.tensor([N, vc], 'logits.chunk');
    for (let v0 = 0; v0 < V; v0 += vc) {
      const n = Math.min(vc, V - v0);
      const wc: Tensor = n === vc ? w : { ...w, shape: [n, width], size: n * width };
      const zc: Tensor = n === vc ? z : { ...z, shape: [N, n], size: N * n };
      this.headRowsFromHost(wc, v0, n);
      if (fmt) matmulPacked16Forward(gpu, zc, f, wc, fmt);
      else matmul(gpu, zc, f, wc, { transB: true });
      for (let r = 0; r < N; r++) gpu.copy(zc, raw, n, r * n, r * V + v0);
    }
    gpu.release(w, z);
  }

  /** The forward up to the final norm: f (N, C) (the caller releases it; with `keep` it is act.f, released with
   * the activations). */
  forwardHidden(
    ids: Tensor, positions: Tensor, B: number, T: number, lora: Gemma4GpuLora | null, keep: boolean, opts: Gemma4ForwardOptions = {},
  ): { f: Tensor; act: Gemma4Activations | null } {
    const prefill = opts.prefill ?? null;
    const step = opts.step ?? null;
    const { gpu, config: c } = this;
    const g = c.gemma4!;
    const N = B * T;
    const C = c.hiddenSize;
    const L = c.numLayers;
    const P = g.plePerLayer;
    for (const [path, pair] of lora ?? []) gemma4CheckLoraModule(c, this.layers, path, pair.r, pair.A.size, pair.B.size);
    if ((this.pleHost || this.embedHost) && opts.hostIds?.length !== N) {
      throw new Error(`Gemma 4: the ${this.pleHost ? 'PLE' : 'embedding'} table is kept on the host, so each forward needs its ${N} token ids on the host (hostIds)`);
    }
    let x: Tensor;
    if (this.embedHost) x = this.embedRowsFromHost(opts.hostIds!, N, c.embedScale ?? 1);
    else {
      x = gpu.tensor([N, C], 'x0');
      this.embed(x, ids, EMBED, c.embedScale ?? 1);
    }

    // per-layer embeddings: ple (N*L, P) rows, row n*L + l for token n at layer l
    let ple: Tensor | null = null;
    if (P) {
      // (each temporary released as soon as it is read: at most three (N, L*P) buffers at once)
      const proj = gpu.tensor([N, L * P], 'ple.projection');
      this.project(proj, x, 'model.per_layer_model_projection.weight', { alpha: C ** -0.5 });
      const pn = this.norm(proj, this.w('model.per_layer_projection_norm.weight'), P, 'ple.projection_normed');
      gpu.release(proj);
      ple = gpu.tensor([N * L, P], 'ple');
      scaleForward(gpu, rowsView(ple, L * P), pn, 2 ** -0.5);
      gpu.release(pn);
      const tok = this.pleHost ? this.pleRowsFromHost(opts.hostIds, N) : gpu.tensor([N, L * P], 'ple.tokens');
      if (!this.pleHost) this.embed(tok, ids, PLE_TABLE, Math.fround(Math.sqrt(P)));
      scaleForward(gpu, rowsView(ple, L * P), tok, 2 ** -0.5, true);
      gpu.release(tok);
    }

    // each non-shared layer's rotated K and normed V, kept while a later shared layer reads them (or for backward)
    const kv = new Map<number, { k: Tensor; v: Tensor }>();
    const lastReader = new Map<number, number>();
    this.layers.forEach((ly, l) => lastReader.set(ly.kvSource, l));
    const saved: LayerActs[] = [];
    // recomputation (recomputeLayers): each layer's input only; backward recomputes the rest (recomputeLayer)
    const recompute = keep && this.recomputeLayers;
    const inputs: Tensor[] = [];
    const ctx: LayerContext = { B, T, positions, lora, keep, ple, kv, lastReader, prefill, step, recomputing: false };
    for (let l = 0; l < L; l++) {
      const { A, xOut } = this.layerForward(l, x, ctx);
      if (A && recompute) {
        inputs.push(A.x);
        this.releaseLayerActs(A, true);
      } else if (A) saved.push(A);
      x = xOut;
    }
    if (!recompute) gpu.release(ple);
    const { out: f, rstd: rstdF } = this.normR(x, this.w('model.norm.weight'), C, 'final_norm');
    if (!keep) {
      gpu.release(x, rstdF);
      return { f, act: null };
    }
    return { f, act: { B, T, positions, lora, layers: saved, kv, xL: x, rstdF, f, raw: null, ...(recompute ? { inputs, ple } : {}) } };
  }

  /** Layer l's forward from its input x (N, C): its output, and with ctx.keep every activation its backward needs
   * (x among them; else x and the rest are released). ctx.recomputing: backward's recomputation of a layer whose
   * rotated K and normed V the forward kept in ctx.kv (they are not replaced and no cache is written). */
  private layerForward(l: number, x: Tensor, ctx: LayerContext): { A: LayerActs | null; xOut: Tensor } {
    const { gpu, config: c } = this;
    const { B, T, positions, lora, keep, ple, kv, lastReader, recomputing } = ctx;
    const prefill = ctx.prefill ?? null;
    const step = ctx.step ?? null;
    const N = B * T;
    const C = c.hiddenSize;
    const L = c.numLayers;
    const P = c.gemma4!.plePerLayer;
    const NH = c.numHeads;
    const ly = this.layers[l];
    const p = `model.layers.${l}`;
    const HS = ly.HS;
    const QD = NH * HS;
    const KVD = ly.NKV * HS;
    const h = new Map<string, { h: Tensor; x: Tensor }>();
    const lin = (y: Tensor, xIn: Tensor, path: string) => this.linear(y, xIn, path, lora, keep ? h : null);
    const { out: a, rstd: rstdA } = this.normR(x, this.w(`${p}.input_layernorm.weight`), C, `${p}.a`);
    const q = gpu.tensor([N, QD], `${p}.q`);
    lin(q, a, `${p}.self_attn.q_proj`);
    const { out: qn, rstd: rstdQ } = this.normR(q, this.w(`${p}.self_attn.q_norm.weight`), HS, `${p}.q_normed`);
    const qr = gpu.tensor([N, QD], `${p}.qr`);
    let k: Tensor | null = null, rstdK: Tensor | null = null, v: Tensor | null = null, rstdV: Tensor | null = null;
    if (!ly.shared) {
      k = gpu.tensor([N, KVD], `${p}.k`);
      lin(k, a, `${p}.self_attn.k_proj`);
      v = k;
      if (!ly.kEqV) {
        v = gpu.tensor([N, KVD], `${p}.v`);
        lin(v, a, `${p}.self_attn.v_proj`);
      }
      const kn = this.normR(k, this.w(`${p}.self_attn.k_norm.weight`), HS, `${p}.k_normed`);
      rstdK = kn.rstd;
      const kr = gpu.tensor([N, KVD], `${p}.kr`);
      ropeQkForward(gpu, qr, kr, qn, kn.out, positions, this.invFreq[l], { NH, NKV: ly.NKV, HS }, 'half');
      const vn = this.normR(v, this.ones.get(HS)!, HS, `${p}.v_normed`);
      rstdV = vn.rstd;
      gpu.release(kn.out);
      if (recomputing) {
        // the forward's rotated K and normed V are still in kv (bit for bit these): backward reads those
        gpu.release(kr, vn.out);
      } else {
        kv.set(l, { k: kr, v: vn.out });
        const caches = prefill ?? step?.caches;
        if (caches?.byLayer.has(l)) this.writeCache(caches, l, kr, vn.out, positions, B, T, ly);
      }
    } else {
      this.ropeQOnly('forward', qr, qn, positions, l, N);
    }
    gpu.release(qn);
    const src = kv.get(ly.kvSource)!;
    const att = gpu.tensor([N, QD], `${p}.att`);
    const lse = gpu.tensor([B, NH, T], `${p}.lse`);
    if (step) {
      // one token per row: attend over the source layer's cache
      const cache = step.caches.byLayer.get(ly.kvSource)!;
      const window = ly.type === 'sliding_attention' ? c.slidingWindow ?? 0 : 0;
      attentionDecode(gpu, att, qr, cache.k, cache.v, step.lengths, { B, NH, NKV: ly.NKV, HS, TMAX: cache.TMAX, scale: 1, window, ring: cache.ring, kvFormat: step.caches.format });
    } else {
      attentionForward(gpu, att, lse, qr, src.k, src.v, this.attentionDims(ly, B, T));
    }
    if (!keep && lastReader.get(ly.kvSource) === l) {
      gpu.release(src.k, src.v);
      kv.delete(ly.kvSource);
    }
    const o = gpu.tensor([N, C], `${p}.o`);
    lin(o, att, `${p}.self_attn.o_proj`);
    const { out: oP, rstd: rstdO } = this.normR(o, this.w(`${p}.post_attention_layernorm.weight`), C, `${p}.o_normed`);
    const xm = gpu.tensor([N, C], `${p}.xm`);
    const m = gpu.tensor([N, C], `${p}.m`);
    const rstdM = gpu.tensor([N], `${p}.m rstd`);
    addRmsnormForward(gpu, xm, m, rstdM, x, oP, this.w(`${p}.pre_feedforward_layernorm.weight`), c.rmsNormEps);
    gpu.release(oP);
    const gg = gpu.tensor([N, ly.H], `${p}.g`);
    const u = gpu.tensor([N, ly.H], `${p}.u`);
    lin(gg, m, `${p}.mlp.gate_proj`);
    lin(u, m, `${p}.mlp.up_proj`);
    const s = gpu.tensor([N, ly.H], `${p}.s`);
    gegluForward(gpu, s, gg, u);
    const d = gpu.tensor([N, C], `${p}.d`);
    lin(d, s, `${p}.mlp.down_proj`);
    // xp = xm + post_feedforward_layernorm(d): the norm written into xp, then xm added
    const { out: xp, rstd: rstdD } = this.normR(d, this.w(`${p}.post_feedforward_layernorm.weight`), C, `${p}.xp`);
    scaleForward(gpu, xp, xm, 1, true);
    let xq = xp;
    let gi: Tensor | null = null, pleL: Tensor | null = null, ge: Tensor | null = null, pp: Tensor | null = null, rstdP: Tensor | null = null;
    if (P && ple) {
      gi = gpu.tensor([N, P], `${p}.ple_gate`);
      this.project(gi, xp, `${p}.per_layer_input_gate.weight`);
      // this layer's rows of ple: row n*L + l (a gather with the embedding kernel)
      const rows = gpu.upload(Uint32Array.from({ length: N }, (_, n) => n * L + l), [N], `${p}.ple_rows`, 'u32');
      pleL = gpu.tensor([N, P], `${p}.ple`);
      embeddingForward(gpu, pleL, rows, ple);
      gpu.release(rows);
      ge = gpu.tensor([N, P], `${p}.ple_gated`);
      gegluForward(gpu, ge, gi, pleL);
      pp = gpu.tensor([N, C], `${p}.ple_projected`);
      this.project(pp, ge, `${p}.per_layer_projection.weight`);
      // xq = xp + post_per_layer_input_norm(pp): the norm written into xq, then xp added
      const ppn = this.normR(pp, this.w(`${p}.post_per_layer_input_norm.weight`), C, `${p}.xq`);
      rstdP = ppn.rstd;
      xq = ppn.out;
      scaleForward(gpu, xq, xp, 1, true);
    }
    const xOut = gpu.tensor([N, C], `${p}.out`);
    scaleForward(gpu, xOut, xq, this.scalars[l]);
    if (keep) {
      return { A: { x, a, rstdA, q, rstdQ, qr, k, rstdK, v: v === k ? null : v, rstdV, att, lse, o, rstdO, xm, m, rstdM, g: gg, u, s, d, rstdD, xp, gi, pleL, ge, pp, rstdP, xq, h }, xOut };
    }
    gpu.release(x, a, rstdA, q, rstdQ, qr, k, rstdK, rstdV, att, lse, o, rstdO, xm, m, rstdM, gg, u, s, d, rstdD, gi, pleL, ge, pp, rstdP);
    if (v !== k) gpu.release(v);
    if (xq !== xp) gpu.release(xq);
    gpu.release(xp);
    return { A: null, xOut };
  }

  /** RoPE of q alone (shared layers, which compute no k): rope_qk with a one-head k read from q's first rows into a
   * scratch (rope_forward is an unfused reference production does not call); dir 'backward' applies the transpose. */
  private ropeQOnly(dir: 'forward' | 'backward', out: Tensor, x: Tensor, positions: Tensor, l: number, N: number): void {
    const HS = this.layers[l].HS;
    const kIn: Tensor = { buffer: x.buffer, shape: [N, HS], dtype: x.dtype, label: `${x.label} (first head, unused)`, size: N * HS };
    const kOut = this.gpu.tensor([N, HS], 'rope scratch (unused)');
    const run = dir === 'forward' ? ropeQkForward : ropeQkBackward;
    run(this.gpu, out, kOut, x, kIn, positions, this.invFreq[l], { NH: this.config.numHeads, NKV: 1, HS }, 'half');
    this.gpu.release(kOut);
  }

  /** The PLE table's rows of hostIds times sqrt(P) (as the embedding kernel computes them), uploaded (N, L*P). */
  private pleRowsFromHost(hostIds: ArrayLike<number> | undefined, N: number): Tensor {
    const g = this.config.gemma4!;
    const W = this.config.numLayers * g.plePerLayer;
    if (!hostIds) throw new Error('Gemma 4: the PLE table is kept on the host: hostIds are required');
    const scale = Math.fround(Math.sqrt(g.plePerLayer));
    const rows = new Float32Array(N * W);
    // (allocateForPlan's empty table: the memory plan's dry run, whose uploads write nothing)
    for (let n = 0; n < N && this.pleHost!.length > 0; n++) {
      const id = hostIds[n];
      if (!(id >= 0 && id < g.pleVocab)) continue; // a row of zeros, as the kernel gives ids past the table
      for (let j = 0; j < W; j++) rows[n * W + j] = Math.fround(this.pleHost![id * W + j] * scale);
    }
    return this.gpu.upload(rows, [N, W], 'ple.tokens (from the host table)');
  }

  /** The embedding table's rows of hostIds times scale (as the embedding kernels compute them: the stored value in
   * f32, times the f32 scale), uploaded (N, C) as x0. */
  private embedRowsFromHost(hostIds: ArrayLike<number>, N: number, scale: number): Tensor {
    const C = this.config.hiddenSize;
    const V = this.config.vocabSize;
    const s = Math.fround(scale);
    const { data, fmt } = this.embedHost!;
    const rows = new Float32Array(N * C);
    // (allocateForPlan's empty table: the memory plan's dry run, whose uploads write nothing)
    for (let n = 0; n < N && data.length > 0; n++) {
      const id = hostIds[n];
      if (!(id >= 0 && id < V)) continue; // a row of zeros, as the kernel gives ids past the table
      if (!fmt) {
        for (let j = 0; j < C; j++) rows[n * C + j] = Math.fround(data[id * C + j] * s);
        continue;
      }
      for (let j = 0; j < C; j++) {
        const word = data[(id * C + j) >>> 1];
        rows[n * C + j] = Math.fround(value16(j & 1 ? word >>> 16 : word & 0xffff, fmt) * s);
      }
    }
    return this.gpu.upload(rows, [N, C], 'x0 (from the host embedding table)');
  }

  /** Writes the host table's rows [v0, v0 + vc) into w (vc rows as stored: C f32 or C/2 words): one vocabulary
   * chunk of the tied head. */
  private headRowsFromHost(w: Tensor, v0: number, vc: number): void {
    const { data, fmt } = this.embedHost!;
    const width = fmt ? this.config.hiddenSize / 2 : this.config.hiddenSize;
    if (w.size < vc * width) throw new Error(`${w.label}: ${vc} head rows do not fit its ${w.size} elements`);
    // (the dry run's empty table writes nothing)
    if (data.length > 0) this.gpu.write(w, data.subarray(v0 * width, (v0 + vc) * width));
  }

  /** Whether the main embedding table (and the head tied to it) stays in host memory. */
  get embedOnHost(): boolean {
    return this.embedHost !== null;
  }

  /** The base's storage: 'f32', or the 16-bit format its matrices are stored in (kv_precision "auto" follows it). */
  baseFormat(): 'f32' | Format16 {
    return this.formats.values().next().value ?? 'f32';
  }

  /** Empty caches for B rows of up to maxLen positions: one per non-shared layer, in `format`. */
  allocCaches(B: number, maxLen: number, format: KvFormat = 'f32'): Gemma4Caches {
    const byLayer: Gemma4Caches['byLayer'] = new Map();
    const window = this.config.slidingWindow ?? 0;
    this.layers.forEach((ly, l) => {
      if (ly.shared) return;
      const ring = ly.type === 'sliding_attention' && window > 0 && window < maxLen;
      const TMAX = ring ? window : maxLen;
      const KVD = ly.NKV * ly.HS;
      const k = allocKvCache(this.gpu, B, TMAX, KVD, format, `model.layers.${l}.k_cache`);
      const v = allocKvCache(this.gpu, B, TMAX, KVD, format, `model.layers.${l}.v_cache`);
      byLayer.set(l, { k, v, TMAX, ring });
    });
    return { B, format, byLayer };
  }

  releaseCaches(caches: Gemma4Caches): void {
    for (const { k, v } of caches.byLayer.values()) this.gpu.release(k, v);
  }

  /** Writes T rows per batch row of rotated K and normed V at their positions; a ring keeps the last TMAX. */
  private writeCache(caches: Gemma4Caches, l: number, kr: Tensor, vn: Tensor, positions: Tensor, B: number, T: number, ly: Gemma4Layer): void {
    const cache = caches.byLayer.get(l)!;
    const dims = { B, T, NKV: ly.NKV, HS: ly.HS, TMAX: cache.TMAX, ring: cache.ring, kvFormat: caches.format };
    let pos = positions;
    if (cache.ring && T > cache.TMAX) {
      // positions are 0..T-1 per row in a prefill: only the last TMAX go into the ring (one writer per slot)
      const rp = Uint32Array.from({ length: B * T }, (_, n) => (n % T >= T - cache.TMAX ? n % T : RING_SKIP));
      pos = this.gpu.upload(rp, [B * T], 'ring positions', 'u32');
    }
    kvCacheWrite(this.gpu, cache.k, kr, pos, dims);
    kvCacheWrite(this.gpu, cache.v, vn, pos, dims);
    if (pos !== positions) this.gpu.release(pos);
  }

  /** Greedy continuation of B prompts of equal length (prompts (B*Tp), row-major): a batched prefill that fills the
   * caches, then `steps` one-token decode steps over them. Returns the B rows of generated ids and, per step, the
   * logits (B, V) each token was chosen from. */
  async greedy(
    prompts: number[], B: number, steps: number, lora: Gemma4GpuLora | null = null, kvFormat: KvFormat = 'f32',
  ): Promise<{ tokens: number[][]; logits: Float32Array[] }> {
    const { gpu, config: c } = this;
    const Tp = prompts.length / B;
    const V = c.vocabSize;
    const caches = this.allocCaches(B, Tp + steps, kvFormat);
    const out: number[][] = Array.from({ length: B }, () => []);
    const argmax = (logits: Float32Array, row: number): number => {
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[row * V + v] > logits[row * V + best]) best = v;
      return best;
    };
    const ids = gpu.upload(Uint32Array.from(prompts), [B * Tp], 'prompt ids', 'u32');
    const pos = gpu.upload(Uint32Array.from({ length: B * Tp }, (_, n) => n % Tp), [B * Tp], 'prompt positions', 'u32');
    const first = this.forward(ids, pos, B, Tp, lora, false, { prefill: caches, hostIds: prompts }).logits;
    const all = await gpu.read(first);
    gpu.release(ids, pos, first);
    let next = Array.from({ length: B }, (_, b) => argmax(all, b * Tp + Tp - 1));
    const stepLogits = [Float32Array.from({ length: B * V }, (_, i) => all[(Math.floor(i / V) * Tp + Tp - 1) * V + (i % V)])];
    for (let s = 0; s < steps; s++) {
      next.forEach((t, b) => out[b].push(t));
      if (s === steps - 1) break;
      const position = Tp + s;
      const sid = gpu.upload(Uint32Array.from(next), [B], 'step ids', 'u32');
      const spos = gpu.upload(new Uint32Array(B).fill(position), [B], 'step positions', 'u32');
      const lengths = gpu.upload(new Uint32Array(B).fill(position + 1), [B], 'cache lengths', 'u32');
      const logits = this.forward(sid, spos, B, 1, lora, false, { step: { caches, lengths }, hostIds: next }).logits;
      const l = await gpu.read(logits);
      gpu.release(sid, spos, lengths, logits);
      stepLogits.push(Float32Array.from(l));
      next = Array.from({ length: B }, (_, b) => argmax(l, b));
    }
    this.releaseCaches(caches);
    return { tokens: out, logits: stepLogits };
  }

  /** Name of the LM head's weight (the embedding when tied). */
  lmHeadName(): string {
    return this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  /** The LM head's weight (V, C), f32 or 16-bit. */
  lmHead(): Tensor {
    return this.w(this.lmHeadName());
  }

  /** 'f32', or the 16-bit format a frozen weight is stored in. */
  weightFormat(name: string): 'f32' | Format16 {
    return this.formats.get(name) ?? 'f32';
  }

  private attentionDims(ly: Gemma4Layer, B: number, T: number): AttentionDims {
    const window = ly.type === 'sliding_attention' ? this.config.slidingWindow ?? 0 : 0;
    return { B, T, NH: this.config.numHeads, NKV: ly.NKV, HS: ly.HS, scale: 1, window };
  }

  /** Backward from dlogits (N, V) (of the capped logits) into the LoRA gradients (accumulated). */
  backward(act: Gemma4Activations, dlogits: Tensor, grads: Gemma4GpuLoraGrads): void {
    const { gpu, config: c } = this;
    const g = c.gemma4!;
    const N = act.B * act.T;
    const C = c.hiddenSize;
    let dRaw = dlogits;
    if (g.finalLogitSoftcap !== null && act.raw) {
      dRaw = gpu.tensor(dlogits.shape, 'd logits (uncapped)');
      softcapBackward(gpu, dRaw, dlogits, act.raw, g.finalLogitSoftcap);
    }
    const df = gpu.tensor([N, C], 'd final_norm');
    this.projectBackward(df, dRaw, this.lmHeadName(), false);
    if (dRaw !== dlogits) gpu.release(dRaw);
    this.backwardFromHead(act, df, grads);
  }

  /** Backward from df (N, C), the gradient at the final norm's output (lm_head.ts computes it chunk by chunk),
   * into the LoRA gradients (accumulated). Releases df. */
  backwardFromHead(act: Gemma4Activations, df: Tensor, grads: Gemma4GpuLoraGrads): void {
    const { gpu, config: c } = this;
    const g = c.gemma4!;
    const { B, T } = act;
    const N = B * T;
    const C = c.hiddenSize;
    const P = g.plePerLayer;
    const NH = c.numHeads;
    let dx = gpu.zeros([N, C], 'd x_L');
    this.normBack(dx, df, act.xL, this.w('model.norm.weight'), act.rstdF, C);
    gpu.release(df);
    // gradients into each non-shared layer's rotated K and normed V, summed over the layers that read them
    const dK = new Map<number, Tensor>();
    const dV = new Map<number, Tensor>();
    const addInto = (map: Map<number, Tensor>, key: number, t: Tensor) => {
      const acc = map.get(key);
      if (!acc) return void map.set(key, t);
      scaleBackward(gpu, acc, t, 1, true);
      gpu.release(t);
    };
    for (let l = c.numLayers - 1; l >= 0; l--) {
      const ly = this.layers[l];
      const A = act.inputs ? this.recomputeLayer(act, l) : act.layers[l];
      const p = `model.layers.${l}`;
      const HS = ly.HS;
      const QD = NH * HS;
      const KVD = ly.NKV * HS;
      const back = (dIn: Tensor, dy: Tensor, path: string, accumulate: boolean) => this.linearBack(dIn, dy, path, act, A, grads, accumulate);
      // x' = layer_scalar * xq
      const dxq = gpu.tensor([N, C], `${p}.d_xq`);
      scaleBackward(gpu, dxq, dx, this.scalars[l], false);
      gpu.release(dx);
      if (P && A.gi && A.pleL && A.ge && A.pp && A.rstdP) {
        const dpp = gpu.zeros([N, C], `${p}.d_ple_projected`);
        this.normBack(dpp, dxq, A.pp, this.w(`${p}.post_per_layer_input_norm.weight`), A.rstdP, C);
        const dge = gpu.tensor([N, P], `${p}.d_ple_gated`);
        this.projectBackward(dge, dpp, `${p}.per_layer_projection.weight`, false);
        const dgi = gpu.tensor([N, P], `${p}.d_ple_gate`);
        const dpl = gpu.tensor([N, P], `${p}.d_ple`);
        gegluBackward(gpu, dgi, dpl, dge, A.gi, A.pleL);
        this.projectBackward(dxq, dgi, `${p}.per_layer_input_gate.weight`, true);
        gpu.release(dpp, dge, dgi, dpl);
      }
      // xp = xm + post_feedforward_layernorm(d)   (dxq now holds d xp, then d xm)
      const dd = gpu.zeros([N, C], `${p}.d_d`);
      this.normBack(dd, dxq, A.d, this.w(`${p}.post_feedforward_layernorm.weight`), A.rstdD, C);
      const ds = gpu.tensor([N, ly.H], `${p}.d_s`);
      back(ds, dd, `${p}.mlp.down_proj`, false);
      const dgg = gpu.tensor([N, ly.H], `${p}.d_g`);
      const du = gpu.tensor([N, ly.H], `${p}.d_u`);
      gegluBackward(gpu, dgg, du, ds, A.g, A.u);
      const dm = gpu.tensor([N, C], `${p}.d_m`);
      back(dm, dgg, `${p}.mlp.gate_proj`, false);
      back(dm, du, `${p}.mlp.up_proj`, true);
      this.normBack(dxq, dm, A.xm, this.w(`${p}.pre_feedforward_layernorm.weight`), A.rstdM, C);
      gpu.release(dd, ds, dgg, du, dm);
      // xm = x + post_attention_layernorm(o)
      const dout = gpu.zeros([N, C], `${p}.d_o`);
      this.normBack(dout, dxq, A.o, this.w(`${p}.post_attention_layernorm.weight`), A.rstdO, C);
      const datt = gpu.tensor([N, QD], `${p}.d_att`);
      back(datt, dout, `${p}.self_attn.o_proj`, false);
      const src = act.kv.get(ly.kvSource)!;
      const dqr = gpu.tensor([N, QD], `${p}.d_qr`);
      const dk = gpu.tensor([N, KVD], `${p}.d_kr`);
      const dv = gpu.tensor([N, KVD], `${p}.d_vn`);
      attentionBackward(gpu, dqr, dk, dv, datt, A.qr, src.k, src.v, A.att, A.lse, this.attentionDims(ly, B, T));
      addInto(dK, ly.kvSource, dk);
      addInto(dV, ly.kvSource, dv);
      const dqn = gpu.tensor([N, QD], `${p}.d_q_normed`);
      let dkn: Tensor | null = null;
      if (ly.shared) this.ropeQOnly('backward', dqn, dqr, act.positions, l, N);
      else {
        // every layer reading this one's K/V (itself and later shared layers) has been walked: dK is complete
        dkn = gpu.tensor([N, KVD], `${p}.d_k_normed`);
        ropeQkBackward(gpu, dqn, dkn, dqr, dK.get(l)!, act.positions, this.invFreq[l], { NH, NKV: ly.NKV, HS }, 'half');
      }
      const dq = gpu.zeros([N, QD], `${p}.d_q`);
      this.normBack(dq, dqn, A.q, this.w(`${p}.self_attn.q_norm.weight`), A.rstdQ, HS);
      const da = gpu.tensor([N, C], `${p}.d_a`);
      back(da, dq, `${p}.self_attn.q_proj`, false);
      gpu.release(dout, datt, dqr, dqn, dq);
      if (dkn && A.k && A.rstdK && A.rstdV) {
        const dKl = dK.get(l)!;
        const dVl = dV.get(l)!;
        const dkIn = gpu.zeros([N, KVD], `${p}.d_k`);
        this.normBack(dkIn, dkn, A.k, this.w(`${p}.self_attn.k_norm.weight`), A.rstdK, HS);
        const dvIn = ly.kEqV ? dkIn : gpu.zeros([N, KVD], `${p}.d_v`);
        this.normBack(dvIn, dVl, A.v ?? A.k, this.ones.get(HS)!, A.rstdV, HS);
        back(da, dkIn, `${p}.self_attn.k_proj`, true);
        if (!ly.kEqV) back(da, dvIn, `${p}.self_attn.v_proj`, true);
        gpu.release(dKl, dVl, dkn, dkIn);
        if (dvIn !== dkIn) gpu.release(dvIn);
        dK.delete(l);
        dV.delete(l);
      }
      this.normBack(dxq, da, A.x, this.w(`${p}.input_layernorm.weight`), A.rstdA, C);
      gpu.release(da);
      // a recomputed layer is freed at once (its input stays with act until releaseActivations)
      if (act.inputs) this.releaseLayerActs(A, true);
      dx = dxq;
    }
    gpu.release(dx);
  }

  /** Layer l's activations recomputed from its kept input (the same LoRA, positions and per-layer embeddings, so
   * bit for bit the forward's); its output is computed into a scratch and freed. */
  private recomputeLayer(act: Gemma4Activations, l: number): LayerActs {
    const lastReader = new Map<number, number>();
    const { A, xOut } = this.layerForward(l, act.inputs![l], {
      B: act.B, T: act.T, positions: act.positions, lora: act.lora, keep: true, ple: act.ple ?? null, kv: act.kv, lastReader, recomputing: true,
    });
    this.gpu.release(xOut);
    return A!;
  }

  /** Frees one layer's activations (its input x too unless keepInput). */
  private releaseLayerActs(A: LayerActs, keepInput = false): void {
    const { gpu } = this;
    if (!keepInput) gpu.release(A.x);
    gpu.release(A.a, A.rstdA, A.q, A.rstdQ, A.qr, A.k, A.rstdK, A.v, A.rstdV, A.att, A.lse, A.o, A.rstdO, A.xm, A.m, A.rstdM,
      A.g, A.u, A.s, A.d, A.rstdD, A.gi, A.pleL, A.ge, A.pp, A.rstdP);
    if (A.xq !== A.xp) gpu.release(A.xq);
    gpu.release(A.xp);
    for (const { h } of A.h.values()) gpu.release(h);
  }

  /** Frees a training forward's activations (not its logits). */
  releaseActivations(act: Gemma4Activations): void {
    const { gpu } = this;
    for (const A of act.layers) this.releaseLayerActs(A);
    if (act.inputs) gpu.release(...act.inputs);
    if (act.ple) gpu.release(act.ple);
    for (const { k, v } of act.kv.values()) gpu.release(k, v);
    gpu.release(act.xL, act.rstdF, act.f);
    if (act.raw) gpu.release(act.raw);
  }

  /** Frees every weight and constant. */
  destroy(): void {
    this.gpu.release(...this.weights.values(), ...new Set(this.invFreq), ...this.ones.values());
  }
}
