// The user's own reward: JavaScript source for (prompt, completion, answer, row, group) => number | null, run in a
// sandbox (in the browser a worker inside a network-less sandboxed frame, sandbox_browser.ts; in Node a
// permission-limited child process with an empty environment, sandbox_node.ts) with network and storage
// removed. A batch that throws, returns a non-number, or runs past the timeout costs that batch its
// rewards (null, "not applicable", with messages), never the run: a stuck worker is terminated and the
// next batch starts a fresh one.

import type { SandboxFactory, SandboxHandle, SandboxReply, SandboxRow } from './sandbox_core';
import { DEFAULT_CUSTOM_TIMEOUT_MS } from './registry';
import { checkUserCode } from './code_check';
import { acceptValue, requestId } from './sandbox_reply';
import { createBrowserSandbox } from './sandbox_browser';

export interface CustomRewardResult {
  /** one value per row; null where the function failed or said "not applicable"; a list: a process reward's
   * per-step scores (the scorer accepts them only with step_separator) */
  values: (number | number[] | null)[];
  /** what went wrong, one message per failing row (at most MAX_ERRORS, then a count), or for the whole batch */
  errors: string[];
  /** the batch ran past the timeout and the worker was restarted */
  timedOut: boolean;
}

export interface CustomRewardOptions {
  /** time allowed for one batch (default 2000 ms) */
  timeoutMs?: number;
  /** how to start a sandbox (default: a locked child process in Node, a sandboxed frame's worker elsewhere) */
  factory?: SandboxFactory;
}

const MAX_ERRORS = 20;
/** Time a fresh worker gets to start and load the function, on top of the batch timeout. */
const STARTUP_MS = 5000;

/** Verdicts of the sandbox's syntax check, by source (the page compiles no user code itself). */
const sandboxVerdicts = new Map<string, string | null>();
const VERDICTS_KEPT = 64;

/** A page thread (with a document) compiles no user code: its Content-Security-Policy forbids it, and the
 * sandbox worker is the only place user code is turned into a function. Node and workers may parse it. */
function mayCompileHere(): boolean {
  return typeof (globalThis as { document?: unknown }).document === 'undefined';
}

/** Problems that need no compiler: empty, does not parse, or imports (code_check.ts parses, runs nothing). */
function staticProblem(source: string): string | null {
  if (typeof source !== 'string' || source.trim() === '') return 'the custom reward source is empty; write a function such as (prompt, completion, answer, row) => 1';
  return checkUserCode(source, 'custom reward');
}

/**
 * A problem with the source, found without running it; null when none is known. In Node and in workers the
 * source is compiled (not run) here. On a page thread it is not: there a syntax error is known once
 * checkCustomRewardSourceInSandbox has checked that exact source in a sandbox worker.
 */
export function checkCustomRewardSource(source: string): string | null {
  const problem = staticProblem(source);
  if (problem) return problem;
  if (!mayCompileHere()) return sandboxVerdicts.get(source) ?? null;
  try {
    // Parses the wrapper without calling it: nothing of the user's code runs here.
    new Function(`"use strict";\nreturn (${source}\n);`);
    return null;
  } catch (e) {
    // a worker under a Content-Security-Policy without 'unsafe-eval': the sandbox reports syntax errors instead
    if (e instanceof EvalError) return null;
    return `the custom reward source does not compile: ${(e as Error).message}`;
  }
}

/**
 * Compiles (without running) the source in a fresh sandbox worker and remembers the verdict, so that
 * checkCustomRewardSource on the page knows it too. Resolves with the problem, or null when it compiles.
 */
export async function checkCustomRewardSourceInSandbox(source: string, opts: { factory?: SandboxFactory; timeoutMs?: number } = {}): Promise<string | null> {
  const problem = staticProblem(source);
  if (problem) return problem;
  if (sandboxVerdicts.has(source)) return sandboxVerdicts.get(source)!;
  let handle: SandboxHandle;
  try {
    handle = await (opts.factory ?? defaultFactory)();
  } catch (e) {
    return `could not start the custom reward worker: ${(e as Error).message}`;
  }
  const verdict = await new Promise<string | null | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), opts.timeoutMs ?? STARTUP_MS);
    handle.onMessage((reply) => {
      clearTimeout(timer);
      resolve(reply.type === 'checked' ? reply.message : undefined);
    });
    handle.onError(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
    handle.post({ type: 'check', source });
  });
  handle.terminate();
  if (verdict === undefined) return null; // no verdict (worker trouble): the run's own start reports it
  if (sandboxVerdicts.size >= VERDICTS_KEPT) sandboxVerdicts.delete(sandboxVerdicts.keys().next().value!);
  sandboxVerdicts.set(source, verdict);
  return verdict;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

async function defaultFactory(): Promise<SandboxHandle> {
  if (isNode()) return (await import('./sandbox_node')).createNodeSandbox();
  return createBrowserSandbox();
}

interface Live {
  handle: SandboxHandle;
  /** settles the request in flight (result, worker error) */
  waiter: ((reply: SandboxReply | { type: 'died'; message: string }) => void) | null;
}

export class CustomReward {
  readonly timeoutMs: number;
  private readonly factory: SandboxFactory;
  private live: Live | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** Throws at once when the source does not compile, with the parser's message. */
  constructor(
    readonly source: string,
    opts: CustomRewardOptions = {},
  ) {
    const problem = checkCustomRewardSource(source);
    if (problem) throw new Error(problem);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CUSTOM_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new Error(`timeoutMs must be positive, got ${this.timeoutMs}`);
    this.factory = opts.factory ?? defaultFactory;
  }

  /** Scores a batch; batches run one after another. Never rejects for anything the user's code does. */
  evaluate(rows: SandboxRow[]): Promise<CustomRewardResult> {
    const run = this.queue.then(() => this.run(rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the worker; later evaluate() calls reject. */
  dispose(): void {
    this.disposed = true;
    this.kill();
  }

  private async run(rows: SandboxRow[]): Promise<CustomRewardResult> {
    if (this.disposed) throw new Error('this custom reward was disposed');
    const failAll = (errors: string[], timedOut = false): CustomRewardResult => ({ values: rows.map(() => null), errors, timedOut });
    if (rows.length === 0) return { values: [], errors: [], timedOut: false };

    if (!this.live) {
      const problem = await this.start();
      if (problem) return failAll([problem.message], problem.timedOut);
    }
    const id = requestId();
    const reply = await this.request({ type: 'eval', id, rows }, this.timeoutMs);
    if (reply === 'timeout') {
      this.kill();
      return failAll([`the custom reward did not finish a batch of ${rows.length} within ${this.timeoutMs} ms; the batch scores null and the worker was restarted`], true);
    }
    if (reply.type === 'died') {
      this.kill();
      return failAll([`the custom reward worker stopped: ${reply.message}`]);
    }
    if (reply.type !== 'result' || reply.id !== id || reply.values.length !== rows.length) {
      this.kill();
      return failAll(['the custom reward worker sent an unexpected reply; it was restarted']);
    }
    // the sandbox runs hostile code: a value that is not null or a finite number is that row's error, never a number
    const values = reply.values.map((v) => (acceptValue(v) ? v : null));
    const forged = reply.values.flatMap((v, i) => (acceptValue(v) ? [] : [`row ${i}: the sandbox sent a value that is not a number or null; the row scores null`]));
    const all = [...forged, ...reply.errors];
    const errors = all.length > MAX_ERRORS ? [...all.slice(0, MAX_ERRORS), `… and ${all.length - MAX_ERRORS} more rows failed`] : all;
    return { values, errors, timedOut: false };
  }

  /** Starts a worker and loads the function; returns what went wrong, or null. */
  private async start(): Promise<{ message: string; timedOut: boolean } | null> {
    let handle: SandboxHandle;
    try {
      handle = await this.factory();
    } catch (e) {
      return { message: `could not start the custom reward worker: ${(e as Error).message}`, timedOut: false };
    }
    const live: Live = { handle, waiter: null };
    handle.onMessage((reply) => live.waiter?.(reply));
    handle.onError((message) => live.waiter?.({ type: 'died', message }));
    this.live = live;
    const reply = await this.request({ type: 'init', source: this.source }, this.timeoutMs + STARTUP_MS);
    if (reply !== 'timeout' && reply.type === 'ready') return null;
    this.kill();
    if (reply === 'timeout') {
      const message = `the custom reward did not load within ${this.timeoutMs + STARTUP_MS} ms (does its source run a loop when evaluated?); the worker was restarted`;
      return { message, timedOut: true };
    }
    if (reply.type === 'init_error') return { message: reply.message, timedOut: false };
    if (reply.type === 'died') return { message: `the custom reward worker stopped while loading: ${reply.message}`, timedOut: false };
    return { message: 'the custom reward worker sent an unexpected reply while loading', timedOut: false };
  }

  private request(
    message: Parameters<SandboxHandle['post']>[0],
    timeoutMs: number,
  ): Promise<SandboxReply | { type: 'died'; message: string } | 'timeout'> {
    const live = this.live!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        live.waiter = null;
        resolve('timeout');
      }, timeoutMs);
      live.waiter = (reply) => {
        clearTimeout(timer);
        live.waiter = null;
        resolve(reply);
      };
      try {
        live.handle.post(message);
      } catch (e) {
        live.waiter({ type: 'died', message: `the batch could not be sent to the worker: ${(e as Error).message}` });
      }
    });
  }

  private kill(): void {
    const live = this.live;
    this.live = null;
    if (!live) return;
    // A request still waiting (dispose during a batch) settles as a dead worker.
    live.waiter?.({ type: 'died', message: 'the worker was stopped' });
    live.handle.terminate();
  }
}
