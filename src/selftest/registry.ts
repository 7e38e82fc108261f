// Every kernel check under ./kernels, collected at build time (Vite and vitest both understand import.meta.glob).
import type { KernelCheck } from './check';

const modules = import.meta.glob<{ check?: KernelCheck; checks?: KernelCheck[] }>('./kernels/*.ts', { eager: true });

export const kernelChecks: KernelCheck[] = Object.keys(modules)
  .sort()
  .flatMap((path) => {
    const m = modules[path];
    return [...(m.check ? [m.check] : []), ...(m.checks ?? [])];
  });
