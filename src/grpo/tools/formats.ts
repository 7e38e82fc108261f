// Tool-call formats: how a model writes a call, and how the result (or an environment's observation) is
// put back into its context.
// - qwen (Qwen2.5, Qwen3): <tool_call>{"name": ..., "arguments": {...}}</tool_call>; the turn ends with the
//   model's own <|im_end|> (as TRL generates it); the result is a "tool" message, which their chat template
//   renders as <tool_response>...</tool_response> in a user turn, inserted from after that <|im_end|>.
// - llama3 (Llama 3.1-3.3): the whole assistant turn is {"name": ..., "parameters": {...}} (optionally after
//   <|python_tag|>), ended by <|eom_id|> or <|eot_id|>; the result is an "ipython" message.
// - pattern: models without a chat template (the built-in one): a call is open marker + JSON
//   {"name", "arguments"} (or name({...}); with a single tool, any other body is {"input": body}) + close
//   marker; the result is result_template with {result}.
// With a chat template, inserted text is what the template renders for the message (with @huggingface/jinja,
// `tools` passed): rendered after an assistant turn whose content is a sentinel, the text after the sentinel.

import { Template } from '@huggingface/jinja';
import type { ToolInfo } from './runner';

export type ToolFormatName = 'qwen' | 'llama3' | 'pattern';

export type ParsedCall = { name: string; args: unknown } | { error: string };

export interface PatternSettings {
  open: string;
  close: string;
  /** with {result} where the tool's result (or error) goes */
  resultTemplate: string;
  /** with {observation} where an environment's observation goes */
  observationTemplate: string;
}

export interface ToolFormat {
  name: ToolFormatName;
  /** a marker format: the turn ends as soon as the model's text ends with a complete call */
  endsWithCall(turnText: string): boolean;
  /** the call in this turn's text; null when the turn holds none (an answer) */
  findCall(turnText: string): ParsedCall | null;
  /** text inserted after a tool call: its result (or "Error: ...") as the format renders it */
  toolResult(content: string): string;
  /** text inserted after a turn: an environment's observation */
  observation(content: string): string;
}

/** The format for a model: the configured one, or with 'auto' the one its chat template speaks. */
export function pickFormat(configured: string, chatTemplate: string | null): ToolFormatName {
  if (configured === 'qwen' || configured === 'llama3' || configured === 'pattern') {
    if (configured !== 'pattern' && !chatTemplate) throw new Error(`tool_call_format "${configured}" needs the model's chat template, and this model has none; use "pattern"`);
    return configured;
  }
  if (configured !== 'auto') throw new Error(`tool_call_format must be auto, qwen, llama3 or pattern, got "${configured}"`);
  if (chatTemplate?.includes('<tool_call>')) return 'qwen';
  if (chatTemplate && ['ipython', '<|python_tag|>', '<|start_header_id|>'].some((m) => chatTemplate.includes(m))) return 'llama3';
  return 'pattern';
}

function parseJsonCall(body: string, argsKeys: string[]): ParsedCall {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return { error: `the tool call is not valid JSON (${(e as Error).message}): ${clip(body)}` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: `the tool call must be a JSON object with "name" and "${argsKeys[0]}", got ${clip(body)}` };
  const o = v as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') return { error: `the tool call has no "name": ${clip(body)}` };
  let args: unknown = {};
  for (const k of argsKeys) {
    if (k in o) {
      args = o[k];
      break;
    }
  }
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      return { error: `the arguments of "${o.name}" are a string that is not JSON: ${clip(args as string)}` };
    }
  }
  return { name: o.name, args };
}

function clip(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

function markerCall(text: string, open: string, close: string, argsKeys: string[], onlyTool: string | null = null): ParsedCall | null {
  const end = text.lastIndexOf(close);
  if (end < 0) return null;
  const start = text.lastIndexOf(open, end);
  if (start < 0) return { error: `"${close}" without "${open}" before it` };
  const body = text.slice(start + open.length, end).trim();
  const fn = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(([\s\S]*)\)$/.exec(body);
  if (fn) {
    const inner = fn[2].trim();
    if (inner === '') return { name: fn[1], args: {} };
    try {
      return { name: fn[1], args: JSON.parse(inner) };
    } catch (e) {
      return { error: `the arguments of "${fn[1]}" are not valid JSON (${(e as Error).message}): ${clip(inner)}` };
    }
  }
  // with one tool, a plain body (not JSON) is that tool's {"input": body}: e.g. <calc>12+34</calc>
  if (onlyTool !== null && !body.startsWith('{')) return { name: onlyTool, args: { input: body } };
  return parseJsonCall(body, argsKeys);
}

const SENTINEL = '\u0000SENTINEL\u0000';
const templates = new Map<string, Template>();

/** What the chat template renders after an assistant turn for one message of `role`. */
export function renderAfterAssistant(chatTemplate: string, role: string, content: string, tools: ToolInfo[], special: { bos_token?: string; eos_token?: string }): string {
  let t = templates.get(chatTemplate);
  if (!t) {
    t = new Template(chatTemplate);
    templates.set(chatTemplate, t);
  }
  const text = t.render({
    messages: [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: SENTINEL },
      { role, content },
    ],
    tools: tools.length ? tools.map((x) => ({ type: 'function', function: x })) : undefined,
    add_generation_prompt: true,
    bos_token: special.bos_token ?? '',
    eos_token: special.eos_token ?? '',
  });
  const at = text.indexOf(SENTINEL);
  if (at < 0) throw new Error(`the chat template did not render the assistant message, so a ${role} message cannot be placed after it`);
  return text.slice(at + SENTINEL.length);
}

export function makeFormat(
  name: ToolFormatName,
  opts: { chatTemplate: string | null; tools: ToolInfo[]; special?: { bos_token?: string; eos_token?: string }; pattern: PatternSettings },
): ToolFormat {
  const special = opts.special ?? {};
  if (name === 'pattern') {
    const p = opts.pattern;
    if (!p.open || !p.close) throw new Error('tool_call_open and tool_call_close must be non-empty for the pattern format');
    if (!p.resultTemplate.includes('{result}')) throw new Error(`tool_result_template must contain {result}, got ${JSON.stringify(p.resultTemplate)}`);
    return {
      name,
      endsWithCall: (t) => t.trimEnd().endsWith(p.close),
      findCall: (t) => markerCall(t, p.open, p.close, ['arguments', 'parameters'], opts.tools.length === 1 ? opts.tools[0].name : null),
      toolResult: (c) => p.resultTemplate.split('{result}').join(c),
      observation: (c) => p.observationTemplate.split('{observation}').join(c),
    };
  }
  const tpl = opts.chatTemplate!;
  const render = (role: string, c: string) => renderAfterAssistant(tpl, role, c, opts.tools, special);
  if (name === 'qwen') {
    return {
      name,
      // As in TRL's tool loop: the model's turn runs to its own end-of-turn token (<|im_end|>, sampled and
      // trained on like any other token of its), then the call is parsed and the tool message inserted from
      // just after that token ("\n<|im_start|>user\n<tool_response>..."). Ending the turn at </tool_call>
      // instead would insert the template's <|im_end|> as context the model never learns to write.
      endsWithCall: () => false,
      findCall: (t) => markerCall(t, '<tool_call>', '</tool_call>', ['arguments', 'parameters']),
      toolResult: (c) => render('tool', c),
      observation: (c) => render('user', c),
    };
  }
  return {
    name,
    endsWithCall: () => false,
    findCall: (t) => {
      const s = t.replace('<|python_tag|>', '').trim();
      if (!s.startsWith('{')) return null;
      return parseJsonCall(s, ['parameters', 'arguments']);
    },
    toolResult: (c) => render('ipython', c),
    observation: (c) => render('user', c),
  };
}

/** The stop tokens as text, as inserted text may begin with them (tokenText: a tokenizer's decode skips
 * special tokens, and <|im_end|> / <|eot_id|> are special). */
export function stopTokenTexts(tokenizer: { eosIds: readonly number[]; tokenText(id: number): string }): string[] {
  return tokenizer.eosIds.map((id) => tokenizer.tokenText(id)).filter((t) => t.length > 0);
}

/** Text inserted after a turn that ended with a stop token: the template's own end-of-turn marker at its
 * start is dropped, since the model wrote that token itself (TRL cuts the tool suffix after the EOS). */
export function afterStopToken(text: string, endedWithStop: boolean, stopTexts: readonly string[]): string {
  if (!endedWithStop) return text;
  for (const s of stopTexts) if (s !== '' && text.startsWith(s)) return text.slice(s.length);
  return text;
}

/** A tool's value as the text the model reads: strings as they are, anything else as JSON. */
export function resultText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
