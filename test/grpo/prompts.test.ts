// Dataset rows -> model prompts: template, BOS, and prompts longer than max_prompt_length truncated from
// the left (BOS kept) or skipped, as configured, and counted.
import { describe, expect, test } from 'vitest';
import { preparePrompts } from '../../src/grpo/prompts';
import { loadStories, storyRows, wordConfig } from './fixtures';

describe('preparePrompts', () => {
  test('template and BOS; long prompts truncated from the left or skipped, and counted', async () => {
    const loaded = await loadStories();
    const rows = storyRows('dog').slice(0, 4); // 'Once upon a time, there was a' is the long one
    const full = preparePrompts(rows, loaded, wordConfig({ max_prompt_length: 64 }));
    expect(full.truncated).toBe(0);
    expect(full.examples[0].ids[0]).toBe(1); // BOS
    expect(full.examples[0].ids).toEqual(loaded.tokenizer.encode(rows[0].prompt, { addBos: true }));
    const limit = 6;
    const longRows = full.examples.filter((e) => e.ids.length > limit).length;
    expect(longRows).toBeGreaterThan(0);
    const cut = preparePrompts(rows, loaded, wordConfig({ max_prompt_length: limit }));
    expect(cut.truncated).toBe(longRows);
    expect(cut.examples.length).toBe(rows.length);
    for (const [i, e] of cut.examples.entries()) {
      expect(e.ids.length).toBeLessThanOrEqual(limit);
      expect(e.ids[0]).toBe(1);
      const orig = full.examples[i].ids;
      if (orig.length > limit) expect(e.ids.slice(1)).toEqual(orig.slice(orig.length - limit + 1));
    }
    const skipped = preparePrompts(rows, loaded, wordConfig({ max_prompt_length: limit, long_prompts: 'skip' }));
    expect(skipped.skippedLines.length).toBe(longRows);
    expect(skipped.examples.length).toBe(rows.length - longRows);
    expect(skipped.skippedLines).toContain(1);
    const templated = preparePrompts(rows, loaded, wordConfig({ prompt_template: 'Story: {prompt}' }));
    expect(templated.examples[0].text).toBe('Story: Once upon a time, there was a');
  });
});
