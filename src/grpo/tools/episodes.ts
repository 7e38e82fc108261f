// Multi-turn rollouts with tools and environments: one episode per completion row, all generated together
// (src/model/generate_turns.ts). At the end of each model turn this decides what comes next:
// - the turn holds a tool call: parse it, check its arguments against the tool's schema, run it in the
//   sandbox, and insert the result (or "Error: ..." as TRL does) the way the format renders a tool message;
// - else, with an environment: step(text) -> {observation, reward?, done}; insert the observation unless
//   done or max_turns is reached; the step rewards add up to the episode's environment reward;
// - else the episode ends.
// Inserted tokens are context for the model but carry mask 0 (TRL's tool_mask): out of the loss.
// Nothing the user's code does stops the run: each failure is an error in that row's context (tools) or a
// null environment reward (environments), counted in EpisodeStats.

import type { GpuTransformer } from '../../model/transformer';
import type { LoraSet } from '../../model/lora';
import type { Tokenizer } from '../../model/tokenizer';
import type { SamplingOptions } from '../../model/generate';
import { generateTurns } from '../../model/generate_turns';
import type { KvPrecision } from '../../model/kv_storage';
import { afterStopToken, resultText, stopTokenTexts, type ToolFormat } from './formats';
import { schemaProblem } from './json_schema';
import type { ToolRunner } from './runner';

export type TurnRecord =
  | { kind: 'model'; text: string }
  | { kind: 'tool_call'; name: string; args: unknown }
  | { kind: 'tool_result'; name: string; text: string }
  | { kind: 'tool_error'; name: string | null; text: string }
  | { kind: 'observation'; text: string; reward: number | null }
  | { kind: 'env_error'; text: string };

export interface Episode {
  /** completion tokens, the model's and the inserted ones */
  ids: number[];
  /** 1: sampled by the model; 0: inserted (tool result, observation) */
  modelMask: number[];
  truncated: boolean;
  turns: TurnRecord[];
  toolCalls: number;
  toolFailures: number;
  toolTimeouts: number;
  /** model turns */
  turnCount: number;
  /** the sum of the environment's step rewards; null without an environment or after an environment error */
  envReward: number | null;
  /** the environment said done (false: it ran out of max_turns or tokens, or failed) */
  envDone: boolean;
  /** per model turn: its tokens (the model's, stop token included) and the environment's step reward after it
   * (null: none given, or no environment); step_advantage "per_turn_discounted" credits turns by them */
  turnTokens: number[];
  turnRewards: (number | null)[];
}

export interface EpisodeOptions extends SamplingOptions {
  maxCompletionLength: number;
  /** tool calls allowed per episode (TRL's max_tool_calling_iterations); null: no limit but the budget */
  maxToolCalls: number | null;
  /** model turns per environment episode */
  maxTurns: number;
  /** the KV caches' storage (config kv_precision; default 'auto') */
  kvPrecision?: KvPrecision;
}

export interface EpisodeEnv {
  runner: ToolRunner;
  format: ToolFormat;
  tools: boolean;
  env: boolean;
  /** text that ends a model turn in an environment episode, besides the stop ids */
  turnEndMarker?: string | null;
}

/** Runs one episode per row: rows[i] is the prompt ids and the dataset row (for the environment's reset). */
export async function runEpisodes(
  model: GpuTransformer,
  tokenizer: Tokenizer,
  lora: LoraSet | null,
  setup: EpisodeEnv,
  rows: { ids: number[]; raw: Record<string, unknown> }[],
  opts: EpisodeOptions,
  slotBase = 0,
): Promise<Episode[]> {
  const { runner, format } = setup;
  const toolsByName = new Map(runner.tools.map((t) => [t.name, t]));
  const encode = (text: string) => tokenizer.encode(text, { addBos: false });
  const stopTexts = stopTokenTexts(tokenizer);
  const eps: Episode[] = rows.map(() => ({ ids: [], modelMask: [], truncated: false, turns: [], toolCalls: 0, toolFailures: 0, toolTimeouts: 0, turnCount: 0, envReward: null, envDone: false, turnTokens: [], turnRewards: [] }));
  const envAlive = rows.map(() => setup.env);

  // environments: one per episode, reset together before generation; the first observation is inserted first
  const initial: number[][] = rows.map(() => []);
  if (setup.env) {
    const outs = await Promise.all(rows.map((r, i) => runner.envReset(slotBase + i, r.raw)));
    outs.forEach((o, i) => {
      if (!o.ok) {
        eps[i].turns.push({ kind: 'env_error', text: `reset failed: ${o.error}` });
        envAlive[i] = false;
        return;
      }
      eps[i].envReward = 0;
      const obs = o.value === null || o.value === undefined ? '' : resultText(o.value);
      if (obs !== '') {
        eps[i].turns.push({ kind: 'observation', text: obs, reward: null });
        initial[i] = encode(format.observation(obs));
      }
    });
  }

  /** inserted text after a turn that ended with a stop token: the template's own end marker is dropped */
  const afterStop = (text: string, endedWithStop: boolean) => afterStopToken(text, endedWithStop, stopTexts);

  const runTool = async (i: number, turnText: string): Promise<string> => {
    const ep = eps[i];
    ep.toolCalls++;
    const call = format.findCall(turnText)!;
    const fail = (name: string | null, text: string) => {
      ep.toolFailures++;
      ep.turns.push({ kind: 'tool_error', name, text });
      return format.toolResult(`Error: ${text}`);
    };
    if ('error' in call) return fail(null, call.error);
    ep.turns.push({ kind: 'tool_call', name: call.name, args: call.args });
    const tool = toolsByName.get(call.name);
    if (!tool) return fail(call.name, `unknown tool "${call.name}"; the tools are ${[...toolsByName.keys()].join(', ') || '(none)'}`);
    const bad = schemaProblem(tool.parameters, call.args);
    if (bad) return fail(call.name, `bad arguments for "${call.name}": ${bad}`);
    const out = await runner.callTool(call.name, call.args);
    if (!out.ok) {
      if (out.timedOut) ep.toolTimeouts++;
      return fail(call.name, `tool "${call.name}" failed: ${out.error}`);
    }
    const text = resultText(out.value);
    ep.turns.push({ kind: 'tool_result', name: call.name, text });
    return format.toolResult(text);
  };

  const runEnvStep = async (i: number, turnText: string): Promise<string | null> => {
    const ep = eps[i];
    const out = await runner.envStep(slotBase + i, turnText);
    const fail = (text: string) => {
      ep.turns.push({ kind: 'env_error', text });
      ep.envReward = null;
      envAlive[i] = false;
      return null;
    };
    if (!out.ok) return fail(`step failed: ${out.error}`);
    const v = out.value as Record<string, unknown> | null;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(`step must return {observation, reward?, done}, got ${JSON.stringify(v)}`);
    if (v.reward !== undefined && v.reward !== null && !(typeof v.reward === 'number' && Number.isFinite(v.reward))) return fail(`step returned reward ${JSON.stringify(v.reward)}; expected a finite number or null`);
    const reward = typeof v.reward === 'number' ? v.reward : null;
    if (reward !== null) {
      ep.envReward = (ep.envReward ?? 0) + reward;
      ep.turnRewards[ep.turnRewards.length - 1] = reward;
    }
    const obs = v.observation === undefined || v.observation === null ? '' : resultText(v.observation);
    ep.turns.push({ kind: 'observation', text: obs, reward });
    if (v.done === true) {
      ep.envDone = true;
      envAlive[i] = false;
      return null;
    }
    if (ep.turnCount >= opts.maxTurns) {
      ep.turns.push({ kind: 'env_error', text: `the environment did not say done within max_turns = ${opts.maxTurns}` });
      envAlive[i] = false;
      return null;
    }
    return format.observation(obs);
  };

  const gen = await generateTurns(model, rows.map((r) => r.ids), {
    maxNewTokens: opts.maxCompletionLength,
    temperature: opts.temperature,
    topK: opts.topK,
    topP: opts.topP,
    seed: opts.seed,
    stopIds: tokenizer.eosIds,
    lora,
    initial,
    kvPrecision: opts.kvPrecision,
  }, {
    endsTurn: (_b, ids) => {
      if (!setup.tools && !(setup.env && setup.turnEndMarker)) return false;
      const text = tokenizer.decode([...ids]);
      return (setup.tools && format.endsWithCall(text)) || (setup.env && !!setup.turnEndMarker && text.endsWith(setup.turnEndMarker));
    },
    onTurnEnd: async (i, ids, reason) => {
      const ep = eps[i];
      const endedWithStop = reason === 'stop';
      const turnText = tokenizer.decode(endedWithStop ? ids.slice(0, -1) : [...ids]);
      ep.turnCount++;
      ep.turns.push({ kind: 'model', text: turnText });
      ep.turnTokens.push(ids.length);
      ep.turnRewards.push(null);
      const isCall = setup.tools && format.findCall(turnText) !== null;
      if (isCall) {
        if (opts.maxToolCalls !== null && ep.toolCalls >= opts.maxToolCalls) return null;
        return encode(afterStop(await runTool(i, turnText), endedWithStop));
      }
      if (setup.env && envAlive[i]) {
        const text = await runEnvStep(i, turnText);
        return text === null ? null : encode(afterStop(text, endedWithStop));
      }
      return null;
    },
  });
  gen.rows.forEach((r, i) => {
    eps[i].ids = r.ids;
    eps[i].modelMask = r.modelMask;
    eps[i].truncated = r.finish === 'length';
    if (setup.env && envAlive[i] && !eps[i].envDone && r.finish === 'length') {
      eps[i].turns.push({ kind: 'env_error', text: 'the episode ran out of max_completion_length tokens before the environment said done' });
    }
  });
  return eps;
}

/** An episode's completion ids without its trailing stop token (the text rewards and evaluation read; training
 * keeps the stop token, as the model sampled it). */
export function idsWithoutTrailingStop(ep: Pick<Episode, 'ids' | 'truncated'>, eosIds: readonly number[]): number[] {
  const last = ep.ids[ep.ids.length - 1];
  return !ep.truncated && ep.ids.length > 0 && eosIds.includes(last) ? ep.ids.slice(0, -1) : ep.ids;
}
