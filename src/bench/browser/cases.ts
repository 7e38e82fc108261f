// The side-by-side benchmark's cases: each op at the built-in model's shapes (tiny-puzzles: hidden 128,
// 4 heads of 32, MLP 512, vocab 48, a GRPO batch of 64 sequences of 16 tokens) and at SmolLM2-135M's
// (hidden 576, 9 query / 3 kv heads of 64, MLP 1536, vocab 49152), plus the 512^3 matmul cube that
// issue 8's targets name. Inputs are generated here, once, on the CPU, and handed to every library, so
// all of them compute the same result from the same numbers. Saved values that a backward takes (the
// attention output and its log-sum-exp, LoRA's h, the logits' log-sum-exp) come from the CPU reference.
import { attentionForward as attentionForwardRef } from '../../reference/attention';
import { logprobGatherForward as logprobForwardRef } from '../../reference/logprob_gather';
import { Rng, randInts, randn } from '../../util/random';

export type OpName =
  | 'matmul'
  | 'attention_forward'
  | 'attention_backward'
  | 'lora_forward'
  | 'lora_backward'
  | 'logprob_gather_forward'
  | 'logprob_gather_backward';

export const OP_NAMES: readonly OpName[] = [
  'matmul',
  'attention_forward',
  'attention_backward',
  'lora_forward',
  'lora_backward',
  'logprob_gather_forward',
  'logprob_gather_backward',
];

export interface HostArray {
  data: Float32Array;
  shape: number[];
}

export interface AttentionCaseDims {
  B: number;
  T: number;
  NH: number;
  NKV: number;
  HS: number;
}

/** One op at one shape. `f32` holds every float input by name; `targets` the token ids (logprob ops). */
export interface BenchCase {
  op: OpName;
  model: string;
  /** human-readable shape, e.g. "(1024, 128) x (128 -> 512)" */
  shape: string;
  /** floating-point operations per run (the same counts as src/bench: see flopNote) */
  flops: number;
  f32: Record<string, HostArray>;
  targets?: Uint32Array;
  /** op-specific sizes: matmul {M, K, N, transB}, attention AttentionCaseDims, lora {N, IN, OUT, R, scale},
   *  logprob {N, V, temperature} */
  dims: Record<string, number>;
  /** the outputs every library must produce, in this order */
  outputs: string[];
}

export const FLOP_NOTE =
  'matmul 2MKN; attention forward 4*B*NH*(T(T+1)/2)*HS (the causal half), backward 2.5x that; ' +
  'LoRA forward 2*N*R*(IN+OUT), backward 2x that; log-prob gathering forward 6*N*V, backward 3*N*V';

export interface ModelShapes {
  model: string;
  /** the MLP up projection y = x W^T of N = B*T tokens */
  linear: { M: number; K: number; N: number };
  attention: AttentionCaseDims;
  lora: { N: number; IN: number; OUT: number; R: number };
  logprob: { N: number; V: number };
}

/** The built-in model (src/demo/model_init.ts TINY_PUZZLES_SHAPE) in a GRPO step: 64 sequences x 16 tokens. */
export const BUILTIN_SHAPES: ModelShapes = {
  model: 'built-in',
  linear: { M: 1024, K: 128, N: 512 },
  attention: { B: 64, T: 16, NH: 4, NKV: 4, HS: 32 },
  lora: { N: 1024, IN: 128, OUT: 128, R: 8 },
  logprob: { N: 1024, V: 48 },
};

/** SmolLM2-135M in a small training micro-batch (4 x 128 tokens; log-probs of 128 completion tokens). */
export const SMOLLM2_SHAPES: ModelShapes = {
  model: 'SmolLM2-135M',
  linear: { M: 512, K: 576, N: 1536 },
  attention: { B: 4, T: 128, NH: 9, NKV: 3, HS: 64 },
  lora: { N: 512, IN: 576, OUT: 576, R: 8 },
  logprob: { N: 128, V: 49152 },
};

export const MODEL_NAMES = ['cube', BUILTIN_SHAPES.model, SMOLLM2_SHAPES.model] as const;

const LORA_SCALE = 2; // lora_alpha 16 / r 8
const TEMPERATURE = 0.9;

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function rand(rng: Rng, shape: number[], scale = 1): HostArray {
  return { data: randn(numel(shape), rng, scale), shape };
}

function matmulCase(model: string, M: number, K: number, N: number, transB: boolean, rng: Rng): BenchCase {
  return {
    op: 'matmul',
    model,
    shape: transB ? `(${M}, ${K}) x (${K} -> ${N}), y = x W^T` : `${M}x${K}x${N}, NN`,
    flops: 2 * M * K * N,
    f32: { a: rand(rng, [M, K]), b: rand(rng, transB ? [N, K] : [K, N]) },
    dims: { M, K, N, transB: transB ? 1 : 0 },
    outputs: ['y'],
  };
}

function attentionCases(model: string, d: AttentionCaseDims, rng: Rng): BenchCase[] {
  const { B, T, NH, NKV, HS } = d;
  const q = rand(rng, [B, T, NH, HS]);
  const k = rand(rng, [B, T, NKV, HS]);
  const v = rand(rng, [B, T, NKV, HS]);
  const dout = rand(rng, [B, T, NH, HS]);
  const out = new Float32Array(B * T * NH * HS);
  const lse = new Float32Array(B * NH * T);
  attentionForwardRef(out, lse, q.data, k.data, v.data, d);
  const shape = `B=${B} T=${T} NH=${NH} NKV=${NKV} HS=${HS}, causal`;
  const flops = 2 * 2 * B * NH * ((T * (T + 1)) / 2) * HS;
  const dims = { ...d };
  return [
    { op: 'attention_forward', model, shape, flops, f32: { q, k, v }, dims, outputs: ['out'] },
    {
      op: 'attention_backward',
      model,
      shape,
      flops: 2.5 * flops,
      f32: { q, k, v, out: { data: out, shape: [B, T, NH, HS] }, lse: { data: lse, shape: [B, NH, T] }, dout },
      dims,
      outputs: ['dq', 'dk', 'dv'],
    },
  ];
}

function loraCases(model: string, l: ModelShapes['lora'], rng: Rng): BenchCase[] {
  const { N, IN, OUT, R } = l;
  const x = rand(rng, [N, IN]);
  const A = rand(rng, [R, IN], 0.1);
  const Bm = rand(rng, [OUT, R], 0.1);
  const y0 = rand(rng, [N, OUT]);
  const dy = rand(rng, [N, OUT]);
  const dx0 = rand(rng, [N, IN]);
  // h = x A^T, saved by the forward
  const h = new Float32Array(N * R);
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < IN; i++) s += x.data[n * IN + i] * A.data[r * IN + i];
      h[n * R + r] = s;
    }
  }
  const shape = `N=${N} ${IN}->${OUT} R=${R}`;
  const flops = 2 * N * R * (IN + OUT);
  const dims = { N, IN, OUT, R, scale: LORA_SCALE };
  return [
    { op: 'lora_forward', model, shape, flops, f32: { x, A, B: Bm, y0 }, dims, outputs: ['y', 'h'] },
    {
      op: 'lora_backward',
      model,
      shape,
      flops: 2 * flops,
      f32: { x, A, B: Bm, dy, h: { data: h, shape: [N, R] }, dx0 },
      dims,
      outputs: ['dA', 'dB', 'dx'],
    },
  ];
}

function logprobCases(model: string, p: ModelShapes['logprob'], rng: Rng): BenchCase[] {
  const { N, V } = p;
  const logits = rand(rng, [N, V], 3);
  const targets = randInts(N, rng, V);
  const dlogp = rand(rng, [N]);
  const lse = new Float32Array(N);
  logprobForwardRef(new Float32Array(N), new Float32Array(N), lse, logits.data, targets, TEMPERATURE, N, V);
  const shape = `N=${N} V=${V} temperature=${TEMPERATURE}`;
  const dims = { N, V, temperature: TEMPERATURE };
  return [
    { op: 'logprob_gather_forward', model, shape, flops: 6 * N * V, f32: { logits }, targets, dims, outputs: ['logp', 'entropy', 'lse'] },
    {
      op: 'logprob_gather_backward',
      model,
      shape,
      flops: 3 * N * V,
      f32: { logits, lse: { data: lse, shape: [N] }, dlogp },
      targets,
      dims,
      outputs: ['dlogits'],
    },
  ];
}

function modelCases(s: ModelShapes, rng: Rng): BenchCase[] {
  return [
    matmulCase(s.model, s.linear.M, s.linear.K, s.linear.N, true, rng),
    ...attentionCases(s.model, s.attention, rng),
    ...loraCases(s.model, s.lora, rng),
    ...logprobCases(s.model, s.logprob, rng),
  ];
}

/** Every case, filtered by op and model names (empty filters keep everything). Inputs are made lazily per
 * model so that a filtered run does not build SmolLM2's logits. */
export function benchCases(ops: readonly string[] = [], models: readonly string[] = []): BenchCase[] {
  const keepModel = (m: string) => models.length === 0 || models.includes(m);
  const keepOp = (o: string) => ops.length === 0 || ops.includes(o);
  const out: BenchCase[] = [];
  const rng = new Rng(20261125);
  if (keepModel('cube') && keepOp('matmul')) out.push(matmulCase('cube', 512, 512, 512, false, rng));
  for (const s of [BUILTIN_SHAPES, SMOLLM2_SHAPES]) {
    if (keepModel(s.model)) out.push(...modelCases(s, rng).filter((c) => keepOp(c.op)));
  }
  return out;
}
