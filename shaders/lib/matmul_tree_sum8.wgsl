// Snippet (not a kernel): the 64-invocation tree sum of split-K matmuls that keep 8 vec4 partial sums per
// invocation in part[0..7] (matmul_packed16_smallm_forward/_backward.wgsl). After tree_sum8(li) returns
// (all 64 invocations must call it: it has barriers), red[q] holds the workgroup's sum of part[q].

var<private> part: array<vec4f, 8>;
var<workgroup> red: array<vec4f, 512>; // red[li * 8 + q]: invocation li's part[q], then the partial sums

fn tree_sum8(li: u32) {
  for (var q = 0u; q < 8u; q++) { red[li * 8u + q] = part[q]; }
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) {
      for (var q = 0u; q < 8u; q++) { red[li * 8u + q] += red[(li + s) * 8u + q]; }
    }
    workgroupBarrier();
  }
}
