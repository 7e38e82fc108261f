// Writes docs/CONFIG.md from the config schema (npm run docs:config); test/grpo/config_docs.test.ts fails
// when the committed page differs from what this writes.
import { writeFileSync } from 'node:fs';
import { configDocsMarkdown } from '../src/grpo/config';

writeFileSync('docs/CONFIG.md', configDocsMarkdown());
console.log('wrote docs/CONFIG.md');
