// Preference datasets in TRL's formats, read through the same parsers as prompt/answer rows (JSONL, JSON,
// CSV/TSV, parquet, the Hub): "preference" rows hold prompt / chosen / rejected (DPO, SimPO, ORPO), and
// "unpaired" rows hold prompt / completion / label (KTO). Each field is plain text or, in the
// conversational format, a list of {role, content} messages: the prompt one user message, a completion
// one assistant message. Without a prompt column, conversational chosen / rejected carry the prompt as
// their shared first messages (TRL's implicit prompt). A parsed row keeps the chosen (or the completion)
// in `answer`, the rejected in `rejected` and the label in `label`.

import { DatasetError, type ColumnMapping, type DatasetKind } from './types';

export type FieldProblem = { field: string; message: string };
export type PreferenceFields = { prompt: string; answer: string; rejected?: string; label?: boolean };

const ROLE_NAMES: Record<Exclude<DatasetKind, 'prompt_answer'>, { answer: string; rejected?: string; label?: string }> = {
  preference: { answer: 'chosen', rejected: 'rejected' },
  unpaired: { answer: 'completion', label: 'label' },
};

function find(columns: readonly string[], name: string): string | undefined {
  return columns.find((c) => c === name) ?? columns.find((c) => c.toLowerCase() === name.toLowerCase());
}

const list = (columns: readonly string[]) => (columns.length ? columns.map((c) => JSON.stringify(c)).join(', ') : '(none)');

/** The columns of a preference (prompt, chosen, rejected) or unpaired (prompt, completion, label) file. The
 * prompt may be absent in a preference file (conversational chosen / rejected carry it): mapping.prompt is
 * then ''. */
export function resolvePreferenceMapping(columns: readonly string[], explicit: Partial<ColumnMapping>, kind: Exclude<DatasetKind, 'prompt_answer'>): ColumnMapping {
  const names = ROLE_NAMES[kind];
  const pick = (role: 'prompt' | 'answer' | 'rejected' | 'label', fallback: string | undefined): string | undefined => {
    const want = explicit[role];
    if (want !== undefined) {
      if (!columns.includes(want)) {
        const near = find(columns, want);
        throw new DatasetError(`the ${role === 'answer' ? names.answer : role} column ${JSON.stringify(want)} is not in the file${near ? ` (there is ${JSON.stringify(near)}: names are case-sensitive)` : ''}; the columns are ${list(columns)}`);
      }
      return want;
    }
    return fallback === undefined ? undefined : find(columns, fallback);
  };
  const prompt = pick('prompt', 'prompt');
  const answer = pick('answer', names.answer);
  const rejected = names.rejected ? pick('rejected', names.rejected) : undefined;
  const label = names.label ? pick('label', names.label) : undefined;
  const missing = [
    answer === undefined ? names.answer : null,
    names.rejected && rejected === undefined ? names.rejected : null,
    names.label && label === undefined ? names.label : null,
    kind === 'unpaired' && prompt === undefined ? 'prompt' : null,
  ].filter((x): x is string => x !== null);
  if (missing.length) {
    const want = kind === 'preference' ? 'prompt/chosen/rejected (TRL\'s preference format)' : 'prompt/completion/label (TRL\'s unpaired preference format, KTO)';
    throw new DatasetError(`no ${missing.join(' and ')} column: ${kind === 'unpaired' ? 'an unpaired' : 'a preference'} dataset has the columns ${want}; the file's columns are ${list(columns)}; choose them in the column mapping`);
  }
  const used = [prompt, answer, rejected, label].filter((c): c is string => c !== undefined);
  if (new Set(used).size !== used.length) throw new DatasetError(`two roles are mapped to the same column (${used.join(', ')}); choose different columns`);
  return { prompt: prompt ?? '', answer: answer!, ...(rejected !== undefined ? { rejected } : {}), ...(label !== undefined ? { label } : {}) };
}

type Message = { role: string; content: string };

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A conversational field's messages, or why it is not one. */
export function messages(v: unknown[], what: string): Message[] | string {
  const out: Message[] = [];
  for (let i = 0; i < v.length; i++) {
    const m = v[i] as Record<string, unknown> | null;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return `${what}: message ${i + 1} is ${describe(m)}, not a {role, content} object`;
    if (typeof m.role !== 'string') return `${what}: message ${i + 1} has no text "role"`;
    if (typeof m.content !== 'string') return `${what}: message ${i + 1} has no text "content" (${describe(m.content)})`;
    out.push({ role: m.role, content: m.content });
  }
  return out;
}

function plain(raw: Record<string, unknown>, column: string, what: string): { text: string } | { messages: Message[] } | { problem: string } {
  if (!Object.prototype.hasOwnProperty.call(raw, column) || raw[column] === undefined) return { problem: `missing the ${what} field ${JSON.stringify(column)}` };
  const v = raw[column];
  if (v === null) return { problem: `the ${what} field ${JSON.stringify(column)} is null` };
  if (typeof v === 'string') return v.trim() === '' ? { problem: `the ${what} field ${JSON.stringify(column)} is empty` } : { text: v };
  if (typeof v === 'number' || typeof v === 'boolean') return { text: String(v) };
  if (Array.isArray(v)) {
    const m = messages(v, `the ${what} field ${JSON.stringify(column)}`);
    return typeof m === 'string' ? { problem: m } : m.length === 0 ? { problem: `the ${what} field ${JSON.stringify(column)} is an empty list of messages` } : { messages: m };
  }
  return { problem: `the ${what} field ${JSON.stringify(column)} is an object; it must be text or a list of {role, content} messages` };
}

function promptText(m: Message[], field: string): string | FieldProblem {
  if (m.length !== 1 || m[0].role !== 'user') {
    return { field, message: `the prompt must be one user message (got ${m.map((x) => x.role).join(', ') || 'none'}); multi-turn and system prompts are not supported: put the user message's text in the prompt` };
  }
  return m[0].content.trim() === '' ? { field, message: 'the prompt\'s user message is empty' } : m[0].content;
}

function completionText(m: Message[], field: string, what: string): string | FieldProblem {
  if (m.length !== 1 || m[0].role !== 'assistant') return { field, message: `the ${what} must be one assistant message (got ${m.map((x) => x.role).join(', ')})` };
  return m[0].content.trim() === '' ? { field, message: `the ${what}'s assistant message is empty` } : m[0].content;
}

/** Reads a label: true / false, or 1 / 0 and "true" / "false" (CSV). */
function labelValue(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
  }
  return null;
}

/** One record's preference fields, or every problem with it. */
export function readPreferenceRecord(raw: Record<string, unknown>, m: ColumnMapping, kind: Exclude<DatasetKind, 'prompt_answer'>): PreferenceFields | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const answerWhat = kind === 'preference' ? 'chosen' : 'completion';
  const a = plain(raw, m.answer, answerWhat);
  const r = kind === 'preference' ? plain(raw, m.rejected!, 'rejected') : null;
  const p = m.prompt !== '' ? plain(raw, m.prompt, 'prompt') : null;
  for (const [x, field] of [[a, m.answer], [r, m.rejected], [p, m.prompt]] as const) if (x && 'problem' in x) problems.push({ field: field!, message: x.problem });
  let label: boolean | undefined;
  if (kind === 'unpaired') {
    const v = labelValue(raw[m.label!]);
    if (v === null) problems.push({ field: m.label!, message: `the label field ${JSON.stringify(m.label)} is ${JSON.stringify(raw[m.label!]) ?? 'missing'}; it must be true or false` });
    else label = v;
  }
  if (problems.length) return problems;
  let prompt: string | FieldProblem;
  let answer: string | FieldProblem;
  let rejected: string | FieldProblem | undefined;
  if (p === null) {
    // implicit prompt: conversational chosen / rejected share their first messages
    if (!('messages' in a) || !r || !('messages' in r)) {
      return [{ field: m.answer, message: 'without a prompt column the chosen and rejected must be conversations (lists of messages) that start with the same prompt; otherwise map a prompt column' }];
    }
    const ca = a.messages;
    const cr = r.messages;
    let k = 0;
    while (k < ca.length && k < cr.length && ca[k].role === cr[k].role && ca[k].content === cr[k].content) k++;
    if (k === 0) return [{ field: m.answer, message: 'the chosen and rejected conversations share no first message, so there is no prompt' }];
    prompt = promptText(ca.slice(0, k), m.answer);
    answer = completionText(ca.slice(k), m.answer, 'chosen');
    rejected = completionText(cr.slice(k), m.rejected!, 'rejected');
  } else {
    if ('problem' in p || 'problem' in a) throw new Error('unreachable');
    prompt = 'text' in p ? p.text : promptText(p.messages, m.prompt);
    answer = 'text' in a ? a.text : completionText(a.messages, m.answer, answerWhat);
    if (r && !('problem' in r)) rejected = 'text' in r ? r.text : completionText(r.messages, m.rejected!, 'rejected');
  }
  for (const x of [prompt, answer, rejected]) if (x !== undefined && typeof x !== 'string') problems.push(x);
  if (problems.length) return problems;
  if (kind === 'preference' && answer === rejected) return [{ field: m.rejected!, message: 'the chosen and rejected completions are the same: the pair says nothing' }];
  return { prompt: prompt as string, answer: answer as string, ...(rejected !== undefined ? { rejected: rejected as string } : {}), ...(label !== undefined ? { label } : {}) };
}
