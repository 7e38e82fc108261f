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
// The decode step is generate.ts's unfused path (separate q/k/v and gate/up projections) built from the
// same per-layer pieces of GpuTransformer (embed, linear, qkNormRope, attentionDims, postNorm, gate), so
// every family and weight format generate.ts decodes, this decodes the same way. The sampled ids are read back every step,
// since the host must see each token to find the end of a turn.

import type { Tensor } from '../gpu/tensor';
import { embeddingForward } from '../gpu/kernels/embedding';
import { rmsnormForward } from '../gpu/kernels/rmsnorm';
import { attentionDecode, kvCacheWrite } from '../gpu/kernels/attention';
import { addRmsnormForward } from '../gpu/kernels/add_rmsnorm';
import { sample } from '../gpu/kernels/sample';
import type { GpuTransformer } from './transformer';
import type { LoraModule, LoraSet } from './lora';
import type { SamplingOptions } from './generate';
import { PACK_MULTIPLE } from './logprobs';

export interface TurnGenerateOptions extends SamplingOptions {
  /** completion budget per row: the model's tokens and the inserted ones together */
  maxNewTokens: number;
  /** token ids that end a turn (kept in the completion as the model's token) */
  stopIds: readonly number[];
  lora: LoraSet | null;
  /** per row: tokens inserted before the model's first token (an environment's first observation) */
  initial?: readonly (readonly number[])[];
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
  const { gpu, config: c } = model;
  const B = prompts.length;
  if (B === 0) return { rows: [], steps: 0 };
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty: generation needs at least one token (e.g. BOS)`);
  });
  if (!(opts.maxNewTokens >= 1)) throw new Error(`max new tokens must be at least 1, got ${opts.maxNewTokens}`);
  const lens = prompts.map((p) => p.length);
  const longest = Math.max(...lens);
  const maxNew = Math.min(opts.maxNewTokens, c.maxPositionEmbeddings - longest);
  if (maxNew < 1) throw new Error(`prompt of ${longest} tokens leaves no room: the model's context is ${c.maxPositionEmbeddings} tokens`);
  const Tp = Math.min(c.maxPositionEmbeddings, Math.ceil(longest / PACK_MULTIPLE) * PACK_MULTIPLE);
  const TMAX = Math.max(Tp, Math.ceil((longest + maxNew) / PACK_MULTIPLE) * PACK_MULTIPLE);
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const tensors: Tensor[] = [];
  const alloc = (shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32') => {
    const t = gpu.tensor(shape, label, dtype);
    tensors.push(t);
    return t;
  };
  const kCache: Tensor[] = [];
  const vCache: Tensor[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    kCache.push(alloc([B, TMAX, KVD], `layer${l}.k_cache (turns)`));
    vCache.push(alloc([B, TMAX, KVD], `layer${l}.v_cache (turns)`));
  }
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
    const ids = new Uint32Array(B * Tp);
    const pos = new Uint32Array(B * Tp);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Tp; t++) {
        ids[b * Tp + t] = t < lens[b] ? prompts[b][t] : 0;
        pos[b * Tp + t] = t;
      }
    }
    const idsT = alloc([B * Tp], 'prefill.ids', 'u32');
    const posT = alloc([B * Tp], 'prefill.positions', 'u32');
    gpu.write(idsT, ids);
    gpu.write(posT, pos);
    const prefillDims = { B, T: Tp, NKV: c.numKvHeads, HS: c.headDim, TMAX };
    // one layer's activations at a time: each layer's k/v go into the caches before it is released
    const act = model.forward(idsT, posT, B, Tp, opts.lora, null, {
      onLayer: (l, saved) => {
        kvCacheWrite(gpu, kCache[l], saved.kr, posT, prefillDims);
        kvCacheWrite(gpu, vCache[l], saved.v, posT, prefillDims);
      },
    });
    const lastIdx = alloc([B], 'prefill.last_index', 'u32');
    gpu.write(lastIdx, lens.map((n, b) => b * Tp + n - 1));
    const hLast = alloc([B, C], 'prefill.last_hidden');
    embeddingForward(gpu, hLast, lastIdx, act.f);
    model.releaseActivations(act);

    const logits = alloc([B, c.vocabSize], 'decode.logits');
    const next = alloc([B], 'decode.ids', 'u32');
    const tokIn = alloc([B], 'decode.input_ids', 'u32');
    const posCur = alloc([B], 'decode.positions', 'u32');
    const lenCur = alloc([B], 'decode.lengths', 'u32');
    const x = alloc([B, C], 'decode.x');
    const a = alloc([B, C], 'decode.a');
    const rstd = alloc([B], 'decode.rstd');
    const q = alloc([B, QD], 'decode.q');
    const k = alloc([B, KVD], 'decode.k');
    const v = alloc([B, KVD], 'decode.v');
    const qr = alloc([B, QD], 'decode.qr');
    const kr = alloc([B, KVD], 'decode.kr');
    const att = alloc([B, QD], 'decode.att');
    const o = alloc([B, C], 'decode.o');
    const xm = alloc([B, C], 'decode.xm');
    const g = alloc([B, H], 'decode.g');
    const u = alloc([B, H], 'decode.u');
    const sw = alloc([B, H], 'decode.s');
    const f = alloc([B, C], 'decode.f');
    const merged = opts.lora ? model.mergeLora(opts.lora) : null;
    if (merged) tensors.push(...merged.values());
    // a projection with LoRA merged into a copy of its weight; unmerged (16-bit base) it adds LoRA itself
    const lin = (y: Tensor, xIn: Tensor, l: number, m: LoraModule) => {
      const r = model.linear(y, xIn, l, m, opts.lora, null, merged);
      if (r) gpu.release(r.h, r.xd);
    };
    let step = 0;
    // each row draws with its own counter, the position of the token being drawn: a row's tokens do not
    // depend on when the other rows' tool calls returned (rows advance at different decode steps)
    const sampleRead = async (hidden: Tensor, positions: ArrayLike<number>): Promise<Uint32Array> => {
      const lg = model.lmHeadInto(logits, hidden);
      sample(gpu, next, lg, { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, seed: opts.seed, counter: 0, rowCounters: positions });
      step++;
      return gpu.readU32(next, B);
    };
    const first = await sampleRead(hLast, lens);
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
      gpu.write(posCur, posArr);
      gpu.write(lenCur, lenArr);
      model.embed(x, tokIn); // Gemma scales the embedding; a 16-bit table is read packed
      // the same per-layer pieces as generate.ts's unfused decode: q/k norms, Gemma's sandwich norms and
      // GeGLU, sliding windows, its own RoPE frequencies per layer, and 16-bit weights with LoRA unmerged
      const off = model.normOffset;
      rmsnormForward(gpu, a, rstd, x, model.w('model.layers.0.input_layernorm.weight'), c.rmsNormEps, off);
      for (let l = 0; l < c.numLayers; l++) {
        const pre = `model.layers.${l}`;
        lin(q, a, l, 'q_proj');
        lin(k, a, l, 'k_proj');
        lin(v, a, l, 'v_proj');
        const qkRstd = model.qkNormRope(qr, kr, q, k, posCur, l);
        if (qkRstd) gpu.release(qkRstd.rstdQ, qkRstd.rstdK);
        const dims = { B, T: 1, NKV: c.numKvHeads, HS: c.headDim, TMAX };
        kvCacheWrite(gpu, kCache[l], kr, posCur, dims);
        kvCacheWrite(gpu, vCache[l], v, posCur, dims);
        const { scale, window } = model.attentionDims(B, 1, l);
        attentionDecode(gpu, att, qr, kCache[l], vCache[l], lenCur, { B, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, TMAX, scale, window });
        lin(o, att, l, 'o_proj');
        const postO = c.sandwichNorms ? model.postNorm(o, `${pre}.post_attention_layernorm.weight`) : null;
        addRmsnormForward(gpu, xm, a, rstd, x, postO?.y ?? o, model.w(model.mlpNormName(l)), c.rmsNormEps, off);
        if (postO) gpu.release(postO.y, postO.rstd);
        lin(g, a, l, 'gate_proj');
        lin(u, a, l, 'up_proj');
        model.gate(sw, g, u);
        lin(o, sw, l, 'down_proj');
        const postD = c.sandwichNorms ? model.postNorm(o, `${pre}.post_feedforward_layernorm.weight`) : null;
        const last = l === c.numLayers - 1;
        addRmsnormForward(gpu, x, last ? f : a, rstd, xm, postD?.y ?? o,
          model.w(last ? 'model.norm.weight' : `model.layers.${l + 1}.input_layernorm.weight`), c.rmsNormEps, off);
        if (postD) gpu.release(postD.y, postD.rstd);
      }
      const sampled = await sampleRead(f, posArr.map((p, b) => (fed[b] ? p + 1 : 0)));
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
    gpu.release(...tensors);
  }
}
