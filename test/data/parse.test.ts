import { describe, expect, it } from 'vitest';
import { DatasetError, parseDataset, parseDatasetBytes, type ParsedDataset } from '../../src/data';

const enc = new TextEncoder();

/** The counts always account for every record. */
function expectAccounted(d: ParsedDataset, dropDuplicates = false): void {
  const c = d.counts;
  expect(c.total).toBe(c.kept + c.invalid + c.empty + (dropDuplicates ? c.duplicate : 0));
  expect(d.rows.length).toBe(c.kept);
}

describe('JSONL', () => {
  it('parses rows with their line numbers and all columns', () => {
    const text = '{"question": "2+2?", "answer": "4", "id": 1}\n{"question": "3+3?", "answer": "6", "id": 2}\n';
    const d = parseDataset(text, 'train.jsonl');
    expect(d.format).toBe('jsonl');
    expect(d.mapping).toEqual({ prompt: 'question', answer: 'answer' });
    expect(d.columns).toEqual(['question', 'answer', 'id']);
    expect(d.rows).toEqual([
      { prompt: '2+2?', answer: '4', line: 1, raw: { question: '2+2?', answer: '4', id: 1 } },
      { prompt: '3+3?', answer: '6', line: 2, raw: { question: '3+3?', answer: '6', id: 2 } },
    ]);
    expect(d.issues).toEqual([]);
    expect(d.counts).toEqual({ total: 2, kept: 2, invalid: 0, duplicate: 0, empty: 0 });
  });

  it('reports invalid JSON on line N, blank lines, non-objects, missing and empty fields, and stringifies numbers', () => {
    const text = [
      '{"prompt": "a", "answer": "1"}', // 1 ok
      '', // 2 blank
      '{"prompt": "b", "answer": }', // 3 bad JSON
      '{"prompt": "c"}', // 4 missing answer
      '{"prompt": "  ", "answer": "2"}', // 5 empty prompt
      '{"prompt": "d", "answer": 42}', // 6 number -> "42"
      '{"prompt": "e", "answer": {"x": 1}}', // 7 object
      '[1, 2]', // 8 not an object
      '{"prompt": ["a"], "answer": "x"}', // 9 list prompt
      '{"prompt": "f", "answer": null}', // 10 null
      '{"prompt": "g", "answer": true}', // 11 boolean -> "true"
    ].join('\n');
    const d = parseDataset(text, 'x.jsonl');
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([
      [1, 'a', '1'],
      [6, 'd', '42'],
      [11, 'g', 'true'],
    ]);
    expect(d.counts).toEqual({ total: 11, kept: 3, invalid: 7, duplicate: 0, empty: 1 });
    const byLine = Object.fromEntries(d.issues.map((i) => [i.line, i]));
    expect(byLine[3].message).toMatch(/^line 3 is not valid JSON: /);
    expect(byLine[3].message).not.toMatch(/"prompt"/); // no quote of the whole line
    expect(byLine[4]).toEqual({ line: 4, field: 'answer', message: 'missing the answer field "answer"' });
    expect(byLine[5]).toEqual({ line: 5, field: 'prompt', message: 'the prompt field "prompt" is empty' });
    expect(byLine[7].message).toBe('the answer field "answer" is an object; it must be text, a number or a list of {role, content} messages');
    expect(byLine[8].message).toMatch(/line 8 holds a list; each line must be a JSON object/);
    // a list is read as TRL's conversational format: these are not {role, content} messages
    expect(byLine[9].message).toBe('the prompt field "prompt": message 1 is a string, not a {role, content} object');
    expect(byLine[10].message).toBe('the answer field "answer" is null');
    expectAccounted(d);
  });

  it('handles CRLF line ends, a BOM and no final newline', () => {
    const d = parseDataset('\uFEFF{"prompt": "a", "answer": "1"}\r\n{"prompt": "b", "answer": "2"}', 'x.jsonl');
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([
      [1, 'a', '1'],
      [2, 'b', '2'],
    ]);
    expect(d.issues).toEqual([]);
  });

  it('counts duplicates, keeping them by default and dropping them on request', () => {
    const text = '{"prompt": "a", "answer": "1"}\n{"prompt": "a", "answer": "1"}\n{"prompt": "a", "answer": "2"}\n';
    const kept = parseDataset(text, 'x.jsonl');
    expect(kept.counts).toEqual({ total: 3, kept: 3, invalid: 0, duplicate: 1, empty: 0 });
    expect(kept.issues).toEqual([{ line: 2, message: 'same prompt and answer as line 1; kept (duplicates weigh that prompt more in training)' }]);
    expectAccounted(kept);
    const dropped = parseDataset(text, 'x.jsonl', { dropDuplicates: true });
    expect(dropped.counts).toEqual({ total: 3, kept: 2, invalid: 0, duplicate: 1, empty: 0 });
    expect(dropped.rows.map((r) => r.line)).toEqual([1, 3]);
    expect(dropped.issues[0].message).toMatch(/dropped$/);
    expectAccounted(dropped, true);
  });

  it('lists at most maxIssues issues and counts the rest', () => {
    const text = Array.from({ length: 10 }, () => 'not json').join('\n');
    const d = parseDataset(text, 'x.jsonl', { maxIssues: 3 });
    expect(d.issues).toHaveLength(3);
    expect(d.issuesOmitted).toBe(7);
    expect(d.counts.invalid).toBe(10);
  });
});

describe('JSON documents', () => {
  it('a JSON array, with the line where each item starts', () => {
    const text = `[
  {"problem": "1+1", "solution": "2"},
  {
    "problem": "2+2",
    "solution": "4"
  },
  "oops",
  {"problem": "3+3", "solution": "6"}
]`;
    const d = parseDataset(text, 'data.json');
    expect(d.format).toBe('json');
    expect(d.mapping).toEqual({ prompt: 'problem', answer: 'solution' });
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([
      [2, '1+1', '2'],
      [3, '2+2', '4'],
      [8, '3+3', '6'],
    ]);
    expect(d.issues).toEqual([{ line: 7, message: 'item 3 (line 7) is a string; each item must be an object such as {"prompt": "...", "answer": "..."}' }]);
    expectAccounted(d);
  });

  it('an object with a data (or rows) list, skipping other lists before it', () => {
    const text = '{\n "meta": [1, 2],\n "data": [\n  {"input": "x", "output": "y"},\n  {"input": "z", "output": "w"}\n ]\n}';
    const d = parseDataset(text, 'd.json');
    expect(d.mapping).toEqual({ prompt: 'input', answer: 'output' });
    expect(d.rows.map((r) => r.line)).toEqual([4, 5]);
    expect(parseDataset('{"rows": [{"prompt": "p", "answer": "a"}]}', 'r.json').rows).toHaveLength(1);
  });

  it('a .json file that is really JSON Lines is read as JSONL', () => {
    const d = parseDataset('{"prompt": "p", "answer": "a"}\n{"prompt": "q", "answer": "b"}\n', 'export.json');
    expect(d.format).toBe('jsonl');
    expect(d.rows).toHaveLength(2);
  });

  it('invalid JSON names the line of the error', () => {
    const text = '[\n  {"prompt": "a", "answer": "1"},\n  {"prompt": "b", "answer": "2",}\n]';
    expect(() => parseDataset(text, 'bad.json')).toThrow(DatasetError);
    expect(() => parseDataset(text, 'bad.json')).toThrow(/^bad\.json is not valid JSON at line 3: /);
    expect(() => parseDataset('[\n{"prompt": "a"', 'cut.json')).toThrow(/not valid JSON at line 2/);
    expect(() => parseDataset('{\n  "x": 1,\n  "y": [1]\n}', 'o.json')).toThrow(/a JSON object without a list of rows/);
    expect(() => parseDataset('[]', 'e.json')).toThrow(/empty list of rows/);
  });
});

describe('CSV', () => {
  it('quoted fields with commas, quotes and embedded newlines; the line where each record starts', () => {
    const text = 'question,answer,source\n"What is 1,000 + 1?","1,001",a\n"Say ""hi""\nthen stop",hi,b\nplain,ok,c\n';
    const d = parseDataset(text, 'qa.csv');
    expect(d.format).toBe('csv');
    expect(d.columns).toEqual(['question', 'answer', 'source']);
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([
      [2, 'What is 1,000 + 1?', '1,001'],
      [3, 'Say "hi"\nthen stop', 'hi'],
      [5, 'plain', 'ok'],
    ]);
    expect(d.rows[0].raw).toEqual({ question: 'What is 1,000 + 1?', answer: '1,001', source: 'a' });
    expect(d.issues).toEqual([]);
  });

  it('CRLF line ends, a BOM, blank lines and a semicolon delimiter', () => {
    const d = parseDataset('\uFEFFPrompt;Answer\r\n"a\r\nb";1\r\n\r\nc;2\r\n', 'excel.csv');
    expect(d.mapping).toEqual({ prompt: 'Prompt', answer: 'Answer' });
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([
      [2, 'a\r\nb', '1'],
      [5, 'c', '2'],
    ]);
    expect(d.counts).toEqual({ total: 3, kept: 2, invalid: 0, duplicate: 0, empty: 1 });
  });

  it('TSV by extension', () => {
    const d = parseDataset('input\toutput\nhello, world\tbonjour\n', 'pairs.tsv');
    expect(d.format).toBe('tsv');
    expect(d.rows.map((r) => [r.prompt, r.answer])).toEqual([['hello, world', 'bonjour']]);
  });

  it('reports wrong field counts, empty fields and unterminated quotes with their lines', () => {
    const text = 'prompt,answer\na,1\nb,2,extra\nc,\n,3\nd,4\n"e,5\nf,6\n';
    const d = parseDataset(text, 'bad.csv');
    expect(d.rows.map((r) => r.line)).toEqual([2, 6]);
    const byLine = Object.fromEntries(d.issues.map((i) => [i.line, i]));
    expect(byLine[3].message).toMatch(/^the record starting on line 3 has 3 fields but the header has 2 \(prompt, answer\); put fields that contain/);
    expect(byLine[4]).toEqual({ line: 4, field: 'answer', message: 'the answer field "answer" is empty' });
    expect(byLine[5]).toEqual({ line: 5, field: 'prompt', message: 'the prompt field "prompt" is empty' });
    expect(byLine[7].message).toMatch(/^the record starting on line 7 could not be read: Quoted field unterminated/);
    expectAccounted(d);
  });

  it('renames empty and repeated header names, with an issue', () => {
    const d = parseDataset('prompt,answer,answer,\np,a,b,c\n', 'h.csv');
    expect(d.columns).toEqual(['prompt', 'answer', 'answer_2', 'column_4']);
    expect(d.issues.map((i) => i.message)).toEqual([
      'header column 3 repeats the name "answer"; it is called answer_2',
      'header column 4 has no name; it is called column_4',
    ]);
  });

  it('a header without rows is an error', () => {
    expect(() => parseDataset('prompt,answer\n', 'h.csv')).toThrow(/has a header row \(prompt, answer\) but no data rows/);
  });

  it('a file without an extension is sniffed', () => {
    expect(parseDataset('prompt,answer\nx,y\n', 'upload').format).toBe('csv');
    expect(parseDataset('[{"prompt": "x", "answer": "y"}]', 'upload').format).toBe('json');
    expect(parseDataset('{"prompt": "x", "answer": "y"}', 'upload.txt').format).toBe('jsonl');
  });
});

describe('column mapping', () => {
  it('recognises pairs case-insensitively, preferring question/answer', () => {
    const pairs: [string, string][] = [
      ['Question', 'Answer'],
      ['prompt', 'completion'],
      ['problem', 'solution'],
      ['prompt', 'answer'],
      ['INPUT', 'OUTPUT'],
      ['instruction', 'output'],
    ];
    for (const [p, a] of pairs) {
      const d = parseDataset(`${p},${a},other\nx,y,z\n`, 'm.csv');
      expect(d.mapping, `${p}/${a}`).toEqual({ prompt: p, answer: a });
      expect(d.rows[0].prompt).toBe('x');
    }
    expect(parseDataset('answer,question,prompt\na,q,p\n', 'm.csv').mapping).toEqual({ prompt: 'question', answer: 'answer' });
  });

  it('uses an explicit mapping, also a partial one', () => {
    const text = 'q,a,question,answer\n1,2,3,4\n';
    expect(parseDataset(text, 'm.csv', { mapping: { prompt: 'q', answer: 'a' } }).rows[0]).toMatchObject({ prompt: '1', answer: '2' });
    expect(parseDataset(text, 'm.csv', { mapping: { answer: 'a' } }).rows[0]).toMatchObject({ prompt: '3', answer: '2' });
  });

  it('an explicit mapping to a missing column names it and lists the available ones', () => {
    expect(() => parseDataset('q,a\n1,2\n', 'm.csv', { mapping: { prompt: 'question', answer: 'a' } })).toThrow(
      'the prompt column "question" is not in the file; the columns are "q", "a"',
    );
    expect(() => parseDataset('{"Q": "1", "A": "2"}\n', 'm.jsonl', { mapping: { prompt: 'Q', answer: 'a' } })).toThrow(
      'the answer column "a" is not in the file (there is "A": names are case-sensitive); the columns are "Q", "A"',
    );
    expect(() => parseDataset('q,a\n1,2\n', 'm.csv', { mapping: { prompt: 'q', answer: 'q' } })).toThrow(/both mapped to column "q"/);
  });

  it('unrecognised columns without a mapping say what was found and what to do', () => {
    expect(() => parseDataset('foo,bar\n1,2\n', 'm.csv')).toThrow(
      /^could not tell which column holds the prompt and answer: the columns are "foo", "bar", and the recognised pairs are question\/answer, .*; choose the columns in the column mapping$/,
    );
  });
});

describe('parseDatasetBytes', () => {
  it('decodes UTF-8 (with BOM) and parses', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('prompt,answer\ncafé,naïve\n')]);
    const d = parseDatasetBytes(bytes, 'u.csv');
    expect(d.rows[0]).toMatchObject({ prompt: 'café', answer: 'naïve' });
  });

  it('rejects bytes that are not UTF-8, naming the byte, its offset and line', () => {
    // "prompt,answer\ncaf\xE9,x\n": Latin-1 é at byte offset 17, line 2
    const bytes = new Uint8Array([...enc.encode('prompt,answer\ncaf'), 0xe9, ...enc.encode(',x\n')]);
    expect(() => parseDatasetBytes(bytes, 'latin1.csv')).toThrow(DatasetError);
    expect(() => parseDatasetBytes(bytes, 'latin1.csv')).toThrow(/^latin1\.csv: the file is not valid UTF-8: byte 0xE9 at byte offset 17 \(line 2\)\. .*save it as UTF-8/);
    // overlong encoding and a truncated sequence at the end
    expect(() => parseDatasetBytes(new Uint8Array([0x61, 0xc0, 0xaf]), 'o.csv')).toThrow(/byte 0xC0 at byte offset 1 \(line 1\)/);
    expect(() => parseDatasetBytes(new Uint8Array([...enc.encode('a\nb\n'), 0xe2, 0x82]), 't.csv')).toThrow(/an unfinished character at the end of the file at byte offset 4 \(line 3\)/);
  });

  it('rejects empty and blank files', () => {
    expect(() => parseDatasetBytes(new Uint8Array(0), 'empty.jsonl')).toThrow('empty.jsonl is empty (0 bytes)');
    expect(() => parseDatasetBytes(enc.encode('\n \n\t\n'), 'blank.jsonl')).toThrow('blank.jsonl has no data: it is empty or only blank lines');
    expect(() => parseDataset('\uFEFF', 'bom.csv')).toThrow(/has no data/);
  });
});

describe('TRL\'s conversational formats (SFT data)', () => {
  it('a "messages" column: the user turn is the prompt, the assistant turn the answer; other shapes are named', () => {
    const conv = (...m: [string, string][]) => JSON.stringify({ messages: m.map(([role, content]) => ({ role, content })) });
    const text = [
      conv(['user', 'rev abc='], ['assistant', 'cba']),
      conv(['system', 'be brief'], ['user', 'x'], ['assistant', 'y']),
      conv(['user', 'q']),
      JSON.stringify({ messages: 'hello' }),
      conv(['user', '2+2='], ['assistant', '4']),
    ].join('\n');
    const d = parseDataset(text, 'chat.jsonl');
    expect(d.mapping).toEqual({ prompt: 'messages', answer: 'messages' });
    expect(d.rows.map((r) => [r.line, r.prompt, r.answer])).toEqual([[1, 'rev abc=', 'cba'], [5, '2+2=', '4']]);
    const byLine = Object.fromEntries(d.issues.map((i) => [i.line, i.message]));
    expect(byLine[2]).toMatch(/must be a user message then an assistant message \(got system, user, assistant\).*system_prompt/);
    expect(byLine[3]).toMatch(/\(got user\)/);
    expect(byLine[4]).toBe('the "messages" field is not a list of {role, content} messages');
    expectAccounted(d);
  });

  it('prompt / completion as lists of messages: one user message and one assistant message', () => {
    const text = [
      JSON.stringify({ prompt: [{ role: 'user', content: 'rev abc=' }], completion: [{ role: 'assistant', content: 'cba' }] }),
      JSON.stringify({ prompt: [{ role: 'user', content: 'q' }], completion: [{ role: 'user', content: 'a' }] }),
    ].join('\n');
    const d = parseDataset(text, 'pc.jsonl');
    expect(d.mapping).toEqual({ prompt: 'prompt', answer: 'completion' });
    expect(d.rows.map((r) => [r.prompt, r.answer])).toEqual([['rev abc=', 'cba']]);
    expect(d.issues[0].message).toMatch(/the answer field "completion" must be one assistant message \(got user\)/);
  });
});
