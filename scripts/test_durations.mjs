#!/usr/bin/env node
// Writes test/durations.json (seconds per test file, for test/sequencer.ts) from a vitest JSON report:
//   npx vitest run --reporter=json --outputFile=/tmp/vitest.json && node scripts/test_durations.mjs /tmp/vitest.json
// Measure on an idle machine: the order only needs the files' relative lengths.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const report = JSON.parse(readFileSync(process.argv[2] ?? '/tmp/vitest.json', 'utf8'));
const root = resolve('.');
const files = {};
for (const r of report.testResults ?? []) {
  const seconds = (r.endTime - r.startTime) / 1000;
  if (Number.isFinite(seconds)) files[relative(root, r.name).split('\\').join('/')] = Math.round(seconds * 10) / 10;
}
const sorted = Object.fromEntries(Object.entries(files).sort((a, b) => b[1] - a[1]));
const total = Object.values(files).reduce((a, b) => a + b, 0);
writeFileSync('test/durations.json', JSON.stringify({ measured: new Date().toISOString().slice(0, 10), total_seconds: Math.round(total), files: sorted }, null, 2) + '\n');
console.log(`test/durations.json: ${Object.keys(files).length} files, ${Math.round(total)} s in all`);
