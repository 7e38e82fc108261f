import { describe, expect, it } from 'vitest';
import { formatPrompt, splitDataset, type PromptSettings } from '../../src/data';

// A ChatML template in the style of SmolLM2-Instruct's tokenizer_config.json.
const CHATML =
  "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}" +
  "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

// A template that uses bos_token and refuses system messages (as Gemma's does).
const NO_SYSTEM =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
  "{{ '<start_of_turn>' + message['role'] + '\n' + message['content'] + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}";

const plain: PromptSettings = { system_prompt: null, prompt_template: null, use_chat_template: false };

describe('formatPrompt', () => {
  it('renders the chat template with system and user turns and the generation prompt', () => {
    const s: PromptSettings = { system_prompt: 'Reason step by step.', prompt_template: null, use_chat_template: true };
    expect(formatPrompt({ prompt: 'What is 2+2?' }, s, CHATML)).toBe(
      '<|im_start|>system\nReason step by step.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
    );
    // without a system prompt the template's own default system turn appears
    expect(formatPrompt({ prompt: 'Hi' }, { ...s, system_prompt: null }, CHATML)).toBe(
      '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  it('puts the prompt into prompt_template before the chat template', () => {
    const s: PromptSettings = { system_prompt: null, prompt_template: 'Solve: {prompt}\nPut the answer in \\boxed{}. ({prompt})', use_chat_template: true };
    expect(formatPrompt({ prompt: '3*3' }, s, CHATML)).toContain('<|im_start|>user\nSolve: 3*3\nPut the answer in \\boxed{}. (3*3)<|im_end|>\n');
  });

  it('passes bos/eos tokens, and explains a template that rejects the system message', () => {
    const s: PromptSettings = { system_prompt: null, prompt_template: null, use_chat_template: true };
    expect(formatPrompt({ prompt: 'Hi' }, s, NO_SYSTEM, { bos_token: '<bos>', eos_token: '<eos>' })).toBe('<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n');
    expect(() => formatPrompt({ prompt: 'Hi' }, { ...s, system_prompt: 'Be nice.' }, NO_SYSTEM)).toThrow(
      /the model's chat template failed on this prompt: .*System role not supported.*try without the system prompt/,
    );
    expect(() => formatPrompt({ prompt: 'Hi' }, s, '{% for x in %}')).toThrow(/chat template could not be read/);
  });

  it('without a chat template (or when not asked to use it): template text, system prompt above', () => {
    expect(formatPrompt({ prompt: 'What is 2+2?' }, plain)).toBe('What is 2+2?');
    expect(formatPrompt({ prompt: 'What is 2+2?' }, { ...plain, use_chat_template: true }, null)).toBe('What is 2+2?');
    expect(formatPrompt({ prompt: 'x' }, { ...plain, prompt_template: 'Q: {prompt}\nA:' }, CHATML)).toBe('Q: x\nA:');
    expect(formatPrompt({ prompt: 'x' }, { ...plain, system_prompt: 'Be brief.', prompt_template: 'Q: {prompt}\nA:' })).toBe('Be brief.\n\nQ: x\nA:');
  });
});

describe('splitDataset', () => {
  const rows = Array.from({ length: 100 }, (_, i) => i);

  it('is deterministic: the same seed gives the same split, another seed another', () => {
    const a = splitDataset(rows, 0.2, 7);
    const b = splitDataset(rows, 0.2, 7);
    const c = splitDataset(rows, 0.2, 8);
    expect(a).toEqual(b);
    expect(a.eval).not.toEqual(c.eval);
    expect(a.eval).toHaveLength(20);
    expect(a.train).toHaveLength(80);
    expect([...a.train, ...a.eval].sort((x, y) => x - y)).toEqual(rows);
    // each part keeps the file's order
    expect(a.eval).toEqual([...a.eval].sort((x, y) => x - y));
    // and is not just the head or tail of the file
    expect(a.eval).not.toEqual(rows.slice(0, 20));
    expect(a.eval).not.toEqual(rows.slice(80));
  });

  it('holds out at least one row when asked and possible, never all', () => {
    expect(splitDataset([1, 2], 0.01, 1).eval).toHaveLength(1);
    expect(splitDataset([1, 2, 3], 0.5, 1).eval).toHaveLength(2);
    expect(splitDataset([1], 0.5, 1)).toEqual({ train: [1], eval: [] });
    expect(splitDataset(rows, 0, 1)).toEqual({ train: rows, eval: [] });
    expect(splitDataset([], 0.2, 1)).toEqual({ train: [], eval: [] });
    expect(() => splitDataset(rows, 1, 1)).toThrow(/evalFraction must be in \[0, 1\)/);
  });
});
