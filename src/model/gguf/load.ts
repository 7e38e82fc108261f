// A GGUF model file -> LoadedModel: config from the metadata, weights dequantised to f32 under Hugging Face
// names (llama's q/k permutation and Gemma's 1 + w norms undone), quantised matrices also kept in their
// blocks (word-aligned, HostTensor.quant) for the GPU, the tokenizer from the file or from a tokenizer.json
// beside it. Every check runs here, on the host, before anything reaches the GPU.

import { dequantize } from '../../ops/ggml_dequant';
import { isQuantKernelType, repackBlocks } from '../../ops/ggml_types';
import type { FileSource, LoadedModel } from '../load';
import { quantHostTensor } from '../quant_storage';
import { validateWeights, type WeightMap } from '../weights';
import { ggufArchitecture, ggufConfig, MetaReader } from './config';
import { hfTensorName, isRopePermuted, unpermuteRows } from './names';
import { readGgufHeader, type GgufTensorInfo } from './reader';
import { ggufTokenizer } from './tokenizer';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Reads a GGUF model; `tokenizerFile` (a tokenizer.json) overrides the file's own tokenizer. */
export async function loadGguf(file: FileSource, tokenizerFile?: FileSource): Promise<LoadedModel> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const gguf = readGgufHeader(bytes, file.name);
  const m = new MetaReader(gguf, file.name);
  const arch = ggufArchitecture(m);
  const byName = new Map(gguf.tensors.map((t) => [t.name, t]));
  const values = (t: GgufTensorInfo): Float32Array => {
    const out = new Float32Array(t.count);
    dequantize(t.type, bytes, t.offset, t.count, out);
    return out;
  };
  const ropeFreqs = byName.get('rope_freqs.weight');
  const config = ggufConfig(m, byName, ropeFreqs ? values(ropeFreqs) : null);

  // the tokenizer before the weights: a missing one fails fast, before the long dequantisation
  let beside: { json: unknown; source: string } | undefined;
  if (tokenizerFile) {
    const text = tokenizerFile.text ? await tokenizerFile.text() : new TextDecoder().decode(await tokenizerFile.arrayBuffer());
    try {
      beside = { json: JSON.parse(text), source: tokenizerFile.name };
    } catch (e) {
      throw new Error(`${tokenizerFile.name}: invalid JSON: ${(e as Error).message}`);
    }
  }
  const { tokenizer, chatTemplate } = ggufTokenizer(m, beside);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(
      `${beside?.source ?? file.name}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding has ${config.vocabSize} rows: ` +
        'tokenizer and model do not belong together',
    );
  }

  const weights: WeightMap = new Map();
  const types = new Set<string>();
  for (const t of gguf.tensors) {
    if (t.name === 'rope_freqs.weight') continue;
    const hf = hfTensorName(t.name, arch);
    if (hf === null) throw new Error(`${file.name}: tensor ${t.name} (${t.type.name} [${t.dims.join(', ')}]) has no place in a ${arch} model here`);
    const shape = [...t.dims].reverse();
    const isMatrix = shape.length === 2 && !hf.endsWith('norm.weight');
    const rows = shape[0];
    const permuted = isRopePermuted(hf, arch);
    if (permuted && rows % config.headDim !== 0) throw new Error(`${file.name}: tensor ${t.name} has ${rows} rows, not whole heads of ${config.headDim}`);
    if (isMatrix && isQuantKernelType(t.type.name)) {
      // kept in its blocks; f32 values only when something reads them
      let words = repackBlocks(t.type, bytes, t.offset, t.count);
      if (permuted) words = unpermuteRows(words, rows, words.length / rows, config.headDim);
      weights.set(hf, quantHostTensor(shape, t.type.name, words));
      types.add(t.type.name.toLowerCase());
      continue;
    }
    let data = values(t);
    if (permuted) data = unpermuteRows(data, rows, shape.length === 2 ? shape[1] : 1, config.headDim);
    if (config.normWeightOffset && hf.endsWith('norm.weight')) {
      // llama.cpp stores Gemma's norm weights as 1 + w; the model adds normWeightOffset back
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(data[i] - config.normWeightOffset);
    }
    weights.set(hf, { shape, data });
    types.add(t.type.name.toLowerCase());
  }
  validateWeights(config, weights, file.name);
  const stem = baseName(file.name).replace(/\.gguf$/i, '');
  const name = m.string('general.name') ?? stem;
  return {
    config: {
      ...config,
      bosTokenId: tokenizer.bosId ?? config.bosTokenId,
      eosTokenIds: tokenizer.eosIds.length ? tokenizer.eosIds : config.eosTokenIds,
    },
    weights,
    tokenizer,
    name: name || stem,
    dtype: [...types].sort().join('+'),
    chatTemplate,
    specialTokens: {
      bos_token: tokenizer.bosId !== null ? tokenizer.tokenText(tokenizer.bosId) : undefined,
      eos_token: tokenizer.eosIds.length ? tokenizer.tokenText(tokenizer.eosIds[0]) : undefined,
    },
  };
}
