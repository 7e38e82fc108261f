// Snippet (not a kernel): Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy
// as 1, 2, 3", SC 2011), a counter-based generator with only u32 arithmetic. src/reference/philox.ts is its
// CPU twin (the same bits). Used by sample.wgsl and dropout_*.wgsl; included by name (src/gpu/wgsl_snippets.ts).

// High 32 bits of the 64-bit product a*b, from 16-bit halves.
fn mulhi32(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu;
  let ah = a >> 16u;
  let bl = b & 0xffffu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let hh = ah * bh;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// Philox4x32-10 of counter ctr under key: 10 rounds, the key bumped by the Weyl constants between rounds.
fn philox4x32(ctr: vec4u, key: vec2u) -> vec4u {
  var c = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { k += vec2u(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4u(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}
