// The arrows between the engine and its CPU oracle point one way:
//  - production code (everything under src/ except the oracle and its two users, src/selftest and src/bench)
//    does not import src/reference: the browser self-test reaches the oracle only through src/selftest;
//  - src/reference does not import the GPU wrappers (src/gpu): what both need lives in src/ops;
//  - src/ops imports nothing but src/ops, so either side may import it.
// Kernels production no longer dispatches are flagged (descriptor + shader header) as unfused references.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { isKernelDescriptor } from '../src/gpu/kernel';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module a file imports or re-exports (static, dynamic and side-effect imports), as paths from the
 * repository root for relative specifiers and as written for packages. */
export function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs.map((s) => (s.startsWith('.') ? normalize(join(dirname(file), s.replace(/\?.*$/, ''))) : s));
}

type Area = 'reference' | 'gpu' | 'ops' | 'oracle-user' | 'production';
function areaOf(path: string): Area {
  const rel = relative('src', path);
  if (rel.startsWith('..')) return 'production';
  const top = rel.split('/')[0];
  if (top === 'reference') return 'reference';
  if (top === 'gpu') return 'gpu';
  if (top === 'ops') return 'ops';
  if (top === 'selftest' || top === 'bench') return 'oracle-user';
  return 'production';
}

/** The import rules broken by one file, one message each. */
export function violations(file: string, imports: readonly string[]): string[] {
  const from = areaOf(file);
  const out: string[] = [];
  for (const target of imports) {
    if (!target.startsWith('src/')) continue;
    const to = areaOf(target);
    if ((from === 'production' || from === 'gpu' || from === 'ops') && to === 'reference') {
      out.push(`${file} imports the CPU oracle ${target} (production code must not; move what it needs to src/ops)`);
    }
    if (from === 'reference' && to === 'gpu') {
      out.push(`${file} imports the GPU wrapper ${target} (references must not; move what both need to src/ops)`);
    }
    if (from === 'ops' && to !== 'ops') out.push(`${file} imports ${target} (src/ops imports only src/ops)`);
  }
  return out;
}

const files = sourceFiles('src');

describe('import hygiene', () => {
  test('scans the source tree and reads its imports', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(importsOf('src/reference/sample.ts')).toContain('src/ops/sample');
    expect(importsOf('src/gpu/kernels/matmul.ts')).toContain('shaders/matmul.wgsl');
  });

  test('no production -> reference, reference -> gpu, or ops -> anything-else import', () => {
    expect(files.flatMap((f) => violations(f, importsOf(f)))).toEqual([]);
  });

  test('the rules catch each kind of bad import', () => {
    const bad = (file: string, line: string) => violations(file, importsOf(file, line));
    expect(bad('src/gpu/kernels/sample.ts', "import { splitU64 } from '../../reference/philox';")).toHaveLength(1);
    expect(bad('src/model/generate.ts', "const r = await import('../reference/sample');")).toHaveLength(1);
    expect(bad('src/reference/adamw.ts', "import { validateAdamWHyper, type AdamWHyper } from '../gpu/kernels/adamw';")).toHaveLength(1);
    expect(bad('src/reference/rope.ts', "import type { RopeConvention } from '../gpu/kernels/rope';")).toHaveLength(1);
    expect(bad('src/ops/sample.ts', "export { grid } from '../gpu/runtime';")).toHaveLength(1);
    expect(bad('src/selftest/kernels/sample.ts', "import * as ref from '../../reference/sample';")).toEqual([]);
    expect(bad('src/reference/sample.ts', "import { sampleParams } from '../ops/sample';")).toEqual([]);
  });
});

describe('unfused references', () => {
  const modules = import.meta.glob('../src/gpu/kernels/*.ts', { eager: true });
  const kernels = Object.values(modules).flatMap((m) => Object.values(m as Record<string, unknown>).filter(isKernelDescriptor));
  const unfused = kernels.filter((k) => k.unfusedReferenceOf);

  test('residual_add, residual_add_inplace, rope_forward and rope_backward are flagged, and say so in their headers', () => {
    expect(unfused.map((k) => k.name).sort()).toEqual(['residual_add', 'residual_add_inplace', 'rope_backward', 'rope_forward']);
    for (const k of unfused) {
      expect(k.source.split('\n')[0], `shaders/${k.name}.wgsl's first line`).toMatch(/^\/\/ UNFUSED REFERENCE: /);
      for (const fused of k.unfusedReferenceOf!) expect(kernels.map((d) => d.name), `${k.name}: ${fused}`).toContain(fused);
    }
  });

  test('production (src/model, src/grpo, src/worker, src/ui, src/cli) never calls their wrappers', () => {
    const wrappers = /\b(residualAdd|residualAddInplace|ropeForward|ropeBackward)\s*\(/;
    const production = files.filter((f) => areaOf(f) === 'production');
    expect(production.filter((f) => wrappers.test(readFileSync(f, 'utf8')))).toEqual([]);
  });
});
