// A model config's sizes are bounded before anything is allocated or looped over: each oversized field is
// refused at once with a message naming the file, the field and the limit (num_hidden_layers 1e9 used to
// cost tens of seconds of CPU and end in a RangeError inside the loader).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseHfConfig } from '../../src/model/config';
import { loadHfFolder } from '../../src/model/load';
import { CONFIG_SIZE_LIMITS } from '../../src/model/config_bounds';
import { structuralConfig } from '../../src/model/structural_config';
import { memFile } from './tiny';
import { TINY_DIR } from '../hub/fixtures';

const base = JSON.parse(readFileSync(TINY_DIR + 'config.json', 'utf8')) as Record<string, unknown>;

describe('config sizes are bounded', () => {
  for (const [field, limit] of Object.entries(CONFIG_SIZE_LIMITS)) {
    test(`${field} above ${limit} is refused at once, naming the field and the limit`, () => {
      const huge = field === 'head_dim' ? 2 * (limit + 2) : limit * 4 + 4;
      const json = { ...base, [field]: huge, ...(field === 'num_key_value_heads' ? { num_attention_heads: huge } : {}) };
      const t = performance.now();
      expect(() => parseHfConfig(json, 'org/m/config.json')).toThrow(new RegExp(`org/m/config\\.json: ${field} is above this playground's limit of ${limit}`));
      expect(performance.now() - t).toBeLessThan(1000);
    });
  }

  test('num_hidden_layers 1e9 in a whole folder ends in a message within a second', async () => {
    const files = ['tokenizer.json', 'model.safetensors'].map((f) => memFile(`tiny/${f}`, new Uint8Array(readFileSync(TINY_DIR + f))));
    files.push(memFile('tiny/config.json', JSON.stringify({ ...base, num_hidden_layers: 1e9 })));
    const t = performance.now();
    await expect(loadHfFolder(files)).rejects.toThrow(/config\.json: num_hidden_layers is above this playground's limit of 512/);
    expect(performance.now() - t).toBeLessThan(5000);
  });

  test('the memory planner reads the same bounds (a config of a family it does not run)', () => {
    expect(() => structuralConfig({ ...base, model_type: 'olmo', num_hidden_layers: 1e9 }, 'olmo/config.json')).toThrow(/olmo\/config\.json: num_hidden_layers is above this playground's limit of 512/);
  });

  test('real shapes stay accepted (Gemma 3 vocabulary, a 1M context)', () => {
    expect(parseHfConfig({ ...base, vocab_size: 262144, max_position_embeddings: 1048576 }).vocabSize).toBe(262144);
  });
});
