// An estimate of the GPU memory a run needs, from the model's shapes and the config, to set beside what
// the device allows. It counts the big buffers the engine allocates (src/model/transformer.ts,
// src/grpo/policy_update.ts, src/model/generate.ts): the weights, the LoRA parameters with their gradients
// and AdamW moments, the activations a micro-batch saves for its backward pass plus one layer's backward
// temporaries and the logits with their gradient, and generation's KV cache. Checked against a real
// step's peak allocation (test/ui/memory.test.ts); the buffer pool's size rounding is not modelled.

import type { GrpoConfig, LoraTargetModule } from '../../grpo/config';
import type { ModelSummary } from '../../worker/protocol';

export type ModelShape = Pick<ModelSummary, 'layers' | 'hiddenSize' | 'intermediateSize' | 'numHeads' | 'numKvHeads' | 'headDim' | 'vocabSize' | 'weightBytes'> &
  Partial<Pick<ModelSummary, 'loraModules'>>;

export interface MemoryEstimate {
  weights: number;
  /** LoRA parameters, gradients and the two AdamW moments */
  lora: number;
  /** the larger of training's and generation's working memory */
  activations: number;
  training: number;
  generation: number;
  total: number;
  /** the largest single buffer (the logits of a micro-batch, or the embedding) */
  largestBuffer: number;
  largestBufferName: string;
  loraParams: number;
}

const F32 = 4;

function moduleShape(m: ModelShape, module: LoraTargetModule): [number, number] {
  const C = m.hiddenSize;
  const QD = m.numHeads * m.headDim;
  const KVD = m.numKvHeads * m.headDim;
  switch (module) {
    case 'q_proj':
      return [QD, C];
    case 'k_proj':
    case 'v_proj':
      return [KVD, C];
    case 'o_proj':
      return [C, QD];
    case 'gate_proj':
    case 'up_proj':
      return [m.intermediateSize, C];
    case 'down_proj':
      return [C, m.intermediateSize];
  }
  throw new Error(`LoRA module ${module}: the model summary lists no shapes for it (a Qwen3.5 linear-attention module needs the summary's loraModules)`);
}

export function estimateMemory(m: ModelShape, c: GrpoConfig): MemoryEstimate {
  const C = m.hiddenSize;
  const H = m.intermediateSize;
  const QD = m.numHeads * m.headDim;
  const KVD = m.numKvHeads * m.headDim;
  const L = m.layers;
  const V = m.vocabSize;

  let loraParams = 0;
  for (const mod of c.lora_target_modules) {
    if (m.loraModules) {
      // the worker's shapes (src/model/lora.ts loraModuleSizes): only the layers that have the module, e.g.
      // Qwen3.5's in_proj_* / out_proj on its linear layers and q/k/v/o_proj on its full ones; a module the
      // model lacks gets no adapter (validation names it)
      const s = m.loraModules.find((x) => x.name === mod);
      if (s) loraParams += c.lora_r * s.outPlusIn;
      continue;
    }
    const [out, inF] = moduleShape(m, mod);
    loraParams += L * c.lora_r * (out + inF);
  }
  const lora = loraParams * 4 * F32; // parameter, gradient, AdamW m and v

  // training: one micro-batch of prompts_per_step groups, each sequence prompt + completion long
  const B = c.prompts_per_step * c.num_generations;
  const T = c.max_prompt_length + c.max_completion_length;
  const N = B * T;
  const savedPerLayer = 6 * C + 3 * QD + 3 * KVD + 3 * H + 2;
  const backwardLayer = 3 * H + 3 * C + 3 * QD + 3 * KVD;
  const logits = N * V * F32;
  const training = (N * (L * savedPerLayer + 2 * C + 1 + backwardLayer) + 8 * N) * F32 + 2 * logits;

  // generation: the prompts of one micro-batch with their G completions each, KV cache over the whole length
  const kvCache = 2 * L * B * T * KVD * F32;
  const prefill = B * c.max_prompt_length * (L * savedPerLayer + 2 * C) * F32;
  const generation = kvCache + prefill + B * V * F32;

  const activations = Math.max(training, generation);
  const embedding = V * C * F32;
  const [largestBuffer, largestBufferName] = logits >= embedding ? [logits, 'logits of a micro-batch'] : [embedding, 'token embedding'];
  return {
    weights: m.weightBytes,
    lora,
    activations,
    training,
    generation,
    total: m.weightBytes + lora + activations,
    largestBuffer,
    largestBufferName,
    loraParams,
  };
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}
