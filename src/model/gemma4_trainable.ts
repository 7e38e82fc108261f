// The Gemma 4 GPU model as the supervised trainer (src/grpo/sft.ts) sees a model: a forward to the final norm's
// output f with a LoraSet (built per Gemma 4 layer, lora.ts), the shared chunked LM head (lm_head.ts: the soft-cap
// inside each chunk) on f, and the backward from df into the LoraSet's gradients. LoRA only: no dropout and no
// full-weight gradients yet (both refused with the reason). Also the adapter's export in Gemma 4's PEFT layout.

import type { Tensor } from '../gpu/tensor';
import type { GpuRuntime } from '../gpu/runtime';
import type { Format16 } from './pack16';
import type { ModelConfig } from './config';
import type { LoraSet } from './lora';
import type { Gemma4Activations, Gemma4Gpu, Gemma4GpuLora, Gemma4GpuLoraGrads } from './gemma4_gpu';
import { exportGemma4PeftAdapter } from './gemma4_peft';
import type { PeftAdapterFiles } from './peft_adapter';
import type { Gemma4Module } from './gemma4_lora';

/** A training forward's activations and the LoRA views backward accumulates into. */
export interface Gemma4TrainAct {
  inner: Gemma4Activations;
  f: Tensor;
  grads: Gemma4GpuLoraGrads;
}

/** The LoraSet's pairs as Gemma4Gpu takes them (same tensors), and their gradients. */
export function gemma4LoraViews(lora: LoraSet): { lora: Gemma4GpuLora; grads: Gemma4GpuLoraGrads } {
  const views: Gemma4GpuLora = new Map();
  const grads: Gemma4GpuLoraGrads = new Map();
  for (const p of lora.pairs.values()) {
    views.set(p.path, { A: p.A, B: p.B, r: lora.spec.r, scale: lora.scale });
    grads.set(p.path, { dA: p.dA, dB: p.dB });
  }
  return { lora: views, grads };
}

export class Gemma4Trainable {
  readonly gpu: GpuRuntime;
  readonly config: ModelConfig;

  constructor(readonly model: Gemma4Gpu) {
    this.gpu = model.gpu;
    this.config = model.config;
  }

  get lmHeadChunkBytes(): number {
    return this.model.lmHeadChunkBytes;
  }

  set lmHeadChunkBytes(b: number) {
    this.model.lmHeadChunkBytes = b;
  }

  /** activation recomputation in the training forward/backward (Gemma4Gpu.recomputeLayers) */
  get recomputeLayers(): boolean {
    return this.model.recomputeLayers;
  }

  set recomputeLayers(on: boolean) {
    this.model.recomputeLayers = on;
  }

  /** the tied head's rows from the host when the embedding table stays there (lm_head.ts) */
  get lmHeadHost(): Gemma4Gpu['lmHeadHost'] {
    return this.model.lmHeadHost;
  }

  lmHead(): Tensor {
    return this.model.lmHead();
  }

  /** Bytes of the weights on the GPU (as GpuTransformer.bytes). */
  get bytes(): number {
    return this.model.weightBytes().total;
  }

  /** Frees the model's weights (as GpuTransformer.release). */
  release(): void {
    this.model.destroy();
  }

  lmHeadName(): string {
    return this.model.lmHeadName();
  }

  weightFormat(name: string): 'f32' | Format16 {
    return this.model.weightFormat(name);
  }

  project(y: Tensor, x: Tensor, name: string): void {
    this.model.project(y, x, name);
  }

  projectBackward(dx: Tensor, dy: Tensor, name: string): void {
    this.model.projectBackward(dx, dy, name);
  }

  /** The training forward to f; dropoutCounter is unused (LoRA dropout is refused). hostIds: the ids on the host,
   * needed when the PLE table is kept there (upload's pleOnHost). */
  forward(
    ids: Tensor, positions: Tensor, B: number, T: number, lora: LoraSet | null, _dropoutCounter: number | null = null, hostIds?: ArrayLike<number>,
  ): Gemma4TrainAct {
    if (lora && (lora.spec.dropout ?? 0) > 0) throw new Error(`Gemma 4: LoRA dropout is not supported in training yet (lora_dropout ${lora.spec.dropout}); set it to 0`);
    const views = lora ? gemma4LoraViews(lora) : { lora: null, grads: new Map() };
    const { act } = this.model.forwardHidden(ids, positions, B, T, views.lora, true, { hostIds });
    return { inner: act!, f: act!.f, grads: views.grads };
  }

  backwardFromHead(act: Gemma4TrainAct, df: Tensor, fullGrads: Map<string, Tensor> | null = null): void {
    if (fullGrads) throw new Error('Gemma 4: full-weight training is not supported yet; train a LoRA');
    this.model.backwardFromHead(act.inner, df, act.grads);
  }

  releaseActivations(act: Gemma4TrainAct): void {
    this.model.releaseActivations(act.inner);
  }
}

/** The LoraSet as a Gemma 4 PEFT adapter (read back from the GPU; both checkpoint layouts' key names). */
export async function exportGemma4Adapter(gpu: GpuRuntime, lora: LoraSet, baseModel: string, loraDropout = 0): Promise<PeftAdapterFiles> {
  const factors = new Map<string, { A: Float32Array; B: Float32Array }>();
  for (const p of lora.pairs.values()) factors.set(p.path, { A: Float32Array.from(await gpu.read(p.A)), B: Float32Array.from(await gpu.read(p.B)) });
  const spec = { r: lora.spec.r, alpha: lora.spec.alpha, targetModules: [...lora.spec.targetModules] as Gemma4Module[], useRslora: lora.spec.useRslora };
  return exportGemma4PeftAdapter(lora.config, spec, factors, baseModel, loraDropout);
}
