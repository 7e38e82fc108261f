// Dataset files (JSONL, a JSON array, CSV/TSV) into prompt/answer rows. The format comes from the file
// name's extension, else from the content. Text is fed in pieces to one DatasetParser, so a whole file
// (parseDataset) and a stream (parseDatasetStream) go through the same code.

import { CsvSplitter, sniffDelimiter, type CsvRecord } from './csv';
import { RowCollector } from './collector';
import { arrayElementLines, jsonErrorOffset, lineAt } from './json_scan';
import { countNewlines, notUtf8Message, Utf8Validator } from './utf8';
import { DatasetError, type DatasetFormat, type ParseOptions, type ParsedDataset } from './types';

/** Keys of a JSON object whose array value is taken as the rows, in order of preference. */
const DATA_KEYS = ['data', 'rows', 'examples', 'train', 'records', 'items'];

export function formatFromFileName(fileName: string): DatasetFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  switch (ext) {
    case 'jsonl':
    case 'ndjson':
      return 'jsonl';
    case 'csv':
      return 'csv';
    case 'tsv':
    case 'tab':
      return 'tsv';
    default:
      return null; // .json is decided by content: many ".json" files are JSON Lines
  }
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? 'a string' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function jsonMessage(e: unknown): string {
  // V8 appends a quote of the whole input; the line is given separately.
  return (e as Error).message.replace(/, "[\s\S]*" is not valid JSON$/, '').replace(/ in JSON at position \d+.*$/, '');
}

export class DatasetParser {
  private format: DatasetFormat | null;
  private collector: RowCollector | null = null;
  private head = '';
  private started = false;
  private sawContent = false;
  // jsonl
  private partial = '';
  private line = 1;
  // json
  private jsonText: string[] = [];
  // csv
  private csv: CsvSplitter | null = null;
  private header: string[] | null = null;
  private dataRecords = 0;

  constructor(
    private readonly fileName: string,
    private readonly opts: ParseOptions = {},
  ) {
    this.format = opts.format ?? formatFromFileName(fileName);
  }

  push(text: string): void {
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (!this.sawContent && text.trim() !== '') this.sawContent = true;
    if (this.format === null || ((this.format === 'csv' || this.format === 'tsv') && !this.csv)) {
      // Hold text until the first non-blank line is complete: the format and the delimiter come from it.
      this.head += text;
      const firstLineEnd = this.firstLineEnd(this.head);
      if (firstLineEnd < 0) return;
      if (this.format === null) this.format = this.sniff(this.head, firstLineEnd);
      text = this.head;
      this.head = '';
    }
    this.feed(text);
  }

  finish(): ParsedDataset {
    if (!this.sawContent) throw new DatasetError(`${this.fileName} has no data: it is empty or only blank lines`);
    if (this.format === null) this.format = this.sniff(this.head, this.head.length);
    if (this.head !== '') {
      this.feed(this.head);
      this.head = '';
    }
    switch (this.format) {
      case 'jsonl':
        if (this.partial !== '') this.jsonlLine(this.partial, this.line);
        break;
      case 'json':
        this.parseJsonDocument(this.jsonText.join(''));
        break;
      case 'csv':
      case 'tsv':
        this.csv?.finish();
        if (this.header === null) throw new DatasetError(`${this.fileName} has no header row`);
        if (this.dataRecords === 0) {
          throw new DatasetError(`${this.fileName} has a header row (${this.header.join(', ')}) but no data rows below it`);
        }
        break;
    }
    return this.rows().finish();
  }

  private rows(): RowCollector {
    if (!this.collector) this.collector = new RowCollector(this.opts, this.format!);
    return this.collector;
  }

  private firstLineEnd(s: string): number {
    let from = 0;
    for (;;) {
      const nl = s.indexOf('\n', from);
      if (nl < 0) return -1;
      if (s.slice(from, nl).trim() !== '') return nl;
      from = nl + 1;
    }
  }

  /** JSON array, or an object over several lines or holding a rows list -> json; a first line that is a
   * whole JSON object -> jsonl; else CSV (TSV when tabs separate the first line). */
  private sniff(head: string, firstLineEnd: number): DatasetFormat {
    const t = head.trimStart();
    if (t.startsWith('[')) return 'json';
    if (t.startsWith('{')) {
      const first = head.slice(0, firstLineEnd).trim();
      try {
        const v: unknown = JSON.parse(first);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          // {"data": [{...}, ...]} on one line is a document; any other object on the first line is a record.
          const o = v as Record<string, unknown>;
          const holdsRows = DATA_KEYS.some((k) => Array.isArray(o[k]) && (o[k] as unknown[]).some((x) => x !== null && typeof x === 'object'));
          return holdsRows ? 'json' : 'jsonl';
        }
      } catch {
        // a JSON document spread over several lines
      }
      return 'json';
    }
    const firstLine = head.slice(0, firstLineEnd);
    return sniffDelimiter(firstLine) === '\t' ? 'tsv' : 'csv';
  }

  private feed(text: string): void {
    switch (this.format) {
      case 'jsonl': {
        const s = this.partial + text;
        let from = 0;
        for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', from)) {
          this.jsonlLine(s.slice(from, nl), this.line++);
          from = nl + 1;
        }
        this.partial = s.slice(from);
        break;
      }
      case 'json':
        this.jsonText.push(text);
        break;
      case 'csv':
      case 'tsv':
        if (!this.csv) {
          const delimiter = this.format === 'tsv' ? '\t' : sniffDelimiter(firstNonBlankLine(text));
          this.csv = new CsvSplitter(delimiter, (r) => this.csvRecord(r));
        }
        this.csv.push(text);
        break;
    }
  }

  private jsonlLine(raw: string, line: number): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') {
      this.rows().empty();
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      this.rows().invalid(line, `line ${line} is not valid JSON: ${jsonMessage(e)}`);
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      this.rows().invalid(line, `line ${line} holds ${describeJson(v)}; each line must be a JSON object such as {"prompt": "...", "answer": "..."}`);
      return;
    }
    this.rows().record(v as Record<string, unknown>, line);
  }

  private parseJsonDocument(text: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      const at = jsonErrorOffset(text);
      const where = at >= 0 ? ` at line ${lineAt(text, Math.min(at, text.length))}` : '';
      throw new DatasetError(`${this.fileName} is not valid JSON${where}: ${jsonMessage(e)}`);
    }
    let items: unknown[];
    let key: string | null = null;
    if (Array.isArray(doc)) items = doc;
    else if (doc !== null && typeof doc === 'object') {
      const o = doc as Record<string, unknown>;
      const arrays = Object.keys(o).filter((k) => Array.isArray(o[k]));
      const ofObjects = arrays.filter((k) => (o[k] as unknown[]).some((x) => x !== null && typeof x === 'object' && !Array.isArray(x)));
      key = DATA_KEYS.find((k) => arrays.includes(k)) ?? (ofObjects.length === 1 ? ofObjects[0] : null);
      if (key === null) {
        throw new DatasetError(
          `${this.fileName} is a JSON object without a list of rows; use a JSON array of objects, an object with a ` +
            `"data" or "rows" list, or JSON Lines (one object per line)`,
        );
      }
      items = o[key] as unknown[];
    } else throw new DatasetError(`${this.fileName} holds ${describeJson(doc)}; a dataset must be a JSON array of objects or JSON Lines`);
    if (items.length === 0) throw new DatasetError(`${this.fileName} has an empty list of rows`);
    const lines = arrayElementLines(text, key);
    items.forEach((item, i) => {
      const line = lines[i] ?? 1;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.rows().invalid(line, `item ${i + 1} (line ${line}) is ${describeJson(item)}; each item must be an object such as {"prompt": "...", "answer": "..."}`);
      } else this.rows().record(item as Record<string, unknown>, line);
    });
  }

  private csvRecord(r: CsvRecord): void {
    if (this.header === null) {
      if (r.fields.every((f) => f.trim() === '')) return; // blank lines before the header
      this.header = uniqueHeader(r.fields, (m) => this.rows().issue(r.line, m));
      this.rows().setColumns(this.header);
      return;
    }
    this.dataRecords++;
    const rows = this.rows();
    if (r.fields.every((f) => f.trim() === '')) {
      rows.empty();
      return;
    }
    if (r.error) {
      rows.invalid(r.line, `the record starting on line ${r.line} could not be read: ${r.error}`);
      return;
    }
    if (r.fields.length !== this.header.length) {
      rows.invalid(
        r.line,
        `the record starting on line ${r.line} has ${r.fields.length} fields but the header has ${this.header.length} ` +
          `(${this.header.join(', ')}); put fields that contain the delimiter or line breaks in double quotes`,
      );
      return;
    }
    const raw: Record<string, string> = {};
    this.header.forEach((h, i) => (raw[h] = r.fields[i]));
    rows.record(raw, r.line);
  }
}

function firstNonBlankLine(text: string): string {
  return text.split(/\r?\n|\r/).find((l) => l.trim() !== '') ?? '';
}

/** Header names made unique and non-empty (column_3, name_2), with an issue for each change. */
function uniqueHeader(fields: string[], issue: (message: string) => void): string[] {
  const seen = new Set<string>();
  return fields.map((f, i) => {
    let name = f.trim();
    if (name === '') {
      name = `column_${i + 1}`;
      issue(`header column ${i + 1} has no name; it is called ${name}`);
    }
    if (seen.has(name)) {
      let k = 2;
      while (seen.has(`${name}_${k}`)) k++;
      issue(`header column ${i + 1} repeats the name ${JSON.stringify(name)}; it is called ${name}_${k}`);
      name = `${name}_${k}`;
    }
    seen.add(name);
    return name;
  });
}

/** Parses a whole dataset file's text. Throws DatasetError when nothing can be loaded. */
export function parseDataset(text: string, fileName: string, opts: ParseOptions = {}): ParsedDataset {
  const parser = new DatasetParser(fileName, opts);
  parser.push(text);
  return parser.finish();
}

/** Parses a dataset file's bytes: rejects empty files and bytes that are not UTF-8 (naming the offset and line). */
export function parseDatasetBytes(bytes: Uint8Array, fileName: string, opts: ParseOptions = {}): ParsedDataset {
  if (bytes.length === 0) throw new DatasetError(`${fileName} is empty (0 bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const v = new Utf8Validator();
    let at = v.push(bytes);
    if (at < 0) at = v.end();
    const offset = Math.max(0, at);
    throw new DatasetError(`${fileName}: ${notUtf8Message(offset, countNewlines(bytes, 0, offset) + 1, v.badByte)}`);
  }
  return parseDataset(text, fileName, opts);
}
