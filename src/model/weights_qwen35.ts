// The tensors of a Qwen3.5 layer (Hugging Face names, Qwen3_5ForCausalLM; a Qwen3_5ForConditionalGeneration
// checkpoint holds the same under model.language_model.*, renamed by hf_folder.ts). Letters as in
// config_qwen35.ts: NK, DK, NV, DV, K; CD = 2*NK*DK + NV*DV conv channels.
//   full_attention layers (the Qwen3 layer with a gated q_proj):
//     self_attn.q_proj.weight (2*NH*HS, C): per head, HS query rows then HS gate rows
//     self_attn.{k,v}_proj.weight (NKV*HS, C), self_attn.{q,k}_norm.weight (HS), self_attn.o_proj.weight (C, NH*HS)
//   linear_attention layers (Gated DeltaNet):
//     linear_attn.in_proj_qkv.weight (CD, C)   linear_attn.in_proj_z.weight (NV*DV, C)
//     linear_attn.in_proj_b.weight (NV, C)     linear_attn.in_proj_a.weight (NV, C)
//     linear_attn.conv1d.weight (CD, 1, K)     linear_attn.dt_bias (NV)   linear_attn.A_log (NV)
//     linear_attn.norm.weight (DV)             linear_attn.out_proj.weight (C, NV*DV)

import type { ModelConfig } from './config';
import type { LinearAttentionShape } from './config_qwen35';

/** The linear layers' LoRA-able projections, by the checkpoint's own names. */
export const LINEAR_ATTN_MODULES = ['in_proj_qkv', 'in_proj_z', 'in_proj_b', 'in_proj_a', 'out_proj'] as const;
export type LinearAttnModule = (typeof LINEAR_ATTN_MODULES)[number];

/** CD: the conv's channels (q, k, v of in_proj_qkv). */
export function convChannels(s: LinearAttentionShape): number {
  return 2 * s.numKeyHeads * s.keyHeadDim + s.numValueHeads * s.valueHeadDim;
}

/** (OUT, IN) of a linear layer's projection. */
export function linearAttnModuleDims(c: ModelConfig, m: LinearAttnModule): [number, number] {
  const s = c.linearAttention!;
  const VD = s.numValueHeads * s.valueHeadDim;
  const dims: Record<LinearAttnModule, [number, number]> = {
    in_proj_qkv: [convChannels(s), c.hiddenSize], in_proj_z: [VD, c.hiddenSize], in_proj_b: [s.numValueHeads, c.hiddenSize],
    in_proj_a: [s.numValueHeads, c.hiddenSize], out_proj: [c.hiddenSize, VD],
  };
  return dims[m];
}

export function isLinearAttentionLayer(c: ModelConfig, layer: number): boolean {
  return c.layerTypes?.[layer] === 'linear_attention';
}

/** Adds a linear_attention layer's tensors to m (in the order above). */
export function linearAttentionShapes(m: Map<string, number[]>, c: ModelConfig, p: string): void {
  const s = c.linearAttention;
  if (!s) throw new Error(`${c.modelType ?? c.architecture}: a linear_attention layer needs the linear attention shape (linear_* config fields)`);
  for (const mod of LINEAR_ATTN_MODULES) {
    if (mod === 'out_proj') continue;
    m.set(`${p}.linear_attn.${mod}.weight`, linearAttnModuleDims(c, mod));
  }
  m.set(`${p}.linear_attn.conv1d.weight`, [convChannels(s), 1, s.convKernel]);
  m.set(`${p}.linear_attn.dt_bias`, [s.numValueHeads]);
  m.set(`${p}.linear_attn.A_log`, [s.numValueHeads]);
  m.set(`${p}.linear_attn.norm.weight`, [s.valueHeadDim]);
  m.set(`${p}.linear_attn.out_proj.weight`, linearAttnModuleDims(c, 'out_proj'));
}
