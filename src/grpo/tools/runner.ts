// The host's end of the tools-and-environments sandbox: the same locked worker as custom rewards
// (sandbox_core.ts; no network, no DOM, no storage), loaded with the tools file and/or the environment
// file. Calls run concurrently, each with its own timeout; a call that runs past it costs that call an
// error, and the worker is restarted (a synchronous loop blocks it for everyone), so environments alive
// in it are lost and their episodes end with an error. Nothing the user's code does rejects a promise here.

import type { SandboxFactory, SandboxHandle, SandboxReply } from '../rewards/sandbox_core';
import { checkUserCode } from '../rewards/code_check';
import { createBrowserSandbox } from '../rewards/sandbox_browser';
import { requestId } from '../rewards/sandbox_reply';

export interface ToolInfo {
  name: string;
  description: string;
  /** JSON schema of the arguments */
  parameters: unknown;
}

/** A tool's or environment's answer: its value (already checked to be JSON), or what went wrong. */
export type CallOutcome = { ok: true; value: unknown } | { ok: false; error: string; timedOut: boolean };

export interface ToolRunnerOptions {
  timeoutMs: number;
  factory?: SandboxFactory;
}

const STARTUP_MS = 5000;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function defaultFactory(): Promise<SandboxHandle> {
  if (isNode()) return (await import('../rewards/sandbox_node')).createNodeSandbox();
  return createBrowserSandbox();
}

type Waiter = (reply: SandboxReply | { type: 'died'; message: string }) => void;

export class ToolRunner {
  tools: ToolInfo[] = [];
  /** each tool's run function as JavaScript text (for the TRL export) */
  toolSources: string[] = [];
  hasEnv = false;
  /** worker restarts after a timeout or a crash */
  restarts = 0;
  private handle: SandboxHandle | null = null;
  private starting: Promise<string | null> | null = null;
  private waiters = new Map<number, Waiter>();
  private readonly factory: SandboxFactory;

  private constructor(
    readonly toolsSource: string | null,
    readonly envSource: string | null,
    readonly timeoutMs: number,
    factory?: SandboxFactory,
  ) {
    this.factory = factory ?? defaultFactory;
  }

  /** Loads the sources in a fresh worker; throws with the sandbox's message when they do not load. */
  static async create(toolsSource: string | null, envSource: string | null, opts: ToolRunnerOptions): Promise<ToolRunner> {
    if (!(opts.timeoutMs > 0)) throw new Error(`tool_timeout_ms must be positive, got ${opts.timeoutMs}`);
    // parsed before any sandbox sees them: import(...), import.meta and module syntax are refused here
    const refused = (toolsSource !== null ? checkUserCode(toolsSource, 'tools file') : null) ?? (envSource !== null ? checkUserCode(envSource, 'environment file') : null);
    if (refused) throw new Error(refused);
    const r = new ToolRunner(toolsSource, envSource, opts.timeoutMs, opts.factory);
    const problem = await r.start();
    if (problem) {
      r.dispose();
      throw new Error(problem);
    }
    return r;
  }

  private start(): Promise<string | null> {
    if (this.handle) return Promise.resolve(null);
    if (this.starting) return this.starting;
    this.starting = (async () => {
      let handle: SandboxHandle;
      try {
        handle = await this.factory();
      } catch (e) {
        return `could not start the tools worker: ${(e as Error).message}`;
      }
      const reply = await new Promise<SandboxReply | { type: 'died'; message: string } | 'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), this.timeoutMs + STARTUP_MS);
        handle.onMessage((m) => {
          if (m.type === 'call_result') {
            const w = this.waiters.get(m.id);
            this.waiters.delete(m.id);
            w?.(m);
            return;
          }
          clearTimeout(timer);
          resolve(m);
        });
        handle.onError((message) => {
          clearTimeout(timer);
          resolve({ type: 'died', message });
          // a dead (or forged-into-silence) sandbox is dropped: the next call starts a fresh one
          if (this.handle === handle) {
            this.handle = null;
            this.restarts++;
            handle.terminate();
          }
          this.failAll(`the tools worker stopped: ${message}`);
        });
        handle.post({ type: 'tools_init', tools: this.toolsSource, env: this.envSource });
      });
      if (reply !== 'timeout' && reply.type === 'tools_ready') {
        this.tools = reply.tools;
        this.toolSources = reply.sources ?? [];
        this.hasEnv = reply.env;
        this.handle = handle;
        return null;
      }
      handle.terminate();
      if (reply === 'timeout') return `the tools/environment files did not load within ${this.timeoutMs + STARTUP_MS} ms (does the source run a loop when evaluated?)`;
      if (reply.type === 'init_error') return reply.message;
      if (reply.type === 'died') return `the tools worker stopped while loading: ${reply.message}`;
      return 'the tools worker sent an unexpected reply while loading';
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  callTool(name: string, args: unknown): Promise<CallOutcome> {
    return this.request((id) => ({ type: 'tool_call', id, name, args }), `tool "${name}"`);
  }

  envReset(slot: number, row: unknown): Promise<CallOutcome> {
    return this.request((id) => ({ type: 'env_reset', id, slot, row }), 'environment reset');
  }

  envStep(slot: number, text: string): Promise<CallOutcome> {
    return this.request((id) => ({ type: 'env_step', id, slot, text }), 'environment step');
  }

  private async request(make: (id: number) => Parameters<SandboxHandle['post']>[0], what: string): Promise<CallOutcome> {
    const problem = await this.start();
    if (problem) return { ok: false, error: problem, timedOut: false };
    const handle = this.handle!;
    const id = requestId();
    const reply = await new Promise<SandboxReply | { type: 'died'; message: string } | 'timeout'>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve('timeout');
      }, this.timeoutMs);
      this.waiters.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      try {
        handle.post(make(id));
      } catch (e) {
        this.waiters.delete(id);
        clearTimeout(timer);
        resolve({ type: 'died', message: `could not send the call: ${(e as Error).message}` });
      }
    });
    if (reply === 'timeout') {
      this.restart(handle, `the worker was restarted after ${what} ran past ${this.timeoutMs} ms`);
      return { ok: false, error: `${what} did not answer within ${this.timeoutMs} ms`, timedOut: true };
    }
    if (reply.type === 'died') return { ok: false, error: reply.message, timedOut: false };
    if (reply.type !== 'call_result') return { ok: false, error: 'the tools worker sent an unexpected reply', timedOut: false };
    if (reply.error !== undefined) return { ok: false, error: reply.error, timedOut: false };
    try {
      return { ok: true, value: JSON.parse(reply.json!) };
    } catch {
      return { ok: false, error: `${what}: the sandbox sent a value that is not JSON`, timedOut: false };
    }
  }

  private restart(handle: SandboxHandle, why: string): void {
    if (this.handle !== handle) return;
    this.handle = null;
    this.restarts++;
    handle.terminate();
    this.failAll(why);
  }

  private failAll(message: string): void {
    const ws = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of ws) w({ type: 'died', message });
  }

  dispose(): void {
    const h = this.handle;
    this.handle = null;
    this.failAll('the tools worker was stopped');
    h?.terminate();
  }
}
