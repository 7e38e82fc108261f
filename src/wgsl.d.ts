// WGSL sources are imported as strings: Vite (page, worker, vitest) and bin/run-ts.mjs (Node) both support `?raw`.
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
