// From the config to a rollout's tools: loads tools_source / env_source into a sandbox worker, picks the
// call format from tool_call_format and the model's chat template. null when neither source is set (then
// nothing about generation changes).

import type { GrpoConfig } from '../config';
import type { RolloutTools } from '../rollout';
import { makeFormat, pickFormat } from './formats';
import { ToolRunner } from './runner';
import type { SandboxFactory } from '../rewards/sandbox_core';

export interface ToolModelInfo {
  chatTemplate?: string | null;
  specialTokens?: { bos_token?: string; eos_token?: string };
}

export function usesTools(c: Pick<GrpoConfig, 'tools_source' | 'env_source'>): boolean {
  return (c.tools_source ?? '').trim() !== '' || (c.env_source ?? '').trim() !== '';
}

export async function createRolloutTools(c: GrpoConfig, model: ToolModelInfo, factory?: SandboxFactory): Promise<RolloutTools | null> {
  if (!usesTools(c)) return null;
  const toolsSrc = (c.tools_source ?? '').trim() !== '' ? c.tools_source : null;
  const envSrc = (c.env_source ?? '').trim() !== '' ? c.env_source : null;
  const runner = await ToolRunner.create(toolsSrc, envSrc, { timeoutMs: c.tool_timeout_ms, factory });
  const chatTemplate = c.use_chat_template ? model.chatTemplate ?? null : null;
  const name = pickFormat(c.tool_call_format, chatTemplate);
  const format = makeFormat(name, {
    chatTemplate,
    tools: runner.tools,
    special: model.specialTokens,
    pattern: {
      open: c.tool_call_open ?? '',
      close: c.tool_call_close ?? '',
      resultTemplate: c.tool_result_template ?? '{result}',
      observationTemplate: c.env_observation_template ?? '{observation}',
    },
  });
  return {
    setup: { runner, format, tools: toolsSrc !== null, env: envSrc !== null, turnEndMarker: c.turn_end_marker },
    maxToolCalls: c.max_tool_calling_iterations,
    maxTurns: c.max_turns,
    envRewardWeight: c.env_reward_weight,
  };
}
