// The scalar head of a reward model: transformers' *ForSequenceClassification `score` layer with
// num_labels 1, Linear(hidden, 1, bias=False), applied to the final-norm hidden state of each sequence's last
// token (transformers takes the last non-pad token; rows here are right-padded, so that is the row's last
// real token, index prompt + completion - 1). r_b = w . f[last_b]  (w: (1, C), f: (N, C)).
// The head is C numbers per sequence, so it runs on the CPU: the B hidden rows are gathered on the GPU and
// read back; its backward writes d f[last_b] = dr_b w into an otherwise zero d f (N, C) for the transformer
// backward, and d w = sum_b dr_b f[last_b]. The weights stay on the GPU (a parameter for AdamW).

import type { GpuRuntime } from '../gpu/runtime';
import type { Tensor } from '../gpu/tensor';
import type { PackedBatch } from './logprobs';
import { Rng } from '../util/random';

/** The head's tensor name in a PEFT SEQ_CLS adapter (modules_to_save ["score"], saved without
 * "modules_to_save.default": PEFT's get_peft_model_state_dict) and in checkpoints. */
export const SCORE_WEIGHT_KEY = 'base_model.model.score.weight';
export const SCORE_PARAM_NAME = 'score.weight';

/** Flat index, in the (B*T) token grid, of row b's last token. */
export function lastTokenIndex(batch: PackedBatch, b: number): number {
  const r = batch.rows[b];
  return b * batch.T + r.prompt.length + r.completion.length - 1;
}

/** r_b = w . h_b for h (B, C) row-major. */
export function scoreHeadForward(h: ArrayLike<number>, w: ArrayLike<number>, B: number, C: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += h[b * C + c] * w[c];
    out.push(s);
  }
  return out;
}

/** Gradients of the head given d loss / d r: dh (B, C) = dr_b w, and dw (C) = sum_b dr_b h_b (overwritten, not
 * accumulated). */
export function scoreHeadBackward(dr: readonly number[], h: ArrayLike<number>, w: ArrayLike<number>, C: number): { dh: Float32Array; dw: Float64Array } {
  const B = dr.length;
  const dh = new Float32Array(B * C);
  const dw = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      dh[b * C + c] = dr[b] * w[c];
      dw[c] += dr[b] * h[b * C + c];
    }
  }
  return { dh, dw };
}

/** Reads the final-norm hidden state of each row's last token: (B, C). */
export async function gatherLastHidden(gpu: GpuRuntime, f: Tensor, batch: PackedBatch, C: number): Promise<Float32Array> {
  const h = gpu.tensor([batch.B, C], 'score_head.hidden');
  try {
    for (let b = 0; b < batch.B; b++) gpu.copy(f, h, C, lastTokenIndex(batch, b) * C, b * C);
    return await gpu.read(h);
  } finally {
    gpu.release(h);
  }
}

/** d f (N, C) for the transformer backward: row b's last token gets dh_b, every other position 0. */
export function scatterLastHidden(gpu: GpuRuntime, batch: PackedBatch, dh: Float32Array, C: number): Tensor {
  const df = gpu.zeros([batch.B * batch.T, C], 'd_final_norm');
  for (let b = 0; b < batch.B; b++) gpu.write(df, dh.subarray(b * C, (b + 1) * C), lastTokenIndex(batch, b) * C);
  return df;
}

/** The head's weight (1, C) and gradient on the GPU. */
export class ScoreHead {
  readonly weight: Tensor;
  readonly grad: Tensor;

  constructor(
    private readonly gpu: GpuRuntime,
    readonly hidden: number,
  ) {
    this.weight = gpu.zeros([1, hidden], 'score.weight');
    this.grad = gpu.zeros([1, hidden], 'score.weight.grad');
  }

  /** transformers' _init_weights for a Linear: normal(0, initializer_range = 0.02). */
  initialize(seed: number): void {
    const rng = new Rng((seed ^ 0x5c0e) >>> 0);
    this.gpu.write(this.weight, Float32Array.from({ length: this.hidden }, () => 0.02 * rng.normal()));
  }

  parameter(): { name: string; param: Tensor; grad: Tensor } {
    return { name: SCORE_PARAM_NAME, param: this.weight, grad: this.grad };
  }

  read(): Promise<Float32Array> {
    return this.gpu.read(this.weight);
  }

  release(): void {
    this.gpu.release(this.weight, this.grad);
  }
}
