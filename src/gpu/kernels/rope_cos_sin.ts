// The WGSL function cos_sin(a) that every RoPE kernel uses (shaders/rope_cos_sin.wgsl): WGSL has no
// include, so a RoPE kernel's source is this snippet followed by the kernel's own file.

import cosSinCode from '../../../shaders/rope_cos_sin.wgsl?raw';

export function withCosSin(kernelCode: string): string {
  return `${cosSinCode}\n${kernelCode}`;
}
