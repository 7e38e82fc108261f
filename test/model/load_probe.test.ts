// A tokenizer whose pre-tokenizer regex backtracks without end, or a chat template with range(1e8), ends in
// a message naming the file within the time limit instead of hanging the engine: both are exercised once in
// a worker at load (src/model/load_probe.ts), through loadHfFolder as the page and the CLI load a folder.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { probeTokenizerAndTemplate } from '../../src/model/load_probe';
import { loadHfFolder } from '../../src/model/load';
import { memFile } from './tiny';
import { TINY_DIR } from '../hub/fixtures';

const tokenizerJson = () => JSON.parse(readFileSync(TINY_DIR + 'tokenizer.json', 'utf8')) as Record<string, unknown>;
const catastrophic = () => ({ ...tokenizerJson(), pre_tokenizer: { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false } });
const LOOP = '{% for i in range(100000000) %}x{% endfor %}';
const files = { tokenizer: 'org/m/tokenizer.json', 'chat template': 'org/m/tokenizer_config.json' };

describe('the tokenizer and the chat template run with a time limit', () => {
  test('the real tokenizer and a normal template pass quickly', async () => {
    const t = performance.now();
    await probeTokenizerAndTemplate({ tokenizerJson: tokenizerJson(), tokenizerConfig: {}, chatTemplate: '{% for m in messages %}{{ m.content }}{% endfor %}' }, files, 2000);
    expect(performance.now() - t).toBeLessThan(5000);
  });

  test('a catastrophically backtracking pre-tokenizer regex is stopped, naming tokenizer.json', async () => {
    const t = performance.now();
    await expect(probeTokenizerAndTemplate({ tokenizerJson: catastrophic(), tokenizerConfig: {}, chatTemplate: null }, files, 1500)).rejects.toThrow(
      /org\/m\/tokenizer\.json: its pre-tokenizer \(a regular expression that backtracks without end\?\) did not finish a short test within 1\.5 s and was stopped/,
    );
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  test('a chat template with range(1e8) is stopped, naming its file', async () => {
    await expect(probeTokenizerAndTemplate({ tokenizerJson: tokenizerJson(), tokenizerConfig: {}, chatTemplate: LOOP }, files, 1500)).rejects.toThrow(
      /org\/m\/tokenizer_config\.json: the chat template \(a loop without end, e\.g\. range\(100000000\)\?\) did not finish/,
    );
  });

  test('loading a folder runs the probe (a looping template in tokenizer_config.json)', async () => {
    const sources = ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => memFile(`tiny/${f}`, new Uint8Array(readFileSync(TINY_DIR + f))));
    sources.push(memFile('tiny/tokenizer_config.json', JSON.stringify({ chat_template: LOOP })));
    await expect(loadHfFolder(sources)).rejects.toThrow(/tiny\/tokenizer_config\.json: the chat template .* was stopped/);
  }, 60_000);
});
