// Repositories of GGUF files for the Hub-shaped test server (node tests and e2e/hub.spec-style specs): a tiny
// random-weight Qwen3 written by the tests' independent GGUF writer (test/model/gguf_models.ts) in two
// quantisations, a split file and a vision projector (set aside), and a repository with one GGUF file.
import type { ModelConfig } from '../../src/model/config';
import { writeGguf, type QuantName } from '../model/gguf_fixtures';
import { ggufModel, q4KM } from '../model/gguf_models';
import type { RepoFixture } from './hub_server';

/** Qwen3 with rows of 256 values (whole Q4_K blocks), two layers, the tests' byte-level BPE vocabulary. */
export const TINY_GGUF_CONFIG: ModelConfig = {
  architecture: 'Qwen3ForCausalLM', hiddenSize: 256, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 64, intermediateSize: 256,
  vocabSize: 288, rmsNormEps: 1e-6, ropeTheta: 10000, ropeScaling: null, ropeConvention: 'half', maxPositionEmbeddings: 64,
  tieWordEmbeddings: true, attentionBias: false, qkNorm: true, bosTokenId: null, eosTokenIds: [],
};

const q8 = (_hf: string, shape: number[]): QuantName => (shape.length === 1 ? 'F32' : 'Q8_0');

/** The file of one quantisation ("Q8_0" or "Q4_K_M"). */
export function tinyGgufFile(quant: 'Q8_0' | 'Q4_K_M', seed = 5): Uint8Array {
  return ggufModel('qwen3', TINY_GGUF_CONFIG, seed, quant === 'Q8_0' ? q8 : q4KM).bytes;
}

export function ggufRepoFixtures(): Record<string, RepoFixture> {
  const q8file = tinyGgufFile('Q8_0');
  const q4file = tinyGgufFile('Q4_K_M');
  const enc = (s: string) => new TextEncoder().encode(s);
  return {
    'test-org/Tiny-Qwen3-GGUF': {
      files: new Map([
        ['README.md', enc('# Tiny Qwen3 GGUF\n')],
        ['Tiny-Qwen3-Q8_0.gguf', q8file],
        ['Tiny-Qwen3-Q4_K_M.gguf', q4file],
        ['Tiny-Qwen3-BF16-00001-of-00002.gguf', q8file.slice(0, 2000)],
        ['Tiny-Qwen3-BF16-00002-of-00002.gguf', q8file.slice(2000, 4000)],
        ['mmproj-Tiny-Qwen3-F16.gguf', q8file.slice(0, 1500)],
      ]),
    },
    'test-org/one-gguf': { files: new Map([['model.gguf', q4file], ['README.md', enc('one file\n')]]) },
    // a listing nobody should trust: names that climb out of the cache folder or carry control characters
    'test-org/hostile-gguf': {
      files: new Map([
        ['../../evil-Q8_0.gguf', q8file],
        ['sub/../../evil2-Q8_0.gguf', q8file],
        ['bell\u0007-Q4_0.gguf', q8file],
        [`${'x'.repeat(300)}-Q8_0.gguf`, q8file],
        ['fine-Q8_0.gguf', q8file],
      ]),
    },
    // an architecture the engine does not run, in a file larger than the first range that is read of it
    'test-org/mamba-GGUF': {
      files: new Map([['mamba-Q8_0.gguf', writeGguf({ kv: [['general.architecture', { t: 'string', v: 'mamba' }]], tensors: [{ name: 'x.weight', dims: [100_000], type: 0, bytes: new Uint8Array(400_000) }] })]]),
    },
    'test-org/no-gguf': { files: new Map([['README.md', enc('nothing\n')], ['weights-00001-of-00002.gguf', q8file.slice(0, 1200)]]) },
  };
}
