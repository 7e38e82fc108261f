// Snippet (not a kernel): RoPE's (cos(a), sin(a)) to about 1 ulp, shared by every RoPE kernel
// (rope_forward, rope_backward, rope_qk_forward, rope_qk_backward, rope_kv_cache_write), each of which
// includes it by name (src/gpu/wgsl_snippets.ts resolves the include when the kernel is defined).

const INV_TWO_PI: f32 = 0.15915493667125702;
const TWO_PI_A: f32 = 6.28125; // 8 significant bits: k * TWO_PI_A is exact for k < 2^16 (|angle| < 4e5)
const TWO_PI_B: f32 = 0.0019353071693331003;
const TWO_PI_C: f32 = 1.0253131677018246e-11;
const TWO_OVER_PI: f32 = 0.6366197723675814;
const HALF_PI_A: f32 = 1.5703125; // 8 significant bits
const HALF_PI_B: f32 = 4.838267923332751e-4;
const HALF_PI_C: f32 = 2.5632829192545615e-12;

// (cos(a), sin(a)) to about 1 ulp for |a| < 4e5, from +, -, * only: builtin cos/sin promise just 2^-11
// absolute error, and only within [-pi, pi] (SwiftShader's are off by 2e-4 there).
fn cos_sin(a: f32) -> vec2f {
  // a = 2 pi k + r, |r| <= pi (Cody-Waite: each k * part is exact or carries a tiny error)
  let k = round(a * INV_TWO_PI);
  let r = ((a - k * TWO_PI_A) - k * TWO_PI_B) - k * TWO_PI_C;
  // r = j pi/2 + y, |y| <= pi/4, j in -2..2
  let j = round(r * TWO_OVER_PI);
  let y = ((r - j * HALF_PI_A) - j * HALF_PI_B) - j * HALF_PI_C;
  // Cephes sinf/cosf minimax polynomials on [-pi/4, pi/4]
  let z = y * y;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * y + y;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  let q = (i32(j) + 4) % 4;
  if (q == 0) { return vec2f(c, s); }
  if (q == 1) { return vec2f(-s, c); }
  if (q == 2) { return vec2f(-c, -s); }
  return vec2f(s, -c);
}
