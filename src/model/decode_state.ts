// What batched generation (generate.ts) and multi-turn generation (generate_turns.ts) share: the lengths,
// the KV caches, the prefill that fills them, the decode step's buffers and one decode step through every
// layer, and the LM head with sampling into `next`. Each caller drives its own loop: generate.ts runs a
// fixed schedule of positions and reads the ids back every few steps; generate_turns.ts feeds each row its
// own token and position and reads every step.
//
// Rows that finish leave (compact()): generate.ts hands over the slots still running at each readback; the rows
// behind the first finished slot are moved into the holes (each layer's k/v cache rows, the linear layers' states,
// the next input token), so that every later step runs with M = the active rows: the row-wise buffers are read
// through views of their first `active` rows, the caches' kernels are dispatched for `active` rows, and sampling
// draws each row with its row word in the full batch (sample.ts rowIndex), so the tokens are the uncompacted
// batch's bit for bit on adapters whose kernels do not depend on M (software adapters; see generate.ts).
//
// Continuous batching (generate_continuous.ts): with a capacity below the rows, the state holds `capacity` slots
// (caches, shared-layout blocks, linear states and step buffers sized for them; the lengths are every row's):
// prefill() fills them with the first rows, and admit() brings a later group of rows into the slots after the
// active ones once rows left (its prompt prefilled into those slots' caches, or into a prompt block and own blocks
// that the leaving rows freed in the shared layout), drawing their first tokens with sampleJoined() and every step's
// with sampleEach() (a row word and a counter per slot).
//
// KV caches: one k and one v cache per layer, (B, L, NKV * HS) in the format kv_precision resolves to
// (kv_storage.ts: f32, or 16-bit pairs in u32). With prefixGroupSize G (shared prompt prefix, generate.ts prefixKv
// 'shared') a full-attention layer's k and v caches are instead one block of B / G * Tp + B * maxNew slots: each
// group's prompt once (prefilled once, written once), then each row's own block of its new tokens; the decode
// attention reads a row's positions below its prompt length from its group's block and the rest from its own
// block, through the per-row table prefixRows (B, 3): prompt length, group block's first slot, own block's first
// slot (attention_decode*.wgsl override PREFIX), and the decode step writes each row's token at its slot (slotCur;
// rope_kv_cache_write* override SLOTS, or kv_cache_write into the block seen as one row). Compaction moves a row by
// moving its table entry: the shared layers' k/v never move. A sliding-window layer whose window is shorter than the
// generation's TMAX positions keeps a ring of `window` slots (position j in slot j % window), since a query
// never sees further back; the decode attention visits the same positions in the same order, so the result
// equals the full-length cache's bit for bit. Qwen3.5's linear layers keep no KV cache: a conv state and a
// recurrent state per row (qwen35_linear_attention.ts), constant in the sequence length; its full layers keep
// KV caches as every other family.

import { outputGateForward, splitQuery } from '../gpu/kernels/qwen35_ops';
import { allocGdnDecodeState, gdnDecodeStateBytes, gdnDecodeStep, type GdnDecodeState } from './qwen35_linear_attention';
import { isLinearAttentionLayer } from './weights_qwen35';
import type { Tensor } from '../gpu/tensor';
import type { GpuRuntime } from '../gpu/runtime';
import { embeddingForward } from '../gpu/kernels/embedding';
import { rmsnormForward } from '../gpu/kernels/rmsnorm';
import { allocKvCache, attentionDecode, kvCacheWrite, kvValuesPerElement } from '../gpu/kernels/attention_decode';
import { addRmsnormForward } from '../gpu/kernels/add_rmsnorm';
import { ropeKvCacheWrite } from '../gpu/kernels/rope_kv_cache_write';
import { swigluPackedForward } from '../gpu/kernels/swiglu_packed';
import { matmul } from '../gpu/kernels/matmul';
import { sample } from '../gpu/kernels/sample';
import { PREFIX_ROW_WORDS, RING_SKIP, type KvFormat } from '../ops/attention';
import type { ModelConfig } from './config';
import { gemma4Layers } from './gemma4_config';
import type { GpuTransformer } from './transformer';
import type { LoraModule, LoraSet } from './lora';
import { PACK_MULTIPLE } from './logprobs';
import { resolveKvPrecision, type KvPrecision } from './kv_storage';
import type { Format16 } from './pack16';

export interface SamplingOptions {
  /** 0 = greedy */
  temperature: number;
  /** <= 0: no top-k */
  topK: number;
  /** >= 1: no top-p */
  topP: number;
  seed: number;
}

export interface DecodeSetupOptions {
  maxNewTokens: number;
  lora: LoraSet | null;
  /** the KV caches' storage (config kv_precision; default 'auto') */
  kvPrecision?: KvPrecision;
  /** bytes that concatenated q/k/v and gate/up weights may take for fused decode projections; 0: unfused */
  fusedWeightBudget: number;
  /** appended to the caches' labels */
  cacheLabel?: string;
  /** row b draws with Philox row word rowBase + b (default 0: b), so that a rollout generated in several batches
   * draws each row as one batch of all its rows would (rollout.ts: rowBase = the batch's first row) */
  rowBase?: number;
  /** shared prompt prefix (generate.ts prefixKv 'shared'): rows come in groups of this many identical prompts, and
   * every full-attention layer keeps each group's prompt k/v once and each row's new tokens in a block of its own
   * (sharedPrefixSlots; see the header); sliding-window rings and Qwen3.5's linear states stay per row. Unset or 1:
   * one full-length cache per row. Not Gemma 4 (its own decode state). */
  prefixGroupSize?: number;
  /** continuous batching (generate_continuous.ts): the slots, rows decoded at once, when fewer than the prompts' rows
   * (default: every row). prefill() fills them with the first `capacity` rows; admit() brings later rows into slots
   * that rows which finished left (the caches, the shared layout's blocks and the linear states are sized for
   * `capacity` rows; the lengths are every row's) */
  capacity?: number;
}

/** Lengths of a generation: B rows, prompt lengths, new tokens, the prefill's and the caches' positions. */
export interface GenerationLengths {
  B: number;
  lens: number[];
  longest: number;
  maxNew: number;
  /** prefill length, rounded up like packRows so that calls with slightly different lengths reuse buffers */
  Tp: number;
  /** positions a full-length cache holds */
  TMAX: number;
}

export function generationLengths(c: ModelConfig, prompts: number[][], maxNewTokens: number): GenerationLengths {
  const B = prompts.length;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`prompt ${i} is empty: generation needs at least one token (e.g. BOS)`);
  });
  if (!(maxNewTokens >= 1)) throw new Error(`max new tokens must be at least 1, got ${maxNewTokens}`);
  const lens = prompts.map((p) => p.length);
  const longest = Math.max(...lens);
  const maxNew = Math.min(maxNewTokens, c.maxPositionEmbeddings - longest);
  if (maxNew < 1) throw new Error(`prompt of ${longest} tokens leaves no room: the model's context is ${c.maxPositionEmbeddings} tokens`);
  // padding positions are never attended to
  const Tp = Math.min(c.maxPositionEmbeddings, Math.ceil(longest / PACK_MULTIPLE) * PACK_MULTIPLE);
  const TMAX = Math.max(Tp, Math.ceil((longest + maxNew) / PACK_MULTIPLE) * PACK_MULTIPLE);
  return { B, lens, longest, maxNew, Tp, TMAX };
}

/** Slots of layer l's KV cache for a generation of TMAX positions: its sliding window when shorter (a ring). */
export function kvCacheSlots(c: ModelConfig, layer: number, TMAX: number): { slots: number; ring: boolean } {
  const w = c.layerTypes?.[layer] === 'sliding_attention' ? c.slidingWindow ?? 0 : 0;
  return w > 0 && w < TMAX ? { slots: w, ring: true } : { slots: TMAX, ring: false };
}

/** Bytes of every layer's k and v caches for B rows of TMAX positions in `format` (what the memory plan counts);
 * Qwen3.5's linear layers count their conv and recurrent states instead (f32, constant in TMAX). */
export function kvCacheBytes(c: ModelConfig, B: number, TMAX: number, format: KvFormat): number {
  if (c.gemma4) {
    // Gemma 4: only the non-shared layers own caches (gemma4_gpu.ts), each of its own kv heads and head size
    let values = 0;
    gemma4Layers(c).forEach((ly, l) => {
      if (!ly.shared) values += kvCacheSlots(c, l, TMAX).slots * ly.NKV * ly.HS;
    });
    return (2 * B * values * 4) / kvValuesPerElement(format);
  }
  let positions = 0;
  for (let l = 0; l < c.numLayers; l++) if (!isLinearAttentionLayer(c, l)) positions += kvCacheSlots(c, l, TMAX).slots;
  return (2 * B * positions * c.numKvHeads * c.headDim * 4) / kvValuesPerElement(format) + gdnDecodeStateBytes(c, B);
}

/** Slots of a full-attention layer's cache in the shared-prefix layout of a generation whose rows come in groups
 * of G: B / G prompt blocks of Tp slots (the prefill's length), then B own blocks of maxNew slots (B: the rows
 * decoded at once, `rows`, by default every row). */
export function sharedPrefixSlots(len: GenerationLengths, G: number, rows = len.B): number {
  return (rows / G) * len.Tp + rows * len.maxNew;
}

/** kvCacheBytes with the shared-prefix layout on every full-attention layer (rings and linear layers as
 * kvCacheBytes): what a generation with prefixGroupSize G holds, and what the memory plan counts when
 * share_prompt_prefix applies. Not Gemma 4. */
export function kvCacheBytesShared(c: ModelConfig, len: GenerationLengths, G: number, format: KvFormat): number {
  if (c.gemma4) throw new Error('kvCacheBytesShared: Gemma 4 keeps one cache per row');
  let slots = 0;
  for (let l = 0; l < c.numLayers; l++) {
    if (isLinearAttentionLayer(c, l)) continue;
    const { slots: s, ring } = kvCacheSlots(c, l, len.TMAX);
    slots += ring ? len.B * s : sharedPrefixSlots(len, G);
  }
  return (2 * slots * c.numKvHeads * c.headDim * 4) / kvValuesPerElement(format) + gdnDecodeStateBytes(c, len.B);
}

/** The format the model's frozen matrices are stored in (f32 when none is packed). */
function baseFormat(model: GpuTransformer): 'f32' | Format16 {
  for (const f of model.formats.values()) return f;
  return 'f32';
}

interface LayerCache {
  k: Tensor;
  v: Tensor;
  slots: number;
  ring: boolean;
  /** the shared-prefix layout: k and v are (slots, NKV * HS), read through prefixRows */
  shared?: boolean;
}

/** One layer's concatenated decode weights (null: that group runs as separate projections). */
interface FusedLayer {
  /** [Wq; Wk; Wv] (QD + 2 KVD, C), LoRA merged where it applies */
  qkv: Tensor | null;
  /** [bq; bk; bv] with attention biases */
  qkvBias: Tensor | null;
  /** [Wgate; Wup] (2H, C) */
  gateUp: Tensor | null;
}

/** A generation's device state, from the prefilled caches to the decode step. Release with release(). */
export class DecodeState {
  readonly gpu: GpuRuntime;
  readonly len: GenerationLengths;
  readonly kvFormat: KvFormat;
  private readonly tensors: Tensor[] = [];
  private readonly caches: LayerCache[] = [];
  /** the last prompt token's final hidden state of each row (B, C), after prefill() */
  hLast!: Tensor;
  /** the step's input positions and attention lengths (B) u32, written by the caller before step() */
  posCur!: Tensor;
  lenCur!: Tensor;
  /** shared prefix (prefixGroupSize > 1): the rows' groups; per step the caller writes slotCur (B) u32, each active
   * slot's cache slot of its input token (prefixSlot of its row), beside posCur */
  readonly groupSize: number = 1;
  slotCur: Tensor | null = null;
  /** shared prefix: each slot's (prompt length, group block, own block) (B, 3) u32 (attention_decode prefix_rows),
   * written at prefill and by compact(); and posCur then slotCur of the active rows (2B), for the fused writes */
  private prefixRows: Tensor | null = null;
  private posSlot: Tensor | null = null;
  /** sampled ids (B) u32, written by sampleNext() */
  next!: Tensor;
  /** the final norm's output of a decode step (B, C) */
  f!: Tensor;
  private logits!: Tensor;
  private x!: Tensor;
  private a!: Tensor;
  private rstd!: Tensor;
  private q!: Tensor;
  private k!: Tensor;
  private v!: Tensor;
  private qr!: Tensor;
  private kr!: Tensor;
  private att!: Tensor;
  private o!: Tensor;
  private xm!: Tensor;
  private g!: Tensor;
  private u!: Tensor;
  private sw!: Tensor;
  private merged: Map<string, Tensor> | null = null;
  private fused: FusedLayer[] = [];
  private qkv: Tensor | null = null;
  private gu: Tensor | null = null;
  /** Qwen3.5: each linear layer's decoding state (undefined on other layers) */
  private readonly gdn: (GdnDecodeState | undefined)[] = [];
  /** Qwen3.5 full layers: q_proj's query-and-gate output and the gated attention output of a decode step */
  private qg: Tensor | null = null;
  private attG: Tensor | null = null;
  /** rows still decoding (compact()); the decode step runs with M = active */
  active = 0;
  /** the row (of the B rows the state was made for) each active slot holds */
  slotRow: number[] = [];
  /** rows computed by decode steps so far (sum of active over step() calls) */
  rowSteps = 0;
  /** hLast's buffer, once dead (after the first draw), holds the slots' row words for sampling */
  private rowWords: Tensor | null = null;
  /** the slots' rows moved (compact()) */
  private compacted = false;
  /** slots: rows decoded at once (DecodeSetupOptions.capacity; default every row) */
  readonly cap: number;
  /** shared prefix: each row's prompt block and own block (index into the layout's B / G prompt blocks and B own
   * blocks; -1 before the row joins), and the blocks free for rows that join (continuous batching) */
  private readonly promptBlock: Int32Array;
  private readonly ownBlock: Int32Array;
  private readonly freePrompt: number[] = [];
  private readonly freeOwn: number[] = [];
  /** prompt positions the prefills computed (prefill() and admit()) */
  prefillTokens = 0;
  /** continuous batching: draws with row words and counters ((2 * cap) u32, sample.ts), allocated at first use */
  private draws: Tensor | null = null;

  constructor(readonly model: GpuTransformer, prompts: number[][], readonly opts: DecodeSetupOptions) {
    this.gpu = model.gpu;
    const c = model.config;
    this.len = generationLengths(c, prompts, opts.maxNewTokens);
    this.kvFormat = resolveKvPrecision(c, opts.kvPrecision, baseFormat(model));
    const { B: rows, TMAX } = this.len;
    // B: the slots (every row, or continuous batching's capacity)
    const B = opts.capacity ?? rows;
    if (!(Number.isInteger(B) && B >= 1 && B <= rows)) throw new Error(`DecodeState: capacity ${B} must be a whole number of slots in [1, ${rows}]`);
    this.cap = B;
    this.active = B;
    this.slotRow = Array.from({ length: B }, (_, b) => b);
    const KVD = c.numKvHeads * c.headDim;
    const GS = opts.prefixGroupSize ?? 1;
    this.promptBlock = new Int32Array(rows).fill(-1);
    this.ownBlock = new Int32Array(rows).fill(-1);
    if (GS > 1) {
      if (c.gemma4) throw new Error('DecodeState: Gemma 4 keeps one cache per row (no shared prompt prefix)');
      if (!(Number.isInteger(GS) && rows % GS === 0 && B % GS === 0)) throw new Error(`DecodeState: prefix group size ${GS} does not divide the ${rows} rows and ${B} slots`);
      this.groupSize = GS;
      for (let r = 0; r < B; r++) {
        this.promptBlock[r] = Math.floor(r / GS);
        this.ownBlock[r] = r;
      }
      this.prefixRows = this.alloc([B, PREFIX_ROW_WORDS], 'decode.prefix_rows', 'u32');
      this.slotCur = this.alloc([B], 'decode.cache_slots', 'u32');
      this.posSlot = this.alloc([2 * B], 'decode.positions_and_cache_slots', 'u32');
      this.writePrefixRows();
    }
    for (let l = 0; l < c.numLayers; l++) {
      const tag = opts.cacheLabel ?? '';
      if (isLinearAttentionLayer(c, l)) {
        // no KV cache: 1-element stand-ins keep caches[l] aligned with the layers
        const none = this.alloc([1], `layer${l}.no_kv_cache${tag}`);
        this.caches.push({ k: none, v: none, slots: 0, ring: false });
        this.gdn[l] = allocGdnDecodeState(c, B, (shape, label) => this.alloc(shape, label), `layer${l}${tag}`);
        continue;
      }
      const { slots, ring } = kvCacheSlots(c, l, TMAX);
      if (GS > 1 && !ring) {
        // the groups' prompt blocks, then the rows' own blocks, as one cache (1, n, KVD)
        const n = sharedPrefixSlots(this.len, GS, B);
        const k = allocKvCache(this.gpu, 1, n, KVD, this.kvFormat, `layer${l}.k_cache (shared prefix)${tag}`);
        const v = allocKvCache(this.gpu, 1, n, KVD, this.kvFormat, `layer${l}.v_cache (shared prefix)${tag}`);
        this.tensors.push(k, v);
        this.caches.push({ k, v, slots: n, ring: false, shared: true });
        continue;
      }
      const k = allocKvCache(this.gpu, B, slots, KVD, this.kvFormat, `layer${l}.k_cache${tag}`);
      const v = allocKvCache(this.gpu, B, slots, KVD, this.kvFormat, `layer${l}.v_cache${tag}`);
      this.tensors.push(k, v);
      this.caches.push({ k, v, slots, ring });
    }
  }

  /** Shared prefix: the cache slot of row `row`'s input token at decode step `step` (position lens[row] + step): its
   * own block's step-th slot. */
  prefixSlot(row: number, step: number): number {
    const { Tp, maxNew } = this.len;
    return (this.cap / this.groupSize) * Tp + this.ownBlock[row] * maxNew + step;
  }

  /** Shared prefix: each active slot's (prompt length, group block, own block) into prefixRows. */
  private writePrefixRows(): void {
    if (!this.prefixRows || this.slotRow.length === 0) return;
    const { lens, Tp } = this.len;
    this.gpu.write(this.prefixRows, this.slotRow.flatMap((row) => [lens[row], this.promptBlock[row] * Tp, this.prefixSlot(row, 0)]));
  }

  alloc(shape: number[], label: string, dtype: 'f32' | 'u32' = 'f32'): Tensor {
    const t = this.gpu.tensor(shape, label, dtype);
    this.tensors.push(t);
    return t;
  }

  release(): void {
    this.gpu.release(...this.tensors);
  }

  /** The training forward over the right-padded prompts, each layer's k/v into the caches before its
   * activations are released; sets hLast. With groupSize G > 1 the rows come in groups of G identical prompts
   * (GRPO's completions of one prompt): each distinct prompt is prefilled once (B / G rows) and its k/v written
   * into each of its G rows' caches (G cache writes, the cache seen as one row of B * TMAX positions; with the
   * shared-prefix layout (prefixGroupSize) once, into its group's prompt block, rings still into each row's), its
   * linear layers' states copied into each row, its last hidden state gathered into each row of hLast; the
   * caches hold the same values as G separate prefills' (decode_state prefix sharing, generate.ts). With a
   * capacity (continuous batching), the first `capacity` rows. */
  prefill(prompts: number[][], groupSize = 1): void {
    if (prompts.length !== this.cap) throw new Error(`prefill: ${prompts.length} prompts for ${this.cap} rows`);
    this.hLast = this.prefillRows(prompts, groupSize, 0, 0, (shape, label, dtype) => this.alloc(shape, label, dtype));
  }

  /** Continuous batching: how many groups of G rows can join now (admit()): free slots, and in the shared-prefix
   * layout a free prompt block for each group (a group's block is free once every row of it has left). */
  admissible(G: number): number {
    const bySlots = Math.floor((this.cap - this.active) / G);
    return this.prefixRows ? Math.min(bySlots, this.freePrompt.length) : bySlots;
  }

  /** Continuous batching: rows firstRow .. firstRow + n - 1 (groups of G identical prompts, `prompts` theirs) join in
   * the slots after the active ones: their prompts prefilled into those slots' caches (shared prefix: into free
   * blocks), their linear states copied in. Returns their last hidden states (n, C) for their first draws (the
   * caller releases it); the prefill's other buffers are released here. Between steps only. */
  admit(prompts: number[][], firstRow: number, G: number): Tensor {
    const n = prompts.length;
    if (!(n > 0 && n % G === 0 && n / G <= this.admissible(G))) {
      throw new Error(`admit: ${n} rows in groups of ${G} do not fit (${this.cap - this.active} free slots${this.prefixRows ? `, ${this.freePrompt.length} free prompt blocks` : ''})`);
    }
    if (!(Number.isInteger(firstRow) && firstRow >= 0 && firstRow + n <= this.len.B)) throw new Error(`admit: rows ${firstRow}..${firstRow + n - 1} are not rows of this generation (${this.len.B})`);
    if (this.prefixRows) {
      for (let r = firstRow; r < firstRow + n; r++) {
        if (r % G === 0 || r === firstRow) this.promptBlock[r] = this.freePrompt.shift()!;
        else this.promptBlock[r] = this.promptBlock[r - 1];
        this.ownBlock[r] = this.freeOwn.shift()!;
      }
    }
    const temps: Tensor[] = [];
    const hidden = this.prefillRows(prompts, G, firstRow, this.active, (shape, label, dtype) => {
      const t = this.gpu.tensor(shape, label, dtype);
      temps.push(t);
      return t;
    });
    this.gpu.release(...temps.filter((t) => t !== hidden));
    this.slotRow = [...this.slotRow, ...Array.from({ length: n }, (_, i) => firstRow + i)];
    this.active += n;
    this.compacted = true;
    this.writePrefixRows();
    return hidden;
  }

  /** The prefill of rows firstRow .. (groups of G) into slots firstSlot ..; returns their last hidden states. */
  private prefillRows(prompts: number[][], G: number, firstRow: number, firstSlot: number, alloc: (shape: number[], label: string, dtype?: 'f32' | 'u32') => Tensor): Tensor {
    const { gpu, model } = this;
    const c = model.config;
    const { Tp, lens: rowLens, TMAX } = this.len;
    const rows = prompts.length;
    if (!(Number.isInteger(G) && G >= 1 && rows % G === 0)) throw new Error(`prefill: group size ${G} does not divide the ${rows} rows`);
    if (this.groupSize > 1 && this.groupSize !== G) throw new Error(`prefill: the caches were laid out for groups of ${this.groupSize} rows, not ${G}`);
    for (let b = 0; b < rows; b++) {
      const first = prompts[b - (b % G)];
      if (prompts[b].length !== first.length || prompts[b].some((t, i) => t !== first[i])) {
        throw new Error(`prefill: row ${b}'s prompt differs from its group's first row (${b - (b % G)}): shared prefixes need groups of ${G} identical prompts`);
      }
      if (prompts[b].length !== rowLens[firstRow + b]) throw new Error(`prefill: row ${firstRow + b}'s prompt is not the one this generation was laid out for`);
    }
    const B = rows / G;
    const lens = Array.from({ length: B }, (_, p) => rowLens[firstRow + p * G]);
    // these prompts' padded length (the generation's Tp for its first rows; a group that joins later may be shorter)
    const Tq = Math.min(Tp, Math.ceil(Math.max(...lens) / PACK_MULTIPLE) * PACK_MULTIPLE);
    this.prefillTokens += B * Tq;
    const ids = new Uint32Array(B * Tq);
    const pos = new Uint32Array(B * Tq);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Tq; t++) {
        ids[b * Tq + t] = t < lens[b] ? prompts[b * G][t] : 0;
        pos[b * Tq + t] = t;
      }
    }
    const idsT = alloc([B * Tq], 'prefill.ids', 'u32');
    const posT = alloc([B * Tq], 'prefill.positions', 'u32');
    gpu.write(idsT, ids);
    gpu.write(posT, pos);
    // per-row caches (full length, or rings of `slots`), seen as one row of cap * span positions: copy j of prompt
    // b's position t goes to slot (firstSlot + b * G + j) * span + t (rings: t % slots, only each row's last `slots`
    // prompt positions, distinct slots); padding and older positions are skipped (RING_SKIP is past every slot)
    const rowPos = new Map<string, Tensor[]>();
    for (const { slots, ring, shared } of this.caches) {
      const key = `${slots}:${ring}`;
      if (shared || slots === 0 || rowPos.has(key)) continue;
      const copies: Tensor[] = [];
      for (let j = 0; j < G; j++) {
        const rp = new Uint32Array(B * Tq).fill(RING_SKIP);
        for (let b = 0; b < B; b++) {
          const at = (firstSlot + b * G + j) * slots;
          for (let t = ring ? Math.max(0, lens[b] - slots) : 0; t < (ring ? lens[b] : Tq); t++) rp[b * Tq + t] = at + (t % slots);
        }
        const tr = alloc([B * Tq], `prefill.cache_positions (${ring ? `ring ${slots}` : slots}${G > 1 ? `, copy ${j}` : ''})`, 'u32');
        gpu.write(tr, rp);
        copies.push(tr);
      }
      rowPos.set(key, copies);
    }
    // shared-prefix layout: prompt position t of group b goes to slot (its prompt block) * Tp + t of the (1, slots)
    // cache, padding nowhere
    let prefixPos: Tensor | null = null;
    if (this.groupSize > 1) {
      const pp = new Uint32Array(B * Tq).fill(RING_SKIP);
      for (let b = 0; b < B; b++) for (let t = 0; t < lens[b]; t++) pp[b * Tq + t] = this.promptBlock[firstRow + b * G] * Tp + t;
      prefixPos = alloc([B * Tq], 'prefill.prefix_slots', 'u32');
      gpu.write(prefixPos, pp);
    }
    const kvFormat = this.kvFormat;
    const lensT = alloc([B], 'prefill.lengths', 'u32');
    gpu.write(lensT, Uint32Array.from(lens));
    // the linear layers' states of the B distinct prompts, copied into their rows' slots below (unless they are the
    // slots themselves: one row per prompt from slot 0)
    const direct = G === 1 && firstSlot === 0;
    const gdnOnce = direct ? this.gdn : this.gdn.map((s, l) => (s ? allocGdnDecodeState(c, B, (shape, label) => gpu.tensor(shape, label), `layer${l}.prefill_once`) : undefined));
    const act = model.forward(idsT, posT, B, Tq, this.opts.lora, null, {
      gdnStates: { lens: lensT, of: (l) => gdnOnce[l]! },
      onLayer: (l, saved) => {
        if (saved.gdn) return; // a linear layer wrote its state itself
        const { k, v, slots, ring, shared } = this.caches[l];
        const flat = { B: 1, T: B * Tq, NKV: c.numKvHeads, HS: c.headDim, kvFormat };
        if (shared && prefixPos) {
          // each prompt's k/v once, into its group's block
          kvCacheWrite(gpu, k, saved.kr, prefixPos, { ...flat, TMAX: slots });
          kvCacheWrite(gpu, v, saved.v, prefixPos, { ...flat, TMAX: slots });
          return;
        }
        for (const p of rowPos.get(`${slots}:${ring}`)!) {
          kvCacheWrite(gpu, k, saved.kr, p, { ...flat, TMAX: this.cap * (ring ? slots : TMAX) });
          kvCacheWrite(gpu, v, saved.v, p, { ...flat, TMAX: this.cap * (ring ? slots : TMAX) });
        }
      },
    });
    if (!direct) {
      this.gdn.forEach((full, l) => {
        const once = gdnOnce[l];
        if (!full || !once) return;
        for (const key of ['convState', 'state'] as const) {
          const per = once[key].size / B;
          for (let b = 0; b < rows; b++) gpu.copy(once[key], full[key], per, Math.floor(b / G) * per, (firstSlot + b) * per);
        }
        gpu.release(once.convState, once.convNext, once.state);
      });
    }
    const lastIdx = alloc([rows], 'prefill.last_index', 'u32');
    gpu.write(lastIdx, Array.from({ length: rows }, (_, b) => Math.floor(b / G) * Tq + lens[Math.floor(b / G)] - 1));
    const hidden = alloc([rows, c.hiddenSize], 'prefill.last_hidden');
    embeddingForward(gpu, hidden, lastIdx, act.f); // row gather (each group's row into its G rows)
    model.releaseActivations(act);
    return hidden;
  }

  /** The decode step's buffers and weights: LoRA merged into copies of its weights (3x fewer dispatches per
   * projection), and q/k/v (and gate/up) as one matmul each against concatenated copies when they fit
   * opts.fusedWeightBudget. `extra` allocates the caller's own buffers where generate.ts always did. */
  prepareDecode(extra?: () => void): void {
    const { model } = this;
    const c = model.config;
    const B = this.cap;
    const C = c.hiddenSize;
    const QD = c.numHeads * c.headDim;
    const KVD = c.numKvHeads * c.headDim;
    const H = c.intermediateSize;
    this.logits = this.alloc([B, c.vocabSize], 'decode.logits');
    this.next = this.alloc([B], 'decode.ids', 'u32');
    extra?.();
    this.posCur = this.alloc([B], 'decode.positions', 'u32');
    this.lenCur = this.alloc([B], 'decode.lengths', 'u32');
    this.x = this.alloc([B, C], 'decode.x');
    this.a = this.alloc([B, C], 'decode.a');
    this.rstd = this.alloc([B], 'decode.rstd');
    this.q = this.alloc([B, QD], 'decode.q');
    this.k = this.alloc([B, KVD], 'decode.k');
    this.v = this.alloc([B, KVD], 'decode.v');
    this.qr = this.alloc([B, QD], 'decode.qr');
    this.kr = this.alloc([B, KVD], 'decode.kr');
    this.att = this.alloc([B, QD], 'decode.att');
    this.o = this.alloc([B, C], 'decode.o');
    this.xm = this.alloc([B, C], 'decode.xm');
    this.g = this.alloc([B, H], 'decode.g');
    this.u = this.alloc([B, H], 'decode.u');
    this.sw = this.alloc([B, H], 'decode.s');
    this.f = this.alloc([B, C], 'decode.f');
    const merged = this.opts.lora ? model.mergeLora(this.opts.lora) : null;
    this.merged = merged;
    // the fused RoPE + cache write (rope_kv_cache_write*.wgsl) writes full-length caches or the shared-prefix layout,
    // not rings
    const noRings = this.caches.every((lc) => !lc.ring);
    this.fused = fuseDecodeWeights(model, merged, noRings ? this.opts.fusedWeightBudget : 0);
    if (merged) this.tensors.push(...merged.values());
    for (const fl of this.fused) this.tensors.push(...[fl.qkv, fl.qkvBias, fl.gateUp].filter((t): t is Tensor => t !== null));
    this.qkv = this.fused[0]?.qkv ? this.alloc([B, QD + 2 * KVD], 'decode.qkv') : null;
    if (c.attnOutputGate) {
      this.qg = this.alloc([B, 2 * QD], 'decode.q_and_gate');
      this.attG = this.alloc([B, QD], 'decode.att_gated');
    }
    this.gu = this.fused[0]?.gateUp ? this.alloc([B, 2 * H], 'decode.gate_up') : null;
  }

  /** A projection with LoRA merged into a copy of its weight; unmerged (16-bit base) it adds LoRA itself. */
  private lin(y: Tensor, xIn: Tensor, l: number, m: LoraModule): void {
    const r = this.model.linear(y, xIn, l, m, this.opts.lora, null, this.merged);
    if (r) this.gpu.release(r.h, r.xd);
  }

  /** One decode step of every row: tokens (B) u32 at posCur, attending to lenCur positions (shared prefix: written
   * at slotCur); leaves the final norm's output in f. */
  step(tokensAll: Tensor): void {
    const { model, gpu } = this;
    const c = model.config;
    const { TMAX } = this.len;
    // M = the active rows: every row-wise buffer is read through a view of its first `active` rows
    const B = this.active;
    const rv = (t: Tensor) => rowsView(t, B);
    const [x, a, rstd, q, k, v, qr, kr, att, o, xm, g, u, sw, f, posCur, lenCur, tokens] =
      [this.x, this.a, this.rstd, this.q, this.k, this.v, this.qr, this.kr, this.att, this.o, this.xm, this.g, this.u, this.sw, this.f, this.posCur, this.lenCur, tokensAll].map(rv);
    const qkvT = this.qkv && rv(this.qkv);
    const qgT = this.qg && rv(this.qg);
    const attGT = this.attG && rv(this.attG);
    const guT = this.gu && rv(this.gu);
    // shared prefix: the active rows' table, their write slots, and [positions | slots] for the fused writes
    const rowsT = this.prefixRows && rv(this.prefixRows);
    const slotT = this.slotCur && rv(this.slotCur);
    let posSlotT: Tensor | null = null;
    if (this.posSlot && slotT && this.caches.some((lc) => lc.shared)) {
      posSlotT = { ...this.posSlot, shape: [2 * B], size: 2 * B };
      gpu.copy(posCur, posSlotT, B, 0, 0);
      gpu.copy(slotT, posSlotT, B, 0, B);
    }
    this.rowSteps += B;
    model.embed(x, tokens); // Gemma scales the embedding; a 16-bit table is read packed
    // residual adds run fused with the norm after them, so only layer 0's input norm stands alone
    const off = model.normOffset;
    rmsnormForward(gpu, a, rstd, x, model.w('model.layers.0.input_layernorm.weight'), c.rmsNormEps, off);
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}`;
      const fl = this.fused[l];
      const cache = this.caches[l];
      const slots = cache.ring ? cache.slots : TMAX;
      // where this layer's fused writes go: row b's position, or (shared prefix) its slot of the (1, slots) cache
      const shared = cache.shared && posSlotT && slotT ? { posSlot: posSlotT, slot: slotT } : null;
      const ropeDims = { B, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, kvFormat: this.kvFormat, ...(shared ? { TMAX: cache.slots, slots: true } : { TMAX }) };
      const gdnAll = this.gdn[l];
      const gdn = gdnAll && { convState: rv(gdnAll.convState), convNext: rv(gdnAll.convNext), state: rv(gdnAll.state) };
      if (gdn) {
        // Qwen3.5 linear layer: the recurrent step, its states carried
        gdnDecodeStep(gpu, c, (name) => model.w(name), (y, xIn, m) => this.lin(y, xIn, l, m), p, o, a, gdn);
      } else if (fl.qkv && qkvT) {
        // 2 dispatches instead of 7: one matmul, then RoPE of q and k with both cache writes
        matmul(gpu, qkvT, a, fl.qkv, { transB: true, bias: fl.qkvBias });
        ropeKvCacheWrite(gpu, qr, cache.k, cache.v, qkvT, shared?.posSlot ?? posCur, model.invFreqOf(l), ropeDims, c.ropeConvention);
      } else {
        if (qgT) {
          this.lin(qgT, a, l, 'q_proj');
          splitQuery(gpu, q, qgT, c.numHeads, c.headDim);
        } else this.lin(q, a, l, 'q_proj');
        this.lin(k, a, l, 'k_proj');
        this.lin(v, a, l, 'v_proj');
        if (DECODE_FUSIONS.ropeKvSplit && !this.qg && !c.qkNorm && c.rotaryDim === undefined && !cache.ring) {
          // RoPE of q and k with both cache writes in one dispatch, reading the three projections (issue 30)
          ropeKvCacheWrite(gpu, qr, cache.k, cache.v, { q, k, v }, shared?.posSlot ?? posCur, model.invFreqOf(l), ropeDims, c.ropeConvention);
        } else {
          const qkRstd = model.qkNormRope(qr, kr, q, k, posCur, l); // q/k norms (Qwen3, Gemma), then RoPE
          if (qkRstd) gpu.release(qkRstd.rstdQ, qkRstd.rstdK);
          // shared prefix: row b's token at slot slotCur[b] of the (1, slots) cache
          const dims = shared
            ? { B: 1, T: B, NKV: c.numKvHeads, HS: c.headDim, TMAX: cache.slots, kvFormat: this.kvFormat }
            : { B, T: 1, NKV: c.numKvHeads, HS: c.headDim, TMAX: slots, kvFormat: this.kvFormat, ring: cache.ring };
          kvCacheWrite(gpu, cache.k, kr, shared?.slot ?? posCur, dims);
          kvCacheWrite(gpu, cache.v, v, shared?.slot ?? posCur, dims);
        }
      }
      if (!gdn) {
        const { scale, window } = model.attentionDims(B, 1, l);
        // shared prefix: positions below a row's prompt length in its group's block, the rest in its own (prefixRows)
        const layout = shared && rowsT ? { prefixSlots: cache.slots } : { ring: cache.ring };
        attentionDecode(gpu, att, qr, cache.k, cache.v, lenCur,
          { B, NH: c.numHeads, NKV: c.numKvHeads, HS: c.headDim, TMAX: slots, scale, window, kvFormat: this.kvFormat, ...layout }, 'auto', rowsT ?? undefined);
        if (qgT && attGT) outputGateForward(gpu, attGT, att, qgT, c.numHeads, c.headDim);
        this.lin(o, attGT ?? att, l, 'o_proj');
      }
      // Gemma normalises the attention and MLP outputs before their residual adds
      const postO = c.sandwichNorms ? model.postNorm(o, `${p}.post_attention_layernorm.weight`) : null;
      addRmsnormForward(gpu, xm, a, rstd, x, postO?.y ?? o, model.w(model.mlpNormName(l)), c.rmsNormEps, off);
      if (postO) gpu.release(postO.y, postO.rstd);
      if (fl.gateUp && guT) {
        matmul(gpu, guT, a, fl.gateUp, { transB: true });
        swigluPackedForward(gpu, sw, guT);
      } else {
        this.lin(g, a, l, 'gate_proj');
        this.lin(u, a, l, 'up_proj');
        model.gate(sw, g, u);
      }
      this.lin(o, sw, l, 'down_proj');
      const postD = c.sandwichNorms ? model.postNorm(o, `${p}.post_feedforward_layernorm.weight`) : null;
      const last = l === c.numLayers - 1;
      addRmsnormForward(gpu, x, last ? f : a, rstd, xm, postD?.y ?? o,
        model.w(last ? 'model.norm.weight' : `model.layers.${l + 1}.input_layernorm.weight`), c.rmsNormEps, off);
      if (postD) gpu.release(postD.y, postD.rstd);
    }
  }

  /** The LM head of `hidden` (B, C), then one draw per row into `next`: with counter `counter`, or each row
   * with its own counter (rowCounters). */
  sampleNext(hidden: Tensor, sampling: SamplingOptions, counter: number, rowCounters?: ArrayLike<number>): void {
    const A = this.active;
    const lg = this.model.lmHeadInto(rowsView(this.logits, A), rowsView(hidden, A));
    // compacted or with a row base: each slot draws with its row's word (rowBase + its row in the full batch),
    // copied from rowWords (no queue write) once hLast's buffer is free to hold them
    const words = this.rowWordsNow();
    sample(this.gpu, rowsView(this.next, A), lg, { temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: sampling.seed, counter, ...(rowCounters ? { rowCounters } : {}), ...(words ? { rowIndex: words } : {}) }, words ? this.rowWords ?? undefined : undefined);
    // after the first draw (from hLast): its buffer, dead now, holds the row words (the write lands after the draw)
    if (words && !this.rowWords) this.writeRowWords();
  }

  /** Continuous batching: the LM head of the active slots' `hidden`, then each slot draws into `next` with its row's
   * word and its own counter, counter + offsets[slot] (sample.ts rowIndex with rowCounters); `preset` ((2 * cap) u32,
   * written by the caller once per readback window) holds the active slots' words, then their offsets. */
  sampleEach(hidden: Tensor, sampling: SamplingOptions, counter: number, words: readonly number[], offsets: readonly number[], preset: Tensor): void {
    const A = this.active;
    const lg = this.model.lmHeadInto(rowsView(this.logits, A), rowsView(hidden, A));
    this.draws ??= this.alloc([2 * this.cap], 'decode.draws', 'u32');
    const d = rowsView(this.draws, 2 * A);
    const { temperature, topK, topP, seed } = sampling;
    sample(this.gpu, d, lg, { temperature, topK, topP, seed, counter, rowIndex: words, rowCounters: offsets }, rowsView(preset, 2 * A));
    this.gpu.copy(d, this.next, A);
  }

  /** Continuous batching: the first draw (counter 0, each row's word) of the n rows that joined in slots from ..
   * from + n - 1, from their last prompt hidden states (admit()'s (n, C)), into `next` at their slots. */
  sampleJoined(hidden: Tensor, sampling: SamplingOptions, from: number): void {
    const n = hidden.shape[0];
    const lg = this.model.lmHeadInto(rowsView(this.logits, n), hidden);
    this.draws ??= this.alloc([2 * this.cap], 'decode.draws', 'u32');
    const d = rowsView(this.draws, n);
    const base = this.opts.rowBase ?? 0;
    const { temperature, topK, topP, seed } = sampling;
    sample(this.gpu, d, lg, { temperature, topK, topP, seed, counter: 0, rowIndex: this.slotRow.slice(from, from + n).map((r) => base + r) });
    this.gpu.copy(d, this.next, n, 0, from);
  }

  /** Each active slot's Philox row word, or null where every slot draws as its index (no row base, never compacted). */
  private rowWordsNow(): number[] | null {
    const base = this.opts.rowBase ?? 0;
    if (base === 0 && !this.compacted) return null;
    return this.slotRow.map((r) => base + r);
  }

  /** Writes the slots' row words into rowWords (a u32 view of hLast's buffer, dead after the first draw). */
  private writeRowWords(): void {
    const words = this.rowWordsNow();
    if (!words || words.length === 0) return;
    const B = this.cap;
    this.rowWords ??= { buffer: this.hLast.buffer, shape: [B], dtype: 'u32', label: 'decode.row_words', size: B };
    this.gpu.write(this.rowWords, words);
  }

  /** Rows that finish leave: keeps the active slots `keep` (ascending), moving the kept slots at or past
   * keep.length into the holes below it (each layer's k/v cache rows, the linear layers' conv and recurrent
   * states and the next input token; the shared-prefix layout's blocks stay where they are and the slots' prefixRows
   * entries are rewritten instead; through the logits buffer, free between a draw and the next LM head,
   * since a buffer cannot be copied into itself), so that later steps run with M = keep.length. Between steps
   * only (after sampleNext). The pool's idle buffers are freed first: the steps after allocate their
   * temporaries for fewer rows (smaller buckets), and without the trim those would join the full batch's idle
   * ones and could lift the pool's peak above the memory plan's worst case (every row running to the end). */
  compact(keep: readonly number[]): void {
    const { gpu } = this;
    const A = keep.length;
    if (A === this.active) return;
    if (keep.some((s, i) => !Number.isInteger(s) || s < 0 || s >= this.active || (i > 0 && s <= keep[i - 1]))) {
      throw new Error(`compact: keep must be ascending active slots (of ${this.active})`);
    }
    const kept = new Set(keep);
    if (this.prefixRows) {
      // the leaving rows' own blocks, and the prompt blocks of groups left without a row, are free for rows that join
      const staying = new Set(keep.map((s) => this.promptBlock[this.slotRow[s]]));
      const freed = new Set<number>();
      this.slotRow.forEach((row, s) => {
        if (kept.has(s) || s >= this.active) return;
        this.freeOwn.push(this.ownBlock[row]);
        const pb = this.promptBlock[row];
        if (!staying.has(pb) && !freed.has(pb)) {
          freed.add(pb);
          this.freePrompt.push(pb);
        }
      });
    }
    const holes = Array.from({ length: A }, (_, i) => i).filter((i) => !kept.has(i));
    const movers = keep.filter((s) => s >= A);
    const perRow: Tensor[] = [this.next];
    this.caches.forEach((lc, l) => {
      if (!this.gdn[l] && !lc.shared) perRow.push(lc.k, lc.v); // the shared layout moves by its table (below)
    });
    for (const st of this.gdn) if (st) perRow.push(st.convState, st.state);
    const bounce = this.logits;
    const B = this.cap;
    const slotRow = this.slotRow.slice(0, A); // a new array: callers keep the earlier steps' ones
    holes.forEach((dst, i) => {
      const src = movers[i];
      for (const t of perRow) {
        const per = t.size / B;
        for (let off = 0; off < per; off += bounce.size) {
          const n = Math.min(bounce.size, per - off);
          gpu.copy(t, bounce, n, src * per + off, 0);
          gpu.copy(bounce, t, n, 0, dst * per + off);
        }
      }
      slotRow[dst] = this.slotRow[src];
    });
    this.slotRow = slotRow;
    this.active = A;
    this.compacted = true;
    this.writeRowWords();
    this.writePrefixRows();
    gpu.flush(); // nothing recorded may still name a buffer that trim destroys
    gpu.pool.trim();
  }
}

/** Switches of the decode step's fusions that have no other switch, for tests that compare the tokens
 * with and without them (test/model/fused_decode.test.ts). ropeKvSplit: without stacked q/k/v (a 16-bit
 * base, or weights over the fused budget), RoPE of q and k and both cache writes in one dispatch
 * (rope_kv_cache_write_split*) instead of rope_qk_forward + two kv_cache_write. */
export const DECODE_FUSIONS = { ropeKvSplit: true };

/** Copies of each layer's q/k/v weights stacked into one (and gate/up into another) so that a decode step
 * needs one matmul per group: taken from `merged` (LoRA merged in) where present, else the base weights.
 * q/k/v first, then gate/up, each only if every layer's copies fit in `budget` bytes. Merged weights that
 * went into a stack are released and dropped from `merged`. The caller releases the stacks. */
function fuseDecodeWeights(model: GpuTransformer, merged: Map<string, Tensor> | null, budget: number): FusedLayer[] {
  const { gpu, config: c } = model;
  const C = c.hiddenSize;
  const QD = c.numHeads * c.headDim;
  const KVD = c.numKvHeads * c.headDim;
  const H = c.intermediateSize;
  const qkvBytes = c.numLayers * (QD + 2 * KVD) * C * 4;
  const guBytes = c.numLayers * 2 * H * C * 4;
  // q/k norms sit between the projection and RoPE, and the packed gate is SwiGLU's: those families decode unfused
  const withQkv = budget > 0 && qkvBytes <= budget && !c.qkNorm;
  const withGu = withQkv && qkvBytes + guBytes <= budget && (c.hiddenAct ?? 'silu') === 'silu';
  const stack = (paths: string[], rows: number[], label: string, suffix: 'weight' | 'bias') => {
    const total = rows.reduce((x, y) => x + y, 0);
    const t = gpu.tensor(suffix === 'weight' ? [total, C] : [total], label);
    let at = 0;
    paths.forEach((path, i) => {
      const src = (suffix === 'weight' ? merged?.get(path) : undefined) ?? model.w(`${path}.${suffix}`);
      const n = rows[i] * (suffix === 'weight' ? C : 1);
      gpu.copy(src, t, n, 0, at);
      at += n;
    });
    if (suffix === 'weight') dropMerged(gpu, merged, paths);
    return t;
  };
  const layers: FusedLayer[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const att = ['q_proj', 'k_proj', 'v_proj'].map((m) => `model.layers.${l}.self_attn.${m}`);
    const mlp = ['gate_proj', 'up_proj'].map((m) => `model.layers.${l}.mlp.${m}`);
    layers.push({
      qkv: withQkv ? stack(att, [QD, KVD, KVD], `model.layers.${l}.qkv_proj.weight (decode)`, 'weight') : null,
      qkvBias: withQkv && c.attentionBias ? stack(att, [QD, KVD, KVD], `model.layers.${l}.qkv_proj.bias (decode)`, 'bias') : null,
      gateUp: withGu ? stack(mlp, [H, H], `model.layers.${l}.gate_up_proj.weight (decode)`, 'weight') : null,
    });
  }
  return layers;
}

function dropMerged(gpu: GpuRuntime, merged: Map<string, Tensor> | null, paths: string[]): void {
  for (const p of paths) {
    const t = merged?.get(p);
    if (!t) continue;
    gpu.release(t); // its copy into the stack is recorded already; later users are ordered after it
    merged!.delete(p);
  }
}

/** A view of the first `rows` rows of t (same buffer): t itself when it has that many. */
export function rowsView(t: Tensor, rows: number): Tensor {
  if (t.shape[0] === rows) return t;
  const per = t.size / t.shape[0];
  return { buffer: t.buffer, shape: [rows, ...t.shape.slice(1)], dtype: t.dtype, label: t.label, size: rows * per };
}
