// Kept for callers of withCosSin(): RoPE shaders now say `//#include rope_cos_sin` themselves
// (shaders/lib/rope_cos_sin.wgsl, resolved by src/gpu/wgsl_snippets.ts when a kernel is defined).
import { withSnippets } from '../wgsl_snippets';

/** kernelCode with cos_sin in front of it (as `//#include rope_cos_sin` would put it). */
export function withCosSin(kernelCode: string): string {
  return withSnippets(kernelCode, ['rope_cos_sin'], 'withCosSin');
}
