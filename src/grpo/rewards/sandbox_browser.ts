// The browser's sandbox for user code: a worker started inside a sandboxed frame (public/sandbox_frame.html:
// <iframe sandbox="allow-scripts">, an opaque origin, a policy of its own that forbids every network and
// script source, inherited by the worker). The frame can only be made by a thread with a document, so:
//
// - on the page (the rewards and tools panels' checks, "try on 5 rows"): createBrowserSandbox opens a frame;
// - in the engine worker (training, evaluation): it asks the page through a broker port that the page
//   hands the worker when it starts it (serveSandboxBroker on the page, useSandboxBroker in the worker).
//   The page answers with the sandbox's MessagePorts themselves, so requests and replies go straight
//   between the engine worker and the sandbox worker; the page only opens and closes frames.
//
// Every message from the sandbox is checked (readSandboxReply): a malformed or forged one stops it.

import { runSandbox, type SandboxHandle, type SandboxRequest } from './sandbox_core';
import { readSandboxReply } from './sandbox_reply';

/** The frame's file, beside index.html in the build (Vite copies public/ as is). */
export const SANDBOX_FRAME_FILE = 'sandbox_frame.html';
/** Time for a frame to load and start its worker. */
const FRAME_START_MS = 10_000;

// The worker's text. Transpilers that keep function names (esbuild's keepNames) call a `__name` helper
// inside function bodies; the serialised function needs a stand-in for it. The runtime's channel (the
// MessagePort the frame hands over) stays in this closure: the intrinsics used to read and write it are
// taken before any user code runs, so that patching MessagePort.prototype.postMessage, MessageEvent's
// `data` getter or Function.prototype.call later catches nothing (`this` would be the port).
export const FRAME_WORKER_SOURCE = `"use strict";
const __name = (target) => target;
{
  const g = self;
  const apply = Reflect.apply;
  const send = MessagePort.prototype.postMessage;
  const dataOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  const portsOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'ports').get;
  const setOnMessage = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage').set;
  g.onmessage = (ev) => {
    g.onmessage = null;
    const port = apply(portsOf, ev, [])[0];
    let handler = null;
    apply(setOnMessage, port, [(e) => { if (handler) handler(apply(dataOf, e, [])); }]);
    (${runSandbox.toString()})(
      (reply) => apply(send, port, [reply]),
      (h) => { handler = h; },
    );
  };
}
`;

/** What the frame's status port says: its worker started, or failed (script error, refused by policy). */
type FrameStatus = { type: 'started' } | { type: 'error'; message: string };

/** A SandboxHandle over the sandbox's two ports; `close` removes the frame (which ends its worker). */
function portHandle(run: MessagePort, status: MessagePort, close: () => void): SandboxHandle {
  let stopped = false;
  const messageHandlers: ((reply: import('./sandbox_core').SandboxReply) => void)[] = [];
  const errorHandlers: ((message: string) => void)[] = [];
  const stop = () => {
    if (stopped) return;
    stopped = true;
    run.close();
    status.close();
    close();
  };
  const fail = (message: string) => {
    if (stopped) return;
    stop();
    for (const h of errorHandlers) h(message);
  };
  run.onmessage = (ev: MessageEvent) => {
    if (stopped) return;
    const read = readSandboxReply(ev.data);
    if ('problem' in read) fail(read.problem);
    else for (const h of messageHandlers) h(read.reply);
  };
  run.onmessageerror = () => fail('the sandbox sent a message that could not be read; it was stopped');
  status.onmessage = (ev: MessageEvent<FrameStatus>) => {
    const s = ev.data;
    if (s && s.type === 'error') fail(`the sandbox worker failed: ${typeof s.message === 'string' ? s.message.slice(0, 300) : 'unknown error'}`);
  };
  return {
    post: (request: SandboxRequest) => {
      if (stopped) throw new Error('the sandbox was stopped');
      run.postMessage(request);
    },
    onMessage: (handler) => void messageHandlers.push(handler),
    onError: (handler) => void errorHandlers.push(handler),
    terminate: stop,
  };
}

interface OpenedFrame {
  run: MessagePort;
  status: MessagePort;
  close: () => void;
}

/** Opens a sandbox frame on this (document) thread and starts its worker; the ports to reach it. */
async function openFrame(): Promise<OpenedFrame> {
  const doc = (globalThis as { document?: Document }).document;
  if (!doc) throw new Error('a sandbox frame needs a page (document)');
  const frame = doc.createElement('iframe');
  // allow-scripts only: no allow-same-origin (opaque origin: no storage, no access to the page), no forms,
  // no popups, no top navigation
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.setAttribute('aria-hidden', 'true');
  frame.setAttribute('title', 'user code sandbox');
  frame.tabIndex = -1;
  frame.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden';
  frame.dataset.sandbox = 'user-code';
  const close = () => frame.remove();
  const loaded = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sandbox frame did not load within ${FRAME_START_MS} ms`)), FRAME_START_MS);
    frame.addEventListener('load', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
  frame.src = new URL(SANDBOX_FRAME_FILE, doc.baseURI).href;
  doc.body.append(frame);
  try {
    await loaded;
  } catch (e) {
    close();
    throw e;
  }
  const run = new MessageChannel();
  const status = new MessageChannel();
  // the frame's origin is opaque ("null"), so no target origin can name it; what is sent is not secret
  frame.contentWindow!.postMessage({ type: 'sandbox-boot', source: FRAME_WORKER_SOURCE }, '*', [run.port2, status.port2]);
  return { run: run.port1, status: status.port1, close };
}

// ---- the engine worker's way to a frame: a broker on the page

type BrokerRequest = { type: 'open'; id: number } | { type: 'close'; id: number };
type BrokerReply = { type: 'opened'; id: number } | { type: 'failed'; id: number; message: string };

let broker: MessagePort | null = null;
let brokerId = 1;
const brokerWaiters = new Map<number, (reply: BrokerReply, ports: readonly MessagePort[]) => void>();

/** In the engine worker: the port the page handed over, through which frames are opened and closed. */
export function useSandboxBroker(port: MessagePort): void {
  broker = port;
  port.onmessage = (ev: MessageEvent<BrokerReply>) => {
    const w = brokerWaiters.get(ev.data?.id);
    brokerWaiters.delete(ev.data?.id);
    w?.(ev.data, ev.ports);
  };
}

/** On the page: opens and closes sandbox frames for the engine worker at the other end of `port`. */
export function serveSandboxBroker(port: MessagePort): void {
  const open = new Map<number, () => void>();
  port.onmessage = (ev: MessageEvent<BrokerRequest>) => {
    const r = ev.data;
    if (!r || typeof r.id !== 'number') return;
    if (r.type === 'close') {
      open.get(r.id)?.();
      open.delete(r.id);
      return;
    }
    if (r.type !== 'open') return;
    openFrame().then(
      (f) => {
        open.set(r.id, f.close);
        port.postMessage({ type: 'opened', id: r.id } satisfies BrokerReply, [f.run, f.status]);
      },
      (e: unknown) => port.postMessage({ type: 'failed', id: r.id, message: e instanceof Error ? e.message : String(e) } satisfies BrokerReply),
    );
  };
}

async function brokeredSandbox(port: MessagePort): Promise<SandboxHandle> {
  const id = brokerId++;
  const opened = await new Promise<OpenedFrame>((resolve, reject) => {
    const timer = setTimeout(() => {
      brokerWaiters.delete(id);
      port.postMessage({ type: 'close', id } satisfies BrokerRequest);
      reject(new Error(`the page did not open a sandbox frame within ${FRAME_START_MS} ms`));
    }, FRAME_START_MS);
    brokerWaiters.set(id, (reply, ports) => {
      clearTimeout(timer);
      if (reply.type === 'opened' && ports.length === 2) resolve({ run: ports[0], status: ports[1], close: () => port.postMessage({ type: 'close', id } satisfies BrokerRequest) });
      else reject(new Error(reply.type === 'failed' ? reply.message : 'the page sent an unexpected answer for a sandbox frame'));
    });
    port.postMessage({ type: 'open', id } satisfies BrokerRequest);
  });
  return portHandle(opened.run, opened.status, opened.close);
}

/** A fresh sandbox: a frame of this page, or one the page opens for this worker. */
export async function createBrowserSandbox(): Promise<SandboxHandle> {
  if (typeof (globalThis as { document?: unknown }).document !== 'undefined') {
    const f = await openFrame();
    return portHandle(f.run, f.status, f.close);
  }
  if (broker) return brokeredSandbox(broker);
  throw new Error('this worker has no way to open a sandbox: the page did not hand it a sandbox broker');
}
