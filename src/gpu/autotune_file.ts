// The CLI's autotune cache: one JSON file, { version: 1, adapters: { <adapter key>: { <shape class>: entry } } },
// by default ~/.cache/grpo-playground/autotune.json ($XDG_CACHE_HOME respected), or the path in
// $GRPO_AUTOTUNE_CACHE. Written aside and renamed over, so a crash never leaves half a file; a file that is
// not this format is reported by path and replaced on the next save rather than crashing the run.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AutotuneEntry, AutotuneStore } from './autotune';

interface CacheFile {
  version: 1;
  adapters: Record<string, Record<string, AutotuneEntry>>;
}

export function defaultAutotunePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRPO_AUTOTUNE_CACHE) return env.GRPO_AUTOTUNE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'grpo-playground', 'autotune.json');
}

export function fileAutotuneStore(path = defaultAutotunePath(), warn: (msg: string) => void = (m) => process.stderr.write(m + '\n')): AutotuneStore {
  const read = async (): Promise<CacheFile> => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return { version: 1, adapters: {} };
    }
    try {
      const parsed = JSON.parse(text) as CacheFile;
      if (parsed?.version !== 1 || typeof parsed.adapters !== 'object' || parsed.adapters === null) throw new Error('not { version: 1, adapters }');
      return parsed;
    } catch (e) {
      warn(`autotune cache ${path} is not readable (${(e as Error).message}); ignoring it, it will be rewritten`);
      return { version: 1, adapters: {} };
    }
  };
  return {
    where: path,
    async load(key) {
      return { ...((await read()).adapters[key] ?? {}) };
    },
    async save(key, entries) {
      const file = await read();
      file.adapters[key] = entries;
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(file, null, 2) + '\n');
      await rename(tmp, path);
    },
  };
}
