// CPU reference of residual_add.wgsl / residual_add_inplace.wgsl (same argument order as the host wrappers).

export function residualAdd(out: Float32Array, a: Float32Array, b: Float32Array, n = out.length): void {
  for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
}

export function residualAddInplace(acc: Float32Array, b: Float32Array, n = acc.length): void {
  for (let i = 0; i < n; i++) acc[i] += b[i];
}
