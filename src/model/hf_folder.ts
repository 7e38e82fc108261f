// A Hugging Face model folder given as a set of files: config.json, model.safetensors or
// model.safetensors.index.json + its shards, tokenizer.json, and (when present) tokenizer_config.json and
// generation_config.json. Files are matched by base name, so a browser folder pick ("my-model/config.json")
// and a flat list of dropped files both work.

import { parseHfConfig, type ModelConfig } from './config';
import { gemma4Ignored } from './gemma4_weights';
import type { FileSource, LoadedModel } from './load';
import { readSafetensors, type SafetensorsDtype } from './safetensors';
import { createHfTokenizer } from './tokenizer_hf';
import { probeTokenizerAndTemplate } from './load_probe';
import { validateWeights, type WeightMap } from './weights';

const INDEX = 'model.safetensors.index.json';

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

async function readText(f: FileSource): Promise<string> {
  if (f.text) return f.text();
  return new TextDecoder().decode(await f.arrayBuffer());
}

async function readJson(f: FileSource): Promise<unknown> {
  const text = await readText(f);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${f.name}: invalid JSON: ${(e as Error).message}`);
  }
}

/** Files by base name; with the same name twice, the one nearest the folder's root wins. */
function byBaseName(files: FileSource[]): Map<string, FileSource> {
  const depth = (f: FileSource) => f.name.split('/').length;
  const map = new Map<string, FileSource>();
  for (const f of files) {
    const key = baseName(f.name);
    const prev = map.get(key);
    if (!prev || depth(f) < depth(prev)) map.set(key, f);
  }
  return map;
}

/** Tensors that checkpoints carry but the model recomputes or shares (Gemma 4: the shared layers' k/v). */
function ignorable(name: string, config: ModelConfig): boolean {
  return name.endsWith('.rotary_emb.inv_freq') || (config.tieWordEmbeddings && name === 'lm_head.weight') || (!!config.gemma4 && gemma4Ignored(config, name));
}

/** Gemma3ForConditionalGeneration: its language model's tensors under the causal LM's names (older
 * checkpoints: language_model.model.*, language_model.lm_head.*; transformers >= 4.52: model.language_model.*,
 * lm_head.*); the vision tower and projector are skipped (null). */
const LANGUAGE_MODEL_PREFIXES: [string, string][] = [
  ['language_model.model.', 'model.'],
  ['model.language_model.', 'model.'],
  ['language_model.lm_head.', 'lm_head.'],
];

function languageModelName(name: string): string | null {
  for (const [from, to] of LANGUAGE_MODEL_PREFIXES) if (name.startsWith(from)) return to + name.slice(from.length);
  return name.startsWith('lm_head.') ? name : null;
}

export async function readHfFolder(files: FileSource[]): Promise<LoadedModel> {
  const named = byBaseName(files);
  const listed = () => [...named.keys()].sort().join(', ') || 'none';
  const need = (name: string, why: string): FileSource => {
    const f = named.get(name);
    if (!f) throw new Error(`${name} is missing (${why}); files given: ${listed()}`);
    return f;
  };
  const configFile = need('config.json', 'the model configuration');
  const configJson = await readJson(configFile);
  const config = parseHfConfig(configJson, configFile.name);
  const tokenizerFile = need('tokenizer.json', 'the tokenizer');

  // which shard holds which tensors
  const shards = new Map<FileSource, Set<string> | null>(); // null: every tensor of the file
  const index = named.get(INDEX);
  if (index) {
    const json = await readJson(index);
    const map = (json as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) {
      throw new Error(`${index.name}: weight_map is missing or not an object of tensor -> shard file`);
    }
    for (const [tensorName, shardName] of Object.entries(map as Record<string, unknown>)) {
      if (typeof shardName !== 'string') throw new Error(`${index.name}: weight_map.${tensorName} must be a file name`);
      const shard = named.get(baseName(shardName));
      if (!shard) throw new Error(`${index.name}: shard ${shardName} (holding ${tensorName}) is missing; files given: ${listed()}`);
      let set = shards.get(shard);
      if (!set) shards.set(shard, (set = new Set()));
      set.add(tensorName);
    }
  } else {
    const single = named.get('model.safetensors');
    if (!single) {
      const hint = named.has('pytorch_model.bin') || named.has('pytorch_model.bin.index.json')
        ? ': PyTorch .bin checkpoints are not supported, save the model with safetensors'
        : '';
      throw new Error(`model.safetensors (or ${INDEX} and its shards) is missing${hint}; files given: ${listed()}`);
    }
    shards.set(single, null);
  }

  const weights: WeightMap = new Map();
  const dtypes = new Set<SafetensorsDtype>();
  const multimodal = config.architecture === 'Gemma3ForConditionalGeneration' || config.architecture === 'Gemma4ForConditionalGeneration' || config.architecture === 'Qwen3_5ForConditionalGeneration';
  // Qwen3.5's multi-token-prediction head (mtp.*) is not part of the language model
  const mtp = (n: string) => config.modelType === 'qwen3_5_text' && n.startsWith('mtp.');
  const rename = (n: string): string | null => (mtp(n) ? null : multimodal ? languageModelName(n) : n);
  const skipped: string[] = [];
  for (const [shard, names] of shards) {
    const file = readSafetensors(await shard.arrayBuffer(), shard.name, (n) => {
      const to = rename(n);
      if (to === null) skipped.push(n);
      return to !== null && (names ? names.has(n) : true) && !ignorable(to, config);
    });
    for (const [raw, t] of file.tensors) {
      const name = rename(raw)!;
      if (weights.has(name)) throw new Error(`${shard.name}: tensor ${raw} appears in two files`);
      weights.set(name, t);
    }
    if (names) {
      for (const n of names) {
        const to = rename(n);
        if (to !== null && !file.tensors.has(n) && !ignorable(to, config)) {
          throw new Error(`${shard.name}: tensor ${n} is missing, though ${INDEX} places it in this file`);
        }
      }
    }
    for (const d of file.dtypes) dtypes.add(d);
  }
  if (multimodal && ![...weights.keys()].some((n) => n.startsWith('model.'))) {
    const seen = [...new Set(skipped.map((n) => n.split('.').slice(0, 2).join('.')))].slice(0, 4).join(', ') || 'none';
    throw new Error(
      `${configFile.name}: a ${config.architecture} checkpoint, but its files hold no language-model tensors ` +
        `(expected language_model.model.* or model.language_model.*; found ${seen}): only the text model can be loaded`,
    );
  }
  validateWeights(config, weights, index ? `${dirName(index.name) || 'model'} (${INDEX})` : shards.keys().next().value!.name);

  const tokenizerConfigFile = named.get('tokenizer_config.json');
  const generationFile = named.get('generation_config.json');
  const tokenizerConfig = tokenizerConfigFile ? await readJson(tokenizerConfigFile) : undefined;
  const generationConfig = generationFile ? await readJson(generationFile) : undefined;
  const chatTemplate = await readChatTemplate(named.get('chat_template.jinja'), tokenizerConfig);
  const tokenizerJson = await readJson(tokenizerFile);
  const tokenizer = createHfTokenizer(
    { tokenizerJson, tokenizerConfig, config: configJson, generationConfig, chatTemplate },
    tokenizerFile.name,
  );
  // the tokenizer's regexes and the chat template run once in a worker with a time limit (load_probe.ts)
  const templateFile = named.get('chat_template.jinja')?.name ?? tokenizerConfigFile?.name ?? 'the chat template';
  await probeTokenizerAndTemplate({ tokenizerJson, tokenizerConfig: tokenizerConfig ?? {}, chatTemplate: chatTemplate ?? null }, { tokenizer: tokenizerFile.name, 'chat template': templateFile });
  // Special tokens past the embedding are tolerated: Gemma 3's text models (vocab_size 262144) ship the
  // multimodal tokenizer, whose <image_soft_token> is id 262144; text never encodes to it unless it spells it
  // out, and the model never samples it.
  if (tokenizer.vocabSize > config.vocabSize && !onlySpecialTokensPast(tokenizerJson, config.vocabSize, tokenizer.vocabSize)) {
    throw new Error(
      `${tokenizerFile.name}: the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${config.vocabSize}: ` +
        `tokenizer and model do not belong together`,
    );
  }
  const finalConfig = {
    ...config,
    bosTokenId: config.bosTokenId ?? tokenizer.bosId,
    eosTokenIds: tokenizer.eosIds.length ? tokenizer.eosIds : config.eosTokenIds,
  };


  const folder = baseName(dirName(configFile.name));
  const rawName = (configJson as { _name_or_path?: unknown })._name_or_path;
  const name = folder || (typeof rawName === 'string' && rawName ? baseName(rawName.replace(/\/+$/, '')) : 'model');
  return {
    config: finalConfig,
    weights,
    tokenizer,
    name,
    dtype: [...dtypes].map((d) => d.toLowerCase()).sort().join('+') || 'f32',
    generationConfig: generationConfig && typeof generationConfig === 'object' ? (generationConfig as Record<string, unknown>) : undefined,
    chatTemplate,
    specialTokens: {
      bos_token: tokenizer.bosId !== null ? tokenizer.tokenText(tokenizer.bosId) : undefined,
      eos_token: tokenizer.eosIds.length ? tokenizer.tokenText(tokenizer.eosIds[0]) : undefined,
    },
  };
}

/** Whether every id in [from, to) is one of tokenizer.json's special added tokens. */
function onlySpecialTokensPast(tokenizerJson: unknown, from: number, to: number): boolean {
  const added = (tokenizerJson as { added_tokens?: unknown }).added_tokens;
  if (!Array.isArray(added)) return false;
  const special = new Set(added.filter((t) => t && t.special === true && typeof t.id === 'number').map((t) => t.id as number));
  for (let id = from; id < to; id++) if (!special.has(id)) return false;
  return true;
}

/** The chat template: chat_template.jinja when present, else tokenizer_config.json's chat_template (a string,
 * or a list of {name, template} from which "default" is taken). */
async function readChatTemplate(file: FileSource | undefined, tokenizerConfig: unknown): Promise<string | null> {
  if (file) return file.text ? file.text() : new TextDecoder().decode(await file.arrayBuffer());
  const t = (tokenizerConfig as { chat_template?: unknown } | undefined)?.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => (x as { name?: unknown })?.name === 'default') ?? t[0];
    const tpl = (named as { template?: unknown } | undefined)?.template;
    if (typeof tpl === 'string') return tpl;
  }
  return null;
}
