// Turns parsed records into dataset rows: decides which columns hold the prompt and the answer, checks
// each record, counts duplicates, and accounts for every record that is not kept.

import { messages, readPreferenceRecord, resolvePreferenceMapping } from './preference';
import { DatasetError, type ColumnMapping, type DatasetCounts, type DatasetFormat, type DatasetIssue, type DatasetRow, type ParseOptions, type ParsedDataset } from './types';

/** Column pairs recognised without a mapping (case-insensitive), in order of preference. */
export const RECOGNISED_PAIRS: readonly (readonly [string, string])[] = [
  ['question', 'answer'],
  ['prompt', 'answer'],
  ['problem', 'solution'],
  ['prompt', 'completion'],
  ['input', 'output'],
  ['instruction', 'output'],
];

const PROMPT_NAMES = ['question', 'prompt', 'problem', 'input', 'instruction'];
/** TRL's conversational format without a prompt column: [{role: "user", ...}, {role: "assistant", ...}] */
const MESSAGES_COLUMN = 'messages';
const ANSWER_NAMES = ['answer', 'solution', 'completion', 'output'];

/** Records of a JSON file looked at before choosing the columns (they must all be seen by then). */
const DETECT_RECORDS = 200;

function findColumn(columns: readonly string[], name: string): string | undefined {
  return columns.find((c) => c === name) ?? columns.find((c) => c.toLowerCase() === name.toLowerCase());
}

function listColumns(columns: readonly string[]): string {
  return columns.length ? columns.map((c) => JSON.stringify(c)).join(', ') : '(none)';
}

/** The prompt and answer columns among `columns`, from the explicit mapping or the recognised names. */
export function resolveMapping(columns: readonly string[], explicit: Partial<ColumnMapping> = {}): ColumnMapping {
  for (const role of ['prompt', 'answer'] as const) {
    const want = explicit[role];
    if (want !== undefined && !columns.includes(want)) {
      const near = findColumn(columns, want);
      throw new DatasetError(
        `the ${role} column ${JSON.stringify(want)} is not in the file${near ? ` (there is ${JSON.stringify(near)}: names are case-sensitive)` : ''}; ` +
          `the columns are ${listColumns(columns)}`,
      );
    }
  }
  if (explicit.prompt !== undefined && explicit.answer !== undefined) {
    if (explicit.prompt === explicit.answer) throw new DatasetError(`the prompt and the answer are both mapped to column ${JSON.stringify(explicit.prompt)}; choose two different columns`);
    return { prompt: explicit.prompt, answer: explicit.answer };
  }
  if (explicit.prompt === undefined && explicit.answer === undefined) {
    for (const [p, a] of RECOGNISED_PAIRS) {
      const pc = findColumn(columns, p);
      const ac = findColumn(columns, a);
      if (pc !== undefined && ac !== undefined) return { prompt: pc, answer: ac };
    }
  }
  // TRL's conversational language-modeling format: one "messages" column, the prompt its user turn and the answer
  // its final assistant turn (rowFromMessages)
  const conversation = findColumn(columns, MESSAGES_COLUMN);
  if (explicit.prompt === undefined && explicit.answer === undefined && conversation !== undefined &&
    !PROMPT_NAMES.some((n) => findColumn(columns, n) !== undefined)) return { prompt: conversation, answer: conversation };
  const prompt = explicit.prompt ?? PROMPT_NAMES.map((n) => findColumn(columns, n)).find((c) => c !== undefined && c !== explicit.answer);
  const answer = explicit.answer ?? ANSWER_NAMES.map((n) => findColumn(columns, n)).find((c) => c !== undefined && c !== explicit.prompt);
  if (prompt === undefined || answer === undefined) {
    const missing = [prompt === undefined ? 'prompt' : null, answer === undefined ? 'answer' : null].filter(Boolean).join(' and ');
    throw new DatasetError(
      `could not tell which column holds the ${missing}: the columns are ${listColumns(columns)}, and the recognised pairs are ` +
        `${RECOGNISED_PAIRS.map(([p, a]) => `${p}/${a}`).join(', ')}; choose the columns in the column mapping`,
    );
  }
  return { prompt, answer };
}

type FieldResult = { text: string } | { problem: string };

/** The text of a conversational field (TRL's prompt-completion format with lists of messages): the prompt one user
 * message, the answer one assistant message. */
function messageText(v: unknown[], column: string, role: 'prompt' | 'answer'): FieldResult {
  const m = messages(v, `the ${role} field ${JSON.stringify(column)}`);
  if (typeof m === 'string') return { problem: m };
  const want = role === 'prompt' ? 'user' : 'assistant';
  if (m.length !== 1 || m[0].role !== want) {
    return { problem: `the ${role} field ${JSON.stringify(column)} must be one ${want} message (got ${m.map((x) => x.role).join(', ') || 'none'}); multi-turn and system messages are not supported (use system_prompt for a system message)` };
  }
  return m[0].content.trim() === '' ? { problem: `the ${role} field ${JSON.stringify(column)}'s ${want} message is empty` } : { text: m[0].content };
}

/** A "messages" conversation as a prompt and an answer: a user message, then the assistant's answer. */
export function rowFromMessages(raw: Record<string, unknown>, column: string): { prompt: string; answer: string } | { problem: string } {
  const v = raw[column];
  if (!Array.isArray(v)) return { problem: `the ${JSON.stringify(column)} field is ${v === undefined ? 'missing' : 'not a list of {role, content} messages'}` };
  const m = messages(v, `the ${JSON.stringify(column)} field`);
  if (typeof m === 'string') return { problem: m };
  if (m.length !== 2 || m[0].role !== 'user' || m[1].role !== 'assistant') {
    return { problem: `the ${JSON.stringify(column)} field must be a user message then an assistant message (got ${m.map((x) => x.role).join(', ') || 'none'}); multi-turn and system messages are not supported (use system_prompt for a system message)` };
  }
  if (m[0].content.trim() === '') return { problem: `the ${JSON.stringify(column)} field's user message is empty` };
  if (m[1].content.trim() === '') return { problem: `the ${JSON.stringify(column)} field's assistant message is empty` };
  return { prompt: m[0].content, answer: m[1].content };
}

function fieldText(raw: Record<string, unknown>, column: string, role: 'prompt' | 'answer'): FieldResult {
  if (!Object.prototype.hasOwnProperty.call(raw, column) || raw[column] === undefined) return { problem: `missing the ${role} field ${JSON.stringify(column)}` };
  const v = raw[column];
  if (v === null) return { problem: `the ${role} field ${JSON.stringify(column)} is null` };
  if (typeof v === 'string') return v.trim() === '' ? { problem: `the ${role} field ${JSON.stringify(column)} is empty` } : { text: v };
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return { text: String(v) };
  if (Array.isArray(v)) return messageText(v, column, role);
  return { problem: `the ${role} field ${JSON.stringify(column)} is an object; it must be text, a number or a list of {role, content} messages` };
}

export class RowCollector {
  private readonly rows: DatasetRow[] = [];
  private readonly issues: DatasetIssue[] = [];
  private issuesOmitted = 0;
  private readonly counts: DatasetCounts = { total: 0, kept: 0, invalid: 0, duplicate: 0, empty: 0 };
  private readonly columns: string[] = [];
  private readonly columnSet = new Set<string>();
  private mapping: ColumnMapping | null = null;
  private pending: { raw: Record<string, unknown>; line: number }[] = [];
  private readonly firstLineOf = new Map<string, number>();
  private readonly maxIssues: number;

  constructor(
    private readonly opts: ParseOptions,
    private readonly format: DatasetFormat,
  ) {
    this.maxIssues = opts.maxIssues ?? 1000;
  }

  /** CSV: the header fixes the columns and the mapping at once. */
  setColumns(columns: readonly string[]): void {
    for (const c of columns) this.noteColumn(c);
    this.mapping = this.resolve();
  }

  issue(line: number, message: string, field?: string): void {
    if (this.issues.length < this.maxIssues) this.issues.push(field === undefined ? { line, message } : { line, field, message });
    else this.issuesOmitted++;
  }

  /** A record that could not be read at all (bad JSON, wrong field count, not an object). */
  invalid(line: number, message: string, field?: string): void {
    this.counts.total++;
    this.counts.invalid++;
    this.issue(line, message, field);
  }

  empty(): void {
    this.counts.total++;
    this.counts.empty++;
  }

  record(raw: Record<string, unknown>, line: number): void {
    for (const k of Object.keys(raw)) this.noteColumn(k);
    if (this.mapping) {
      this.accept(raw, line);
      return;
    }
    this.pending.push({ raw, line });
    if (this.pending.length >= DETECT_RECORDS) this.decide();
  }

  finish(): ParsedDataset {
    if (!this.mapping && this.pending.length > 0) this.decide();
    return {
      rows: this.rows,
      columns: this.columns,
      mapping: this.mapping ?? { prompt: this.opts.mapping?.prompt ?? '', answer: this.opts.mapping?.answer ?? '' },
      issues: this.issues,
      issuesOmitted: this.issuesOmitted,
      counts: this.counts,
      format: this.format,
    };
  }

  private noteColumn(c: string): void {
    if (!this.columnSet.has(c)) {
      this.columnSet.add(c);
      this.columns.push(c);
    }
  }

  private resolve(): ColumnMapping {
    const kind = this.opts.kind ?? 'prompt_answer';
    return kind === 'prompt_answer' ? resolveMapping(this.columns, this.opts.mapping) : resolvePreferenceMapping(this.columns, this.opts.mapping ?? {}, kind);
  }

  private decide(): void {
    this.mapping = this.resolve();
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) this.accept(p.raw, p.line);
  }

  private accept(raw: Record<string, unknown>, line: number): void {
    const m = this.mapping!;
    this.counts.total++;
    const kind = this.opts.kind ?? 'prompt_answer';
    if (kind !== 'prompt_answer') {
      const r = readPreferenceRecord(raw, m, kind);
      if (Array.isArray(r)) {
        this.counts.invalid++;
        for (const p of r) this.issue(line, p.message, p.field);
        return;
      }
      this.keep({ ...r, line, raw }, `${r.prompt}\u0000${r.answer}\u0000${r.rejected ?? ''}\u0000${r.label ?? ''}`);
      return;
    }
    if (m.prompt === m.answer) {
      // one "messages" column: the user turn is the prompt, the assistant turn the answer
      const r = rowFromMessages(raw, m.prompt);
      if ('problem' in r) {
        this.counts.invalid++;
        this.issue(line, r.problem, m.prompt);
        return;
      }
      this.keep({ ...r, line, raw }, `${r.prompt}\u0000${r.answer}`);
      return;
    }
    const prompt = fieldText(raw, m.prompt, 'prompt');
    const answer = fieldText(raw, m.answer, 'answer');
    if ('problem' in prompt || 'problem' in answer) {
      this.counts.invalid++;
      if ('problem' in prompt) this.issue(line, prompt.problem, m.prompt);
      if ('problem' in answer) this.issue(line, answer.problem, m.answer);
      return;
    }
    this.keep({ prompt: prompt.text, answer: answer.text, line, raw }, `${prompt.text}\u0000${answer.text}`);
  }

  private keep(row: DatasetRow, key: string): void {
    const line = row.line;
    const first = this.firstLineOf.get(key);
    if (first !== undefined) {
      this.counts.duplicate++;
      const drop = this.opts.dropDuplicates ?? false;
      this.issue(line, `same prompt and answer as line ${first}; ${drop ? 'dropped' : 'kept (duplicates weigh that prompt more in training)'}`);
      if (drop) return;
    } else this.firstLineOf.set(key, line);
    this.counts.kept++;
    this.rows.push(row);
  }
}
