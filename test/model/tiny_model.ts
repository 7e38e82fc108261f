// A tiny random Llama-family model for tests (shapes chosen to be odd: nothing is a multiple of a tile).
import type { ModelConfig } from '../../src/model/config';
import { expectedShapes, type WeightMap } from '../../src/model/weights';
import { Rng, randn } from '../../src/selftest/random';

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    architecture: 'LlamaForCausalLM',
    hiddenSize: 12,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    intermediateSize: 20,
    vocabSize: 37,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    ropeConvention: 'half',
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: true,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    ...over,
  };
}

export function randomWeights(c: ModelConfig, seed: number): WeightMap {
  const rng = new Rng(seed);
  const w: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = name.endsWith('norm.weight') || name.endsWith('layernorm.weight')
      ? Float32Array.from({ length: n }, () => 1 + 0.2 * rng.normal())
      : randn(n, rng, 0.4);
    w.set(name, { shape, data });
  }
  return w;
}
