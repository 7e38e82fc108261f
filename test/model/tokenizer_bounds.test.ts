// Token ids in tokenizer.json are bounded before the tokenizer is built: an added token with id 2^31 is
// refused at once with a message naming the file and the token (it used to hang building the tokenizer).
import { describe, expect, test } from 'vitest';
import { createHfTokenizer } from '../../src/model/tokenizer_hf';
import { MAX_TOKEN_ID } from '../../src/model/tokenizer_bounds';
import { tinyTokenizerJson } from './tiny';

describe('token ids in tokenizer.json', () => {
  test('an added token with id 2^31 is refused at once, naming it', () => {
    const json = tinyTokenizerJson();
    const added = [...((json.added_tokens as unknown[]) ?? []), { id: 2 ** 31, content: '<evil>', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false }];
    const t = performance.now();
    expect(() => createHfTokenizer({ tokenizerJson: { ...json, added_tokens: added } }, 'org/m/tokenizer.json')).toThrow(
      new RegExp(`org/m/tokenizer\\.json: added token "<evil>" \\(added_tokens\\[\\d+\\]\\) has id 2147483648; token ids must be whole numbers from 0 to ${MAX_TOKEN_ID}`),
    );
    expect(performance.now() - t).toBeLessThan(1000);
  });

  test('negative, fractional and huge vocabulary ids are refused; the real tokenizer builds', () => {
    const json = tinyTokenizerJson();
    const model = json.model as { vocab: Record<string, number> };
    const first = Object.keys(model.vocab)[0];
    for (const bad of [-1, 1.5, 2 ** 40]) {
      expect(() => createHfTokenizer({ tokenizerJson: { ...json, model: { ...model, vocab: { ...model.vocab, [first]: bad } } } })).toThrow(/vocabulary token .* has id/);
    }
    expect(createHfTokenizer({ tokenizerJson: json }).vocabSize).toBeGreaterThan(0);
  });
});
