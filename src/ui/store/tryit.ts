// Try it: one prompt completed by the base model and by the tuned adapter with the same seed, and the
// log-probability of an expected answer under each.

import type { StateCreator } from 'zustand';
import type { GenerateResult } from '../../worker/protocol';
import { errorMessage, requireEngine } from './engine';
import type { AppState } from './types';

export interface TryItInput {
  prompt: string;
  answer: string;
  seed: number;
  maxNewTokens: number;
  temperature: number;
}

export interface TryItSlice {
  tryInput: TryItInput;
  tryStatus: 'idle' | 'running' | 'done' | 'error';
  tryResult: GenerateResult | null;
  tryError: string | null;
  setTryInput(patch: Partial<TryItInput>): void;
  runTryIt(): Promise<void>;
}

export const createTryItSlice: StateCreator<AppState, [], [], TryItSlice> = (set, get) => ({
  tryInput: { prompt: '', answer: '', seed: 1, maxNewTokens: 16, temperature: 0 },
  tryStatus: 'idle',
  tryResult: null,
  tryError: null,
  setTryInput(patch) {
    set((s) => ({ tryInput: { ...s.tryInput, ...patch } }));
  },
  async runTryIt() {
    const { tryInput: t, config: c } = get();
    set({ tryStatus: 'running', tryError: null });
    try {
      const result = await requireEngine().call({
        type: 'generate',
        prompt: t.prompt,
        answer: t.answer || undefined,
        settings: { system_prompt: c.system_prompt, prompt_template: c.prompt_template, use_chat_template: c.use_chat_template },
        maxNewTokens: t.maxNewTokens,
        temperature: t.temperature,
        topK: c.top_k,
        topP: c.top_p,
        seed: t.seed,
      });
      set({ tryStatus: 'done', tryResult: result });
    } catch (e) {
      set({ tryStatus: 'error', tryError: errorMessage(e) });
    }
  },
});
