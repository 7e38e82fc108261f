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

export type SandboxRequest =
  | { type: 'init'; source: string }
  | { type: 'eval'; id: number; rows: SandboxRow[] }
  /** compile the source without running it (a syntax check for the page, which compiles no user code itself) */
  | { type: 'check'; source: string };

export type SandboxReply =
  | { type: 'ready' }
  | { type: 'init_error'; message: string }
  | { type: 'checked'; message: string | null }
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
  // The one way to turn the user's text into a function, kept before every other way is taken away.
  const compiler = Function;

  // Set a property of an object and, with `walk`, of every prototype above it (browsers define fetch and
  // friends on WorkerGlobalScope.prototype) to `value`, so that neither `fetch` nor `self.fetch` nor
  // `Object.getPrototypeOf(self).fetch` reaches the original.
  const replace = (obj: object, name: string, value: unknown, walk = true): boolean => {
    let o: object | null = obj;
    while (o) {
      if (Object.prototype.hasOwnProperty.call(o, name)) {
        try {
          Object.defineProperty(o, name, { value, writable: false, configurable: false });
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
    const now = (obj as Record<string, unknown>)[name];
    return now === undefined || now === value;
  };

  // Network, other scripts and workers: calling (or constructing) one throws an error that says why, so a
  // reward that tries gets a clear message rather than "x is not a function".
  const denied = (name: string, why: string) =>
    function blocked(): never {
      throw new Error(`${name} is blocked in the custom reward sandbox: ${why}`);
    };
  const NO_NETWORK = 'a reward function has no network access';
  const NO_CODE = 'a reward function cannot load other code';
  const stubs: [string, string][] = [
    ['fetch', NO_NETWORK], ['XMLHttpRequest', NO_NETWORK], ['WebSocket', NO_NETWORK], ['WebSocketStream', NO_NETWORK],
    ['WebTransport', NO_NETWORK], ['EventSource', NO_NETWORK], ['FontFace', NO_NETWORK], ['importScripts', NO_CODE],
    ['Worker', 'a reward function cannot start workers'], ['SharedWorker', 'a reward function cannot start workers'],
    ['BroadcastChannel', 'a reward function cannot talk to other pages or workers'],
  ];
  // Storage, the network through other objects (navigator.sendBeacon, self.fonts), the host's module
  // system and process, and the channel back to the page (user code must not forge results): gone.
  const removed = ['indexedDB', 'caches', 'navigator', 'fonts', 'require', 'process', 'module', 'Deno', 'Bun', 'postMessage', 'close'];
  const stub = (name: string, why: string): boolean => {
    const value = denied(name, why);
    if (!replace(g, name, value)) return false;
    if (g[name] === undefined) {
      // absent in this runtime (XMLHttpRequest in Node): the same message all the same
      try {
        Object.defineProperty(g, name, { value, writable: false, configurable: false });
      } catch {
        // stays absent, which is as safe
      }
    }
    return true;
  };
  const stuck = [...stubs.filter(([name, why]) => !stub(name, why)).map(([name]) => name), ...removed.filter((name) => !replace(g, name, undefined))];

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

  // Every way to turn a string into code, taken away before any user code is evaluated, so that neither
  // the source's own top level nor the function later can assemble a dynamic import() or a network call.
  const ctors = [function () {}, async function () {}, function* () {}, async function* () {}].map((f) => Object.getPrototypeOf(f) as object);
  for (const proto of ctors) if (!replace(proto, 'constructor', undefined, false)) stuck.push('Function.prototype.constructor');
  if (!replace(g, 'eval', undefined)) stuck.push('eval');
  if (!replace(g, 'Function', undefined)) stuck.push('Function');

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

  /** Compiles the wrapper around the source without running it; a message when it does not compile. */
  const parse = (source: string): { wrapper: () => unknown } | { problem: string } => {
    if (typeof source !== 'string' || source.trim() === '') return { problem: 'the custom reward source is empty; write a function such as (prompt, completion, answer, row) => 1' };
    if (/\bimport\s*\(/.test(source) || /^\s*import\s/m.test(source)) {
      return { problem: 'the custom reward may not import modules (import is blocked in the sandbox); put everything the function needs inside it' };
    }
    try {
      return { wrapper: compiler(`"use strict";\nreturn (${source}\n);`) as () => unknown };
    } catch (e) {
      if (e instanceof EvalError) {
        // a browser that applies the page's Content-Security-Policy to its workers
        return { problem: `this browser does not allow the custom reward worker to compile JavaScript (${errorText(e)})` };
      }
      return { problem: `the custom reward source does not compile: ${errorText(e)}` };
    }
  };

  const compile = (source: string): string | null => {
    if (stuck.length) return `the sandbox could not remove ${stuck.join(', ')}; refusing to run custom code`;
    const parsed = parse(source);
    if ('problem' in parsed) return parsed.problem;
    let value: unknown;
    try {
      value = parsed.wrapper();
    } catch (e) {
      return `the custom reward failed to load: ${errorText(e)}`;
    }
    if (typeof value !== 'function') return `the custom reward must be a function (prompt, completion, answer, row) => number, but its source evaluates to ${describe(value)}`;
    fn = value as (...args: unknown[]) => unknown;
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
    if (request.type === 'check') {
      const parsed = stuck.length ? { problem: `the sandbox could not remove ${stuck.join(', ')}; refusing to run custom code` } : parse(request.source);
      post({ type: 'checked', message: 'problem' in parsed ? parsed.problem : null });
    } else if (request.type === 'init') {
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
