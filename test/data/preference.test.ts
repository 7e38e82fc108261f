// Preference datasets (TRL's prompt/chosen/rejected and KTO's prompt/completion/label) through the same
// parsers as prompt/answer rows: JSONL, JSON, CSV, parquet; conversational and plain; issues with lines.
import { describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DatasetError, parseDataset, parseParquetData } from '../../src/data';

const user = (content: string) => ({ role: 'user', content });
const asst = (content: string) => ({ role: 'assistant', content });

describe('preference datasets (prompt / chosen / rejected)', () => {
  it('reads plain and conversational pairs from JSONL, with an issue per bad record by line', () => {
    const text = [
      JSON.stringify({ prompt: 'abc', chosen: 'cba', rejected: 'cab' }), // 1 plain
      JSON.stringify({ prompt: [user('xy')], chosen: [asst('yx')], rejected: [asst('xy')] }), // 2 conversational
      JSON.stringify({ chosen: [user('pq'), asst('qp')], rejected: [user('pq'), asst('pq')] }), // 3 implicit prompt: prompt key absent here only
      JSON.stringify({ prompt: 'a', chosen: 'b' }), // 4 missing rejected
      JSON.stringify({ prompt: 'a', chosen: 'same', rejected: 'same' }), // 5 nothing to prefer
      JSON.stringify({ prompt: [user('s'), asst('t'), user('u')], chosen: 'x', rejected: 'y' }), // 6 multi-turn prompt
      JSON.stringify({ prompt: 'a', chosen: [{ role: 'assistant' }], rejected: 'y' }), // 7 message without content
      '{"prompt": "broken"', // 8 bad JSON
    ].join('\n');
    const d = parseDataset(text, 'pairs.jsonl', { kind: 'preference' });
    expect(d.mapping).toEqual({ prompt: 'prompt', answer: 'chosen', rejected: 'rejected' });
    expect(d.rows.map((r) => [r.prompt, r.answer, r.rejected, r.line])).toEqual([
      ['abc', 'cba', 'cab', 1],
      ['xy', 'yx', 'xy', 2],
    ]);
    // line 3 has no prompt field although the file has a prompt column: it is reported, not guessed
    // (a record that is not JSON is reported at once; the others once the columns are decided)
    const at = (line: number) => d.issues.find((i) => i.line === line)!;
    expect(d.issues.map((i) => i.line).sort()).toEqual([3, 4, 5, 6, 7, 8]);
    expect(at(4)).toMatchObject({ field: 'rejected', message: expect.stringContaining('missing the rejected field') });
    expect(at(5).message).toContain('the same');
    expect(at(6).message).toContain('one user message');
    expect(at(7).message).toContain('content');
    expect(d.counts).toMatchObject({ total: 8, kept: 2, invalid: 6 });
  });

  it('takes the shared first messages as the prompt when there is no prompt column (TRL\'s implicit prompt)', () => {
    const text = [
      JSON.stringify({ chosen: [user('pq'), asst('qp')], rejected: [user('pq'), asst('pq')] }),
      JSON.stringify({ chosen: [user('a'), asst('b')], rejected: [user('c'), asst('d')] }),
      JSON.stringify({ chosen: 'plain', rejected: 'text' }),
    ].join('\n');
    const d = parseDataset(text, 'implicit.jsonl', { kind: 'preference' });
    expect(d.mapping.prompt).toBe('');
    expect(d.rows.map((r) => [r.prompt, r.answer, r.rejected])).toEqual([['pq', 'qp', 'pq']]);
    expect(d.issues.map((i) => [i.line, i.message.slice(0, 40)])).toEqual([
      [2, 'the chosen and rejected conversations sh'],
      [3, 'without a prompt column the chosen and r'],
    ]);
  });

  it('reads CSV and JSON arrays, with column mapping and clear errors for missing columns', () => {
    const csv = 'question,good,bad\nabc,cba,bca\n"d,e",ed,de\n';
    const d = parseDataset(csv, 'p.csv', { kind: 'preference', mapping: { prompt: 'question', answer: 'good', rejected: 'bad' } });
    expect(d.rows.map((r) => [r.prompt, r.answer, r.rejected, r.line])).toEqual([['abc', 'cba', 'bca', 2], ['d,e', 'ed', 'de', 3]]);
    const json = JSON.stringify([{ Prompt: 'a', Chosen: 'b', Rejected: 'c' }]);
    expect(parseDataset(json, 'p.json', { kind: 'preference' }).rows[0]).toMatchObject({ prompt: 'a', answer: 'b', rejected: 'c' });
    expect(() => parseDataset('prompt,chosen\na,b\n', 'p.csv', { kind: 'preference' })).toThrow(/no rejected column.*prompt\/chosen\/rejected/);
    expect(() => parseDataset(csv, 'p.csv', { kind: 'preference', mapping: { rejected: 'Bad' } })).toThrow(/"Bad" is not in the file \(there is "bad"/);
    expect(() => parseDataset(csv, 'p.csv', { kind: 'preference', mapping: { prompt: 'question', answer: 'good', rejected: 'good' } })).toThrow(DatasetError);
  });

  it('reads parquet', async () => {
    const bytes = new Uint8Array(parquetWriteBuffer({
      columnData: [
        { name: 'prompt', data: ['ab', 'cd', 'ef'], type: 'STRING' },
        { name: 'chosen', data: ['ba', 'dc', ''], type: 'STRING' },
        { name: 'rejected', data: ['ab', 'cd', 'ef'], type: 'STRING' },
      ] as Parameters<typeof parquetWriteBuffer>[0]['columnData'],
    }));
    const d = await parseParquetData(bytes, 'pairs.parquet', { kind: 'preference' });
    expect(d.rows.map((r) => [r.prompt, r.answer, r.rejected, r.line])).toEqual([['ab', 'ba', 'ab', 1], ['cd', 'dc', 'cd', 2]]);
    expect(d.issues).toEqual([{ line: 3, field: 'chosen', message: 'the chosen field "chosen" is empty' }]);
  });
});

describe('unpaired preference datasets (prompt / completion / label, KTO)', () => {
  it('reads labels as booleans, 1/0 or true/false text, and reports anything else', () => {
    const text = [
      JSON.stringify({ prompt: 'ab', completion: 'ba', label: true }),
      JSON.stringify({ prompt: [user('ab')], completion: [asst('ab')], label: false }),
      JSON.stringify({ prompt: 'cd', completion: 'dc', label: 'yes' }),
      JSON.stringify({ prompt: 'cd', completion: 'dc' }),
    ].join('\n');
    const d = parseDataset(text, 'kto.jsonl', { kind: 'unpaired' });
    expect(d.mapping).toEqual({ prompt: 'prompt', answer: 'completion', label: 'label' });
    expect(d.rows.map((r) => [r.prompt, r.answer, r.label])).toEqual([['ab', 'ba', true], ['ab', 'ab', false]]);
    expect(d.issues.map((i) => [i.line, i.field])).toEqual([[3, 'label'], [4, 'label']]);
    const csv = parseDataset('prompt,completion,label\nab,ba,1\nab,ab,False\n', 'k.csv', { kind: 'unpaired' });
    expect(csv.rows.map((r) => r.label)).toEqual([true, false]);
    expect(() => parseDataset('prompt,completion\na,b\n', 'k.csv', { kind: 'unpaired' })).toThrow(/no label column/);
  });

  it('leaves prompt/answer files as they were', () => {
    const d = parseDataset('{"prompt": "a", "answer": "b"}\n', 'x.jsonl');
    expect(d.rows).toEqual([{ prompt: 'a', answer: 'b', line: 1, raw: { prompt: 'a', answer: 'b' } }]);
    expect(d.mapping).toEqual({ prompt: 'prompt', answer: 'answer' });
  });
});
