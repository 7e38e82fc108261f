// Shared-prefix packing for training (as Prefix Grouper, "Efficient GRPO Training through Shared-Prefix Forward",
// 2025; config share_prompt_prefix_training): the rows of one group share their prompt, so the prompt is forwarded
// once and the group's completions attend to it. Adjacent sequence rows with
// the same prompt p (length P) become one packed row
//
//   [ p_0 .. p_{P-2} | p_{P-1} c1_0 .. c1_{L1-1} | p_{P-1} c2_0 .. | ... ]  then right padding
//     positions 0..P-2 | P-1 .. P-1+L1            | P-1 ..          (each segment restarts at P-1)
//
// The prompt's last token opens every segment (one token per completion, computed G times) so that each
// completion's first token has a predicting position of its own. Attention gets the mask
// (prefix_end, seg_start) = (P-1, the segment's first index) for segment tokens and (0, 0) for prefix and
// padding tokens (src/gpu/kernels/attention.ts AttentionSegments): a segment's token sees the prefix and its own
// segment, as its row would alone, so every per-token output equals the unshared row's; the backward sums the
// G segments' gradients into the prefix's keys and values (and from there into everything below). Positions
// are explicit, so RoPE sees each token at its position in its own row, and a sliding window counts positions
// under the mask (Gemma 3). Only attention may mix tokens: Qwen3.5's linear-attention layers and Gemma 4 are out.

import type { GpuRuntime } from '../gpu/runtime';
import { PACK_MULTIPLE, type PackedBatch, type SequenceRow } from './logprobs';

/** Host arrays of a shared-prefix packing (packSharedPrefix uploads them). */
export interface SharedPrefixHost {
  B: number;
  T: number;
  ids: Uint32Array;
  positions: Uint32Array;
  targets: Uint32Array;
  /** (B*T*2): (prefix_end, seg_start) per token, as f32 integers (the attention kernels' format) */
  segments: Float32Array;
  /** per sequence row: its packed row and the index in it of the position predicting its completion token 0 */
  row: number[];
  start: number[];
}

/** Runs of adjacent rows with equal prompts: [first, end) per run. */
export function promptRuns(rows: readonly SequenceRow[]): [number, number][] {
  const runs: [number, number][] = [];
  rows.forEach((r, i) => {
    const last = runs[runs.length - 1];
    if (last && samePrompt(rows[last[0]].prompt, r.prompt)) last[1] = i + 1;
    else runs.push([i, i + 1]);
  });
  return runs;
}

function samePrompt(a: readonly number[], b: readonly number[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

/** The packing on the host (see the top of this file). */
export function sharedPrefixHost(rows: readonly SequenceRow[], maxPositions: number): SharedPrefixHost {
  if (rows.length === 0) throw new Error('no sequences to pack');
  rows.forEach((r, i) => {
    if (r.prompt.length === 0) throw new Error(`row ${i}: the prompt is empty (it needs at least BOS)`);
    const longest = r.prompt.length + r.completion.length;
    if (longest > maxPositions) throw new Error(`a sequence of ${longest} tokens exceeds the model's ${maxPositions} positions`);
  });
  const runs = promptRuns(rows);
  const lengths = runs.map(([a, e]) => rows[a].prompt.length - 1 + rows.slice(a, e).reduce((n, r) => n + 1 + r.completion.length, 0));
  const B = runs.length;
  const T = Math.ceil(Math.max(...lengths) / PACK_MULTIPLE) * PACK_MULTIPLE;
  const ids = new Uint32Array(B * T);
  const positions = new Uint32Array(B * T);
  const targets = new Uint32Array(B * T);
  // the mask's indices are f32 integers, exact below 2^24
  if (B * T >= 2 ** 24) throw new Error(`shared-prefix packing: ${B} x ${T} tokens is past 2^24; use smaller passes`);
  const segments = new Float32Array(2 * B * T);
  const row = new Array<number>(rows.length);
  const start = new Array<number>(rows.length);
  runs.forEach(([a, e], b) => {
    const prompt = rows[a].prompt;
    const pe = prompt.length - 1;
    const o = b * T;
    for (let t = 0; t < pe; t++) {
      ids[o + t] = prompt[t];
      positions[o + t] = t;
      targets[o + t] = prompt[t + 1];
    }
    let t = pe;
    for (let i = a; i < e; i++) {
      const seq = [prompt[pe], ...rows[i].completion];
      row[i] = b;
      start[i] = t;
      for (let j = 0; j < seq.length; j++) {
        ids[o + t + j] = seq[j];
        positions[o + t + j] = pe + j;
        targets[o + t + j] = j + 1 < seq.length ? seq[j + 1] : 0;
        segments[2 * (o + t + j)] = pe;
        segments[2 * (o + t + j) + 1] = t;
      }
      t += seq.length;
    }
    // padding: positions continue (as packRows's), plain causal mask; nothing real sees it
    for (let p = t; p < T; p++) positions[o + p] = pe + (p - t);
  });
  return { B, T, ids, positions, targets, segments, row, start };
}

/** Tokens a packing forwards: the real (non-padding) tokens of its rows, a group's prompt counted once. */
export function sharedPrefixTokens(rows: readonly SequenceRow[]): number {
  return promptRuns(rows).reduce((n, [a, e]) => n + rows[a].prompt.length - 1 + rows.slice(a, e).reduce((m, r) => m + 1 + r.completion.length, 0), 0);
}

/** The rows packed with their group's prompt once (see the top of this file), on the GPU. */
export function packSharedPrefix(gpu: GpuRuntime, rows: SequenceRow[], maxPositions: number): PackedBatch {
  const h = sharedPrefixHost(rows, maxPositions);
  return {
    B: h.B,
    T: h.T,
    rows,
    ids: gpu.upload(h.ids, [h.B * h.T], 'batch.ids', 'u32'),
    hostIds: h.ids,
    positions: gpu.upload(h.positions, [h.B * h.T], 'batch.positions', 'u32'),
    targets: gpu.upload(h.targets, [h.B * h.T], 'batch.targets', 'u32'),
    shared: { segments: gpu.upload(h.segments, [2 * h.B * h.T], 'batch.segments'), row: h.row, start: h.start },
  };
}
