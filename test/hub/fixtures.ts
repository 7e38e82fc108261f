// Repositories for the Hub-shaped test server, made here from the built-in tiny-puzzles model (a real
// Llama folder with its tokenizer) and parquet files written with hyparquet-writer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readSafetensors, writeSafetensors } from '../../src/model/safetensors';
import type { DatasetFixture, RepoFixture } from './hub_server';

export const TINY_DIR = fileURLToPath(new URL('../../public/models/tiny-puzzles/', import.meta.url));
export const GATED_TOKEN = 'hf_test_gated_token';

const enc = (s: string) => new TextEncoder().encode(s);

function tinyFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) files.set(f, new Uint8Array(readFileSync(TINY_DIR + f)));
  files.set('generation_config.json', enc(JSON.stringify({ bos_token_id: 1, eos_token_id: 2 })));
  files.set('README.md', enc('# tiny-puzzles\n'));
  return files;
}

/** The same weights in two shards with model.safetensors.index.json. */
function shardedFiles(): Map<string, Uint8Array> {
  const files = tinyFiles();
  const single = files.get('model.safetensors')!;
  files.delete('model.safetensors');
  const { tensors } = readSafetensors(single, 'model.safetensors');
  const names = [...tensors.keys()];
  const half = Math.ceil(names.length / 2);
  const weightMap: Record<string, string> = {};
  const shards = [names.slice(0, half), names.slice(half)].map((part, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    for (const n of part) weightMap[n] = file;
    files.set(file, writeSafetensors(new Map(part.map((n) => [n, tensors.get(n)!]))));
    return file;
  });
  files.set('model.safetensors.index.json', enc(JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap })));
  void shards;
  return files;
}

export function modelFixtures(): Record<string, RepoFixture> {
  const tiny = tinyFiles();
  const unsupported = tinyFiles();
  unsupported.set('config.json', enc(JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 128, n_layer: 2, n_head: 4, vocab_size: 48 })));
  const binOnly = tinyFiles();
  binOnly.set('pytorch_model.bin', binOnly.get('model.safetensors')!);
  binOnly.delete('model.safetensors');
  return {
    'test-org/tiny-puzzles': { files: tiny },
    'test-org/tiny-sharded': { files: shardedFiles() },
    'test-org/gpt2-like': { files: unsupported },
    'test-org/bin-only': { files: binOnly },
    'test-org/gated-tiny': { files: tinyFiles(), gatedToken: GATED_TOKEN },
  };
}

/** A parquet file of prompt/answer rows (reversal puzzles like the built-in demo's). */
export function puzzleParquet(rows: { question: string; answer: string }[], extra = true): Uint8Array {
  const columnData = [
    { name: 'question', data: rows.map((r) => r.question), type: 'STRING' as const },
    { name: 'answer', data: rows.map((r) => r.answer), type: 'STRING' as const },
    ...(extra ? [{ name: 'id', data: Int32Array.from(rows.map((_, i) => i)), type: 'INT32' as const }] : []),
  ];
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

export function reverseRows(n: number, seed: number, len = 3): { question: string; answer: string }[] {
  const out: { question: string; answer: string }[] = [];
  let s = seed;
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < n; i++) {
    let w = '';
    for (let k = 0; k < len; k++) {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      w += letters[s % 26];
    }
    out.push({ question: `rev ${w}=`, answer: [...w].reverse().join('') });
  }
  return out;
}

export function datasetFixtures(): Record<string, DatasetFixture> {
  const good = puzzleParquet(reverseRows(40, 1));
  const numbers = new Uint8Array(
    parquetWriteBuffer({ columnData: [{ name: 'x', data: Int32Array.from([1, 2, 3]), type: 'INT32' }, { name: 'y', data: Float64Array.from([0.5, 1, 2]), type: 'DOUBLE' }] }),
  );
  // one row with an empty answer: reported with its row number
  const withBadRow = puzzleParquet([...reverseRows(9, 2), { question: 'rev abc=', answer: '' }]);
  return {
    'test-org/puzzles': {
      parquet: {
        default: { train: [good], test: [puzzleParquet(reverseRows(12, 3))] },
        hard: { train: [puzzleParquet(reverseRows(20, 4, 4)), puzzleParquet(reverseRows(20, 5, 4))] },
      },
    },
    'test-org/bad-rows': { parquet: { default: { train: [withBadRow] } } },
    'test-org/truncated': { parquet: { default: { train: [good.subarray(0, Math.floor(good.length * 0.6))] } } },
    'test-org/numbers': { parquet: { default: { train: [numbers] } } },
    'test-org/gated-data': { parquet: { default: { train: [good] } }, gatedToken: GATED_TOKEN },
  };
}
