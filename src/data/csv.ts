// CSV/TSV records with the line each starts on, fed text in pieces. Papa Parse does the parsing; this
// file finds where it is safe to cut the text (a line break outside quotes), so that a big file can be
// parsed piece by piece, and counts lines.

import Papa from 'papaparse';

export interface CsvRecord {
  fields: string[];
  line: number;
  /** Papa Parse's complaint about this record (e.g. an unterminated quote), if any */
  error?: string;
}

/** The delimiter of a CSV from its first line: the most frequent of , ; tab | outside quotes (',' on a tie). */
export function sniffDelimiter(firstLine: string): string {
  const counts = new Map<string, number>([[',', 0], ['\t', 0], [';', 0], ['|', 0]]);
  let inQuotes = false;
  for (const ch of firstLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

export class CsvSplitter {
  private buffer = '';
  /** next character of buffer to scan, and the scanner's state there */
  private scan = 0;
  private inQuotes = false;
  private fieldStart = true;
  /** end of the last complete record found in buffer */
  private cut = 0;
  /** line number of buffer[0] */
  private line = 1;
  /** line break of the file, told to Papa Parse ('\r' alone in old Mac files); lines are counted by its last character */
  private newline: '\r\n' | '\n' | '\r' | null = null;

  constructor(
    private readonly delimiter: string,
    private readonly onRecord: (r: CsvRecord) => void,
  ) {}

  push(text: string): void {
    this.buffer += text;
    if (this.newline === null) {
      const lf = this.buffer.indexOf('\n');
      if (lf > 0 && this.buffer[lf - 1] === '\r') this.newline = '\r\n';
      else if (lf >= 0) this.newline = '\n';
      else if (this.buffer.includes('\r') && !this.buffer.endsWith('\r')) this.newline = '\r';
    }
    this.scanTo(this.buffer.length - 1);
    if (this.cut > 0) this.flush(this.cut);
  }

  /** Parses whatever is left. */
  finish(): void {
    if (this.buffer.length > 0) this.flush(this.buffer.length);
  }

  /** Advances the quote-aware scanner up to (not including) `limit`, remembering the last record end.
   * The last character is held back so that "" and \r\n are never split. */
  private scanTo(limit: number): void {
    const b = this.buffer;
    const d = this.delimiter;
    const nl = this.newline === '\r' ? '\r' : '\n';
    let i = this.scan;
    for (; i < limit; i++) {
      const ch = b[i];
      if (this.inQuotes) {
        if (ch === '"') {
          if (b[i + 1] === '"') i++;
          else this.inQuotes = false;
        }
        continue;
      }
      if (ch === '"' && this.fieldStart) {
        this.inQuotes = true;
        this.fieldStart = false;
      } else if (ch === d) this.fieldStart = true;
      else if (ch === nl) {
        this.fieldStart = true;
        this.cut = i + 1;
      } else if (ch !== '\r') this.fieldStart = false;
    }
    this.scan = i;
  }

  private flush(end: number): void {
    const piece = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    this.scan -= Math.min(this.scan, end);
    this.cut = 0;
    const newline = this.newline ?? '\n';
    const nl = newline === '\r' ? '\r' : '\n';
    let counted = 0;
    let line = this.line;
    let start = 0;
    Papa.parse<string[]>(piece, {
      delimiter: this.delimiter,
      newline,
      skipEmptyLines: false,
      step: (result) => {
        const recStart = start;
        start = result.meta.cursor;
        // Papa Parse reports an empty record after a final line break; it is not in the file.
        if (recStart >= piece.length) return;
        for (let k = piece.indexOf(nl, counted); k >= 0 && k < recStart; k = piece.indexOf(nl, k + 1)) {
          line++;
          counted = k + 1;
        }
        const error = result.errors.find((e) => e.type !== 'Delimiter');
        this.onRecord({ fields: result.data, line, ...(error ? { error: error.message } : {}) });
      },
    });
    for (let k = piece.indexOf(nl, counted); k >= 0; k = piece.indexOf(nl, k + 1)) line++;
    this.line = line;
  }
}
