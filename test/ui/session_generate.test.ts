// The engine worker's model slot, dataset slot and try-it functions (src/worker/try_model.ts) answer the
// playground's try-it and dataset-histogram requests: base and tuned completions with one seed, the
// answer's log-probability under each, and token lengths that match the tokenizer. Node WebGPU, stories260K.
import { describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { RunController } from '../../src/worker/run_controller';
import { generateSideBySide, tokenLengths } from '../../src/worker/try_model';
import type { PromptSettings } from '../../src/data';
import { nodeFileSource } from '../../src/model/load_node';
import { STORIES, STORY_PROMPTS, wordConfig } from '../grpo/fixtures';
import type { GenerateRequest } from '../../src/worker/protocol';

const TOKENIZER = STORIES.replace(/stories260K\.bin$/, 'tok512.bin');
const settings = { system_prompt: null, prompt_template: null, use_chat_template: false };

/** The worker's parts as engine.worker.ts routes the try-it and token-length requests to them. */
function engineParts() {
  const models = new ModelSlot(testGpu);
  const datasets = new DatasetSlot();
  const runs = new RunController(models, datasets);
  return {
    loadModel: async (files: Parameters<ModelSlot['load']>[0]) => models.load(files, () => runs.end()),
    loadDataset: (name: string, bytes: Uint8Array) => datasets.load(name, bytes),
    tokenLengths: (s: PromptSettings) => tokenLengths(models.require('load a model first: token lengths depend on its tokenizer').loaded, datasets.require(), s),
    generate: async (r: GenerateRequest) => generateSideBySide(models.require(), runs.adapter, r),
    run: runs.train.bind(runs),
  };
}

describe('the worker: generate and token lengths', () => {
  test('base and tuned completions, answer log-probs, token lengths', async () => {
    const session = engineParts();
    await session.loadModel([await nodeFileSource(STORIES), await nodeFileSource(TOKENIZER)]);
    const rows = STORY_PROMPTS.map((prompt) => JSON.stringify({ prompt, answer: 'dog' })).join('\n');
    session.loadDataset('dogs.jsonl', new TextEncoder().encode(rows));

    // token lengths: prompt with BOS, answer without
    const lengths = session.tokenLengths(settings);
    expect(lengths.prompt.length).toBe(STORY_PROMPTS.length);
    expect(lengths.answer.length).toBe(STORY_PROMPTS.length);
    expect(Array.from(lengths.answer).every((n) => n === lengths.answer[0] && n >= 1)).toBe(true);
    const withTemplate = session.tokenLengths({ ...settings, prompt_template: 'Story: {prompt}' });
    for (let i = 0; i < lengths.prompt.length; i++) {
      expect(lengths.prompt[i]).toBeGreaterThan(1); // BOS + at least one token
      expect(withTemplate.prompt[i]).toBeGreaterThan(lengths.prompt[i]);
    }

    const req: GenerateRequest = { prompt: 'Once upon a time', answer: ', there was a', settings, maxNewTokens: 12, temperature: 0.8, topK: 0, topP: 1, seed: 7 };
    const before = await session.generate(req);
    expect(before.tuned).toBeNull(); // no adapter yet
    expect(before.base.tokens).toBeGreaterThan(0);
    expect(before.base.text.length).toBeGreaterThan(0);
    expect(before.base.answerLogprob).toBeLessThan(0);
    expect(before.answerTokens).toBeGreaterThan(0);
    expect(before.promptText).toBe('Once upon a time');
    // the same seed gives the same sample
    expect((await session.generate(req)).base).toEqual(before.base);

    const config = wordConfig({ max_steps: 2, num_generations: 4, max_completion_length: 8, learning_rate: 0.02, lora_r: 4, lora_alpha: 8, eval_split: 0 });
    const end = await session.run(config, true, () => undefined);
    expect(end).toEqual({ state: 'finished', step: 2 });
    const after = await session.generate(req);
    expect(after.step).toBe(2);
    // LoRA off is the base model exactly, whatever the adapter holds
    expect(after.base).toEqual(before.base);
    expect(after.tuned).not.toBeNull();
    expect(after.tuned!.answerLogprob).toBeLessThan(0);
    // two steps moved lora_B away from zero, so the tuned model scores the answer differently
    expect(after.tuned!.answerLogprob).not.toBe(after.base.answerLogprob);

    // a prompt template is applied to try-it prompts as in training
    const templated = await session.generate({ ...req, settings: { ...settings, prompt_template: 'Q: {prompt}\nA:' } });
    expect(templated.promptText).toBe('Q: Once upon a time\nA:');
    expect(templated.promptTokens).toBeGreaterThan(before.promptTokens);
  });

  test('generate before a model is loaded says what to do', async () => {
    const session = engineParts();
    await expect(session.generate({ prompt: 'x', settings, maxNewTokens: 4, temperature: 0, topK: 0, topP: 1, seed: 0 })).rejects.toThrow(/load a model/);
    expect(() => session.tokenLengths(settings)).toThrow(/load a model/);
  });
});
