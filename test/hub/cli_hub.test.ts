// The command line with models and datasets by Hub id, through HF_ENDPOINT pointing at the Hub-shaped
// local server: download with progress, the cache on a second run, resume after a dropped connection,
// gated repos and HF_TOKEN, bad repositories, a parquet dataset by id with config and split.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { datasetFixtures, GATED_TOKEN, modelFixtures, TINY_DIR } from './fixtures';
import { startHubServer, type HubServer } from './hub_server';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let server: HubServer;
let cacheDir: string;

/** Runs the CLI without blocking this process (the server answers from here). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/grpo-playground.mjs', ...args],
      { cwd: ROOT, timeout: 300_000, env: { ...process.env, HF_TOKEN: '', HF_ENDPOINT: server.url, GRPO_HUB_CACHE: cacheDir, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  server = await startHubServer({ models: modelFixtures(), datasets: datasetFixtures() });
  cacheDir = await mkdtemp(join(tmpdir(), 'cli-hub-'));
});
afterAll(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

/** The byte offset the CDN's Range request resumed model.safetensors from (the request the server logged). */
function resumedAt(stderr: string): number {
  const ranges = server.log.filter((r) => r.server === 'cdn' && r.path.endsWith('model.safetensors') && /^bytes=\d+-$/.test(r.range ?? '') && r.range !== 'bytes=0-');
  expect(ranges.length, `a Range request resuming model.safetensors; stderr:\n${stderr}`).toBeGreaterThan(0);
  return Number(/^bytes=(\d+)-$/.exec(ranges.at(-1)!.range!)![1]);
}

const GEN = ['generate', '--prompt', 'rev abc=', '--temperature', '0', '--max-new-tokens', '4', '--json'];

describe('CLI with HF_ENDPOINT', () => {
  test('--model hf:ORG/NAME downloads with progress, generates as the local folder does, and the second run reads the cache', async () => {
    server.drop('model.safetensors', { at: 1_000_000, mode: 'once' }); // and the connection drops once
    const first = await cli([GEN[0], '--model', 'hf:test-org/tiny-puzzles', ...GEN.slice(1)]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`test-org/tiny-puzzles (${server.url}): LlamaForCausalLM, 4 files, 2.0 MB: 2.0 MB to download (624 B already cached)`);
    // resumed from what arrived: at most the 1,000,000 bytes sent before the drop (a loaded client may not have
    // read the last chunks when the connection fails: they are fetched again), named as the Range it asked for
    const at = resumedAt(first.stderr);
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(1_000_000);
    expect(first.stderr).toContain(`model.safetensors  2.0 MB  (resumed at ${(at / 1024).toFixed(1)} kB)`);
    const local = await cli([GEN[0], '--model', TINY_DIR, ...GEN.slice(1)]);
    expect(local.code, local.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual(JSON.parse(local.stdout));

    server.log.length = 0;
    const again = await cli([GEN[0], '--model', 'hf:test-org/tiny-puzzles@main', ...GEN.slice(1)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('all in the cache: nothing to download');
    expect(server.log.filter((r) => r.path.includes('/resolve/') || r.server === 'cdn')).toEqual([]);

    const listed = await cli(['cache']);
    expect(listed.stdout).toMatch(/model {3}test-org\/tiny-puzzles@main {2}4 files, 2\.0 MB/);
  });

  test('a download interrupted for good keeps what arrived; the next run resumes from there with a Range request', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'cli-hub-'));
    server.drop('model.safetensors', { at: 700_000, mode: 'always' });
    const dropped = await cli(['generate', '--model', 'hf:test-org/tiny-puzzles', '--prompt', 'x', '--max-new-tokens', '1'], { GRPO_HUB_CACHE: fresh });
    expect(dropped.code).toBe(1);
    const last = dropped.stderr.trim().split('\n').at(-1) ?? '';
    const kept = /^grpo-playground generate: test-org\/tiny-puzzles: model\.safetensors: the connection dropped at ([\d.]+) kB of 2\.0 MB .*3 retries failed; the ([\d.]+) kB that arrived are kept: load again to resume from there$/.exec(last);
    expect(kept, last).not.toBeNull();
    expect(kept![2]).toBe(kept![1]);
    expect(Number(kept![1])).toBeLessThanOrEqual(683.6); // never more than the 700,000 bytes sent
    server.clearDrops();
    server.log.length = 0;
    const resumed = await cli(['generate', '--model', 'hf:test-org/tiny-puzzles', '--prompt', 'x', '--max-new-tokens', '1'], { GRPO_HUB_CACHE: fresh });
    expect(resumed.code, resumed.stderr).toBe(0);
    const from = resumedAt(resumed.stderr);
    expect((from / 1024).toFixed(1)).toBe(kept![1]);
    expect(server.log.filter((r) => r.server === 'cdn' && r.path.endsWith('model.safetensors')).map((r) => r.range)).toEqual(['bytes=0-0', `bytes=${from}-`]);
    await rm(fresh, { recursive: true, force: true });
  });

  test('gated repos need HF_TOKEN; bad repositories get one line each, before any weights download', async () => {
    const gated = await cli(['generate', '--model', 'hf:test-org/gated-tiny', '--prompt', 'x', '--max-new-tokens', '1']);
    expect(gated.code).toBe(1);
    expect(gated.stderr.trim().split('\n')).toHaveLength(1);
    expect(gated.stderr).toContain('grpo-playground generate: test-org/gated-tiny is gated or private (401');
    expect(gated.stderr).toContain('give it as HF_TOKEN (export HF_TOKEN=hf_...)');
    const opened = await cli(['generate', '--model', 'hf:test-org/gated-tiny', '--prompt', 'x', '--max-new-tokens', '1'], { HF_TOKEN: GATED_TOKEN });
    expect(opened.code, opened.stderr).toBe(0);
    expect(server.log.filter((r) => r.server === 'cdn').every((r) => r.authorization === null)).toBe(true);

    server.log.length = 0;
    const cases: [string, RegExp][] = [
      ['hf:test-org/nope', /^grpo-playground generate: test-org\/nope: no such model on http:\/\/127\.0\.0\.1:\d+ \(404 RepoNotFound\)/],
      ['hf:test-org/gpt2-like', /^grpo-playground generate: test-org\/gpt2-like: config\.json: model_type "gpt2" is not supported .* nothing else was downloaded$/],
      ['hf:test-org/bin-only', /^grpo-playground generate: test-org\/bin-only has only PyTorch weights \(pytorch_model\.bin\) and no model\.safetensors/],
      ['hf:test-org/tiny-puzzles@nope', /^grpo-playground generate: test-org\/tiny-puzzles: there is no revision "nope"/],
      ['hf:tiny-puzzles', /^grpo-playground generate: "hf:tiny-puzzles" is not a Hub repository id: write ORG\/NAME/],
    ];
    for (const [model, message] of cases) {
      const r = await cli(['generate', '--model', model, '--prompt', 'x']);
      expect(r.code, model).toBe(1);
      expect(r.stderr.trim().split('\n'), model).toHaveLength(1);
      expect(r.stderr.trim(), model).toMatch(message);
    }
    expect(server.log.some((r) => /gpt2-like|bin-only/.test(r.path) && /\.(safetensors|bin)$/.test(r.path))).toBe(false);
  });

  test('--dataset hf:ORG/NAME:CONFIG/SPLIT reads parquet; a missing split, a truncated file and no text columns are named', async () => {
    const r = await cli(['eval', '--model', 'hf:test-org/tiny-puzzles', '--dataset', 'hf:test-org/puzzles:default/test', '--config', 'docs/demo/config.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`test-org/puzzles:default/test (${server.url}): 1 parquet file`);
    const out = JSON.parse(r.stdout);
    expect(out.n).toBe(12);
    expect(out['pass@1']).toBeGreaterThanOrEqual(0);

    const bad: [string, string][] = [
      ['hf:test-org/puzzles:default/validation', 'test-org/puzzles:default has no split "validation"; its splits are "train", "test"'],
      ['hf:test-org/truncated', 'test-org/truncated/default/train/0.parquet is truncated or damaged'],
      ['hf:test-org/numbers', 'test-org/numbers/default/train/0.parquet has no text (string) columns: its columns are "x" (INT32), "y" (DOUBLE)'],
      ['hf:test-org/missing', 'test-org/missing: no such dataset on'],
    ];
    for (const [dataset, message] of bad) {
      const e = await cli(['eval', '--model', 'hf:test-org/tiny-puzzles', '--dataset', dataset, '--config', 'docs/demo/config.json', '--json']);
      expect(e.code, dataset).toBe(1);
      expect(e.stderr.trim().split('\n').filter((l) => l.startsWith('grpo-playground')), dataset).toEqual([expect.stringContaining(message)]);
    }

    // the cache command lists the dataset and deletes it
    const listed = JSON.parse((await cli(['cache', '--json'])).stdout) as { repos: { kind: string; repo: string; files: number }[] };
    expect(listed.repos).toContainEqual(expect.objectContaining({ kind: 'dataset', repo: 'test-org/puzzles', files: 1 }));
    const deleted = await cli(['cache', '--delete', 'test-org/puzzles']);
    expect(deleted.stdout).toMatch(/^deleted dataset test-org\/puzzles@refs\/convert\/parquet \(\d/);
    expect((await cli(['cache'])).stdout).not.toContain('test-org/puzzles');
  });
});
