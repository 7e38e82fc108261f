// Loading a model from a set of files, the same in a page, a worker and Node: llama2.c checkpoints
// (model .bin + tokenizer .bin) and Hugging Face folders (config.json + safetensors + tokenizer.json).

import type { ModelConfig } from './config';
import { loadGguf } from './gguf/load';
import { readHfFolder } from './hf_folder';
import { parseLlama2cCheckpoint } from './llama2c';
import type { Tokenizer } from './tokenizer';
import { parseLlama2cTokenizer } from './tokenizer_llama2c';
import { validateWeights, type WeightMap } from './weights';

export interface LoadedModel {
  config: ModelConfig;
  /** float32 weights under Hugging Face names (see weights.ts) */
  weights: WeightMap;
  tokenizer: Tokenizer;
  /** e.g. 'stories260K' or the folder's name */
  name: string;
  /** the checkpoint's storage type(s): 'f32', 'bf16', 'f16', or e.g. 'bf16+f32' when mixed */
  dtype: string;
  /** the model's Jinja chat template (Hugging Face folders that have one) */
  chatTemplate?: string | null;
  /** special tokens as text, for chat templates */
  specialTokens?: { bos_token?: string; eos_token?: string };
  /** generation_config.json, when the folder has one */
  generationConfig?: Record<string, unknown>;
}

/** A set of named files (browser File objects or Node buffers), so the same code loads in a page, a worker and Node. */
export interface FileSource {
  /** the file's name, possibly with its folder path ("my-model/config.json") */
  name: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  text?(): Promise<string>;
}

function stem(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1).replace(/\.[^.]*$/, '');
}

/** A llama2.c checkpoint and its tokenizer.bin (which must hold exactly the model's vocab_size tokens). */
export async function loadLlama2c(model: FileSource, tokenizer: FileSource): Promise<LoadedModel> {
  const { config, weights } = parseLlama2cCheckpoint(await model.arrayBuffer(), model.name);
  validateWeights(config, weights, model.name);
  const tok = parseLlama2cTokenizer(await tokenizer.arrayBuffer(), tokenizer.name, config.vocabSize);
  return { config, weights, tokenizer: tok, name: stem(model.name), dtype: 'f32' };
}

/** config.json + model.safetensors or model.safetensors.index.json shards + tokenizer.json
 * (+ tokenizer_config.json, generation_config.json when present). */
export function loadHfFolder(files: FileSource[]): Promise<LoadedModel> {
  return readHfFolder(files);
}

/** Whatever a person picked or dropped: a Hugging Face folder (it has config.json) or a llama2.c pair
 * (two .bin files: the larger is the model, the other its tokenizer). */
export async function loadModelFiles(files: FileSource[]): Promise<LoadedModel> {
  const base = (f: FileSource) => f.name.slice(f.name.lastIndexOf('/') + 1);
  const ggufs = files.filter((f) => base(f).toLowerCase().endsWith('.gguf'));
  if (ggufs.length > 1) throw new Error(`several GGUF files given (${ggufs.map((f) => f.name).join(', ')}): pick one (split GGUF files are not supported)`);
  if (ggufs.length === 1) return loadGguf(ggufs[0], files.find((f) => base(f) === 'tokenizer.json'));
  if (files.some((f) => base(f) === 'config.json')) return loadHfFolder(files);
  const bins = files.filter((f) => base(f).endsWith('.bin'));
  if (bins.length === 2) {
    const [tok, model] = [...bins].sort((a, b) => a.size - b.size);
    return loadLlama2c(model, tok);
  }
  const names = files.map((f) => f.name).join(', ') || 'none';
  throw new Error(
    `cannot tell the model format from these files (${names}): give a Hugging Face folder (config.json, ` +
      `model.safetensors, tokenizer.json), a GGUF file (.gguf, with its tokenizer.json when it holds none) or a llama2.c checkpoint .bin with its tokenizer .bin`,
  );
}
