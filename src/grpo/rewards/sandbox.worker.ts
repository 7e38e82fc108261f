// Entry of the browser's custom-reward worker. The channel back to the page is captured here, before
// runSandbox removes postMessage from the global scope so that user code cannot forge results.

import { runSandbox, type SandboxReply, type SandboxRequest } from './sandbox_core';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = scope.postMessage.bind(scope);
const addListener = scope.addEventListener.bind(scope);

runSandbox(
  (reply: SandboxReply) => post(reply),
  (handler) => addListener('message', (ev: MessageEvent<SandboxRequest>) => handler(ev.data)),
);
