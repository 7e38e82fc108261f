// Continuous batching (issue 30): a rollout's rows pass through `capacity` decode slots instead of running as
// batches one after another, each batch as long as its longest row. At each readback of the sampled ids the rows that
// finished leave (DecodeState.compact) and the next prompts' groups join in the freed slots (DecodeState.admit: their
// prompt prefilled into those slots' caches, or into free blocks of the shared-prefix layout, while the other rows
// keep their state), one group per prefill, so that a prefill beside the decode state holds one group's activations.
// Every row draws its t-th token with Philox counter t and row word rowBase + its row (sample.wgsl rowCtr 3: a word
// and a counter per slot), as generate.ts's batches draw it, so the tokens are those batches' (bit for bit on adapters
// whose kernels do not depend on the row count M: software adapters; test/model/continuous_batching.test.ts).
// Positions, attention lengths and write slots are written per readback window (a row's position is its prompt
// length plus its own step, whatever the step of the others).

import type { Tensor } from '../gpu/tensor';
import type { GpuTransformer } from './transformer';
import { DecodeState } from './decode_state';
import { DEFAULT_CHECK_EVERY, decodeWeightBudget, generate, type FinishReason, type Generation, type GenerateOptions } from './generate';
import { sampledIdError } from './sampled_ids';
import { cutRows } from './stop_rows';

export interface ContinuousOptions extends GenerateOptions {
  /** rows decoded at once (a multiple of groupSize): the memory plan's generation batch (prompts generated together
   * times G). Every row's completion may take maxNewTokens, counted from the longest of all prompts. */
  capacity: number;
}

/** The rows of `prompts` (groups of groupSize identical prompts, in order) generated through `capacity` slots. With
 * capacity >= the rows, generate() itself. A row finishes at a stop id or string or at maxNewTokens (without stops
 * every row runs to the end, and the next groups join when a batch's rows all finish: the batches' work, the path
 * the memory plan's dry run takes, whose planning tokenizer has no stop ids). */
export async function generateContinuous(model: GpuTransformer, prompts: number[][], opts: ContinuousOptions): Promise<Generation> {
  const R = prompts.length;
  const G = opts.groupSize ?? 1;
  const cap = opts.capacity;
  if (!(Number.isInteger(G) && G >= 1 && R % G === 0)) throw new Error(`continuous batching: group size ${G} does not divide the ${R} rows`);
  if (!(Number.isInteger(cap) && cap >= G && cap % G === 0)) throw new Error(`continuous batching: capacity ${cap} must be a positive multiple of the group size ${G}`);
  if (cap >= R) return generate(model, prompts, opts);
  const stop = new Set(opts.stopIds);
  const stopStrings = (opts.stopStrings ?? []).filter((x) => x.length > 0);
  if (stopStrings.length && !opts.decode) throw new Error('stop strings need the tokenizer (decode)');
  if (opts.compactFinished === false) throw new Error('continuous batching moves the rows still running (compactFinished cannot be false)');
  const budget = decodeWeightBudget(model, opts);
  const { gpu } = model;
  const trim = () => {
    gpu.flush(); // nothing recorded may still name a buffer that trim destroys
    gpu.pool.trim();
  };
  if (opts.trimAfterPrefill) trim();
  const prefixGroupSize = G > 1 && (opts.prefixKv ?? 'shared') === 'shared' ? G : undefined;
  const st = new DecodeState(model, prompts, {
    maxNewTokens: opts.maxNewTokens, lora: opts.lora, kvPrecision: opts.kvPrecision, fusedWeightBudget: budget, rowBase: opts.rowBase, prefixGroupSize, capacity: cap,
  });
  const { lens, maxNew } = st.len;
  const V = model.config.vocabSize;
  const W = Math.max(1, opts.checkEvery ?? DEFAULT_CHECK_EVERY);
  const base = opts.rowBase ?? 0;
  try {
    st.prefill(prompts.slice(0, cap), G);
    let joinedDraws = cap;
    if (opts.trimAfterPrefill) trim();

    // the sampled ids since the last readback (admitted rows' first draws, then each step's active slots), which row
    // and step each entry is; a window's positions, lengths and write slots per step and slot; the slots' row words
    // then counter offsets
    let ids!: Tensor;
    let posWin!: Tensor;
    let lenWin!: Tensor;
    let slotWin: Tensor | null = null;
    let ctl!: Tensor;
    st.prepareDecode(() => {
      ids = st.alloc([(W + 1) * cap], 'decode.ids_window', 'u32');
      posWin = st.alloc([W, cap], 'decode.position_window', 'u32');
      lenWin = st.alloc([W, cap], 'decode.length_window', 'u32');
      if (st.slotCur) slotWin = st.alloc([W, cap], 'decode.cache_slot_window', 'u32');
      ctl = st.alloc([2 * cap], 'decode.row_words_and_counters', 'u32');
    });
    const tokens: number[][] = Array.from({ length: R }, () => []);
    let entries: { row: number; step: number }[] = [];
    // slots from .. from + n - 1 of `next` into the window, with their rows and the step each drew
    const record = (from: number, n: number, step: (slot: number) => number) => {
      gpu.copy(st.next, ids, n, from, entries.length);
      for (let i = from; i < from + n; i++) entries.push({ row: st.slotRow[i], step: step(i) });
    };
    st.sampleNext(st.hLast, opts, 0);
    record(0, cap, () => 0);
    let nextRow = cap;
    let steps = 1;
    for (;;) {
      // a window of decode steps: every running row has sampled `next` tokens; it ends before the first reaches maxNew
      const A = st.active;
      const rows = st.slotRow;
      const next = rows.map((r) => tokens[r].length + entries.filter((e) => e.row === r).length);
      const w = Math.min(W, ...next.map((t) => maxNew - t));
      const pos = new Uint32Array(w * cap);
      const len = new Uint32Array(w * cap);
      const slot = slotWin ? new Uint32Array(w * cap) : null;
      for (let k = 0; k < w; k++) {
        rows.forEach((r, i) => {
          // the input token of step k is the row's token next[i] - 1 + k, at position lens[r] + next[i] - 1 + k
          pos[k * cap + i] = lens[r] + next[i] - 1 + k;
          len[k * cap + i] = lens[r] + next[i] + k;
          if (slot) slot[k * cap + i] = st.prefixSlot(r, next[i] - 1 + k);
        });
      }
      gpu.write(posWin, pos);
      gpu.write(lenWin, len);
      if (slotWin && slot) gpu.write(slotWin, slot);
      const words = rows.map((r) => base + r);
      gpu.write(ctl, [...words, ...next]);
      for (let k = 0; k < w; k++) {
        gpu.copy(posWin, st.posCur, A, k * cap, 0);
        gpu.copy(lenWin, st.lenCur, A, k * cap, 0);
        if (slotWin && st.slotCur) gpu.copy(slotWin, st.slotCur, A, k * cap, 0);
        st.step(st.next);
        // slot i draws its row's token next[i] + k: counter k plus the slot's offset next[i]
        st.sampleEach(st.f, opts, k, words, next, ctl);
        record(0, A, (i) => next[i] + k);
        steps++;
      }

      // readback: the rows that finished (a stop id or string, or maxNew tokens) leave
      const raw = await gpu.readU32(ids, entries.length);
      entries.forEach((e, i) => {
        if (raw[i] >= V) throw sampledIdError(raw[i], e.step, e.row, V);
        tokens[e.row][e.step] = raw[i];
      });
      entries = [];
      const finished = (row: number) =>
        tokens[row].length >= maxNew || cutRows(Uint32Array.from(tokens[row]), 1, tokens[row].length, stop, stopStrings, opts.decode)[0].finish === 'stop';
      const keep = st.slotRow.flatMap((row, s) => (finished(row) ? [] : [s]));
      if (keep.length < st.active) st.compact(keep);
      // the next prompts' groups into the freed slots, one prefill per group
      let joined = false;
      while (nextRow < R && st.admissible(G) > 0) {
        const from = st.active;
        const hidden = st.admit(prompts.slice(nextRow, nextRow + G), nextRow, G);
        st.sampleJoined(hidden, opts, from);
        gpu.release(hidden);
        record(from, G, () => 0);
        joinedDraws += G;
        nextRow += G;
        joined = true;
      }
      if (joined) trim(); // the prefills' buffers are not held while the rows decode
      if (st.active === 0) break;
    }
    if (opts.stats) {
      opts.stats.prefillTokens = st.prefillTokens;
      opts.stats.decodeRowSteps = joinedDraws + st.rowSteps;
    }
    const res = tokens.map((t) => cutRows(Uint32Array.from(t), 1, t.length, stop, stopStrings, opts.decode)[0]);
    return {
      tokens: res.map((r) => r.tokens),
      finish: res.map((r): FinishReason => r.finish),
      texts: stopStrings.length ? res.map((r) => r.text!) : undefined,
      steps,
    };
  } finally {
    st.release();
  }
}
