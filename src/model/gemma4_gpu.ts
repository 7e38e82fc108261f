// Gemma 4 text on the GPU, forward: the whole model (src/reference/gemma4.ts is its CPU reference, read it for
// the formulas) built from the existing kernels, each layer with its own head size and kv heads, shared layers
// attending over their source layer's rotated K and normed V, per-layer embeddings, layer_scalar and the
// soft-capped logits. f32 weights; LoRA on the projections a layer owns. Letters: N = B*T rows, C hidden,
// L layers, P hidden_size_per_layer_input, V vocab; HS, NKV, H per layer.
//
// Not here (yet): the backward, KV-cache decoding and 16-bit weights; GpuTransformer refuses Gemma 4 configs,
// so training and generation do not reach this model.

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { embeddingForward } from '../gpu/kernels/embedding';
import { gegluForward } from '../gpu/kernels/geglu';
import { rmsnormForward } from '../gpu/kernels/rmsnorm';
import { ropeForward } from '../gpu/kernels/rope';
import { attentionForward } from '../gpu/kernels/attention';
import { loraForward } from '../gpu/kernels/lora';
import { residualAdd } from '../gpu/kernels/residual_add';
import { scaleForward } from '../gpu/kernels/scale';
import { softcapForward } from '../gpu/kernels/softcap';
import { gemma4InvFreq } from '../reference/gemma4';
import type { ModelConfig } from './config';
import { gemma4Layers, type Gemma4Layer } from './gemma4_config';
import { expectedShapes, type WeightMap } from './weights';

/** A LoRA on the GPU: A (R, IN), B (OUT, R), keyed by module path (model.layers.0.self_attn.q_proj). */
export type Gemma4GpuLora = Map<string, { A: Tensor; B: Tensor; r: number; scale: number }>;

/** A tensor's view as rows of `width` (same buffer). */
function rowsView(t: Tensor, width: number): Tensor {
  return { buffer: t.buffer, shape: [t.size / width, width], dtype: t.dtype, label: `${t.label} (rows of ${width})`, size: t.size };
}

export class Gemma4Gpu {
  readonly layers: Gemma4Layer[];
  /** per layer: RoPE inverse frequencies (HS/2), shared between layers of one type */
  private readonly invFreq: Tensor[];
  /** the weightless v_norm as a weight of ones, per head size */
  private readonly ones = new Map<number, Tensor>();
  /** layer_scalar of each layer, read once on upload (a frozen scalar) */
  private readonly scalars: number[];

  private constructor(readonly gpu: GpuRuntime, readonly config: ModelConfig, readonly weights: Map<string, Tensor>, host: WeightMap) {
    this.layers = gemma4Layers(config);
    const byType = new Map<string, Tensor>();
    this.invFreq = this.layers.map((ly) => {
      const key = `${ly.type}:${ly.HS}`;
      let t = byType.get(key);
      if (!t) byType.set(key, (t = gpu.upload(Float32Array.from(gemma4InvFreq(config, ly)), [ly.HS / 2], `rope.inv_freq (${ly.type})`)));
      return t;
    });
    for (const ly of this.layers) if (!this.ones.has(ly.HS)) this.ones.set(ly.HS, gpu.upload(new Float32Array(ly.HS).fill(1), [ly.HS], `v_norm (no weight, HS ${ly.HS})`));
    this.scalars = this.layers.map((_, l) => host.get(`model.layers.${l}.layer_scalar`)!.data[0]);
  }

  /** Uploads f32 weights (every tensor of expectedShapes, checked by the loader). */
  static upload(gpu: GpuRuntime, config: ModelConfig, host: WeightMap): Gemma4Gpu {
    if (!config.gemma4) throw new Error(`${config.architecture}: not a Gemma 4 config`);
    const weights = new Map<string, Tensor>();
    for (const [name, shape] of expectedShapes(config)) {
      const t = host.get(name);
      if (!t) throw new Error(`missing tensor ${name}`);
      weights.set(name, gpu.upload(t.data, shape, name));
    }
    return new Gemma4Gpu(gpu, config, weights, host);
  }

  private w(name: string): Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`model has no tensor ${name}`);
    return t;
  }

  /** y = x W^T (+ LoRA) for the weight `path`.weight (OUT, IN). */
  private linear(y: Tensor, x: Tensor, path: string, lora: Gemma4GpuLora | null): void {
    matmul(this.gpu, y, x, this.w(`${path}.weight`), { transB: true });
    const pair = lora?.get(path);
    if (!pair) return;
    const h = this.gpu.tensor([x.shape[0], pair.r], `${path}.lora_h`);
    loraForward(this.gpu, y, h, x, pair.A, pair.B, pair.scale);
    this.gpu.release(h);
  }

  /** out = rmsnorm(x) * w over rows of `width` (w null: no weight, v_norm); returns out. */
  private norm(x: Tensor, weight: Tensor, width: number, label: string): Tensor {
    const out = this.gpu.tensor(x.shape, label);
    const rstd = this.gpu.tensor([x.size / width], `${label} rstd`);
    rmsnormForward(this.gpu, rowsView(out, width), rstd, rowsView(x, width), weight, this.config.rmsNormEps);
    this.gpu.release(rstd);
    return out;
  }

  /** Soft-capped logits (N, V) of B rows of T tokens; ids and positions (N) u32. The caller releases the result. */
  logits(ids: Tensor, positions: Tensor, B: number, T: number, lora: Gemma4GpuLora | null = null): Tensor {
    const { gpu, config: c } = this;
    const g = c.gemma4!;
    const N = B * T;
    const C = c.hiddenSize;
    const L = c.numLayers;
    const P = g.plePerLayer;
    const NH = c.numHeads;
    let x = gpu.tensor([N, C], 'x0');
    embeddingForward(gpu, x, ids, this.w('model.embed_tokens.weight'), c.embedScale ?? 1);

    // per-layer embeddings: ple (N*L, P) rows, row n*L + l for token n at layer l
    let ple: Tensor | null = null;
    if (P) {
      const proj = gpu.tensor([N, L * P], 'ple.projection');
      matmul(gpu, proj, x, this.w('model.per_layer_model_projection.weight'), { transB: true, alpha: C ** -0.5 });
      const pn = this.norm(proj, this.w('model.per_layer_projection_norm.weight'), P, 'ple.projection_normed');
      const tok = gpu.tensor([N, L * P], 'ple.tokens');
      embeddingForward(gpu, tok, ids, this.w('model.embed_tokens_per_layer.weight'), Math.fround(Math.sqrt(P)));
      const sum = gpu.tensor([N, L * P], 'ple.sum');
      residualAdd(gpu, sum, pn, tok);
      ple = gpu.tensor([N * L, P], 'ple');
      scaleForward(gpu, rowsView(ple, L * P), sum, 2 ** -0.5);
      gpu.release(proj, pn, tok, sum);
    }

    // each non-shared layer's rotated K and normed V, kept while a later shared layer reads them
    const kv = new Map<number, { k: Tensor; v: Tensor }>();
    const lastReader = new Map<number, number>();
    this.layers.forEach((ly, l) => lastReader.set(ly.kvSource, l));
    for (let l = 0; l < L; l++) {
      const ly = this.layers[l];
      const p = `model.layers.${l}`;
      const HS = ly.HS;
      const QD = NH * HS;
      const KVD = ly.NKV * HS;
      const a = this.norm(x, this.w(`${p}.input_layernorm.weight`), C, `${p}.a`);
      const q = gpu.tensor([N, QD], `${p}.q`);
      this.linear(q, a, `${p}.self_attn.q_proj`, lora);
      const qn = this.norm(q, this.w(`${p}.self_attn.q_norm.weight`), HS, `${p}.q_normed`);
      const qr = gpu.tensor([N, QD], `${p}.qr`);
      ropeForward(gpu, qr, qn, positions, this.invFreq[l], NH, HS, 'half');
      gpu.release(q, qn);
      if (!ly.shared) {
        const k = gpu.tensor([N, KVD], `${p}.k`);
        this.linear(k, a, `${p}.self_attn.k_proj`, lora);
        let v = k;
        if (!ly.kEqV) {
          v = gpu.tensor([N, KVD], `${p}.v`);
          this.linear(v, a, `${p}.self_attn.v_proj`, lora);
        }
        const kn = this.norm(k, this.w(`${p}.self_attn.k_norm.weight`), HS, `${p}.k_normed`);
        const kr = gpu.tensor([N, KVD], `${p}.kr`);
        ropeForward(gpu, kr, kn, positions, this.invFreq[l], ly.NKV, HS, 'half');
        const vn = this.norm(v, this.ones.get(HS)!, HS, `${p}.v_normed`);
        gpu.release(k, kn);
        if (v !== k) gpu.release(v);
        kv.set(l, { k: kr, v: vn });
      }
      gpu.release(a);
      const src = kv.get(ly.kvSource)!;
      const att = gpu.tensor([N, QD], `${p}.att`);
      const lse = gpu.tensor([B, NH, T], `${p}.lse`);
      const window = ly.type === 'sliding_attention' ? c.slidingWindow ?? 0 : 0;
      attentionForward(gpu, att, lse, qr, src.k, src.v, { B, T, NH, NKV: ly.NKV, HS, scale: 1, window });
      gpu.release(qr, lse);
      if (lastReader.get(ly.kvSource) === l) {
        gpu.release(src.k, src.v);
        kv.delete(ly.kvSource);
      }
      const o = gpu.tensor([N, C], `${p}.o`);
      this.linear(o, att, `${p}.self_attn.o_proj`, lora);
      gpu.release(att);
      const oP = this.norm(o, this.w(`${p}.post_attention_layernorm.weight`), C, `${p}.o_normed`);
      const xm = gpu.tensor([N, C], `${p}.xm`);
      residualAdd(gpu, xm, x, oP);
      gpu.release(o, oP, x);
      const m = this.norm(xm, this.w(`${p}.pre_feedforward_layernorm.weight`), C, `${p}.m`);
      const gg = gpu.tensor([N, ly.H], `${p}.g`);
      const u = gpu.tensor([N, ly.H], `${p}.u`);
      this.linear(gg, m, `${p}.mlp.gate_proj`, lora);
      this.linear(u, m, `${p}.mlp.up_proj`, lora);
      const s = gpu.tensor([N, ly.H], `${p}.s`);
      gegluForward(gpu, s, gg, u);
      const d = gpu.tensor([N, C], `${p}.d`);
      this.linear(d, s, `${p}.mlp.down_proj`, lora);
      gpu.release(m, gg, u, s);
      const dP = this.norm(d, this.w(`${p}.post_feedforward_layernorm.weight`), C, `${p}.d_normed`);
      let xq = gpu.tensor([N, C], `${p}.xp`);
      residualAdd(gpu, xq, xm, dP);
      gpu.release(xm, d, dP);
      if (P && ple) {
        const gi = gpu.tensor([N, P], `${p}.ple_gate`);
        matmul(gpu, gi, xq, this.w(`${p}.per_layer_input_gate.weight`), { transB: true });
        // this layer's rows of ple: row n*L + l (a gather with the embedding kernel)
        const rows = gpu.upload(Uint32Array.from({ length: N }, (_, n) => n * L + l), [N], `${p}.ple_rows`, 'u32');
        const pleL = gpu.tensor([N, P], `${p}.ple`);
        embeddingForward(gpu, pleL, rows, ple);
        const ge = gpu.tensor([N, P], `${p}.ple_gated`);
        gegluForward(gpu, ge, gi, pleL);
        const pp = gpu.tensor([N, C], `${p}.ple_projected`);
        matmul(gpu, pp, ge, this.w(`${p}.per_layer_projection.weight`), { transB: true });
        const ppn = this.norm(pp, this.w(`${p}.post_per_layer_input_norm.weight`), C, `${p}.ple_normed`);
        const xq2 = gpu.tensor([N, C], `${p}.xq`);
        residualAdd(gpu, xq2, xq, ppn);
        gpu.release(gi, rows, pleL, ge, pp, ppn, xq);
        xq = xq2;
      }
      const xOut = gpu.tensor([N, C], `${p}.out`);
      scaleForward(gpu, xOut, xq, this.scalars[l]);
      gpu.release(xq);
      x = xOut;
    }
    gpu.release(ple);
    const f = this.norm(x, this.w('model.norm.weight'), C, 'final_norm');
    gpu.release(x);
    const raw = gpu.tensor([N, c.vocabSize], 'logits (uncapped)');
    matmul(gpu, raw, f, this.w(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'), { transB: true });
    gpu.release(f);
    if (g.finalLogitSoftcap === null) return raw;
    const logits = gpu.tensor([N, c.vocabSize], 'logits');
    softcapForward(gpu, logits, raw, g.finalLogitSoftcap);
    gpu.release(raw);
    return logits;
  }

  /** Frees every weight and constant. */
  destroy(): void {
    this.gpu.release(...this.weights.values(), ...new Set(this.invFreq), ...this.ones.values());
  }
}
