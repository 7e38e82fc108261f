// Gemma 4's LoRA-able projections and its per-layer RoPE frequencies, shared by the GPU model (gemma4_gpu.ts),
// the CPU reference (src/reference/gemma4.ts) and PEFT adapters (gemma4_peft.ts). A layer owns q/k/v/o and the
// MLP's gate/up/down, except that shared layers (num_kv_shared_layers) own no k/v projection and full layers with
// attention_k_eq_v no v_proj.

import type { ModelConfig } from './config';
import { gemma4Layers, type Gemma4Layer } from './gemma4_config';

export type Gemma4Module = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';
export const GEMMA4_MODULES: Gemma4Module[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

export function gemma4ModulePath(l: number, m: Gemma4Module): string {
  return `model.layers.${l}.${m === 'gate_proj' || m === 'up_proj' || m === 'down_proj' ? 'mlp' : 'self_attn'}.${m}`;
}

/** (OUT, IN) of a module of layer ly. */
export function gemma4ModuleDims(c: ModelConfig, ly: Gemma4Layer, m: Gemma4Module): [number, number] {
  const C = c.hiddenSize;
  const QD = c.numHeads * ly.HS;
  const KVD = ly.NKV * ly.HS;
  const dims: Record<Gemma4Module, [number, number]> = {
    q_proj: [QD, C], k_proj: [KVD, C], v_proj: [KVD, C], o_proj: [C, QD], gate_proj: [ly.H, C], up_proj: [ly.H, C], down_proj: [C, ly.H],
  };
  return dims[m];
}

/** Inverse frequencies (HS/2) of a layer: default RoPE over its head size, or proportional (full layers). */
export function gemma4InvFreq(c: ModelConfig, ly: Gemma4Layer): Float64Array {
  const g = c.gemma4!;
  const half = ly.HS / 2;
  const inv = new Float64Array(half);
  const full = ly.type === 'full_attention';
  const theta = full ? g.fullRope.theta : c.ropeLocalTheta ?? 10000;
  const factor = full ? g.fullRope.factor : c.ropeLocalScaling?.type === 'linear' ? c.ropeLocalScaling.factor : 1;
  const rotated = full ? Math.floor((g.fullRope.partialFactor * ly.HS) / 2) : half;
  for (let i = 0; i < rotated; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / ly.HS) / factor;
  return inv;
}

/** Gemma 4 LoRA modules: every projection a layer owns (shared layers own no k/v; k_eq_v layers no v_proj). */
export function gemma4LoraModules(c: ModelConfig): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  gemma4Layers(c).forEach((ly, l) => {
    for (const m of GEMMA4_MODULES) if (gemma4OwnsModule(ly, m)) out.set(gemma4ModulePath(l, m), gemma4ModuleDims(c, ly, m));
  });
  return out;
}

export function gemma4OwnsModule(ly: Gemma4Layer, m: Gemma4Module): boolean {
  if (ly.shared && (m === 'k_proj' || m === 'v_proj')) return false;
  return !(ly.kEqV && m === 'v_proj');
}

/** Throws, naming the module, unless `path` is a projection layer owns with LoRA factors A (R, IN) and B (OUT, R) of
 * these sizes; a LoRA on a shared layer's k/v, or on v_proj where values come from k_proj, is refused with the
 * reason. */
export function gemma4CheckLoraModule(c: ModelConfig, layers: Gemma4Layer[], path: string, r: number, aValues: number, bValues: number): void {
  const match = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)$/.exec(path);
  const ly = match ? layers[Number(match[1])] : undefined;
  const m = match?.[3] as Gemma4Module | undefined;
  if (!match || !ly || !m || !GEMMA4_MODULES.includes(m) || gemma4ModulePath(Number(match[1]), m) !== path) {
    throw new Error(`LoRA module ${path}: not a projection of this model (e.g. model.layers.0.self_attn.q_proj)`);
  }
  if (ly.shared && (m === 'k_proj' || m === 'v_proj')) {
    throw new Error(`LoRA module ${path}: layer ${match[1]} shares the keys and values of layer ${ly.kvSource} (num_kv_shared_layers), its own ${m} is unused; put the LoRA on layer ${ly.kvSource}'s ${m} instead`);
  }
  if (ly.kEqV && m === 'v_proj') throw new Error(`LoRA module ${path}: layer ${match[1]} takes its values from k_proj (attention_k_eq_v) and has no v_proj`);
  const [OUT, IN] = gemma4ModuleDims(c, ly, m);
  if (!Number.isInteger(r) || r <= 0) throw new Error(`LoRA module ${path}: rank ${r} must be a positive integer`);
  if (aValues !== r * IN) throw new Error(`LoRA module ${path}: A has ${aValues} values, expected (R, IN) = (${r}, ${IN})`);
  if (bValues !== OUT * r) throw new Error(`LoRA module ${path}: B has ${bValues} values, expected (OUT, R) = (${OUT}, ${r})`);
}
