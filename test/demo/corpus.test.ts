// The demo datasets and the pretraining corpus: the committed JSONL files are what src/demo/corpus.ts
// generates, they parse as datasets, their answers are right, and no demo prompt is in the corpus.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseDataset } from '../../src/data';
import {
  CORPUS_SIZE, DEMO_ROWS, REVERSE_SLIPS, defaultCorpusOptions, DEMO_FILES, demoDatasets, demoFiles, demoPrompts, pretrainingCorpus, TASK_FAMILIES, toJsonl, type TaskFamily,
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

  test('the files, listed in DEMO_DATASETS, equal the generator output and hold every family', () => {
    // the puzzles model's prompt/answer datasets (the calculator demo's file is checked in test/demo/calculator.test.ts,
    // the preference demo's pairs in test/demo/preference_demo.test.ts)
    expect(DEMO_DATASETS.filter((d) => d.model === 'tiny-puzzles' && !d.algorithm).map((d) => d.path).sort()).toEqual(DEMO_FILES.map((f) => `datasets/${f.name}.jsonl`).sort());
    const files = demoFiles();
    for (const f of DEMO_FILES) expect(read(`datasets/${f.name}.jsonl`), f.name).toBe(toJsonl(files[f.name]));
    expect(new Set(DEMO_FILES.map((f) => f.family))).toEqual(new Set(TASK_FAMILIES));
    for (const f of TASK_FAMILIES) {
      const inFiles = DEMO_FILES.filter((d) => d.family === f).flatMap((d) => files[d.name]);
      expect(inFiles.map((r) => r.prompt).sort(), f).toEqual(generated[f].map((r) => r.prompt).sort());
    }
  });

  test('each parses as a prompt/answer dataset with distinct prompts and correct answers', () => {
    let total = 0;
    for (const { name, family } of DEMO_FILES) {
      const ds = parseDataset(read(`datasets/${name}.jsonl`), `${name}.jsonl`);
      expect(ds.format).toBe('jsonl');
      expect(ds.mapping).toEqual({ prompt: 'prompt', answer: 'answer' });
      expect(ds.counts.invalid + ds.counts.duplicate).toBe(0);
      expect(new Set(ds.rows.map((r) => r.prompt)).size).toBe(ds.counts.kept);
      // enough rows for a training and an eval split of about a hundred prompts
      expect(ds.counts.kept, name).toBeGreaterThanOrEqual(400);
      total += ds.counts.kept;
      const wrong = ds.rows.filter((r) => !check(family, r.prompt, r.answer));
      expect(wrong, name).toEqual([]);
    }
    expect(total).toBe(TASK_FAMILIES.length * DEMO_ROWS);
  });

  test('the main demo reverses 3 letters, reverse4 4 letters; addition adds two two-digit numbers', () => {
    expect(DEMO_DATASETS[0].id).toBe('reverse');
    for (const r of parseDataset(read('datasets/reverse.jsonl'), 'reverse.jsonl').rows) expect(r.prompt).toMatch(/^rev [a-z]{3}=$/);
    for (const r of parseDataset(read('datasets/reverse4.jsonl'), 'reverse4.jsonl').rows) expect(r.prompt).toMatch(/^rev [a-z]{4}=$/);
    for (const r of parseDataset(read('datasets/addition.jsonl'), 'addition.jsonl').rows) expect(r.prompt).toMatch(/^[1-9]\d\+[1-9]\d=$/);
  });
});

describe('pretraining corpus', () => {
  const corpus = pretrainingCorpus(defaultCorpusOptions());

  test('never contains a prompt of any demo dataset file', () => {
    const inFiles = new Set<string>();
    for (const { name } of DEMO_FILES) for (const r of parseDataset(read(`datasets/${name}.jsonl`), `${name}.jsonl`).rows) inFiles.add(r.prompt);
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
