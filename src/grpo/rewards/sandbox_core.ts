// The inside of the custom-reward worker: locks the global scope, compiles the user's function, and
// scores batches. The same code runs in a browser worker inside a sandboxed frame (sandbox_browser.ts) and
// in a Node child process under the permission model (sandbox_node.ts); both send its text, taken with
// Function.prototype.toString, and start it with the channel back to the host kept in a closure.
//
// runSandbox must stay self-contained: no imports, no module-level helpers, nothing from outside its
// own body, because in Node it is serialised to text and evaluated in a fresh worker.

export interface SandboxRow {
  prompt: string;
  completion: string;
  answer: string;
  row: Record<string, unknown>;
  /** the completions of this row's group (the same prompt's samples, this one included); the function's fifth argument */
  group_completions?: string[];
}

export type SandboxRequest =
  | { type: 'init'; source: string }
  | { type: 'eval'; id: number; rows: SandboxRow[] }
  /** compile the source without running it (a syntax check for the page, which compiles no user code itself) */
  | { type: 'check'; source: string }
  // tools and environments (src/grpo/tools): load both sources; call a tool; reset or step one episode's environment
  | { type: 'tools_init'; tools: string | null; env: string | null }
  | { type: 'tool_call'; id: number; name: string; args: unknown }
  | { type: 'env_reset'; id: number; slot: number; row: unknown }
  | { type: 'env_step'; id: number; slot: number; text: string };

export type SandboxReply =
  | { type: 'ready' }
  | { type: 'init_error'; message: string }
  | { type: 'checked'; message: string | null }
  | { type: 'result'; id: number; values: (number | number[] | null)[]; errors: string[] }
  | { type: 'tools_ready'; tools: { name: string; description: string; parameters: unknown }[]; env: boolean; sources?: string[] }
  /** a tool's or an environment's answer: `json` is its value as JSON text, or `error` says what went wrong */
  | { type: 'call_result'; id: number; json?: string; error?: string };

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
  // reward, tool or environment that tries gets a clear message rather than "x is not a function". The
  // message names what ran: `running` is set as each piece of user code starts (a reward batch, a tool call,
  // an environment's reset or step, the loading of a file); code that resumes after an await is named by
  // the piece started last.
  let running: { place: string; who: string } = { place: 'custom reward sandbox', who: 'a reward function' };
  const denied = (name: string, why: string) =>
    function blocked(): never {
      throw new Error(`${name} is blocked in the ${running.place}: ${why.replace('{who}', running.who)}`);
    };
  const NO_NETWORK = '{who} has no network access';
  const NO_CODE = '{who} cannot load other code';
  const stubs: [string, string][] = [
    ['fetch', NO_NETWORK], ['XMLHttpRequest', NO_NETWORK], ['WebSocket', NO_NETWORK], ['WebSocketStream', NO_NETWORK],
    ['WebTransport', NO_NETWORK], ['EventSource', NO_NETWORK], ['FontFace', NO_NETWORK], ['importScripts', NO_CODE],
    ['Worker', '{who} cannot start workers'], ['SharedWorker', '{who} cannot start workers'],
    ['BroadcastChannel', '{who} cannot talk to other pages or workers'],
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
      if (typeof handler !== 'function') throw new TypeError(`${name} with a string of code is not allowed in the ${running.place}`);
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

  /** a process reward's per-step scores: 1..MAX_STEP_SCORES finite numbers (sandbox_reply.ts checks them again) */
  const isStepScores = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length >= 1 && v.length <= 256 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
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
      const text = e instanceof Error ? `${e.name}: ${e.message}` : `threw ${describe(e)}`;
      return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
    } catch {
      return 'threw a value that could not be read';
    }
  };

  let fn: ((...args: unknown[]) => unknown) | null = null;

  /** Compiles the wrapper around the source without running it; a message when it does not compile. */
  const parse = (source: string): { wrapper: () => unknown } | { problem: string } => {
    if (typeof source !== 'string' || source.trim() === '') return { problem: 'the custom reward source is empty; write a function such as (prompt, completion, answer, row) => 1' };
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
    const values: (number | number[] | null)[] = [];
    const errors: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      try {
        // a fresh list per call: one row's function cannot change what the next row sees
        const group = Array.isArray(r.group_completions) ? r.group_completions.slice() : [r.completion];
        let v = fn!(r.prompt, r.completion, r.answer, r.row, group);
        if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') v = await (v as Promise<unknown>);
        if (v === null) values.push(null);
        else if (typeof v === 'number' && Number.isFinite(v)) values.push(v);
        else if (isStepScores(v)) values.push(v.slice()); // process rewards: one score per step (step_separator)
        else {
          values.push(null);
          errors.push(`row ${i}: returned ${describe(v)}; expected a finite number, a list of per-step numbers (with step_separator), or null for "not applicable"`);
        }
      } catch (e) {
        values.push(null);
        errors.push(`row ${i}: ${errorText(e)}`);
      }
    }
    post({ type: 'result', id, values, errors });
  };

  // ---- tools and environments: same compiler, same locked scope
  const toolFns = new Map<string, (args: unknown) => unknown>();
  let envFactory: ((...a: unknown[]) => unknown) | null = null;
  const envs = new Map<number, Record<string, unknown>>();
  // JavaScript engines do not say where a syntax error of compiled text is. The first line whose prefix
  // (compiled on its own) fails with the whole source's message holds it, unless that message is one that
  // an unfinished prefix gives anyway (the compiled function's own closing brace, the end of the text).
  const syntaxLine = (src: string, whole: unknown): string => {
    const lines = src.split('\n');
    const message = whole instanceof Error ? whole.message : '';
    const vague = /end of (input|script|file)|Unexpected token '?[})]'?$|expected .* got end/i.test(message);
    if (!vague && message && lines.length <= 5000) {
      for (let n = 1; n <= lines.length; n++) {
        try {
          compiler(`"use strict";\nreturn (${lines.slice(0, n).join('\n')}`);
        } catch (e) {
          if (e instanceof Error && e.message === message) return ` (line ${n}: ${lines[n - 1].trim().slice(0, 80)})`;
        }
      }
    }
    return ' (no one line holds it: an unclosed or extra bracket, string or comment?)';
  };
  /** what is wrong with a tool's JSON schema of its arguments (a sketch of what the engine checks calls against) */
  const schemaError = (p: unknown): string | null => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) return `must be a JSON schema object, got ${describe(p)}`;
    const o = p as Record<string, unknown>;
    if (o.type !== undefined && o.type !== 'object') return `must describe an object of named arguments (type "object"), got type ${JSON.stringify(o.type)}`;
    if (o.properties !== undefined && (!o.properties || typeof o.properties !== 'object' || Array.isArray(o.properties))) return `"properties" must be an object of argument schemas, got ${describe(o.properties)}`;
    const props = (o.properties ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(props)) if (!v || typeof v !== 'object' || Array.isArray(v)) return `argument "${k}" must have a schema object, got ${describe(v)}`;
    if (o.required !== undefined) {
      if (!Array.isArray(o.required) || o.required.some((r) => typeof r !== 'string')) return `"required" must be an array of argument names, got ${describe(o.required)}`;
      const missing = (o.required as string[]).filter((r) => !(r in props));
      if (missing.length) return `"required" names ${missing.map((m) => `"${m}"`).join(', ')}, which "properties" does not define`;
    }
    try {
      JSON.stringify(p);
    } catch {
      return 'must be JSON (it holds a function, a cycle or a BigInt)';
    }
    return null;
  };
  const loadTools = (toolsSrc: string | null, envSrc: string | null): SandboxReply => {
    if (stuck.length) return { type: 'init_error', message: `the sandbox could not remove ${stuck.join(', ')}; refusing to run custom code` };
    const load = (src: string, what: string): unknown => {
      running = what === 'tools file' ? { place: 'tools sandbox (loading the tools file)', who: 'a tool' } : { place: 'environment sandbox (loading the environment file)', who: 'an environment' };
      let w: () => unknown;
      try {
        w = compiler(`"use strict";\nreturn (${src}\n);`) as () => unknown;
      } catch (e) {
        throw new Error(`the ${what} source does not compile: ${errorText(e)}${syntaxLine(src, e)}`);
      }
      try {
        return w();
      } catch (e) {
        throw new Error(`the ${what} failed to load: ${errorText(e)}`);
      }
    };
    const infos: { name: string; description: string; parameters: unknown }[] = [];
    const sources: string[] = [];
    try {
      if (toolsSrc !== null) {
        const v = load(toolsSrc, 'tools file');
        if (!Array.isArray(v)) throw new Error(`the tools file must evaluate to an array of {name, description, parameters, run}, but it evaluates to ${describe(v)}`);
        v.forEach((t: unknown, i: number) => {
          const o = t as Record<string, unknown> | null;
          if (!o || typeof o !== 'object') throw new Error(`tool ${i} is ${describe(t)}; expected {name, description, parameters, run}`);
          if (typeof o.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name)) throw new Error(`tool ${i}: name must be an identifier such as "add", got ${describe(o.name)}`);
          if (typeof o.run !== 'function') throw new Error(`tool "${o.name}": run must be a function (args) => result, got ${describe(o.run)}`);
          if (toolFns.has(o.name)) throw new Error(`tool "${o.name}" is defined twice`);
          const params = o.parameters ?? { type: 'object', properties: {} };
          const bad = schemaError(params);
          if (bad) throw new Error(`tool "${o.name}": parameters ${bad}`);
          if (o.description !== undefined && typeof o.description !== 'string') throw new Error(`tool "${o.name}": description must be a string, got ${describe(o.description)}`);
          toolFns.set(o.name, o.run as (args: unknown) => unknown);
          infos.push({ name: o.name, description: typeof o.description === 'string' ? o.description : '', parameters: JSON.parse(JSON.stringify(params)) });
          sources.push((compiler.prototype.toString as () => string).call(o.run));
        });
      }
      if (envSrc !== null) {
        const v = load(envSrc, 'environment file');
        if (typeof v !== 'function') throw new Error(`the environment file must evaluate to a function (or class) that makes one environment {reset(row), step(text)}, but it evaluates to ${describe(v)}`);
        envFactory = v as (...a: unknown[]) => unknown;
      }
    } catch (e) {
      return { type: 'init_error', message: (e as Error).message };
    }
    return { type: 'tools_ready', tools: infos, env: envFactory !== null, sources };
  };
  const answer = async (id: number, work: () => unknown): Promise<void> => {
    let reply: SandboxReply;
    try {
      let v = work();
      if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') v = await (v as Promise<unknown>);
      let json: string | undefined;
      try {
        json = JSON.stringify(v);
      } catch (e) {
        json = undefined;
      }
      reply = json === undefined ? { type: 'call_result', id, error: `returned ${describe(v)}, which is not JSON-serialisable` } : { type: 'call_result', id, json };
    } catch (e) {
      reply = { type: 'call_result', id, error: errorText(e) };
    }
    post(reply);
  };
  const makeEnv = (): Record<string, unknown> => {
    const f = envFactory!;
    const isClass = /^class[\s{]/.test((compiler.prototype.toString as () => string).call(f));
    const env = (isClass ? new (f as unknown as new () => unknown)() : f()) as Record<string, unknown> | null;
    if (!env || typeof env !== 'object' || typeof env.reset !== 'function' || typeof env.step !== 'function') {
      throw new Error(`the environment factory made ${describe(env)}; expected an object with reset(row) and step(text)`);
    }
    return env;
  };

  listen((request) => {
    if (request.type === 'check') {
      const parsed = stuck.length ? { problem: `the sandbox could not remove ${stuck.join(', ')}; refusing to run custom code` } : parse(request.source);
      post({ type: 'checked', message: 'problem' in parsed ? parsed.problem : null });
    } else if (request.type === 'init') {
      running = { place: 'custom reward sandbox', who: 'a reward function' };
      const problem = compile(request.source);
      post(problem === null ? { type: 'ready' } : { type: 'init_error', message: problem });
    } else if (request.type === 'eval') {
      if (!fn) {
        post({ type: 'result', id: request.id, values: request.rows.map(() => null), errors: ['the custom reward was not loaded'] });
        return;
      }
      running = { place: 'custom reward sandbox', who: 'a reward function' };
      void evaluate(request.id, request.rows);
    } else if (request.type === 'tools_init') {
      post(loadTools(request.tools, request.env));
    } else if (request.type === 'tool_call') {
      const f = toolFns.get(request.name);
      running = { place: `tools sandbox (tool "${request.name}")`, who: 'a tool' };
      void answer(request.id, () => {
        if (!f) throw new Error(`unknown tool "${request.name}"`);
        return f(request.args);
      });
    } else if (request.type === 'env_reset') {
      running = { place: 'environment sandbox (reset)', who: 'an environment' };
      void answer(request.id, () => {
        if (!envFactory) throw new Error('no environment was loaded');
        const env = makeEnv();
        envs.set(request.slot, env);
        return (env.reset as (row: unknown) => unknown).call(env, request.row);
      });
    } else if (request.type === 'env_step') {
      running = { place: 'environment sandbox (step)', who: 'an environment' };
      void answer(request.id, () => {
        const env = envs.get(request.slot);
        if (!env) throw new Error(`episode ${request.slot} has no environment (it was lost when the worker restarted)`);
        return (env.step as (text: string) => unknown).call(env, request.text);
      });
    }
  });
}
