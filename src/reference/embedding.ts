// CPU reference of embedding_forward.wgsl and embedding_backward_*.wgsl (same argument order as the host
// wrappers in src/gpu/kernels/embedding.ts, with explicit dims). Float64Array inputs work too
// (finite-difference tests).

type Floats = Float32Array | Float64Array;

/** out[n, :] = table[ids[n], :] * scale, or zeros when ids[n] >= V. out (N, C), ids (N), table (V, C). */
export function embeddingForward(out: Floats, ids: Uint32Array, table: Floats, N: number, V: number, C: number, scale = 1): void {
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    for (let c = 0; c < C; c++) out[n * C + c] = id < V ? table[id * C + c] * scale : 0;
  }
}

/** dtable[ids[n], :] += dout[n, :] * scale for n in increasing order (accumulates); ids >= V are skipped. */
export function embeddingBackward(dtable: Floats, dout: Floats, ids: Uint32Array, N: number, V: number, C: number, scale = 1): void {
  for (let n = 0; n < N; n++) {
    const id = ids[n];
    if (id >= V) continue;
    for (let c = 0; c < C; c++) dtable[id * C + c] += dout[n * C + c] * scale;
  }
}
