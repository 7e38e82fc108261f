// The page's runs give the chat template the run's tools, as the command line does (src/cli/train.ts): a
// Qwen3 folder with its REAL tokenizer and chat template, the calculator tools file loaded in the sandbox by
// Run.create (the engine worker's run), and every training and eval prompt rendered with the tools' names,
// descriptions and schemas (the template's <tools> block), equal to formatPrompt with those tools. A tools
// file that does not load stops the run at its start with the sandbox's message.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { testGpu } from '../gpu';
import { familyWeights, writeFamilyFolder } from '../model/families_fixtures';
import { nodeFileSource } from '../../src/model/load_node';
import { ModelSlot } from '../../src/worker/model_slot';
import { DatasetSlot } from '../../src/worker/dataset_slot';
import { Run } from '../../src/worker/run';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import { formatPrompt } from '../../src/data';
import { CALCULATOR_TOOLS_SOURCE } from '../../src/demo/calculator';
import type { PromptExample } from '../../src/grpo/rollout';

let dir: string;
const models = new ModelSlot(testGpu);
const datasets = new DatasetSlot();
const ROWS = ['123+456=', '200+300=', '111+222=', '345+100=', '500+499='].map((p) => ({ prompt: p, answer: String(eval(p.slice(0, -1))) }));

beforeAll(async () => {
  dir = await writeFamilyFolder('qwen3', familyWeights('qwen3', 3));
  const files = await Promise.all((await readdir(dir)).map((f) => nodeFileSource(join(dir, f), `qwen3/${f}`)));
  await models.load(files, () => {});
  datasets.load('sums.jsonl', new TextEncoder().encode(ROWS.map((r) => JSON.stringify(r)).join('\n')));
}, 120_000);
afterAll(async () => {
  models.model?.model.release();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function config(over: Partial<GrpoConfig>): GrpoConfig {
  return { ...defaultConfig(), num_generations: 2, prompts_per_step: 1, max_prompt_length: 1024, max_completion_length: 8, eval_split: 0.4, use_chat_template: true, ...over };
}

/** the trainer's prompts (the trainer keeps them private: read through its init) */
function prompts(run: Run): { train: PromptExample[]; eval: PromptExample[] } {
  return (run.trainer as unknown as { init: { train: PromptExample[]; eval: PromptExample[] } }).init;
}

describe('Run.create: tools in the chat template', () => {
  test('every prompt renders the tools, as formatPrompt with the tools does; without tools none does', async () => {
    const on = models.require();
    const c = config({ tools_source: CALCULATOR_TOOLS_SOURCE, tool_call_format: 'qwen' });
    const run = await Run.create(on, datasets.require(), c);
    try {
      const { train, eval: held } = prompts(run);
      expect(train.length + held.length).toBe(ROWS.length);
      const tools = [{ name: 'calc', description: 'Adds two whole numbers written as a+b, e.g. 123+456; anything else gives an empty result', parameters: { type: 'object', properties: { input: { type: 'string', description: 'the sum to work out, a+b' } }, required: ['input'] } }];
      for (const p of [...train, ...held]) {
        expect(p.text).toContain('<tools>');
        expect(p.text).toContain('"name": "calc"');
        expect(p.text).toContain('the sum to work out, a+b');
        const row = ROWS.find((r) => p.text.includes(r.prompt))!;
        expect(p.text).toBe(formatPrompt(row, c, on.loaded.chatTemplate, on.loaded.specialTokens, tools));
        expect(p.ids).toEqual(on.loaded.tokenizer.encode(p.text, { addBos: false }));
      }
    } finally {
      run.release();
    }
    const plain = await Run.create(on, datasets.require(), config({}));
    try {
      for (const p of prompts(plain).train) expect(p.text).not.toContain('<tools>');
    } finally {
      plain.release();
    }
  }, 120_000);

  test('a tools file that does not load stops the run at its start, naming the problem', async () => {
    const c = config({ tools_source: '[{ name: "calc", description: "x", parameters: {}, run: () => 1 },', tool_call_format: 'qwen' });
    await expect(Run.create(models.require(), datasets.require(), c)).rejects.toThrow(/tools \/ environment .* did not load: .*(line|Syntax|Unexpected)/i);
  }, 60_000);
});
