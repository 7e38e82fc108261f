// Every kernel descriptor (src/gpu/kernel.ts) against its shader: the names, order and types of struct
// Params, and the names, order and access of the storage bindings. Parses the WGSL the pipeline compiles
// (snippets resolved), so a shader edited without its descriptor (or the reverse) fails here by name.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { defineKernel, encodeParams, isKernelDescriptor, orderBuffers } from '../src/gpu/kernel';
import type { GpuRuntime } from '../src/gpu/runtime';
import type { Tensor } from '../src/gpu/tensor';
import { resolveIncludes } from '../src/gpu/wgsl_snippets';
import { descriptorProblems, headerProblems, parseWgslLayout } from './wgsl_layout';

// Every exported descriptor of every host wrapper module.
const modules = import.meta.glob(['../src/gpu/kernels/*.ts', '../src/bench/fma_ceiling.ts'], { eager: true });
const unique = [
  ...new Set(Object.values(modules).flatMap((mod) => Object.values(mod as Record<string, unknown>).filter(isKernelDescriptor))),
];
/** Kernel shaders (shaders/lib holds snippets, which are not kernels). */
const shaderFiles = readdirSync('shaders').filter((f) => f.endsWith('.wgsl'));

describe('kernel descriptors', () => {
  test('every shader under shaders/ has a descriptor whose source is that file', () => {
    const named = new Set(unique.map((k) => `${k.name}.wgsl`));
    expect(shaderFiles.filter((f) => !named.has(f))).toEqual([]);
    for (const k of unique) {
      expect(shaderFiles, `${k.name}: no shaders/${k.name}.wgsl`).toContain(`${k.name}.wgsl`);
      expect(k.source === readFileSync(`shaders/${k.name}.wgsl`, 'utf8'), `${k.name}: source is not shaders/${k.name}.wgsl`).toBe(true);
    }
  });

  test.each(unique.map((k) => [`${k.name}${k.entryPoint ? `:${k.entryPoint}` : ''}`, k] as const))('%s matches its shader', (_n, k) => {
    // joined, so that a failure prints what differs
    expect([...descriptorProblems(k), ...headerProblems(k)].join('\n')).toBe('');
  });

  test('the check fails when a shader and its descriptor disagree', () => {
    const source = [
      'struct Params { n: u32, eps: f32 }',
      '@group(0) @binding(0) var<uniform> p: Params;',
      '@group(0) @binding(1) var<storage, read> x: array<f32>;',
      '@group(0) @binding(2) var<storage, read_write> y: array<f32>;',
      '@compute @workgroup_size(1) fn main() { y[0] = x[0] * p.eps + f32(p.n); }',
    ].join('\n');
    const good = defineKernel({ name: 'probe', source, params: { n: 'u32', eps: 'f32' }, buffers: { x: 'read', y: 'read_write' } });
    expect(descriptorProblems(good)).toEqual([]);
    const wrongType = defineKernel({ name: 'probe', source, params: { n: 'u32', eps: 'u32' }, buffers: { x: 'read', y: 'read_write' } });
    expect(descriptorProblems(wrongType)).toEqual([
      'probe: struct Params is {n: u32, eps: f32} but the descriptor says {n: u32, eps: u32}',
    ]);
    const swapped = defineKernel({ name: 'probe', source, params: { eps: 'f32', n: 'u32' }, buffers: { x: 'read', y: 'read_write' } });
    expect(descriptorProblems(swapped)).toHaveLength(1);
    const missing = defineKernel({ name: 'probe', source, params: { n: 'u32' }, buffers: { x: 'read', y: 'read_write' } });
    expect(descriptorProblems(missing)).toHaveLength(1);
    const access = defineKernel({ name: 'probe', source, params: { n: 'u32', eps: 'f32' }, buffers: { x: 'read', y: 'read' } });
    expect(descriptorProblems(access)).toEqual([
      'probe: the shader binds [1 x (read), 2 y (read_write)] but the descriptor says [1 x (read), 2 y (read)]',
    ]);
    const renamed = defineKernel({ name: 'probe', source, params: { n: 'u32', eps: 'f32' }, buffers: { x: 'read', out: 'read_write' } });
    expect(descriptorProblems(renamed)).toHaveLength(1);
    const noParams = defineKernel({ name: 'probe', source, params: {}, buffers: { x: 'read', y: 'read_write' } });
    expect(descriptorProblems(noParams)).toHaveLength(1);
  });

  test('params are stored by their declared type, and a bad or missing value is refused by name', () => {
    const k = defineKernel({ name: 'probe', source: '', params: { n: 'u32', eps: 'f32', off: 'i32' }, buffers: { x: 'read' } });
    expect(encodeParams(k, { eps: 0.5, off: -3, n: 7 })).toEqual([7, { f32: 0.5 }, { i32: -3 }]);
    expect(() => encodeParams(k, { n: 1.5, eps: 0, off: 0 })).toThrow('probe: param n = 1.5 is not a u32');
    expect(() => encodeParams(k, { n: -1, eps: 0, off: 0 })).toThrow('probe: param n = -1 is not a u32');
    expect(() => encodeParams(k, { n: 1, eps: 0, off: 2 ** 31 })).toThrow('probe: param off = 2147483648 is not an i32');
    expect(() => encodeParams(k, { n: 1, eps: 0 } as never)).toThrow('probe: param off is missing');
    expect(() => orderBuffers(k, {} as never)).toThrow('probe: buffer x is missing');
    expect(k.spec.hasParams).toBe(true);
    expect(k.spec.buffers).toEqual(['read']);
  });

  test('the parser reads comments, multi-line structs and default access as WGSL does', () => {
    const layout = parseWgslLayout([
      '// struct Params { fake: u32 }',
      'struct Params {',
      '  a: u32,   // first',
      '  b: f32,',
      '}',
      '/* @group(0) @binding(3) var<storage, read> ghost: array<f32>; */',
      '@group(0) @binding(0) var<uniform> p: Params;',
      '@group(0) @binding(1) var<storage> s: array<vec4f>;',
    ].join('\n'));
    expect(layout.params).toEqual([{ name: 'a', type: 'u32' }, { name: 'b', type: 'f32' }]);
    expect(layout.bindings.map((b) => [b.binding, b.name, b.access])).toEqual([[0, 'p', ''], [1, 's', 'read']]);
  });

  test('snippets: every //#include resolves, each snippet once; an unknown name is refused', () => {
    for (const k of unique) expect(k.spec.code).not.toMatch(/^\s*\/\/#include/m);
    const twice = resolveIncludes('//#include rope_cos_sin\n//#include rope_cos_sin\nfn main() {}', 't');
    expect(twice.match(/fn cos_sin/g)).toHaveLength(1);
    expect(() => resolveIncludes('//#include no_such_thing\n', 'kernel_x')).toThrow(/kernel_x: \/\/#include no_such_thing: no such WGSL snippet/);
  });
});

// Compile-time checks (tsc runs over test/): a misspelt or missing buffer or param does not typecheck.
export function typeChecks(gpu: GpuRuntime, x: Tensor, y: Tensor): void {
  const k = defineKernel({ name: 'probe', source: '', params: { n: 'u32', eps: 'f32' }, buffers: { x: 'read', y: 'read_write' } });
  gpu.run(k, { x, y }, { n: 1, eps: 0.5 }, [1]);
  // @ts-expect-error misspelt param
  gpu.run(k, { x, y }, { n: 1, esp: 0.5 }, [1]);
  // @ts-expect-error missing param
  gpu.run(k, { x, y }, { n: 1 }, [1]);
  // @ts-expect-error misspelt buffer
  gpu.run(k, { x, z: y }, { n: 1, eps: 0.5 }, [1]);
  // @ts-expect-error missing buffer
  gpu.run(k, { x }, { n: 1, eps: 0.5 }, [1]);
  // @ts-expect-error a param is a number, not a tensor
  gpu.run(k, { x, y }, { n: x, eps: 0.5 }, [1]);
}
