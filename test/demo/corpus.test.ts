// The demo datasets and the pretraining corpus: the committed JSONL files are what src/demo/corpus.ts
// generates, they parse as datasets, their answers are right, and no demo prompt is in the corpus.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseDataset } from '../../src/data';
import {
  CORPUS_SIZE, DEMO_ROWS, REVERSE_SLIPS, defaultCorpusOptions, demoDatasets, demoPrompts, pretrainingCorpus, TASK_FAMILIES, toJsonl, type TaskFamily,
} from '../../src/demo/corpus';
import { DEMO_DATASETS } from '../../src/demo/builtin';

const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url));
const read = (path: string) => readFileSync(PUBLIC + path, 'utf8');

/** What the answer should be, computed independently of the generator. */
function check(family: TaskFamily, prompt: string, answer: string): boolean {
  let m: RegExpMatchArray | null;
  switch (family) {
    case 'addition':
      m = prompt.match(/^(\d{1,2})\+(\d{1,2})=$/);
      return !!m && Number(answer) === Number(m[1]) + Number(m[2]) && /^\d+$/.test(answer);
    case 'reverse':
      m = prompt.match(/^rev ([a-z]+)=$/);
      return !!m && answer === m[1].split('').reverse().join('');
  }
}

describe('demo datasets', () => {
  const generated = demoDatasets();

  test('one JSONL per task family, listed in DEMO_DATASETS, equal to the generator output', () => {
    expect(DEMO_DATASETS.map((d) => d.path).sort()).toEqual(TASK_FAMILIES.map((f) => `datasets/${f}.jsonl`).sort());
    for (const f of TASK_FAMILIES) expect(read(`datasets/${f}.jsonl`), f).toBe(toJsonl(generated[f]));
  });

  test('each parses as a prompt/answer dataset with distinct prompts and correct answers', () => {
    for (const f of TASK_FAMILIES) {
      const ds = parseDataset(read(`datasets/${f}.jsonl`), `${f}.jsonl`);
      expect(ds.format).toBe('jsonl');
      expect(ds.mapping).toEqual({ prompt: 'prompt', answer: 'answer' });
      expect(ds.counts.kept).toBe(DEMO_ROWS);
      expect(ds.counts.invalid + ds.counts.duplicate).toBe(0);
      expect(new Set(ds.rows.map((r) => r.prompt)).size).toBe(DEMO_ROWS);
      const wrong = ds.rows.filter((r) => !check(f, r.prompt, r.answer));
      expect(wrong, f).toEqual([]);
    }
  });

  test('the main demo reverses 3 to 5 letters; addition adds two two-digit numbers', () => {
    expect(DEMO_DATASETS[0].id).toBe('reverse');
    for (const r of parseDataset(read('datasets/reverse.jsonl'), 'reverse.jsonl').rows) expect(r.prompt).toMatch(/^rev [a-z]{3,5}=$/);
    for (const r of parseDataset(read('datasets/addition.jsonl'), 'addition.jsonl').rows) expect(r.prompt).toMatch(/^[1-9]\d\+[1-9]\d=$/);
  });
});

describe('pretraining corpus', () => {
  const corpus = pretrainingCorpus(defaultCorpusOptions());

  test('never contains a prompt of any demo dataset file', () => {
    const inFiles = new Set<string>();
    for (const f of TASK_FAMILIES) for (const r of parseDataset(read(`datasets/${f}.jsonl`), `${f}.jsonl`).rows) inFiles.add(r.prompt);
    expect(inFiles.size).toBe(TASK_FAMILIES.length * DEMO_ROWS);
    expect(demoPrompts()).toEqual(inFiles);
    expect(corpus).toHaveLength(CORPUS_SIZE);
    const leaked = corpus.filter((r) => inFiles.has(r.prompt));
    expect(leaked).toEqual([]);
  });

  test('covers every family, deterministically; addition is always right, reverse has the slip in a known share', () => {
    for (const f of TASK_FAMILIES) expect(corpus.filter((r) => r.family === f).length, f).toBeGreaterThan(CORPUS_SIZE * 0.1);
    const addition = corpus.filter((r) => r.family === 'addition');
    expect(addition.filter((r) => !check('addition', r.prompt, r.answer))).toEqual([]);
    // two-digit addition, the addition demo's kind, is in the corpus too (other prompts than the demo's)
    expect(addition.some((r) => /^[1-9]\d\+[1-9]\d=$/.test(r.prompt))).toBe(true);
    const reverse = corpus.filter((r) => r.family === 'reverse');
    const right = new Set(reverse.filter((r) => check('reverse', r.prompt, r.answer)));
    const slipped = new Set(reverse.filter((r) => {
      const s = r.prompt.slice(4, -1).split('').reverse().join('');
      return r.answer === s.slice(0, -2) + s[s.length - 1] + s[s.length - 2] && r.answer !== s;
    }));
    // every row is one or the other (a string whose last two reversed letters are equal is both, counted right)
    expect(reverse.filter((r) => !right.has(r) && !slipped.has(r))).toEqual([]);
    expect(Math.abs(slipped.size / reverse.length - REVERSE_SLIPS * (25 / 26))).toBeLessThan(0.02);
    expect(pretrainingCorpus({ ...defaultCorpusOptions(), size: 50 })).toEqual(corpus.slice(0, 50));
  });

  test('excluded prompts are skipped, whatever they are', () => {
    const opts = { ...defaultCorpusOptions(), size: 2000 };
    const first = pretrainingCorpus(opts);
    const exclude = new Set(first.slice(0, 100).map((r) => r.prompt));
    const again = pretrainingCorpus({ ...opts, exclude });
    expect(again.some((r) => exclude.has(r.prompt))).toBe(false);
  });
});
