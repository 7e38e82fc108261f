// The order vitest starts the test files in: longest first, by the seconds each file took in a measured run
// (test/durations.json, written by scripts/test_durations.mjs from a `vitest run --reporter=json` report).
// With two workers (CI's two cores) the run ends when the last file does: starting the long files first keeps
// one long file from starting last while the other worker sits idle. Vitest's own order needs a cache of
// earlier runs, which a fresh clone lacks (it then runs files in the order it found them). Files not in the
// list (new ones) count as DEFAULT_SECONDS; a stale list only costs time, never a test.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const DEFAULT_SECONDS = 10;

function durations(): Record<string, number> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(new URL('./durations.json', import.meta.url), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as { files?: Record<string, number> }).files ?? {} : {};
  } catch {
    return {};
  }
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = durations();
    const root = this.ctx.config.root;
    const cost = (f: TestSpecification) => seconds[relative(root, f.moduleId).split('\\').join('/')] ?? DEFAULT_SECONDS;
    return [...files].sort((a, b) => cost(b) - cost(a));
  }
}
