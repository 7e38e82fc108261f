// Node only: the command line's Hub cache, a folder like huggingface_hub's: GRPO_HUB_CACHE, else
// $XDG_CACHE_HOME/grpo-playground/hub, else ~/.cache/grpo-playground/hub. A file lives at
// HOST/models/ORG/NAME/REVISION/PATH with its version beside it (PATH.meta.json); a download in progress
// is PATH.partial (+ PATH.partial.json), renamed into place when complete.

import { mkdir, open, readFile, rename, rm, stat, writeFile, readdir, type FileHandle } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { IntegrityError } from './verify';
import { keyPath, LISTING_FILE, type CachedRepo, type DownloadSink, type FileKey, type HubCache } from './cache';

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GRPO_HUB_CACHE) return env.GRPO_HUB_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'grpo-playground', 'hub');
}

async function readVersion(path: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

export class NodeHubCache implements HubCache {
  constructor(readonly root: string = defaultCacheDir()) {}

  /** The file's place in the cache folder; keyPath checked every name, and the result must still lie inside the folder. */
  pathOf(key: FileKey): string {
    const root = resolve(this.root);
    const file = resolve(root, ...keyPath(key).split('/'));
    if (!file.startsWith(root + sep)) throw new IntegrityError(`${key.repo}: ${JSON.stringify(key.path)} would be stored outside the cache folder ${root}`);
    return file;
  }

  async get(key: FileKey, version: string | null): Promise<Uint8Array | null> {
    const file = this.pathOf(key);
    const stored = await readVersion(file + '.meta.json');
    if (stored === null || (version !== null && stored !== version)) return null;
    try {
      const b = await readFile(file);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch {
      return null;
    }
  }

  async open(key: FileKey, version: string | null): Promise<DownloadSink> {
    const file = this.pathOf(key);
    const partial = file + '.partial';
    await mkdir(dirname(file), { recursive: true });
    const kept = await readVersion(partial + '.json');
    const keep = kept !== null && (version === null || kept === version);
    if (!keep) await rm(partial, { force: true });
    let handle: FileHandle | null = await open(partial, 'a');
    let offset = (await handle.stat()).size;
    await writeFile(partial + '.json', JSON.stringify({ version: version ?? kept ?? '' }));
    const close = async () => {
      await handle?.close();
      handle = null;
    };
    const discard = async () => {
      await close();
      offset = 0;
      await rm(partial, { force: true });
      await rm(partial + '.json', { force: true });
    };
    return {
      get offset() {
        return offset;
      },
      async write(chunk) {
        await handle!.write(chunk);
        offset += chunk.length;
      },
      async reset() {
        await handle!.truncate(0);
        offset = 0;
      },
      async finish(v, check) {
        await close();
        const b = await readFile(partial);
        const bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        try {
          await check?.(bytes);
        } catch (e) {
          await discard();
          throw e;
        }
        await rename(partial, file);
        await rm(partial + '.json', { force: true });
        await writeFile(file + '.meta.json', JSON.stringify({ version: v, size: offset, saved: new Date().toISOString() }));
        return bytes;
      },
      discard,
      async suspend() {
        await close();
      },
    };
  }

  /** Cached repositories with their sizes (for `grpo-playground cache`). */
  async list(): Promise<CachedRepo[]> {
    const out: CachedRepo[] = [];
    const dirs = async (p: string) => (await readdir(p, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name);
    for (const host of await dirs(this.root)) {
      for (const kinds of await dirs(join(this.root, host))) {
        if (kinds !== 'models' && kinds !== 'datasets') continue;
        for (const org of await dirs(join(this.root, host, kinds))) {
          for (const name of await dirs(join(this.root, host, kinds, org))) {
            for (const rev of await dirs(join(this.root, host, kinds, org, name))) {
              const repo: CachedRepo = {
                endpoint: host.startsWith('http_') ? `http://${host.slice(5)}` : `https://${host}`,
                kind: kinds === 'models' ? 'model' : 'dataset',
                repo: `${org}/${name}`,
                revision: decodeURIComponent(rev),
                files: 0,
                bytes: 0,
                partialBytes: 0,
              };
              const walk = async (dir: string): Promise<void> => {
                for (const e of await readdir(dir, { withFileTypes: true })) {
                  const p = join(dir, e.name);
                  if (e.isDirectory()) await walk(p);
                  else if (e.name.endsWith('.partial')) repo.partialBytes += (await sizeOf(p)) ?? 0;
                  else if (e.name.endsWith('.meta.json') || e.name.endsWith('.partial.json') || e.name === LISTING_FILE) continue;
                  else {
                    repo.files++;
                    repo.bytes += (await sizeOf(p)) ?? 0;
                  }
                }
              };
              await walk(join(this.root, host, kinds, org, name, rev));
              out.push(repo);
            }
          }
        }
      }
    }
    return out;
  }
}
