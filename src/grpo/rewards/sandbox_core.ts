// The inside of the custom-reward worker: locks the global scope, compiles the user's function, and
// scores batches. The same code runs in a browser Web Worker (sandbox.worker.ts imports it) and in a
// Node worker_threads Worker (sandbox_node.ts sends its text with Function.prototype.toString).
//
// runSandbox must stay self-contained: no imports, no module-level helpers, nothing from outside its
// own body, because in Node it is serialised to text and evaluated in a fresh worker.

export interface SandboxRow {
  prompt: string;
  completion: string;
  answer: string;
  row: Record<string, unknown>;
}

export type SandboxRequest = { type: 'init'; source: string } | { type: 'eval'; id: number; rows: SandboxRow[] };

export type SandboxReply =
  | { type: 'ready' }
  | { type: 'init_error'; message: string }
  | { type: 'result'; id: number; values: (number | null)[]; errors: string[] };

/** The page's (or Node's) end of one sandbox worker. */
export interface SandboxHandle {
  post(request: SandboxRequest): void;
  onMessage(handler: (reply: SandboxReply) => void): void;
  /** the worker died or its script failed to load */
  onError(handler: (message: string) => void): void;
  terminate(): void;
}

/** Starts a fresh worker that runs runSandbox. */
export type SandboxFactory = () => Promise<SandboxHandle>;

export function runSandbox(post: (reply: SandboxReply) => void, listen: (handler: (request: SandboxRequest) => void) => void): void {
  const g = globalThis as unknown as Record<string, unknown>;

  // Remove a property from an object and, with `walk`, from every prototype above it (browsers define
  // fetch and friends on WorkerGlobalScope.prototype), so that neither `fetch` nor `self.fetch` nor
  // `Object.getPrototypeOf(self).fetch` reaches it.
  const block = (obj: object, name: string, walk = true): boolean => {
    let o: object | null = obj;
    while (o) {
      if (Object.prototype.hasOwnProperty.call(o, name)) {
        try {
          Object.defineProperty(o, name, { value: undefined, writable: false, configurable: false });
        } catch {
          try {
            delete (o as Record<string, unknown>)[name];
          } catch {
            // checked below
          }
        }
      }
      o = walk ? (Object.getPrototypeOf(o) as object | null) : null;
    }
    return (obj as Record<string, unknown>)[name] === undefined;
  };

  // Network, other scripts and workers, storage, the host's module system and process.
  const blocked = [
    'fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'WebTransport', 'EventSource', 'importScripts', 'Worker',
    'SharedWorker', 'BroadcastChannel', 'indexedDB', 'caches', 'navigator', 'require', 'process', 'module', 'Deno', 'Bun',
    // the channel back to the page: user code must not forge results
    'postMessage', 'close',
  ];
  const stuck = blocked.filter((name) => !block(g, name));

  // Timers that take a string evaluate it as code; only functions are allowed.
  for (const name of ['setTimeout', 'setInterval']) {
    const original = g[name] as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    const safe = (handler: unknown, ...rest: unknown[]): unknown => {
      if (typeof handler !== 'function') throw new TypeError(`${name} with a string of code is not allowed in the reward sandbox`);
      return original.call(globalThis, handler, ...rest);
    };
    try {
      Object.defineProperty(g, name, { value: safe, writable: false, configurable: false });
    } catch {
      stuck.push(name);
    }
  }

  const describe = (v: unknown): string => {
    if (v === undefined) return 'undefined (did the function forget to return?)';
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    if (Array.isArray(v)) return 'an array';
    if (typeof v === 'object') return v === null ? 'null' : 'an object';
    return `a ${typeof v}`;
  };
  const errorText = (e: unknown): string => {
    try {
      if (e instanceof Error) return `${e.name}: ${e.message}`;
      return `threw ${describe(e)}`;
    } catch {
      return 'threw a value that could not be read';
    }
  };

  let fn: ((...args: unknown[]) => unknown) | null = null;

  const compile = (source: string): string | null => {
    if (stuck.length) return `the sandbox could not remove ${stuck.join(', ')}; refusing to run custom code`;
    let value: unknown;
    try {
      value = new Function(`"use strict";\nreturn (${source}\n);`)();
    } catch (e) {
      return `the custom reward failed to load: ${errorText(e)}`;
    }
    if (typeof value !== 'function') return `the custom reward must be a function (prompt, completion, answer, row) => number, but its source evaluates to ${describe(value)}`;
    fn = value as (...args: unknown[]) => unknown;
    // Now that the user's function exists, take away every way to turn a string into code, so that
    // hidden dynamic import() or network access cannot be assembled at run time.
    const ctors = [function () {}, async function () {}, function* () {}, async function* () {}].map((f) => Object.getPrototypeOf(f) as object);
    for (const proto of ctors) block(proto, 'constructor', false);
    block(g, 'eval');
    block(g, 'Function');
    return null;
  };

  const evaluate = async (id: number, rows: SandboxRow[]): Promise<void> => {
    const values: (number | null)[] = [];
    const errors: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      try {
        let v = fn!(r.prompt, r.completion, r.answer, r.row);
        if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') v = await (v as Promise<unknown>);
        if (v === null) values.push(null);
        else if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
        else {
          values.push(null);
          errors.push(`row ${i}: returned ${describe(v)}; expected a finite number, or null for "not applicable"`);
        }
      } catch (e) {
        values.push(null);
        errors.push(`row ${i}: ${errorText(e)}`);
      }
    }
    post({ type: 'result', id, values, errors });
  };

  listen((request) => {
    if (request.type === 'init') {
      const problem = compile(request.source);
      post(problem === null ? { type: 'ready' } : { type: 'init_error', message: problem });
    } else if (request.type === 'eval') {
      if (!fn) {
        post({ type: 'result', id: request.id, values: request.rows.map(() => null), errors: ['the custom reward was not loaded'] });
        return;
      }
      void evaluate(request.id, request.rows);
    }
  });
}
