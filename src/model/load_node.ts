// Node only: load a model from a path (the command line, tests). A .bin file is a llama2.c checkpoint whose
// tokenizer defaults to tokenizer.bin or the one tok*.bin beside it; a folder is a Hugging Face model.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadGguf } from './gguf/load';
import { loadHfFolder, loadLlama2c, type FileSource, type LoadedModel } from './load';

/** A file on disk as a FileSource (read when asked). */
export async function nodeFileSource(path: string, name = basename(path)): Promise<FileSource> {
  const { size } = await stat(path);
  return {
    name,
    size,
    async arrayBuffer() {
      const b = await readFile(path);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    text: () => readFile(path, 'utf8'),
  };
}

async function llama2cTokenizerBeside(modelPath: string): Promise<string> {
  const dir = dirname(modelPath);
  const entries = await readdir(dir);
  if (entries.includes('tokenizer.bin')) return join(dir, 'tokenizer.bin');
  const toks = entries.filter((e) => /^tok.*\.bin$/.test(e) && join(dir, e) !== modelPath);
  if (toks.length === 1) return join(dir, toks[0]);
  const found = toks.length ? `several candidates (${toks.join(', ')})` : 'none';
  throw new Error(`${modelPath}: no tokenizer given and no single tokenizer.bin / tok*.bin beside it (${found}): pass the tokenizer path`);
}

/** A llama2.c checkpoint (.bin, with tokenizerPath or the tokenizer beside it), a GGUF file (.gguf, with
 * tokenizerPath or a tokenizer.json beside it overriding its own tokenizer) or a Hugging Face folder. */
export async function loadModelFromPath(path: string, tokenizerPath?: string): Promise<LoadedModel> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new Error(`${path}: no such file or folder`);
  }
  if (info.isDirectory()) {
    const entries = await readdir(path, { withFileTypes: true });
    const files = await Promise.all(
      entries.filter((e) => e.isFile()).map((e) => nodeFileSource(join(path, e.name), `${basename(path)}/${e.name}`)),
    );
    return loadHfFolder(files);
  }
  if (path.toLowerCase().endsWith('.gguf')) {
    // the tokenizer: the one given, else a tokenizer.json beside the file, else the file's own
    const besideJson = join(dirname(path), 'tokenizer.json');
    const tok = tokenizerPath ?? ((await stat(besideJson).catch(() => null))?.isFile() ? besideJson : undefined);
    return loadGguf(await nodeFileSource(path), tok ? await nodeFileSource(tok) : undefined);
  }
  if (path.endsWith('.bin')) {
    const tok = tokenizerPath ?? (await llama2cTokenizerBeside(path));
    return loadLlama2c(await nodeFileSource(path), await nodeFileSource(tok));
  }
  if (basename(path) === 'config.json' || path.endsWith('.safetensors')) return loadModelFromPath(dirname(path), tokenizerPath);
  throw new Error(`${path}: expected a llama2.c checkpoint (.bin), a GGUF file (.gguf) or a Hugging Face model folder`);
}
