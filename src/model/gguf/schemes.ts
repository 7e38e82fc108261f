// Which ggml block type llama.cpp's quantiser gives each weight for a file type (llama-quant.cpp's choices,
// simplified to the tensors this project runs), for planning memory without the file: Q8_0 quantises every
// matrix to Q8_0; Q4_K_M keeps Q4_K except attn_v and ffn_down of the "more bits" layers (the first and last
// eighth, and every third between) and the output / tied embedding, which take Q6_K.

import type { GgmlTypeName } from '../../ops/ggml_types';
import type { ModelConfig } from '../config';
import { expectedShapes } from '../weights';

export type GgufFileType = 'Q8_0' | 'Q4_K_M';

function moreBits(i: number, n: number): boolean {
  return i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2;
}

/** weight name -> block type for a model quantised as `fileType` (norms and biases stay F32: not listed). */
export function llamaCppQuantTypes(c: ModelConfig, fileType: GgufFileType): Map<string, GgmlTypeName> {
  const out = new Map<string, GgmlTypeName>();
  for (const [name, shape] of expectedShapes(c)) {
    if (shape.length !== 2) continue;
    if (fileType === 'Q8_0') {
      out.set(name, 'Q8_0');
      continue;
    }
    const layer = /^model\.layers\.(\d+)\./.exec(name);
    const head = name === 'lm_head.weight' || (c.tieWordEmbeddings && name === 'model.embed_tokens.weight');
    const more = layer !== null && /(v_proj|down_proj)\.weight$/.test(name) && moreBits(Number(layer[1]), c.numLayers);
    out.set(name, head || more ? 'Q6_K' : 'Q4_K');
  }
  return out;
}
