// stories260K, a real pretrained model nobody here trained, generates llama2.c's reference text on the GPU.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadModelFromPath } from '../../src/model/load_node';
import { GpuTransformer } from '../../src/model/transformer';
import { generate } from '../../src/model/generate';
import { completionLogprobs } from '../../src/model/logprobs';
import { transformerForward } from '../../src/reference/transformer';

const MODEL = new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url).pathname;
const REFERENCE = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';

describe('stories260K on the GPU', () => {
  test('greedy generation reproduces llama2.c', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const prompt = loaded.tokenizer.encode('Once upon a time', { addBos: true });
    const out = await generate(model, [prompt], { maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: loaded.tokenizer.eosIds, lora: null });
    const text = loaded.tokenizer.decode([...prompt, ...out.tokens[0]]);
    expect(text.startsWith(REFERENCE), text).toBe(true);
    model.release();
  });

  test('stops at a stop string: the text is cut before it and the tokens end where it completes', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const prompt = loaded.tokenizer.encode('Once upon a time', { addBos: true });
    const decode = (ids: number[]) => loaded.tokenizer.decode(ids);
    const out = await generate(model, [prompt, prompt], {
      maxNewTokens: 40, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: loaded.tokenizer.eosIds, lora: null,
      stopStrings: ['Lily', 'never appears'], decode, checkEvery: 4,
    });
    expect(out.texts![0]).toBe(', there was a little girl named ');
    expect(out.finish[0]).toBe('stop');
    expect(decode(out.tokens[0])).toContain('Lily');
    expect(decode(out.tokens[0].slice(0, -1))).not.toContain('Lily');
    expect(out.steps).toBeLessThan(40); // every row stopped: decoding ended early
    model.release();
  });

  test('completion log-probs equal the CPU reference', async () => {
    const gpu = await testGpu();
    const loaded = await loadModelFromPath(MODEL);
    const model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
    const prompt = loaded.tokenizer.encode('Once upon a time', { addBos: true });
    const completion = loaded.tokenizer.encode(' there was a dog', { addBos: false });
    const got = await completionLogprobs(model, [{ prompt, completion }], null, 1);
    const seq = [...prompt, ...completion];
    const ref = transformerForward(loaded.config, loaded.weights, seq, 1, seq.length, null);
    const V = loaded.config.vocabSize;
    completion.forEach((id, j) => {
      const t = prompt.length + j - 1;
      const row = ref.logits.subarray(t * V, (t + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      expect(got.logprobs[0][j]).toBeCloseTo(row[id] - lse, 3);
    });
    model.release();
  });
});
