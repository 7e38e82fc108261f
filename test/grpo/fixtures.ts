// stories260K and a "say dog" task for trainer tests.
import { fileURLToPath } from 'node:url';
import { loadModelFromPath } from '../../src/model/load_node';
import { defaultConfig, type GrpoConfig } from '../../src/grpo/config';
import type { DatasetRow } from '../../src/data';

export const STORIES = fileURLToPath(new URL('../../../shared/models/stories260K/stories260K.bin', import.meta.url));

export const STORY_PROMPTS = [
  'Once upon a time, there was a', 'One day, a little', 'The cat and the', 'Tom saw a big', 'Lily went to the park with her',
  'There was a happy', 'Sue liked to play with her', 'The sun was shining and the', 'Ben and his mom went to the',
  'In the garden there was a', 'A little bird', 'The girl had a red', 'Max was a small', 'Every morning, the',
  'Sam found a shiny', 'Mia wanted to see the',
];

export function storyRows(answer: string): DatasetRow[] {
  return STORY_PROMPTS.map((prompt, i) => ({ prompt, answer, line: i + 1, raw: { prompt, answer } }));
}

export function wordConfig(over: Partial<GrpoConfig> = {}): GrpoConfig {
  return {
    ...defaultConfig(),
    num_generations: 8,
    max_completion_length: 16,
    prompts_per_step: 2,
    learning_rate: 0.003,
    lora_r: 8,
    lora_alpha: 16,
    lora_target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    reward_funcs: [{ name: 'contains', weight: 1, params: {} }],
    eval_split: 0,
    temperature: 1,
    seed: 1,
    use_chat_template: false,
    ...over,
  };
}

export const loadStories = () => loadModelFromPath(STORIES);
