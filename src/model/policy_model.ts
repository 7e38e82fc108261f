// The model a GRPO run trains, as the trainer (src/grpo/) sees it: the Llama-family engine (GpuTransformer) or
// Gemma 4's (Gemma4Trainable over Gemma4Gpu, whose layers differ in shape). Both take a LoraSet; this file is the
// one place that picks each one's generation, log-probs and training forward, so the trainer, the rollout and the
// policy update are written once for both.

import type { Tensor } from '../gpu/tensor';
import type { GpuRuntime } from '../gpu/runtime';
import type { ModelConfig } from './config';
import type { WeightMap } from './weights';
import type { BaseStorageOptions } from './weight_storage';
import { Gemma4Gpu, gemma4PleOnHost } from './gemma4_gpu';
import { GpuTransformer } from './transformer';
import type { LoraSet } from './lora';
import { Gemma4Trainable, gemma4LoraViews } from './gemma4_trainable';
import { generate, type GenerateOptions, type Generation } from './generate';
import { generateGemma4 } from './gemma4_generate';
import { completionLogprobs, type SequenceRow, type TokenLogprobs } from './logprobs';
import { gemma4CompletionLogprobs } from './gemma4_logprobs';

export type PolicyModel = GpuTransformer | Gemma4Trainable;

/** The model on the GPU for a config: Gemma 4's own (LoRA training only), or the engine for every other family. */
export function uploadPolicyModel(gpu: GpuRuntime, config: ModelConfig, weights: WeightMap, storage: BaseStorageOptions = {}): PolicyModel {
  if (!config.gemma4) return GpuTransformer.upload(gpu, config, weights, storage);
  // a PLE table no buffer of this device can hold stays in host memory (E2B's: 4.4 GiB in 16 bits)
  const pleOnHost = gemma4PleOnHost(config, storage, gpu.device.limits);
  // the main embedding table too when the memory plan needs it (storage.embedOnHost, MemoryPlan.embedOnHost)
  return new Gemma4Trainable(Gemma4Gpu.upload(gpu, config, weights, storage, { pleOnHost, embedOnHost: !!storage.embedOnHost }));
}

/** Gemma 4's model, or null for the Llama-family engine. */
export function asGemma4(model: PolicyModel): Gemma4Trainable | null {
  return model instanceof Gemma4Trainable ? model : null;
}

/** Sampled (or greedy) continuations of the prompts, as generate.ts draws them. Gemma 4 generates rows of one
 * prompt length together (its prefill fills every position's cache entry): rows are grouped by length, each group
 * with its own seed derived from the call's (the first group keeps the call's seed). */
export async function policyGenerate(model: PolicyModel, prompts: number[][], opts: GenerateOptions): Promise<Generation> {
  const g4 = asGemma4(model);
  if (!g4) return generate(model as GpuTransformer, prompts, opts);
  const lora = opts.lora ? gemma4LoraViews(opts.lora).lora : null;
  const byLen = new Map<number, number[]>();
  prompts.forEach((p, i) => byLen.set(p.length, [...(byLen.get(p.length) ?? []), i]));
  const out: Generation = { tokens: new Array(prompts.length), finish: new Array(prompts.length), steps: 0 };
  const texts: string[] = new Array(prompts.length);
  let k = 0;
  for (const rows of byLen.values()) {
    const seed = k === 0 ? opts.seed : (opts.seed + Math.imul(k, 0x632be5ab)) >>> 0;
    k++;
    const gen = await generateGemma4(g4.model, rows.map((i) => prompts[i]), {
      maxNewTokens: opts.maxNewTokens, stopIds: opts.stopIds, stopStrings: opts.stopStrings, decode: opts.decode,
      temperature: opts.temperature, topK: opts.topK, topP: opts.topP, seed, kvPrecision: opts.kvPrecision, lora,
      // the memory-saving layouts (trimBetweenPhases) also prefill one row at a time
      trimAfterPrefill: opts.trimAfterPrefill, prefillByRow: opts.trimAfterPrefill,
    });
    rows.forEach((i, j) => {
      out.tokens[i] = gen.tokens[j];
      out.finish[i] = gen.finish[j];
      if (gen.texts) texts[i] = gen.texts[j];
    });
    out.steps = Math.max(out.steps, gen.steps);
  }
  if ((opts.stopStrings ?? []).some((s) => s.length > 0)) out.texts = texts;
  return out;
}

/** Per-token log-probs (and entropies) of the completions, LoRA on (lora) or off (null); `minLength`: packed to at
 * least this many tokens (packRows; unshared rows); `sharedPrefix`: a group's prompt packed once (prefix_pack.ts). */
export function policyLogprobs(model: PolicyModel, rows: SequenceRow[], lora: LoraSet | null, temperature = 1, minLength = 0, sharedPrefix = false): Promise<TokenLogprobs> {
  const g4 = asGemma4(model);
  if (!g4) return completionLogprobs(model as GpuTransformer, rows, lora, temperature, minLength, sharedPrefix);
  if (sharedPrefix) throw new Error('shared-prefix training: Gemma 4 trains on unshared rows');
  return gemma4CompletionLogprobs(g4.model, rows, lora ? gemma4LoraViews(lora).lora : null, temperature, minLength);
}

/** Why a model cannot train on shared-prefix packed rows (prefix_pack.ts), or null. */
export function sharedPrefixTrainingUnsupported(model: PolicyModel): string | null {
  const g4 = asGemma4(model);
  if (g4) return 'Gemma 4 (its per-layer inputs, shared KV layers and sliding windows) trains on unshared rows';
  return (model as GpuTransformer).sharedPrefixUnsupported();
}

/** A training forward of either model: its final-norm output f, backward(df), which runs the backward from df
 * (releasing it) into the LoRA (or full) gradients, and release(), which frees the activations. With
 * `noGrad` the forward keeps nothing for a backward (log-probs only; backward then throws). hostIds: the ids on
 * the host (Gemma 4 with its PLE table kept there needs them). */
export function trainForward(
  model: PolicyModel, ids: Tensor, positions: Tensor, B: number, T: number, lora: LoraSet | null, dropoutCounter: number | null,
  noGrad = false, hostIds?: ArrayLike<number>, segments: Tensor | null = null,
): { f: Tensor; backward: (df: Tensor, fullGrads?: Map<string, Tensor> | null) => void; release: () => void } {
  const g4 = asGemma4(model);
  if (!g4) {
    const m = model as GpuTransformer;
    // the 7th argument ({}) is GpuTransformer's no-backward forward: one layer's activations at a time; the 8th
    // the shared-prefix attention mask of a packSharedPrefix batch
    const act = noGrad ? m.forward(ids, positions, B, T, lora, dropoutCounter, {}, segments) : m.forward(ids, positions, B, T, lora, dropoutCounter, null, segments);
    return {
      f: act.f,
      backward: (df, fullGrads = null) => m.backwardFromHead(act, df, fullGrads),
      release: () => m.releaseActivations(act),
    };
  }
  if (segments) throw new Error('shared-prefix training: Gemma 4 trains on unshared rows');
  if (noGrad) {
    const { f } = g4.model.forwardHidden(ids, positions, B, T, lora ? gemma4LoraViews(lora).lora : null, false, { hostIds });
    return {
      f,
      backward: () => { throw new Error('Gemma 4: a no-gradient forward has no backward'); },
      release: () => g4.gpu.release(f),
    };
  }
  const act = g4.forward(ids, positions, B, T, lora, dropoutCounter, hostIds);
  return { f: act.f, backward: (df, fullGrads = null) => g4.backwardFromHead(act, df, fullGrads), release: () => g4.releaseActivations(act) };
}
