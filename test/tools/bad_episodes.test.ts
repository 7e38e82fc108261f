// Bad tools and environments inside real episodes (stories260K on the WebGPU adapter, the real sandbox):
// a tool that throws, returns something that is not JSON, hangs, or tries the network; arguments that
// break the schema; calls that are not JSON; an environment whose step throws or that never says done.
// Each becomes an error in that row's context (tools: inserted "Error: ...") or a null environment reward,
// counted; every episode still finishes.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testGpu } from '../gpu';
import { loadStories, wordConfig } from '../grpo/fixtures';
import { GpuTransformer } from '../../src/model/transformer';
import { runEpisodes, type Episode } from '../../src/grpo/tools/episodes';
import { createRolloutTools } from '../../src/grpo/tools/setup';
import type { LoadedModel } from '../../src/model/load';
import type { GrpoConfig } from '../../src/grpo/config';

let loaded: LoadedModel;
let model: GpuTransformer;
beforeAll(async () => {
  const gpu = await testGpu();
  loaded = await loadStories();
  model = GpuTransformer.upload(gpu, loaded.config, loaded.weights);
});
afterAll(() => model?.release());

async function episodes(over: Partial<GrpoConfig>, n = 6): Promise<Episode[]> {
  const c = wordConfig({ tool_call_open: ' ', tool_call_close: '.', tool_result_template: ' [{result}]', tool_timeout_ms: 400, ...over });
  const tools = (await createRolloutTools(c, loaded))!;
  try {
    const prompt = { ids: loaded.tokenizer.encode('Once upon a time, there was a', { addBos: true }), raw: { answer: '7' } };
    return await runEpisodes(model, loaded.tokenizer, null, tools.setup, Array.from({ length: n }, () => prompt), {
      maxCompletionLength: 96, temperature: 1, topK: 0, topP: 1, seed: 3, maxToolCalls: c.max_tool_calling_iterations, maxTurns: c.max_turns,
    });
  } finally {
    tools.setup.runner.dispose();
  }
}

const errorsOf = (eps: Episode[]) => eps.flatMap((e) => e.turns.filter((t) => t.kind === 'tool_error' || t.kind === 'env_error').map((t) => (t as { text: string }).text));

describe('bad tools and environments in episodes', () => {
  test('throwing, non-JSON, hanging and network-calling tools: errors in context, counted, episodes finish', async () => {
    const eps = await episodes({
      tools_source: `[{ name: 'flaky', description: 'misbehaves', parameters: { type: 'object', properties: { input: { type: 'string' } } },
        run: (() => { let n = 0; return async () => { n++;
          if (n === 1) throw new Error('boom');
          if (n === 2) return () => 1;
          if (n === 3) { await fetch('http://127.0.0.1:9/'); return 'reached'; }
          if (n === 4) return new Promise(() => {});
          return 'ok'; }; })() }]`,
      max_tool_calling_iterations: 4,
    }, 8);
    const errors = errorsOf(eps);
    const calls = eps.reduce((a, e) => a + e.toolCalls, 0);
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(errors.some((m) => /boom/.test(m))).toBe(true);
    expect(errors.some((m) => /not JSON-serialisable/.test(m))).toBe(true);
    expect(errors.some((m) => /fetch is blocked/.test(m))).toBe(true);
    expect(errors.some((m) => /did not answer within 400 ms/.test(m))).toBe(true);
    expect(eps.reduce((a, e) => a + e.toolTimeouts, 0)).toBeGreaterThanOrEqual(1);
    for (const e of eps) {
      expect(e.toolFailures).toBe(e.turns.filter((t) => t.kind === 'tool_error').length);
      expect(e.toolCalls).toBeLessThanOrEqual(4);
      expect(e.ids.length).toBeGreaterThan(0);
    }
  }, 300_000);

  test('arguments that break the schema and calls that are not JSON (unknown tools: runner.test.ts)', async () => {
    // two tools: a body (the last word of a sentence) is no longer {"input": ...} of the only tool: a malformed call
    const two = await episodes({
      tools_source: `[{ name: 'a', description: '', run: () => 1 }, { name: 'b', description: '', run: () => 2 }]`,
      max_tool_calling_iterations: 2,
    }, 4);
    expect(errorsOf(two).length).toBeGreaterThan(0);
    expect(errorsOf(two).every((m) => /not valid JSON|no "name"|must be a JSON object|without " " before it/.test(m))).toBe(true);
    const schema = await episodes({
      tools_source: `[{ name: 'num', description: '', parameters: { type: 'object', properties: { input: { type: 'integer' } }, required: ['input'] }, run: () => 1 }]`,
      max_tool_calling_iterations: 2,
    }, 4);
    expect(errorsOf(schema).some((m) => /bad arguments for "num": arguments.input must be integer/.test(m))).toBe(true);
  }, 300_000);

  test('an environment whose step throws gets a null reward; one that never says done ends at max_turns', async () => {
    const thrower = await episodes({
      env_source: `() => ({ reset: () => 'go', step: (t) => { throw new Error('step broke'); } })`,
      turn_end_marker: '.', max_turns: 3,
    }, 4);
    for (const e of thrower) {
      expect(e.envReward).toBeNull();
      expect(errorsOf([e]).some((m) => /step failed: Error: step broke/.test(m)) || e.truncated).toBe(true);
    }
    const endless = await episodes({
      env_source: `() => ({ reset: () => 'go', step: () => ({ observation: 'again', reward: 0.5, done: false }) })`,
      turn_end_marker: '.', max_turns: 2,
    }, 4);
    for (const e of endless) {
      expect(e.turnCount).toBeLessThanOrEqual(2);
      if (e.turnCount === 2) {
        expect(errorsOf([e]).some((m) => /did not say done within max_turns = 2/.test(m))).toBe(true);
        expect(e.envReward).toBeCloseTo(1.0, 10);
      }
    }
    expect(endless.some((e) => e.turnCount === 2)).toBe(true);
  }, 300_000);
});
