// docs/CONFIG.md is generated from the config schema; this fails when a field changed and the page was
// not regenerated (run `npm run docs:config`).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { CONFIG_KEYS, configDocsMarkdown } from '../../src/grpo/config';

describe('docs/CONFIG.md', () => {
  const page = readFileSync('docs/CONFIG.md', 'utf8');
  test('is up to date with the schema (npm run docs:config rewrites it)', () => {
    expect(page).toBe(configDocsMarkdown());
  });
  test('has a section for every field', () => {
    for (const k of CONFIG_KEYS) expect(page, k).toContain(`### \`${k}\``);
  });
});
