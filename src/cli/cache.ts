// `grpo-playground cache`: the Hub cache folder's models and datasets with their sizes; --delete ORG/NAME
// removes a repository's files (every revision).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { keyPath } from '../hub/cache';
import { formatSize } from '../hub/download';
import { hubCacheFromEnv } from '../hub/node';
import { parse, UsageError } from './args';

export async function cacheCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { delete: { type: 'string' }, json: { type: 'boolean' } });
  const cache = hubCacheFromEnv();
  const repos = await cache.list();
  const del = v.delete;
  if (typeof del === 'string') {
    const gone = repos.filter((r) => r.repo === del.replace(/^hf:/, '').replace(/[@:].*$/, ''));
    if (gone.length === 0) throw new UsageError(`${del} is not in the cache (${cache.root})`);
    for (const r of gone) {
      const dir = join(cache.root, ...keyPath({ ...r, path: 'x' }).split('/').slice(0, -1));
      await rm(dir, { recursive: true, force: true });
      process.stdout.write(`deleted ${r.kind} ${r.repo}@${r.revision} (${formatSize(r.bytes + r.partialBytes)})\n`);
    }
    return;
  }
  if (v.json) {
    process.stdout.write(JSON.stringify({ root: cache.root, repos }) + '\n');
    return;
  }
  process.stdout.write(`${cache.root}\n`);
  if (repos.length === 0) process.stdout.write('  (empty)\n');
  for (const r of repos) {
    const partial = r.partialBytes ? `, ${formatSize(r.partialBytes)} of unfinished downloads` : '';
    process.stdout.write(`  ${r.kind.padEnd(7)} ${r.repo}@${r.revision}  ${r.files} files, ${formatSize(r.bytes)}${partial}  (${r.endpoint})\n`);
  }
}
