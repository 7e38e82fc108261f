// Batched generation with a KV cache: prefill all prompts together (right-padded), then decode every row
// one token per step, all on the GPU. Nothing but the sampled ids is ever read back, and those only
// every few steps to stop early once every row has finished; at those readbacks the rows that finished leave
// (DecodeState.compact: the later steps run with M = the rows still running, each drawing its tokens as in the
// full batch). With groupSize G, each group of G identical prompts is prefilled once; its k/v kept once per group
// (prefixKv 'shared': the decode attention reads the prompt's positions from the group's block) or copied into each
// of its G rows' caches ('copies'), its other state copied into its G rows (decode_state.ts). The caches, the
// prefill and the decode step are decode_state.ts's (shared with generate_turns.ts).

import type { Tensor } from '../gpu/tensor';
import type { GpuTransformer } from './transformer';
import type { LoraSet } from './lora';
import { DecodeState, type SamplingOptions } from './decode_state';
import type { KvPrecision } from './kv_storage';
import { checkSampledIds } from './sampled_ids';
import { cutRows } from './stop_rows';

export type { SamplingOptions } from './decode_state';

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
   * a quarter of the model's weights, at least 32 MiB); 0 turns the fusion off (so do ring caches) */
  fusedWeightBudget?: number;
  /** the KV caches' storage (config kv_precision, kv_storage.ts; default 'auto') */
  kvPrecision?: KvPrecision;
  /** free the pool's idle buffers before the prefill (an earlier batch's decode buffers) and between prefill and
   * decode (the prefill's released activations), so that neither phase's buffers are held during the other
   * (the memory plan's trimBetweenPhases layouts, whose generation runs in several batches) */
  trimAfterPrefill?: boolean;
  /** rows come in groups of this many identical prompts (GRPO's G completions of one prompt, rows b * G .. b * G +
   * G - 1): each prompt is prefilled once and its caches, linear-layer states and last hidden state copied into its
   * G rows (DecodeState.prefill); the same tokens as unshared (default 1: every row prefilled) */
  groupSize?: number;
  /** with groupSize > 1, how a group's rows keep the prompt's k/v: 'shared' (default) once per group per
   * full-attention layer, read by the decode attention for the prompt's positions, each row's own block holding
   * only its new tokens (DecodeSetupOptions.prefixGroupSize; about G times less cache for the prompt); 'copies' the
   * prompt's k/v written into each row's full-length cache. The same tokens either way (test/model/compact_rows,
   * shared_prefix tests; src/bench/shared_prefix.ts measures both). */
  prefixKv?: 'shared' | 'copies';
  /** rows that finished leave the decode batch at each readback (every checkEvery steps), so that later steps
   * compute only the rows still running (default true); the tokens are the same either way on adapters whose
   * kernels do not depend on the row count (software adapters; on hardware adapters the matmul variant is picked
   * by M, so the last bits of a logit, and then rarely a draw, may differ) */
  compactFinished?: boolean;
  /** row b draws with Philox row word rowBase + b (default 0): a rollout generated in several batches passes each
   * batch's first row, so that every row draws as in one batch of all the rollout's rows */
  rowBase?: number;
  /** filled with the prompt positions the prefill computed (B / groupSize rows of the padded length) and the
   * rows the decode steps computed (decodeRowSteps: the first draw's step counts B rows, each later step its
   * active rows) */
  stats?: { prefillTokens: number; decodeRowSteps?: number };
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

/** decode steps between readbacks of the sampled ids, unless GenerateOptions.checkEvery says otherwise */
export const DEFAULT_CHECK_EVERY = 16;

/** Bytes the decode step's stacked q/k/v and gate/up copies may take (GenerateOptions.fusedWeightBudget): none with a
 * 16-bit or quantized base (read packed, LoRA unmerged), else the option or a quarter of the weights, at least 32 MiB. */
export function decodeWeightBudget(model: GpuTransformer, opts: Pick<GenerateOptions, 'fusedWeightBudget'>): number {
  return model.formats.size > 0 || model.quant.size > 0 ? 0 : opts.fusedWeightBudget ?? Math.max(32 * 2 ** 20, model.bytes / 4);
}

export async function generate(model: GpuTransformer, prompts: number[][], opts: GenerateOptions): Promise<Generation> {
  const B = prompts.length;
  if (B === 0) return { tokens: [], finish: [], steps: 0 };
  // a 16-bit base is read by the packed matmuls: no stacked f32 copies (and LoRA stays unmerged)
  const budget = decodeWeightBudget(model, opts);
  const { gpu } = model;
  if (opts.trimAfterPrefill) {
    gpu.flush(); // nothing recorded may still name a buffer that trim destroys
    gpu.pool.trim();
  }
  const G = opts.groupSize ?? 1;
  const prefixGroupSize = G > 1 && (opts.prefixKv ?? 'shared') === 'shared' ? G : undefined;
  const st = new DecodeState(model, prompts, { maxNewTokens: opts.maxNewTokens, lora: opts.lora, kvPrecision: opts.kvPrecision, fusedWeightBudget: budget, rowBase: opts.rowBase, prefixGroupSize });
  const { lens, maxNew } = st.len;
  try {
    // ---- prefill: the training forward over right-padded prompts, then its k/v into the caches ----
    st.prefill(prompts, G);
    if (opts.stats) opts.stats.prefillTokens = st.prefillTokens;
    if (opts.trimAfterPrefill) {
      gpu.flush(); // nothing recorded may still name a buffer that trim destroys
      gpu.pool.trim();
    }

    // ---- decode ----
    let allIds!: Tensor;
    let posAll!: Tensor;
    let lenAll!: Tensor;
    let slotAll: Tensor | null = null;
    st.prepareDecode(() => {
      allIds = st.alloc([maxNew, B], 'decode.all_ids', 'u32');
      // positions of step s's input token: lens[b] + s; attention then sees lens[b] + s + 1 cache entries
      posAll = st.alloc([maxNew, B], 'decode.position_table', 'u32');
      lenAll = st.alloc([maxNew, B], 'decode.length_table', 'u32');
      // shared prefix: step s's input token's cache slot, in its row's own block
      if (st.slotCur) slotAll = st.alloc([maxNew, B], 'decode.cache_slot_table', 'u32');
    });
    const posTable = new Uint32Array(maxNew * B);
    const lenTable = new Uint32Array(maxNew * B);
    const slotTable = slotAll ? new Uint32Array(maxNew * B) : null;
    for (let s = 0; s < maxNew; s++) {
      for (let b = 0; b < B; b++) {
        posTable[s * B + b] = lens[b] + s;
        lenTable[s * B + b] = lens[b] + s + 1;
        if (slotTable) slotTable[s * B + b] = st.prefixSlot(b, s);
      }
    }
    gpu.write(posAll, posTable);
    gpu.write(lenAll, lenTable);
    if (slotAll && slotTable) gpu.write(slotAll, slotTable);
    // the rows each step's ids belong to, in slot order (allIds holds step s's draws in its first active entries)
    const stepRows: number[][] = [];
    // every row draws step s's token with counter s and its row word rowBase + b (the built-in demo's committed
    // numbers depend on it), also once compacted
    const sampleInto = (hidden: Tensor, step: number) => {
      st.sampleNext(hidden, opts, step);
      gpu.copy(st.next, allIds, st.active, 0, step * B);
      stepRows[step] = st.slotRow;
    };
    sampleInto(st.hLast, 0);

    const stop = new Set(opts.stopIds);
    const stopStrings = (opts.stopStrings ?? []).filter((x) => x.length > 0);
    if (stopStrings.length && !opts.decode) throw new Error('stop strings need the tokenizer (decode)');
    const V = model.config.vocabSize;
    // a row that left has no draws after it: its later entries read as a stop (past its own stop, so never seen)
    const filler = opts.stopIds[0] ?? 0;
    const rowStop = (raw: Uint32Array, n: number) => {
      const ids = new Uint32Array(n * B).fill(filler);
      for (let s = 0; s < n; s++) stepRows[s].forEach((row, i) => (ids[s * B + row] = raw[s * B + i]));
      checkSampledIds(ids, B, V);
      return cutRows(ids, B, n, stop, stopStrings, opts.decode);
    };
    const checkEvery = opts.checkEvery ?? DEFAULT_CHECK_EVERY;
    const compact = opts.compactFinished ?? true;
    let steps = 1;
    for (let s = 1; s < maxNew; s++) {
      if (s % checkEvery === 0 && (stop.size || stopStrings.length)) {
        const res = rowStop(await gpu.readU32(allIds, s * B), s);
        if (res.every((r) => r.finish === 'stop')) break;
        const keep = st.slotRow.flatMap((row, slot) => (res[row].finish === 'stop' ? [] : [slot]));
        if (compact && keep.length < st.active) {
          st.compact(keep);
          // the remaining steps' positions in slot order
          for (let t = s - 1; t < maxNew; t++) {
            st.slotRow.forEach((row, i) => {
              posTable[t * B + i] = lens[row] + t;
              lenTable[t * B + i] = lens[row] + t + 1;
              if (slotTable) slotTable[t * B + i] = st.prefixSlot(row, t);
            });
          }
          gpu.write(posAll, posTable.subarray((s - 1) * B), (s - 1) * B);
          gpu.write(lenAll, lenTable.subarray((s - 1) * B), (s - 1) * B);
          if (slotAll && slotTable) gpu.write(slotAll, slotTable.subarray((s - 1) * B), (s - 1) * B);
        }
      }
      // the token sampled at step s-1 sits at position lens[b] + s - 1
      gpu.copy(posAll, st.posCur, st.active, (s - 1) * B, 0);
      gpu.copy(lenAll, st.lenCur, st.active, (s - 1) * B, 0);
      if (slotAll && st.slotCur) gpu.copy(slotAll, st.slotCur, st.active, (s - 1) * B, 0);
      st.step(st.next);
      sampleInto(st.f, s);
      steps++;
    }
    const rows = rowStop(await gpu.readU32(allIds, steps * B), steps);
    if (opts.stats) opts.stats.decodeRowSteps = B + st.rowSteps;
    return {
      tokens: rows.map((r) => r.tokens),
      finish: rows.map((r) => r.finish),
      texts: stopStrings.length ? rows.map((r) => r.text!) : undefined,
      steps,
    };
  } finally {
    st.release();
  }
}
