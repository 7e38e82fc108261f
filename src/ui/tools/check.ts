// Checks a tools file and an environment file the way a run loads them: in the locked sandbox worker the
// engine uses (ToolRunner, src/grpo/tools/runner.ts), never evaluated on the page. The answer is what a run
// would see: the tools' names, descriptions and argument schemas, whether an environment loaded, or the
// sandbox's message (a syntax error with its line, not an array, a tool without name or run, a bad schema).

import { ToolRunner, type ToolInfo } from '../../grpo/tools/runner';

export type ToolsCheck =
  | { state: 'none' }
  | { state: 'checking' }
  | { state: 'ok'; tools: ToolInfo[]; env: boolean }
  | { state: 'error'; message: string };

const present = (s: string | null | undefined): string | null => (s !== null && s !== undefined && s.trim() !== '' ? s : null);

export async function checkToolSources(tools: string | null, env: string | null, timeoutMs: number): Promise<ToolsCheck> {
  const t = present(tools);
  const e = present(env);
  if (t === null && e === null) return { state: 'none' };
  let runner: ToolRunner;
  try {
    runner = await ToolRunner.create(t, e, { timeoutMs: timeoutMs > 0 ? timeoutMs : 1000 });
  } catch (err) {
    return { state: 'error', message: (err as Error).message };
  }
  const out: ToolsCheck = { state: 'ok', tools: runner.tools, env: runner.hasEnv };
  runner.dispose();
  return out;
}

/** One argument of a tool, as its JSON schema describes it. */
export interface ArgumentView {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

/** The arguments of a tool's schema (a schema the sandbox accepted: type "object" with properties). */
export function toolArguments(parameters: unknown): ArgumentView[] {
  const p = (parameters ?? {}) as { properties?: Record<string, { type?: unknown; description?: unknown; enum?: unknown }>; required?: string[] };
  const required = new Set(p.required ?? []);
  return Object.entries(p.properties ?? {}).map(([name, s]) => ({
    name,
    type: Array.isArray(s.enum) ? s.enum.map((v) => JSON.stringify(v)).join(' | ') : Array.isArray(s.type) ? s.type.join(' | ') : typeof s.type === 'string' ? s.type : 'any',
    required: required.has(name),
    description: typeof s.description === 'string' ? s.description : '',
  }));
}
