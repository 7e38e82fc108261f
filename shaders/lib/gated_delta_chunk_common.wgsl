// Shared by gated_delta_chunk_forward.wgsl and gated_delta_chunk_backward.wgsl (the gated delta rule's chunked
// form; CPU reference src/reference/gated_delta_chunk.ts): the params, chunk bounds, and the layouts of the two
// scratch buffers (mirrored by src/gpu/kernels/gated_delta_chunk.ts).
// Rows b0 .. b0 + nb - 1 of the batch run in one pass; scratch is indexed by the local row b - b0.
// prep, per (local row, value head, chunk), stride gdc_prep_stride: the chunk's intra-chunk quantities
//   G (C): cumulative log-decay;  M (C, C): beta_r exp(G_r - G_s) k_r.k_s for s < r, else 0;
//   P (C, C): scale exp(G_r - G_s) q_r.k_s for s <= r, else 0;  U (C, DV), W (C, DK): the UT transform's
//   (I + M)^-1 (beta o V) and (I + M)^-1 (beta o exp(G) o K).
// work (backward only), per (local row, value head, chunk), stride gdc_work_stride:
//   Delta (C, DV);  dDelta, then dX in place (C, DV);  dSend (DK, DV): dL/d(state leaving the chunk);
//   DO (C, C): dout_r . Delta_s;  dM (C, C);  dY (C, DK) (first dW = -dDelta S0^T);  Z1, Z2 (C, DK): per-element
//   terms of dg summed in the scalar phase.

struct Params {
  B: u32, T: u32, NK: u32, NV: u32, DK: u32, DV: u32, C: u32, b0: u32, nb: u32,
  has_init: u32, has_final: u32, has_ckpt: u32, scale: f32,
}
@group(0) @binding(0) var<uniform> p: Params;

const GDC_CMAX = 64u;
const GDC_DKMAX = 128u;

fn gdc_nc() -> u32 { return (p.T + p.C - 1u) / p.C; }
fn gdc_len(c: u32) -> u32 { return min(p.C, p.T - c * p.C); }
/** channels per token of the packed qkv: q (NK*DK), k (NK*DK), v (NV*DV) */
fn gdc_cd() -> u32 { return 2u * p.NK * p.DK + p.NV * p.DV; }

fn gdc_prep_stride() -> u32 { return p.C + 2u * p.C * p.C + p.C * (p.DV + p.DK); }
fn gdc_off_m() -> u32 { return p.C; }
fn gdc_off_p() -> u32 { return p.C + p.C * p.C; }
fn gdc_off_u() -> u32 { return p.C + 2u * p.C * p.C; }
fn gdc_off_w() -> u32 { return gdc_off_u() + p.C * p.DV; }

fn gdc_work_stride() -> u32 { return 2u * p.C * p.DV + p.DK * p.DV + 2u * p.C * p.C + 3u * p.C * p.DK; }
fn gdc_off_dx() -> u32 { return p.C * p.DV; }
fn gdc_off_ds() -> u32 { return 2u * p.C * p.DV; }
fn gdc_off_do() -> u32 { return gdc_off_ds() + p.DK * p.DV; }
fn gdc_off_dm() -> u32 { return gdc_off_do() + p.C * p.C; }
fn gdc_off_dy() -> u32 { return gdc_off_dm() + p.C * p.C; }
fn gdc_off_z1() -> u32 { return gdc_off_dy() + p.C * p.DK; }
fn gdc_off_z2() -> u32 { return gdc_off_z1() + p.C * p.DK; }

/** index of (local row of b, value head h, chunk c) in the scratch buffers */
fn gdc_chunk(b: u32, h: u32, c: u32) -> u32 { return ((b - p.b0) * p.NV + h) * gdc_nc() + c; }
