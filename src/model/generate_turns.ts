// Batched multi-turn generation: every row decodes together on the GPU, one token per step; when a row's
// turn ends (a stop token, or the caller's marker such as "</tool_call>"), that row pauses while the
// caller works out what comes next (a tool call, an environment step: asynchronous, other rows keep
// decoding), then the returned tokens are appended to THAT row's KV cache and it continues. Rows at
// different turns coexist.
//
// Appending to one row's cache: each decode step feeds every row one token at its own position, so a row
// with inserted tokens pending is fed those (teacher-forced: its sampled token is discarded) while the
// other rows feed their sampled tokens. An insertion of K tokens costs that row K steps of the batched
// decode and nobody else anything; nothing is re-prefilled. A paused or finished row is fed a dummy token
// at its next free position, which the real token overwrites later (attention never reads past a row's
// length), so the batch shape never changes.
//
// The caches, the prefill and the decode step are generate.ts's (decode_state.ts), on its unfused path
// (separate q/k/v and gate/up projections), so every family, weight format and KV cache format generate.ts
// decodes, this decodes the same way. The sampled ids are read back every step, since the host must see
// each token to find the end of a turn.

import type { Tensor } from '../gpu/tensor';
import type { GpuTransformer } from './transformer';
import { checkSampledIds } from './sampled_ids';
import type { LoraSet } from './lora';
import { DecodeState, type SamplingOptions } from './decode_state';
import type { KvPrecision } from './kv_storage';

export interface TurnGenerateOptions extends SamplingOptions {
  /** completion budget per row: the model's tokens and the inserted ones together */
  maxNewTokens: number;
  /** token ids that end a turn (kept in the completion as the model's token) */
  stopIds: readonly number[];
  lora: LoraSet | null;
  /** per row: tokens inserted before the model's first token (an environment's first observation) */
  initial?: readonly (readonly number[])[];
  /** the KV caches' storage (config kv_precision, kv_storage.ts; default 'auto') */
  kvPrecision?: KvPrecision;
}

export type TurnEnd = 'stop' | 'marker';

export interface TurnHooks {
  /** Whether row b's current turn ends with its model tokens so far (e.g. they end with a tool call's
   * closing marker). Called after every sampled token that is not a stop id. */
  endsTurn(b: number, turnIds: readonly number[]): boolean;
  /** Row b's turn ended: resolve with the tokens to append before the model continues, or null to end the row. */
  onTurnEnd(b: number, turnIds: readonly number[], reason: TurnEnd): Promise<number[] | null>;
}

export interface TurnRow {
  /** completion tokens: the model's and the inserted ones, in order */
  ids: number[];
  /** 1 for a token the model sampled, 0 for an inserted one (TRL's tool_mask) */
  modelMask: number[];
  /** 'length': the row ran out of budget (also when an insertion did not fit) */
  finish: 'stop' | 'length';
}

export interface TurnGeneration {
  rows: TurnRow[];
  /** decode steps run */
  steps: number;
}

interface RowState {
  /** prompt + completion so far */
  seq: number[];
  mask: number[];
  promptLen: number;
  /** positions written into the KV cache */
  cached: number;
  /** tokens of the current turn sampled by the model */
  turn: number[];
  waiting: boolean;
  done: boolean;
  finish: 'stop' | 'length';
}

export async function generateTurns(model: GpuTransformer, prompts: number[][], opts: TurnGenerateOptions, hooks: TurnHooks): Promise<TurnGeneration> {
  const { gpu } = model;
  const B = prompts.length;
  if (B === 0) return { rows: [], steps: 0 };
  // generate.ts's unfused decode step (every row is fed its own token and position)
  const st = new DecodeState(model, prompts, { maxNewTokens: opts.maxNewTokens, lora: opts.lora, kvPrecision: opts.kvPrecision, fusedWeightBudget: 0, cacheLabel: ' (turns)' });
  const { lens, maxNew, TMAX } = st.len;
  const stop = new Set(opts.stopIds);
  const initial = prompts.map((_, b) => [...(opts.initial?.[b] ?? [])].slice(0, maxNew - 1));
  const rows: RowState[] = prompts.map((p, b) => ({ seq: [...p, ...initial[b]], mask: initial[b].map(() => 0), promptLen: p.length, cached: p.length, turn: [], waiting: false, done: false, finish: 'length' }));
  const pending = new Set<Promise<void>>();
  let firstError: unknown = null;

  /** A model token for row b: record it, and end the turn or the row when it says so. */
  const accept = (b: number, id: number) => {
    const r = rows[b];
    r.seq.push(id);
    r.mask.push(1);
    r.turn.push(id);
    const isStop = stop.has(id);
    const full = r.seq.length - r.promptLen >= maxNew;
    if (!isStop && !hooks.endsTurn(b, r.turn)) {
      if (full) r.done = true; // finish 'length'
      return;
    }
    const turn = r.turn;
    r.turn = [];
    r.waiting = true;
    const p = hooks
      .onTurnEnd(b, turn, isStop ? 'stop' : 'marker')
      .then((insert) => {
        r.waiting = false;
        if (insert === null) {
          r.done = true;
          r.finish = 'stop';
          return;
        }
        const room = maxNew - (r.seq.length - r.promptLen);
        if (insert.length >= room) {
          // no room for the insertion and a model token after it
          r.seq.push(...insert.slice(0, Math.max(room, 0)));
          r.mask.push(...insert.slice(0, Math.max(room, 0)).map(() => 0));
          r.done = true;
          r.finish = 'length';
          return;
        }
        // (an empty insertion: the row's own last token is still uncached, so it simply continues)
        r.seq.push(...insert);
        r.mask.push(...insert.map(() => 0));
      })
      .catch((e) => {
        r.waiting = false;
        r.done = true;
        firstError ??= e;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };

  try {
    // ---- prefill the prompts (the training forward), then their k/v into the caches
    st.prefill(prompts);
    let tokIn!: Tensor;
    st.prepareDecode(() => {
      tokIn = st.alloc([B], 'decode.input_ids', 'u32');
    });
    let step = 0;
    // each row draws with its own counter, the position of the token being drawn: a row's tokens do not
    // depend on when the other rows' tool calls returned (rows advance at different decode steps)
    const sampleRead = async (hidden: Tensor, positions: ArrayLike<number>): Promise<Uint32Array> => {
      st.sampleNext(hidden, opts, 0, positions);
      step++;
      const ids = await gpu.readU32(st.next, B);
      checkSampledIds(ids, B, model.config.vocabSize, step - 1);
      return ids;
    };
    const first = await sampleRead(st.hLast, lens);
    // a row with an initial insertion feeds it first; its sample after the prompt is discarded
    for (let b = 0; b < B; b++) if (initial[b].length === 0) accept(b, first[b]);

    const tok = new Uint32Array(B);
    const posArr = new Uint32Array(B);
    const lenArr = new Uint32Array(B);
    for (;;) {
      if (firstError) throw firstError;
      const fed: boolean[] = rows.map((r) => !r.done && !r.waiting && r.cached < r.seq.length);
      if (!fed.some(Boolean)) {
        if (pending.size === 0) break;
        await Promise.race(pending); // every live row waits on its tool or environment
        continue;
      }
      for (let b = 0; b < B; b++) {
        const r = rows[b];
        // a row not fed this step writes a dummy at its next free position (overwritten before it is read)
        const p = Math.min(r.cached, TMAX - 1);
        tok[b] = fed[b] ? r.seq[r.cached] : 0;
        posArr[b] = p;
        lenArr[b] = p + 1;
      }
      gpu.write(tokIn, tok);
      gpu.write(st.posCur, posArr);
      gpu.write(st.lenCur, lenArr);
      st.step(tokIn);
      const sampled = await sampleRead(st.f, posArr.map((p, b) => (fed[b] ? p + 1 : 0)));
      for (let b = 0; b < B; b++) {
        if (!fed[b]) continue;
        const r = rows[b];
        r.cached++;
        // the sample after a row's last known token is the model's next token; after a forced one that has
        // more behind it, it is discarded
        if (r.cached === r.seq.length) accept(b, sampled[b]);
      }
    }
    if (firstError) throw firstError;
    return {
      rows: rows.map((r) => ({ ids: r.seq.slice(r.promptLen), modelMask: r.mask, finish: r.finish })),
      steps: step,
    };
  } finally {
    // a hook still running must not touch released tensors: it only touches host state
    st.release();
  }
}
