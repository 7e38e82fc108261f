// Shared WGSL snippets (shaders/lib/*.wgsl): WGSL has no include, so a kernel's .wgsl says
// `//#include <name>` on a line of its own and resolveIncludes() puts the snippet's text there when the
// kernel is defined (src/gpu/kernel.ts). A snippet may include others; each is inserted once per module
// (at its first include), so two snippets may share a third. WGSL declarations are order-independent at
// module scope, so where a snippet lands does not change the program.

import ropeCosSin from '../../shaders/lib/rope_cos_sin.wgsl?raw';
import matmulBlock8 from '../../shaders/lib/matmul_block8.wgsl?raw';
import matmulVec4Common from '../../shaders/lib/matmul_vec4_common.wgsl?raw';
import matmulStridedCommon from '../../shaders/lib/matmul_strided_common.wgsl?raw';
import matmulSmallmCommon from '../../shaders/lib/matmul_smallm_common.wgsl?raw';
import matmulPacked16Tile from '../../shaders/lib/matmul_packed16_tile.wgsl?raw';
import matmulPacked16TiledForwardBody from '../../shaders/lib/matmul_packed16_tiled_forward_body.wgsl?raw';
import matmulPacked16TiledBackwardBody from '../../shaders/lib/matmul_packed16_tiled_backward_body.wgsl?raw';
import matmulTreeSum8 from '../../shaders/lib/matmul_tree_sum8.wgsl?raw';
import packed16Unpack from '../../shaders/lib/packed16_unpack.wgsl?raw';
import ggmlDequant from '../../shaders/lib/ggml_dequant.wgsl?raw';
import matmulQuantForwardIo from '../../shaders/lib/matmul_quant_forward_io.wgsl?raw';
import matmulQuantForwardVec4Io from '../../shaders/lib/matmul_quant_forward_vec4_io.wgsl?raw';
import matmulQuantBackwardIo from '../../shaders/lib/matmul_quant_backward_io.wgsl?raw';
import matmulQuantBackwardVec4Io from '../../shaders/lib/matmul_quant_backward_vec4_io.wgsl?raw';
import matmulQuantTileProducts from '../../shaders/lib/matmul_quant_tile_products.wgsl?raw';
import matmulQuantSplitkBlock from '../../shaders/lib/matmul_quant_splitk_block.wgsl?raw';
import matmulQuantSplitkForwardBody from '../../shaders/lib/matmul_quant_splitk_forward_body.wgsl?raw';
import matmulQuantSplitkBackwardBody from '../../shaders/lib/matmul_quant_splitk_backward_body.wgsl?raw';
import philox from '../../shaders/lib/philox.wgsl?raw';
import workgroupSum from '../../shaders/lib/workgroup_sum.wgsl?raw';
import logsumexpStats from '../../shaders/lib/logsumexp_stats.wgsl?raw';
import pack16 from '../../shaders/lib/pack16.wgsl?raw';
import attentionDecodeBody from '../../shaders/lib/attention_decode_body.wgsl?raw';
import attentionDecodeCommon from '../../shaders/lib/attention_decode_common.wgsl?raw';
import attentionDecodeSplitBody from '../../shaders/lib/attention_decode_split_body.wgsl?raw';
import stableTanh from '../../shaders/lib/stable_tanh.wgsl?raw';
import gdnGatesCommon from '../../shaders/lib/gdn_gates_common.wgsl?raw';
import partialRopeBody from '../../shaders/lib/partial_rope_body.wgsl?raw';
import stableSigmoid from '../../shaders/lib/stable_sigmoid.wgsl?raw';
import causalConv1dCommon from '../../shaders/lib/causal_conv1d_common.wgsl?raw';
import attentionRows from '../../shaders/lib/attention_rows.wgsl?raw';
import attentionSegments from '../../shaders/lib/attention_segments.wgsl?raw';
import attentionBackwardBlocks from '../../shaders/lib/attention_backward_blocks.wgsl?raw';
import gatedDeltaChunkCommon from '../../shaders/lib/gated_delta_chunk_common.wgsl?raw';
import ropeKvCacheWriteCommon from '../../shaders/lib/rope_kv_cache_write_common.wgsl?raw';
import ropeKvCacheWriteBody from '../../shaders/lib/rope_kv_cache_write_body.wgsl?raw';
import ropeKvCacheWritePacked16Body from '../../shaders/lib/rope_kv_cache_write_packed16_body.wgsl?raw';
import ropeKvSplitQkv from '../../shaders/lib/rope_kv_split_qkv.wgsl?raw';
import ropeKvCacheSlot from '../../shaders/lib/rope_kv_cache_slot.wgsl?raw';
import loraBlock4 from '../../shaders/lib/lora_block4.wgsl?raw';

export const SNIPPETS = {
  rope_cos_sin: ropeCosSin,
  matmul_block8: matmulBlock8,
  matmul_vec4_common: matmulVec4Common,
  matmul_strided_common: matmulStridedCommon,
  matmul_smallm_common: matmulSmallmCommon,
  matmul_packed16_tile: matmulPacked16Tile,
  matmul_packed16_tiled_forward_body: matmulPacked16TiledForwardBody,
  matmul_quant_forward_io: matmulQuantForwardIo,
  matmul_quant_forward_vec4_io: matmulQuantForwardVec4Io,
  matmul_quant_backward_io: matmulQuantBackwardIo,
  matmul_quant_backward_vec4_io: matmulQuantBackwardVec4Io,
  matmul_quant_tile_products: matmulQuantTileProducts,
  matmul_quant_splitk_block: matmulQuantSplitkBlock,
  matmul_quant_splitk_forward_body: matmulQuantSplitkForwardBody,
  matmul_quant_splitk_backward_body: matmulQuantSplitkBackwardBody,
  matmul_packed16_tiled_backward_body: matmulPacked16TiledBackwardBody,
  matmul_tree_sum8: matmulTreeSum8,
  packed16_unpack: packed16Unpack,
  ggml_dequant: ggmlDequant,
  philox,
  workgroup_sum: workgroupSum,
  logsumexp_stats: logsumexpStats,
  pack16,
  attention_decode_body: attentionDecodeBody,
  attention_decode_common: attentionDecodeCommon,
  attention_decode_split_body: attentionDecodeSplitBody,
  stable_tanh: stableTanh,
  gdn_gates_common: gdnGatesCommon,
  partial_rope_body: partialRopeBody,
  stable_sigmoid: stableSigmoid,
  causal_conv1d_common: causalConv1dCommon,
  attention_rows: attentionRows,
  attention_segments: attentionSegments,
  attention_backward_blocks: attentionBackwardBlocks,
  gated_delta_chunk_common: gatedDeltaChunkCommon,
  rope_kv_cache_write_common: ropeKvCacheWriteCommon,
  rope_kv_cache_write_body: ropeKvCacheWriteBody,
  rope_kv_cache_write_packed16_body: ropeKvCacheWritePacked16Body,
  rope_kv_split_qkv: ropeKvSplitQkv,
  rope_kv_cache_slot: ropeKvCacheSlot,
  lora_block4: loraBlock4,
} as const satisfies Record<string, string>;

export type SnippetName = keyof typeof SNIPPETS;

const INCLUDE = /^[ \t]*\/\/#include[ \t]+(\S+)[ \t]*$/gm;

/** `code` with every `//#include name` line replaced by that snippet (resolved recursively, each snippet
 * once). Throws naming `what` (the kernel) and the snippet when a name is unknown. */
export function resolveIncludes(code: string, what: string, seen: Set<string> = new Set()): string {
  return code.replace(INCLUDE, (_line, name: string) => {
    if (!Object.hasOwn(SNIPPETS, name)) {
      throw new Error(`${what}: //#include ${name}: no such WGSL snippet (known: ${Object.keys(SNIPPETS).join(', ')})`);
    }
    if (seen.has(name)) return `// (${name} included above)`;
    seen.add(name);
    return resolveIncludes(SNIPPETS[name as SnippetName], `${what} > ${name}`, seen);
  });
}

/** `code` with the named snippets in front of it (for a kernel source that does not say `//#include`). */
export function withSnippets(code: string, names: readonly SnippetName[], what = 'wgsl'): string {
  return resolveIncludes([...names.map((n) => `//#include ${n}`), code].join('\n'), what);
}
