// Typed kernel descriptors: each kernel is defined once, by the names and types of its uniform params (in
// the order of its WGSL `struct Params`) and the names and access of its storage buffers (in binding order
// 1..n, binding 0 being the params). Host wrappers dispatch with named objects,
//   gpu.run(FORWARD, { x, weight, out, rstd }, { n_rows: N, C, eps }, grid(N))
// so a missing or misspelt buffer or param is a compile error, and test/kernel_descriptors.test.ts parses
// every shader's `struct Params` and `@binding` declarations and checks them against its descriptor.
// Names are the shader's own (snake_case where the WGSL is).

import type { BufferAccess, KernelSpec } from './pipeline_cache';
import type { Param } from './runtime';
import type { Tensor } from './tensor';
import { resolveIncludes } from './wgsl_snippets';

/** WGSL type of a uniform param (each 4 bytes). */
export type ParamType = 'u32' | 'f32' | 'i32';
export type ParamLayout = { readonly [name: string]: ParamType };
export type BufferLayout = { readonly [name: string]: BufferAccess };

/** The tensors of a dispatch, by buffer name. */
export type BufferArgs<B extends BufferLayout> = { readonly [K in keyof B]: Tensor };
/** The param values of a dispatch, by param name (plain numbers; the descriptor says how each is stored). */
export type ParamArgs<P extends ParamLayout> = { readonly [K in keyof P]: number };

export interface KernelDescriptor<P extends ParamLayout = ParamLayout, B extends BufferLayout = BufferLayout> {
  readonly kind: 'kernel';
  /** kernel name = its shader file, shaders/<name>.wgsl; labels every GPU object */
  readonly name: string;
  /** the shader file's text as imported (before `//#include` lines are resolved) */
  readonly source: string;
  readonly entryPoint?: string;
  readonly params: P;
  readonly buffers: B;
  /** Set on kernels that production no longer dispatches: the fused kernel(s) that replaced them. They are
   * kept as the unfused references those are checked against bit for bit (src/selftest). */
  readonly unfusedReferenceOf?: readonly string[];
  /** what the pipeline cache and GpuRuntime.dispatch take: code with snippets resolved, accesses in order */
  readonly spec: KernelSpec;
}

export interface KernelDefinition<P extends ParamLayout, B extends BufferLayout> {
  name: string;
  source: string;
  entryPoint?: string;
  params: P;
  buffers: B;
  unfusedReferenceOf?: readonly string[];
}

export function defineKernel<const P extends ParamLayout, const B extends BufferLayout>(
  d: KernelDefinition<P, B>,
): KernelDescriptor<P, B> {
  const code = resolveIncludes(d.source, d.name);
  const spec: KernelSpec = {
    name: d.name,
    code,
    entryPoint: d.entryPoint,
    buffers: Object.values(d.buffers),
    hasParams: Object.keys(d.params).length > 0,
  };
  return { kind: 'kernel', ...d, spec };
}

/** The same kernel (shader, params, buffers) at another entry point of its module. */
export function atEntryPoint<P extends ParamLayout, B extends BufferLayout>(
  k: KernelDescriptor<P, B>,
  entryPoint: string,
): KernelDescriptor<P, B> {
  return { ...k, entryPoint, spec: { ...k.spec, entryPoint } };
}

export function isKernelDescriptor(x: unknown): x is KernelDescriptor {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'kernel';
}

/** The params in struct order, each checked against its type; throws naming the kernel and the param. */
export function encodeParams<P extends ParamLayout>(k: KernelDescriptor<P, BufferLayout>, values: ParamArgs<P>): Param[] {
  const out: Param[] = [];
  for (const [name, type] of Object.entries(k.params)) {
    const v = (values as Record<string, number>)[name];
    if (typeof v !== 'number') throw new Error(`${k.name}: param ${name} is missing`);
    if (type === 'f32') out.push({ f32: v });
    else if (type === 'i32') {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new Error(`${k.name}: param ${name} = ${v} is not an i32`);
      out.push({ i32: v });
    } else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${k.name}: param ${name} = ${v} is not a u32`);
      out.push(v);
    }
  }
  return out;
}

/** The tensors in binding order; throws naming the kernel and the buffer when one is missing. */
export function orderBuffers<B extends BufferLayout>(k: KernelDescriptor<ParamLayout, B>, tensors: BufferArgs<B>): Tensor[] {
  return Object.keys(k.buffers).map((name) => {
    const t = (tensors as Record<string, Tensor | undefined>)[name];
    if (!t) throw new Error(`${k.name}: buffer ${name} is missing`);
    return t;
  });
}
