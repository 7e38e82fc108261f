// The text the model is given for a dataset row: the prompt put into prompt_template, then, when asked
// and the model has one, rendered with the model's chat template (a Jinja template from
// tokenizer_config.json) as a system turn and a user turn followed by the start of the assistant's turn.
// Without a chat template the system prompt goes above the prompt as plain text.

import { Template } from '@huggingface/jinja';

export interface PromptSettings {
  system_prompt: string | null;
  prompt_template: string | null;
  use_chat_template: boolean;
}

export interface SpecialTokens {
  bos_token?: string;
  eos_token?: string;
}

const templates = new Map<string, Template>();

function compiled(source: string): Template {
  let t = templates.get(source);
  if (!t) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new Error(`the model's chat template could not be read: ${(e as Error).message}`);
    }
    if (templates.size > 8) templates.clear();
    templates.set(source, t);
  }
  return t;
}

/** The user's message: the row's prompt, inside prompt_template when there is one. */
export function userMessage(prompt: string, promptTemplate: string | null): string {
  return promptTemplate === null ? prompt : promptTemplate.split('{prompt}').join(prompt);
}

export function formatPrompt(
  row: { prompt: string },
  settings: PromptSettings,
  chatTemplate?: string | null,
  special: SpecialTokens = {},
  /** tools the model may call (name, description, JSON schema), given to the chat template as `tools` */
  tools?: readonly { name: string; description: string; parameters: unknown }[],
): string {
  const content = userMessage(row.prompt, settings.prompt_template);
  if (settings.use_chat_template && chatTemplate) {
    const messages = [
      ...(settings.system_prompt !== null ? [{ role: 'system', content: settings.system_prompt }] : []),
      { role: 'user', content },
    ];
    try {
      return compiled(chatTemplate).render({
        messages,
        add_generation_prompt: true,
        ...(tools && tools.length ? { tools: tools.map((t) => ({ type: 'function', function: t })) } : {}),
        bos_token: special.bos_token ?? '',
        eos_token: special.eos_token ?? '',
      });
    } catch (e) {
      const hint = settings.system_prompt !== null ? ' (some templates reject a system message: try without the system prompt)' : '';
      throw new Error(`the model's chat template failed on this prompt: ${(e as Error).message}${hint}`);
    }
  }
  return settings.system_prompt !== null && settings.system_prompt !== '' ? `${settings.system_prompt}\n\n${content}` : content;
}
