// Node's sandbox for user code (custom rewards, tools, environments): a separate Node process running
// runSandbox's own text, started so that it holds even if user code reached the process object:
//
// - Node's permission model (`--permission`, `--experimental-permission` before Node 22): no file-system
//   read or write (the script is given with -e, so not even its own file is needed), no child processes,
//   no worker threads, no native addons, no WASI. On Node >= 25 the permission model also denies the
//   network; before that, the network is closed only by the runtime (no require, process or module in
//   reach of user code) and by the parser check (code_check.ts).
// - An empty environment: no HF_TOKEN, no HOME, no PATH.
// - A heap limit (--max-old-space-size): a huge allocation kills the child, costing one batch or call.
// - stdin and stdout closed, stderr kept (its last lines explain a crash); replies come over Node's IPC
//   channel and each one is checked by readSandboxReply: a malformed one stops the child.
// The host (custom.ts, tools/runner.ts) keeps its time limit per call and kills the child on timeout.
//
// The module is loaded with a computed specifier so that browser bundles never include node:child_process.

import { runSandbox, type SandboxHandle } from './sandbox_core';
import { readSandboxReply } from './sandbox_reply';

interface ChildProcess {
  pid?: number;
  send(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (value: unknown) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'exit', listener: (code: number | null, signal: string | null) => void): void;
  stderr: { on(event: 'data', listener: (chunk: Buffer) => void): void; unref?(): void } | null;
  channel?: { unref(): void } | null;
  unref(): void;
  kill(signal?: string): boolean;
}

type ChildProcessModule = {
  spawn(command: string, args: string[], options: { env: Record<string, string>; stdio: unknown[]; windowsHide?: boolean }): ChildProcess;
};

/** Heap of one sandbox process, MiB: far above what a reward needs, far below the machine's memory. */
export const SANDBOX_HEAP_MIB = 512;

// Transpilers that keep function names (esbuild's keepNames, used by tsx) call a `__name` helper inside
// function bodies; the serialised function needs a stand-in for it. The IPC functions are taken before
// runSandbox removes `process` from the global scope, and kept in this closure only. runSandbox starts in a
// microtask: -e's wrapper writes globalThis.module back when the script returns, which a locked scope refuses.
const CHILD_SOURCE = `"use strict";
const __name = (target) => target;
{
  const proc = process;
  const send = proc.send.bind(proc);
  const on = proc.on.bind(proc);
  const exit = proc.exit.bind(proc);
  on('disconnect', () => exit(0));
  // after -e's own wrapper has put back globalThis.module, and before any message is read
  queueMicrotask(() => (${runSandbox.toString()})(
    (reply) => send(reply),
    (handler) => on('message', handler),
  ));
}
`;

/** The permission flag this Node knows, or null when it has no permission model (Node < 20). */
export function permissionFlag(flags: ReadonlySet<string> = (globalThis as unknown as { process: { allowedNodeEnvironmentFlags: ReadonlySet<string> } }).process.allowedNodeEnvironmentFlags): string | null {
  if (flags.has('--permission')) return '--permission';
  if (flags.has('--experimental-permission')) return '--experimental-permission';
  return null;
}

/** The command line of a sandbox process (without the node executable). */
export function sandboxArgs(flag: string): string[] {
  return [flag, `--max-old-space-size=${SANDBOX_HEAP_MIB}`, '--no-warnings', '-e', CHILD_SOURCE];
}

const live = new Set<ChildProcess>();
let exitHook = false;

export async function createNodeSandbox(): Promise<SandboxHandle> {
  const proc = (globalThis as unknown as { process: { execPath: string; on(e: 'exit', f: () => void): void } }).process;
  const flag = permissionFlag();
  if (flag === null) throw new Error('this Node has no permission model (Node 20 or later is needed to run user code in a locked process)');
  const specifier = 'node:child_process';
  const { spawn } = (await import(/* @vite-ignore */ specifier)) as ChildProcessModule;
  const child = spawn(proc.execPath, sandboxArgs(flag), { env: {}, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], windowsHide: true });
  live.add(child);
  if (!exitHook) {
    exitHook = true;
    // a child stuck in a loop never reads the disconnect: kill what is left when this process exits
    proc.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  // A forgotten dispose() must not keep the process alive; a pending request holds its own timer.
  child.unref();
  child.channel?.unref();
  child.stderr?.unref?.();
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  let stopped = false;
  const messageHandlers: ((reply: import('./sandbox_core').SandboxReply) => void)[] = [];
  const errorHandlers: ((message: string) => void)[] = [];
  const fail = (message: string) => {
    if (stopped) return;
    stopped = true;
    live.delete(child);
    child.kill('SIGKILL');
    for (const h of errorHandlers) h(message);
  };
  child.on('message', (value) => {
    if (stopped) return;
    const read = readSandboxReply(value);
    if ('problem' in read) fail(read.problem);
    else for (const h of messageHandlers) h(read.reply);
  });
  child.on('error', (e) => fail(e.message));
  child.on('exit', (code, signal) => {
    live.delete(child);
    const last = stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300);
    const oom = /heap out of memory|Allocation failed/i.test(stderr);
    fail(oom ? `the sandbox process ran out of memory (over ${SANDBOX_HEAP_MIB} MiB of heap) and was stopped` : `the sandbox process exited (${signal ?? `code ${code}`})${last ? `: ${last}` : ''}`);
  });
  return {
    post: (request) => {
      if (stopped) throw new Error('the sandbox process has stopped');
      child.send(request, (e) => {
        if (e) fail(`could not reach the sandbox process: ${e.message}`);
      });
    },
    onMessage: (handler) => void messageHandlers.push(handler),
    onError: (handler) => void errorHandlers.push(handler),
    terminate: () => {
      stopped = true;
      live.delete(child);
      child.kill('SIGKILL');
    },
  };
}
