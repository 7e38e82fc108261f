// The runs library on IndexedDB (fake-indexeddb): save, list, rename, star, delete; export one run as a
// file and import it back; a corrupted or foreign file is refused with a clear message and stores
// nothing; a full storage gives a message naming the bytes needed and the largest runs.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { LibraryFullError, RunLibrary } from '../../src/ui/runs/library';
import { passSummary, type RunRecord } from '../../src/experiments/run_record';
import { defaultConfig } from '../../src/grpo/config';

let dbCount = 0;
const fresh = () => new RunLibrary(`test-library-${++dbCount}`);

function record(id: string, name: string, steps = 3): RunRecord {
  return {
    id, name, starred: false, createdAt: 1000 + dbCount, updatedAt: 2000, status: 'finished', config: { ...defaultConfig(), max_steps: steps },
    model: { name: 'tiny-puzzles', fingerprint: 'm1' }, dataset: { name: 'reverse.jsonl', fingerprint: 'd1' },
    history: Array.from({ length: steps }, (_, i) => ({ step: i + 1, reward: 0.1 * i, kl: NaN })),
    evals: [{ step: 0, passAt1: 0.4, rewardMean: 0.4 }, { step: steps, passAt1: 0.7, rewardMean: 0.7 }],
    rollouts: [{ step: 1, prompt: 'rev abc=', answer: 'cba', completions: [{ text: 'cba', reward: 1 }] }],
    steps, maxSteps: steps, durationMs: 1234, sweep: null, hasAdapter: false,
  };
}

describe('RunLibrary', () => {
  it('keeps runs: list (newest first), rename, star, delete', async () => {
    const lib = fresh();
    await lib.put({ ...record('a', 'first'), createdAt: 1 });
    await lib.put({ ...record('b', 'second'), createdAt: 2 });
    expect((await lib.list()).map((e) => e.run.name)).toEqual(['second', 'first']);
    await lib.update('a', { name: 'renamed', starred: true });
    expect(await lib.get('a')).toMatchObject({ name: 'renamed', starred: true });
    await lib.delete('b');
    expect((await lib.list()).map((e) => e.run.id)).toEqual(['a']);
    expect((await lib.list())[0].bytes).toBeGreaterThan(100);
  });

  it('exports a run with its adapter as one file and imports it back elsewhere', async () => {
    const a = fresh();
    await a.put(record('r1', 'run one'));
    await a.putAdapter('r1', new Uint8Array([1, 2, 3, 250]), '{"r": 8}');
    const file = await a.exportRun('r1');
    expect(file.name).toBe('run_one.grpo-run.json');
    const b = fresh();
    const got = await b.importRun(file.text, file.name);
    expect(got.id).toBe('r1');
    const back = await b.get('r1');
    expect(back?.history).toHaveLength(3);
    expect(Number.isNaN(back!.history[0].kl)).toBe(true); // NaN survives the JSON file
    expect(back?.evals).toEqual(record('r1', '').evals);
    expect(back?.hasAdapter).toBe(true);
    expect(await b.adapter('r1')).toEqual({ weights: new Uint8Array([1, 2, 3, 250]), config: '{"r": 8}' });
    // importing the same file again keeps both
    const again = await b.importRun(file.text, file.name);
    expect(again.id).not.toBe('r1');
    expect(await b.list()).toHaveLength(2);
  });

  it('refuses corrupted and foreign files with a clear message, storing nothing', async () => {
    const lib = fresh();
    const good = await (async () => {
      const a = fresh();
      await a.put(record('x', 'x'));
      return (await a.exportRun('x')).text;
    })();
    await expect(lib.importRun(good.slice(0, good.length / 2), 'cut.json')).rejects.toThrow(/cut\.json is not a run file: it is not JSON/);
    await expect(lib.importRun('{"name": "adapter_config"}', 'other.json')).rejects.toThrow(/other\.json is not a GRPO Playground run file/);
    const damaged = JSON.parse(good);
    damaged.run.history[1] = { step: 'two' };
    damaged.run.config.learning_rate = 'fast';
    await expect(lib.importRun(JSON.stringify(damaged), 'damaged.json')).rejects.toThrow(/damaged\.json is a damaged run file \(nothing was stored\): .*run\.history\[1\].*learning_rate must be a number/);
    const v2 = { ...JSON.parse(good), version: 2 };
    await expect(lib.importRun(JSON.stringify(v2), 'new.json')).rejects.toThrow(/version 2/);
    expect(await lib.list()).toEqual([]);
  });

  it('a full storage names the bytes needed and the largest runs', async () => {
    const lib = fresh();
    await lib.put(record('big', 'big run', 200));
    await lib.put(record('small', 'small run', 2));
    const proto = IDBObjectStore.prototype;
    const put = proto.put;
    proto.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    try {
      const err = await lib.put(record('new', 'new run', 50)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LibraryFullError);
      expect((err as Error).message).toMatch(/storage is full: saving the run new run needs about \d+(\.\d)? KB more/);
      expect((err as Error).message).toMatch(/largest runs are big run \(.*\), small run/);
      expect((err as Error).message).toMatch(/keeps training/);
    } finally {
      proto.put = put;
    }
    expect((await lib.list()).map((e) => e.run.id).sort()).toEqual(['big', 'small']);
  });
});

describe('passSummary', () => {
  it('best over evaluations after step 0, last at the last step', () => {
    expect(passSummary([{ step: 0, passAt1: 0.9, rewardMean: 0 }, { step: 5, passAt1: 0.5, rewardMean: 0 }, { step: 10, passAt1: 0.6, rewardMean: 0 }])).toEqual({ best: 0.6, last: 0.6 });
    expect(passSummary([{ step: 0, passAt1: 0.3, rewardMean: 0 }])).toEqual({ best: 0.3, last: 0.3 });
    expect(passSummary([])).toEqual({ best: null, last: null });
  });
});
